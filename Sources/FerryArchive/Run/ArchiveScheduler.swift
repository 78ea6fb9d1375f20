import FerryCore
import Foundation
import Logging
import Metrics

/// Runs every enabled archive of every account: under the archive's lease (one writer per
/// archive across nodes), it flushes batches while they are due. Archives of different
/// accounts flush side by side (a few at once, one per account), so one tenant's backlog
/// never holds another's archive. A role that breaks is recorded on the archive (its status
/// says what to fix) and tried again later; nothing is lost meanwhile, the events wait in
/// the store.
public actor ArchiveScheduler {
  let store: any Store
  let holder: String
  let open: ArchiveBucketOpener
  let settings: ArchiveSettings
  /// Archives of different accounts that flush at once, at most.
  let concurrency: Int
  let logger: Logger
  /// When a failed archive may be tried again.
  private var retryAt: [String: Date] = [:]
  /// Each archive's bucket, opened once per connection (its role's credentials refresh
  /// themselves), so an archive with nothing to write costs no STS call.
  private var buckets: [String: (connection: Connection, bucket: any ArchiveBucket)] = [:]
  /// Archives flushing now, and their accounts.
  private var active: [String: AccountID] = [:]

  public init(
    store: any Store, holder: String, settings: ArchiveSettings = ArchiveSettings(),
    concurrency: Int = 3, logger: Logger = Logger(label: "ferry.archive"),
    open: @escaping ArchiveBucketOpener
  ) {
    self.store = store
    self.holder = holder
    self.settings = settings
    self.concurrency = max(1, concurrency)
    self.logger = logger
    self.open = open
  }

  /// Every `tick` until cancelled, the archives with work start into free slots (one per
  /// account at a time); one that ends frees its slot without waiting for the others.
  public func run(tick: Duration = .seconds(5)) async {
    await withDiscardingTaskGroup { group in
      while !Task.isCancelled {
        for archive in await self.due(now: Date()) {
          guard self.claim(archive) else { continue }
          group.addTask {
            if await self.hasWork(archive) { await self.runArchive(archive) }
            await self.release(archive)
          }
        }
        try? await Task.sleep(for: tick)
      }
    }
  }

  /// Takes a slot for the archive: none while its account has one flushing or every slot
  /// is taken.
  func claim(_ archive: Archive) -> Bool {
    guard active[archive.id] == nil, active.count < concurrency,
      !active.values.contains(archive.accountID)
    else { return false }
    active[archive.id] = archive.accountID
    return true
  }

  func release(_ archive: Archive) { active[archive.id] = nil }

  /// The enabled archives of every account that are not waiting to be tried again.
  func due(now: Date) async -> [Archive] {
    do {
      var all: [Archive] = []
      for account in try await store.accounts() {
        all += try await store.archives(of: account.id).filter(\.enabled)
      }
      return all.filter { (retryAt[$0.id] ?? .distantPast) <= now }
    } catch {
      logger.warning("archive: the store could not list archives: \(error)")
      return []
    }
  }

  /// One sweep over every enabled archive, one at a time (for tests and tools).
  public func sweep(now: Date = Date()) async {
    for archive in await due(now: now) {
      if Task.isCancelled { return }
      guard await hasWork(archive) else { continue }
      await runArchive(archive)
    }
  }

  /// Whether the archive has a batch open or blocks waiting: a look at the store, before
  /// any lease or AWS call.
  func hasWork(_ archive: Archive) async -> Bool {
    do {
      if try await store.openArchiveBatch(archiveID: archive.id, of: archive.accountID) != nil {
        return true
      }
      let waiting = try await store.unarchivedBlocks(
        archiveID: archive.id, fetcherIDs: archive.fetcherIDs, of: archive.accountID, limit: 1)
      if waiting.isEmpty {
        _ = try await store.archiveWaiting(
          archiveID: archive.id, waiting: false, now: Date(), of: archive.accountID)
      }
      return !waiting.isEmpty
    } catch {
      logger.warning("archive: \(archive.id): the store could not say what waits: \(error)")
      return false
    }
  }

  /// The archive's bucket: the one opened before while its connection is unchanged.
  func bucket(for connection: Connection, of archive: Archive) async throws(AWSFailure)
    -> any ArchiveBucket
  {
    if let cached = buckets[archive.id], cached.connection == connection { return cached.bucket }
    let opened = try await open(connection)
    buckets[archive.id] = (connection, opened)
    return opened
  }

  /// Flushes one archive while flushes are due, under its lease.
  func runArchive(_ archive: Archive) async {
    let account = archive.accountID
    let labels = [("archive", archive.id)]
    do {
      guard
        let lease = try await WorkLease.acquire(
          "archive:" + archive.id, holder: holder, store: store, ttl: settings.leaseTTL)
      else { return }
      defer { Task { await lease.release() } }
      guard let connection = try await store.connection(archive.connectionID, of: account) else {
        await failed(archive, "its connection \(archive.connectionID) no longer exists")
        return
      }
      let bucket: any ArchiveBucket
      do {
        bucket = try await self.bucket(for: connection, of: archive)
      } catch {
        await failed(
          archive,
          "Ferry could not assume the archive connection's role (\(error)). Fix: run `ferry connection check \(connection.id)` for the diagnosis; the archive goes on once the role works"
        )
        return
      }
      let writer = try ArchiveWriter(
        store: store, archive: archive, connection: connection, bucket: bucket,
        settings: settings
      ) {
        try Task.checkCancellation()
        try await lease.check()
      }
      var wrote = false
      // A flush's age counts from the first look that saw events waiting, kept in the store
      // so that a restart or another node does not start it again.
      func waiting(_ seen: Bool) async throws -> Date? {
        try await store.archiveWaiting(
          archiveID: archive.id, waiting: seen, now: Date(), of: account)
      }
      var since = try await waiting(true)
      flushes: while !Task.isCancelled {
        let outcome = try await writer.flush(waitingSince: since)
        switch outcome {
        case .idle:
          _ = try await waiting(false)
          break flushes
        case .waiting:
          if since == nil { _ = try await waiting(true) }
          break flushes
        case .wrote(let report):
          wrote = true
          since = try await waiting(false)
          Counter(label: "ferry_archive_objects_total", dimensions: labels).increment(
            by: report.objects)
          Counter(label: "ferry_archive_events_total", dimensions: labels).increment(
            by: report.events)
          Counter(label: "ferry_archive_bytes_total", dimensions: labels).increment(
            by: Int(report.bytes))
          logger.info(
            "archive: \(archive.id) batch \(report.sequence)\(report.resumed ? " (resumed)" : ""): \(report.objects) objects, \(report.events) events, \(report.bytes) bytes"
          )
        }
      }
      retryAt[archive.id] = nil
      if wrote {
        try await store.recordArchiveRun(
          archiveID: archive.id, error: nil, at: Date(), of: account)
      }
    } catch is LeaseLost {
      logger.notice("archive: \(archive.id) lost its lease; another node goes on")
    } catch is CancellationError {
      return
    } catch {
      await failed(archive, "\(error)")
    }
  }

  /// Records why an archive could not be written; it is tried again after a minute.
  func failed(_ archive: Archive, _ reason: String) async {
    logger.error("archive: \(archive.id): \(reason)")
    buckets[archive.id] = nil  // the next try assumes the role afresh
    retryAt[archive.id] = Date().addingTimeInterval(60)
    try? await store.recordArchiveRun(
      archiveID: archive.id, error: reason, at: Date(), of: archive.accountID)
  }
}
