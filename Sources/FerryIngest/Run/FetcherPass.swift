import FerryCore
import Foundation
import Logging

/// How a fetcher's passes behave; the defaults suit a service that runs for weeks.
public struct IngestSettings: Sendable {
  /// Events per commit of a large object.
  public var chunkEvents = 10_000
  /// How much one object may expand to and hold.
  public var objectLimits = ObjectLimits()
  /// Attempts at an object that fails before it is left as failed for good (until an
  /// admin reprocesses it).
  public var maxAttempts = 5
  /// The wait before a failed object's next attempt: this, doubled per attempt.
  public var retryBackoff: TimeInterval = 60
  /// How often the whole prefix is listed again, behind the cursor.
  public var fullListEvery: TimeInterval = 3600
  /// How far back a full listing looks behind the cursor: objects written before this
  /// window, behind the cursor, are done, so their ledger rows are compacted away and a
  /// full listing passes them without a lookup. Never less than twice `fullListEvery`
  /// (a key that arrives late must be seen by a full listing while it is in the window).
  public var relistWindow: TimeInterval = 86_400
  /// Ledger rows removed per compaction batch, and batches per pass at most.
  public var compactionBatch = 5_000
  public var compactionBatchesPerPass = 20

  /// The window in force: ``relistWindow``, at least twice ``fullListEvery``.
  public var effectiveRelistWindow: TimeInterval { max(relistWindow, 2 * fullListEvery) }
  /// The lease's time to live; renewed at a third of it while the work goes on.
  public var leaseTTL: TimeInterval = 60
  /// A queue pass receives messages until the queue is empty or this much time has gone.
  public var queuePassSeconds: TimeInterval = 60
  /// Long polling: how long one receive waits for a message (SQS allows 0 to 20).
  public var queueWaitSeconds = 5
  /// How long a received message stays hidden; extended while its object is read.
  public var queueVisibilitySeconds = 120
  /// Where each commit is noted, at debug level (the scheduler sets its own).
  public var logger: Logger?
  /// Events an account may store per UTC day (its fetchers together).
  public var dailyLimit = DailyLimit()

  public init() {}
}

/// What one pass of a fetcher did.
public struct PassReport: Sendable, Equatable {
  public var objectsIngested = 0
  public var objectsFailed = 0
  public var objectsPending = 0
  public var events = 0
  public var bytes: Int64 = 0
  /// Set when the role itself failed (listing refused): the fetcher must pause.
  public var roleProblem: String?
  /// Problems of single objects, for the log.
  public var problems: [String] = []
}

/// One pass of one fetcher over its prefix: discover, then ingest each object not yet
/// done, in key order, under the fetcher's lease. An object that fails is recorded and
/// the others go on; a refused listing means the role broke, and the pass stops.
public struct FetcherPass: Sendable {
  public let store: any Store
  public let fetcher: Fetcher
  public let connection: Connection
  public let source: any ObjectSource
  public let lease: WorkLease
  public let settings: IngestSettings
  /// Events the account's other fetchers stored today (UTC), for its daily limit.
  public var othersToday = 0

  public init(
    store: any Store, fetcher: Fetcher, connection: Connection, source: any ObjectSource,
    lease: WorkLease, settings: IngestSettings
  ) {
    self.store = store
    self.fetcher = fetcher
    self.connection = connection
    self.source = source
    self.lease = lease
    self.settings = settings
  }

  /// Whether an object needs no work now, from its ledger row.
  enum Standing { case done, due, waiting }

  func standing(_ entry: LedgerEntry?, now: Date) -> Standing {
    guard let entry else { return .due }
    switch entry.state {
    case .ingested: return .done
    case .pending: return .due
    case .failed:
      if entry.attempts >= settings.maxAttempts { return .done }
      let wait = settings.retryBackoff * pow(2, Double(max(0, entry.attempts - 1)))
      return now.timeIntervalSince(entry.updatedAt) >= wait ? .due : .waiting
    }
  }

  /// Runs the pass; returns what it did and the fetcher's status after it. `progress` gets
  /// the status as the pass goes, at most every `progressEvery` seconds (for `ferry fetcher
  /// status --follow` and the UI).
  public func run(
    now: Date = Date(), progressEvery: TimeInterval = 2,
    progress: (FetcherStatus) async -> Void = { _ in }
  ) async throws -> (PassReport, FetcherStatus) {
    var report = PassReport()
    var status = try await statusAfterReprocessRequests()
    status.lastRunAt = now
    let discovery = ListingDiscovery(
      prefix: connection.prefix, status: status, fullListEvery: settings.fullListEvery, now: now)
    var cursor = status.listCursor
    // Behind the cursor, objects written before the window are done: passed without a
    // lookup (their rows may be compacted away), unless an admin asked for them again.
    let windowStart = now.addingTimeInterval(-settings.effectiveRelistWindow)
    let startCursor = status.listCursor
    let reprocessKeys = status.reprocessKeys
    let settled = { (object: SourceObject) -> Bool in
      guard let behind = startCursor, object.key <= behind,
        let modified = object.lastModified, modified < windowStart
      else { return false }
      return !(reprocessKeys?.contains(object.key) ?? false)
    }
    var blocked = false
    var newest: Date?
    var reported = Date()
    let ingest = objectIngest()
    let todayAtStart = DailyLimit.today(status, now: now)
    var limited = false
    do {
      try await discovery.objects(from: source) { objects in
        for (index, object) in objects.enumerated() {
          if settled(object) { continue }
          try await lease.check()
          let entry = try await store.ledgerEntry(
            of: fetcher.accountID, fetcherID: fetcher.id, key: object.key, eTag: object.eTag)
          var standing = standing(entry, now: now)
          if standing == .due {
            guard roomToday(todayAtStart, report) else {
              limited = true
              return false
            }
            standing = try await read(object, previous: entry, ingest: ingest, report: &report)
            if standing == .done, let modified = object.lastModified {
              newest = max(newest ?? modified, modified)
            }
          }
          if standing != .done {
            blocked = true
            report.objectsPending += 1
          }
          if !blocked, object.key > (cursor ?? "") { cursor = object.key }
          if Date().timeIntervalSince(reported) >= progressEvery {
            reported = Date()
            var partial = status
            try await count(into: &partial)
            countToday(into: &partial, todayAtStart, report, now: now)
            partial.objectsPending = report.objectsPending + objects.count - index - 1
            partial.bytesIngested = (status.bytesIngested ?? 0) + report.bytes
            await progress(partial)
          }
        }
        return true
      }
    } catch let failure as AWSFailure where failure.operation.hasPrefix("S3.List") {
      if Self.breaksRole(failure) {
        report.roleProblem = Self.listingProblem(failure, connection)
      } else {
        report.problems.append(
          "listing s3://\(connection.bucket)/\(connection.prefix) failed (\(failure)); the next poll tries again"
        )
      }
    }
    if !discovery.fullList && report.roleProblem == nil && !limited, let behind = startCursor {
      try await retryBehindCursor(through: behind, now: now, ingest: ingest, report: &report)
    }
    status.listCursor = cursor
    if discovery.fullList && report.roleProblem == nil && !limited {
      status.lastFullListAt = now
      // The reprocessed keys were all read (none waits for a retry).
      if report.objectsPending == 0 { status.reprocessKeys = nil }
    }
    if report.roleProblem == nil, let cursor {
      try await compact(through: cursor, now: now, status: &status)
    }
    try await count(into: &status)
    countToday(into: &status, todayAtStart, report, now: now, limited: limited)
    if limited { report.problems.append(limitReason(status)) }
    status.bytesIngested = (status.bytesIngested ?? 0) + report.bytes
    status.objectsPending = report.objectsPending
    if let newest { status.lagSeconds = max(0, Date().timeIntervalSince(newest)) }
    if let problem = report.roleProblem {
      status.lastError = problem
    } else {
      status.lastError = report.problems.last
      if report.problems.isEmpty { status.lastSuccessAt = now }
    }
    return (report, status)
  }

  /// Whether the account's daily limit leaves room for another object, with what this
  /// fetcher stored today before the pass and during it.
  func roomToday(_ todayAtStart: Int, _ report: PassReport) -> Bool {
    settings.dailyLimit.allows(othersToday + todayAtStart + report.events)
  }

  /// The status's count of today's events; `limited`: the fetcher stops until the next UTC
  /// day.
  func countToday(
    into status: inout FetcherStatus, _ todayAtStart: Int, _ report: PassReport, now: Date,
    limited: Bool = false
  ) {
    status.eventsDay = DailyLimit.day(of: now)
    status.eventsToday = todayAtStart + report.events
    status.limitedUntil = limited ? DailyLimit.nextDay(after: now) : nil
  }

  /// Why the pass stopped at the daily limit.
  func limitReason(_ status: FetcherStatus) -> String {
    settings.dailyLimit.reason(
      stored: othersToday + (status.eventsToday ?? 0),
      until: status.limitedUntil ?? DailyLimit.nextDay(after: Date()))
  }

  /// The fetcher's status once the reprocess requests that waited for this pass are
  /// applied, under the lease (before any object is read, so no object is cut into).
  func statusAfterReprocessRequests() async throws -> FetcherStatus {
    try await lease.check()
    return try await store.applyReprocessRequests(fetcherID: fetcher.id, of: fetcher.accountID)
      ?? fetcher.status
  }

  /// Reads again the failed objects behind the cursor whose backoff is over. A listing
  /// after the cursor does not see them (a key that arrived late and failed), so without
  /// this they would wait for the next full listing, not for their backoff.
  func retryBehindCursor(
    through cursor: String, now: Date, ingest: ObjectIngest, report: inout PassReport
  ) async throws {
    var after: String?
    while true {
      let failed = try await store.ledger(
        of: fetcher.accountID, fetcherID: fetcher.id, state: .failed, afterKey: after,
        limit: 1000)
      for entry in failed where entry.key <= cursor {
        var standing = standing(entry, now: now)
        if standing == .due {
          try await lease.check()
          let object = SourceObject(key: entry.key, eTag: entry.eTag, size: entry.size)
          standing = try await read(object, previous: entry, ingest: ingest, report: &report)
        }
        if standing == .waiting { report.objectsPending += 1 }
      }
      guard failed.count == 1000, let last = failed.last?.key, last <= cursor else { return }
      after = last
    }
  }

  /// Reads and commits one object under the fetcher's lease (fenced before each commit).
  func objectIngest() -> ObjectIngest {
    ObjectIngest(
      store: store, account: fetcher.accountID, fetcher: fetcher,
      chunkEvents: settings.chunkEvents, finalAttempts: settings.maxAttempts,
      limits: settings.objectLimits, logger: settings.logger,
      fence: { [lease] in try await lease.check() })
  }

  /// Removes the ledger rows of objects ingested before the re-list window (behind the
  /// cursor when there is one), in batches under the lease, so what a fetcher keeps to
  /// know what is new stays bounded; the totals keep what they held.
  func compact(through cursor: String?, now: Date, status: inout FetcherStatus) async throws {
    let before = now.addingTimeInterval(-settings.effectiveRelistWindow)
    for _ in 0..<settings.compactionBatchesPerPass {
      try await lease.check()
      let removed = try await store.compactLedger(
        of: fetcher.accountID, fetcherID: fetcher.id, throughKey: cursor, updatedBefore: before,
        limit: settings.compactionBatch)
      status.compactedObjects = (status.compactedObjects ?? 0) + removed.objects
      status.compactedEvents = (status.compactedEvents ?? 0) + removed.events
      if removed.objects < settings.compactionBatch { return }
    }
  }

  /// Counts from the ledger itself (and what compaction removed from it), so a
  /// reprocessed object is not counted twice.
  func count(into status: inout FetcherStatus) async throws {
    let summary = try await store.ledgerSummary(of: fetcher.accountID, fetcherID: fetcher.id)
    status.objectsIngested = (summary.objects[.ingested] ?? 0) + (status.compactedObjects ?? 0)
    status.objectsFailed = summary.objects[.failed] ?? 0
    status.eventsIngested = summary.events + (status.compactedEvents ?? 0)
    status.ledgerRows = summary.rows
    status.ledgerBytes = summary.bytes
  }

  /// Reads one object; records a failure of the object in its ledger row.
  func read(
    _ object: SourceObject, previous: LedgerEntry?, ingest: ObjectIngest, report: inout PassReport
  ) async throws -> Standing {
    if object.isArchived {
      return try await recordFailure(
        object, previous: previous,
        "the object is in the \(object.storageClass ?? "archive") storage class and cannot be read until it is restored (aws s3api restore-object); reprocess it after that",
        final: true, report: &report)
    }
    do {
      let outcome = try await ingest.run(object, from: source, previous: previous)
      report.bytes += outcome.bytes
      // The row counts every event of the object stored, earlier attempts' too.
      report.events += max(0, outcome.entry.events - (previous?.events ?? 0))
      if outcome.entry.state == .ingested {
        report.objectsIngested += 1
        return .done
      }
      return noteFailure(outcome.entry, report: &report)
    } catch let failure as AWSFailure {
      return try await recordFailure(
        object, previous: previous,
        Self.objectProblem(failure, object: object, connection: connection), final: false,
        report: &report)
    } catch let timeBox as ObjectTimeBoxExceeded {
      return try await recordFailure(
        object, previous: previous, timeBox.description, final: false, report: &report)
    }
  }

  /// Records that an object could not be read, under the lease: for good when `final`, else
  /// to be retried with backoff. The store writes it on top of what the row had reached
  /// (chunks of this attempt committed before the failure stay counted, and the retry
  /// resumes after them), never from the stale `previous`.
  func recordFailure(
    _ object: SourceObject, previous: LedgerEntry?, _ error: String, final: Bool,
    report: inout PassReport
  ) async throws -> Standing {
    let attempts = (previous?.attempts ?? 0) + 1
    let entry = LedgerEntry(
      fetcherID: fetcher.id, key: object.key, eTag: object.eTag, size: object.size,
      state: .failed, events: previous?.events ?? 0, offset: previous?.offset ?? 0,
      error: error, attempts: final ? max(attempts, settings.maxAttempts) : attempts)
    try await lease.check()
    let stored = try await store.commitObject(entry, events: [], of: fetcher.accountID)
    // Chunks this attempt committed before it failed count in the pass's events.
    report.events += max(0, stored.events - (previous?.events ?? 0))
    return noteFailure(stored, report: &report)
  }

  /// A failed object in the pass's report; whether it is done (failed for good) or waits.
  func noteFailure(_ entry: LedgerEntry, report: inout PassReport) -> Standing {
    report.problems.append("\(entry.key): \(entry.error ?? "failed")")
    let after = standing(entry, now: Date())
    if after == .done { report.objectsFailed += 1 }
    return after
  }

  /// Whether AWS's answer means the role no longer works for the fetcher (AWS refused or
  /// did not know the role, bucket or key: the customer must fix it), rather than a
  /// passing failure (unreachable, timed out, AWS's own 5xx, throttling) or one of Ferry's
  /// side (its clock, its keys, a proxy that altered the request), after which the next
  /// poll simply tries again.
  public static func breaksRole(_ failure: AWSFailure) -> Bool {
    failure.customerMustFix
  }

  /// An object AWS would not give: the step, the cause and the fix.
  static func objectProblem(_ failure: AWSFailure, object: SourceObject, connection: Connection)
    -> String
  {
    let arn = "arn:aws:s3:::\(connection.bucket)/\(object.key)"
    if failure.isDenied {
      return
        "reading \(arn) was refused (\(failure)). The role may lack s3:GetObject on it, a bucket policy may deny it, or the object may be encrypted with a KMS key the role cannot use (kms:Decrypt). Fix: run `ferry connection check \(connection.id)` for the diagnosis, then reprocess the object."
    }
    return
      "reading \(arn) failed (\(failure)); it is retried with backoff"
  }

  /// A refused listing: the role no longer works for this fetcher.
  static func listingProblem(_ failure: AWSFailure, _ connection: Connection) -> String {
    "listing s3://\(connection.bucket)/\(connection.prefix) failed (\(failure)). The fetcher is paused so that it does not retry in a loop. Fix: run `ferry connection check \(connection.id)` for the diagnosis and the statement to add, then `ferry fetcher resume`."
  }
}
