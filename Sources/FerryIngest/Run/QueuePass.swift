import FerryCore
import Foundation

extension FetcherPass {
  /// One pass of a fetcher that discovers objects from S3 event notifications: receive
  /// messages (long polling) until the queue is empty or the pass has run
  /// `settings.queuePassSeconds`; read each object they name that the ledger does not have
  /// yet, keeping the message hidden while it is read; delete a message only once every
  /// object it names is stored (or failed for good). A message whose object must be tried
  /// again is left in the queue, and comes back after its visibility timeout.
  public func runQueue(
    _ queue: any S3NotificationQueue, now: Date = Date(),
    progress: (FetcherStatus) async -> Void = { _ in }
  ) async throws -> (PassReport, FetcherStatus) {
    var report = PassReport()
    var status = try await statusAfterReprocessRequests()
    status.lastRunAt = now
    let ingest = objectIngest()
    let started = Date()
    var newest: Date?
    var unreadable = 0
    let todayAtStart = DailyLimit.today(status, now: now)
    var limited = false
    if let span = status.reprocessKeys {
      // The notifications of those keys came long ago: list them to read them again.
      do {
        if try await readAgain(span, now: now, ingest: ingest, report: &report) {
          status.reprocessKeys = nil
        }
      } catch let failure as AWSFailure where failure.operation.hasPrefix("S3.List") {
        report.problems.append(
          "listing s3://\(connection.bucket)/\(connection.prefix) to read the reprocessed keys again failed (\(failure)); the next poll tries again. Fix: the role needs s3:ListBucket on the prefix (ferry role-policy writes it)"
        )
      }
    }
    do {
      while Date().timeIntervalSince(started) < settings.queuePassSeconds {
        try await lease.check()
        let messages = try await queue.receive(
          max: 10, waitSeconds: settings.queueWaitSeconds,
          visibility: settings.queueVisibilitySeconds)
        if messages.isEmpty { break }
        var done: [String] = []
        reading: for message in messages {
          switch message.content {
          case .testEvent:
            done.append(message.receipt)
          case .unreadable(let why):
            unreadable += 1
            report.problems.append(
              "a queue message was not an S3 event notification (\(why)); it was deleted")
            done.append(message.receipt)
          case .notices(let notices):
            var complete = true
            for object in QueueDiscovery.objects(in: notices, of: connection) {
              try await lease.check()
              let entry = try await store.ledgerEntry(
                of: fetcher.accountID, fetcherID: fetcher.id, key: object.key, eTag: object.eTag)
              var standing = standing(entry, now: Date())
              if standing == .due && !roomToday(todayAtStart, report) {
                // The message stays in the queue; it comes back after its timeout.
                limited = true
                break reading
              }
              if standing == .due {
                standing = try await whileHidden(message.receipt, in: queue) {
                  try await read(object, previous: entry, ingest: ingest, report: &report)
                }
                if standing == .done { newest = Date() }
              }
              if standing != .done {
                complete = false
                report.objectsPending += 1
              }
            }
            if complete { done.append(message.receipt) }
          }
        }
        if !done.isEmpty { try await queue.delete(done) }
        if limited { break }
        var partial = status
        try await count(into: &partial)
        countToday(into: &partial, todayAtStart, report, now: now)
        partial.objectsPending = report.objectsPending
        await progress(partial)
      }
    } catch let failure as AWSFailure where failure.operation.hasPrefix("SQS.") {
      if Self.breaksRole(failure) {
        report.roleProblem = Self.queueProblem(failure, fetcher: fetcher, connection: connection)
      } else {
        report.problems.append(
          "reading the queue \(fetcher.queueURL ?? "") failed (\(failure)); the next poll tries again"
        )
      }
    }
    // A notification names its object version: rows older than the window only answer
    // duplicates that no longer come, so age alone decides.
    if report.roleProblem == nil { try await compact(through: nil, now: now, status: &status) }
    try await count(into: &status)
    countToday(into: &status, todayAtStart, report, now: now, limited: limited)
    if limited { report.problems.append(limitReason(status)) }
    status.bytesIngested = (status.bytesIngested ?? 0) + report.bytes
    status.objectsPending = report.objectsPending
    if newest != nil { status.lagSeconds = 0 }
    if let problem = report.roleProblem {
      status.lastError = problem
    } else {
      status.lastError = report.problems.last
      if report.problems.isEmpty || unreadable == report.problems.count {
        status.lastSuccessAt = now
      }
    }
    return (report, status)
  }

  /// Reads again the objects whose keys are in `span`, listed from its first key (a fetcher
  /// that reads notifications has no listing of its own to find them). True when none of
  /// them waits for a retry.
  func readAgain(_ span: KeySpan, now: Date, ingest: ObjectIngest, report: inout PassReport)
    async throws -> Bool
  {
    // Start after the first key less its last character: every key from it on is listed.
    let startAfter = span.from.isEmpty ? nil : String(span.from.unicodeScalars.dropLast())
    var continuation: String?
    var waiting = false
    repeat {
      let page = try await source.list(
        prefix: connection.prefix, startAfter: startAfter, continuation: continuation)
      for object in page.objects where !object.key.hasSuffix("/") && object.key >= span.from {
        if object.key > span.to { return !waiting }
        try await lease.check()
        let entry = try await store.ledgerEntry(
          of: fetcher.accountID, fetcherID: fetcher.id, key: object.key, eTag: object.eTag)
        var standing = standing(entry, now: now)
        if standing == .due {
          standing = try await read(object, previous: entry, ingest: ingest, report: &report)
        }
        if standing != .done {
          waiting = true
          report.objectsPending += 1
        }
      }
      continuation = page.next
    } while continuation != nil
    return !waiting
  }

  /// Runs `work` while extending the message's visibility every third of its timeout, so
  /// that a large object is never handed to another reader while it is still being read.
  func whileHidden<T: Sendable>(
    _ receipt: String, in queue: any S3NotificationQueue,
    _ work: () async throws -> T
  ) async throws -> T {
    let seconds = settings.queueVisibilitySeconds
    let heartbeat = Task {
      while !Task.isCancelled {
        try? await Task.sleep(for: .seconds(max(1, seconds / 3)))
        if Task.isCancelled { return }
        try? await queue.extendVisibility(receipt, seconds: seconds)
      }
    }
    defer { heartbeat.cancel() }
    return try await work()
  }

  /// A refused queue: the role no longer works for this fetcher.
  static func queueProblem(_ failure: AWSFailure, fetcher: Fetcher, connection: Connection)
    -> String
  {
    "reading the queue \(fetcher.queueURL ?? "") was refused (\(failure)). The fetcher is paused so that it does not retry in a loop. Fix: the role needs sqs:ReceiveMessage, sqs:DeleteMessage and sqs:ChangeMessageVisibility on the queue (ferry role-policy --queue-arn ARN writes them), then `ferry fetcher resume \(fetcher.id)`."
  }
}
