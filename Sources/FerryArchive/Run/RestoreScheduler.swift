import FerryCore
import Foundation
import Logging
import Metrics

/// Runs every queued or running restore job of every account, each account's oldest
/// first and different accounts' side by side (a few at once), each under its lease (one
/// restorer per job across nodes), and removes restored events whose
/// expiry has passed. A job whose bucket AWS refuses fails with the step, the cause and
/// the fix; one that AWS could not answer is tried again on a later sweep.
public actor RestoreScheduler {
  let store: any Store
  let holder: String
  let open: ArchiveBucketOpener
  let leaseTTL: TimeInterval
  /// How long a job whose objects S3 is thawing waits before it looks again.
  let thawRecheck: TimeInterval
  /// Jobs of different accounts run at once, at most.
  let concurrency: Int
  let logger: Logger
  /// When a job that could not reach AWS may be tried again.
  private var retryAt: [String: Date] = [:]

  public init(
    store: any Store, holder: String, leaseTTL: TimeInterval = 60,
    thawRecheck: TimeInterval = 300, concurrency: Int = 3,
    logger: Logger = Logger(label: "ferry.restore"), open: @escaping ArchiveBucketOpener
  ) {
    self.concurrency = max(1, concurrency)
    self.store = store
    self.holder = holder
    self.leaseTTL = leaseTTL
    self.thawRecheck = thawRecheck
    self.logger = logger
    self.open = open
  }

  /// Every `tick` until cancelled: expired restored events go, and runnable jobs start
  /// into free slots, each account's oldest first, one per account at a time; a job that
  /// ends frees its slot without waiting for the others.
  public func run(tick: Duration = .seconds(5)) async {
    await withDiscardingTaskGroup { group in
      while !Task.isCancelled {
        let now = Date()
        for job in await self.runnable(now: now) {
          guard await self.claim(job) else { continue }
          group.addTask {
            await self.runJob(job)
            await self.release(job)
          }
        }
        try? await Task.sleep(for: tick)
      }
    }
  }

  /// Jobs running now, and their accounts.
  private var active: [String: AccountID] = [:]

  /// Takes a slot for the job: none while its account has a job running or every slot is
  /// taken.
  func claim(_ job: RestoreJob) -> Bool {
    guard active[job.id] == nil, active.count < concurrency,
      !active.values.contains(job.accountID)
    else { return false }
    active[job.id] = job.accountID
    return true
  }

  func release(_ job: RestoreJob) { active[job.id] = nil }

  /// One sweep: expired restored events go, then each runnable job runs.
  public func sweep(now: Date = Date()) async {
    var waiting = await runnable(now: now)
    // Oldest first; each account's oldest job, side by side with other accounts' (at most
    // `concurrency` at once), so that one tenant's long restore does not hold another's.
    while !waiting.isEmpty, !Task.isCancelled {
      var round: [RestoreJob] = []
      var accounts: Set<AccountID> = []
      for job in waiting where !accounts.contains(job.accountID) && round.count < concurrency {
        accounts.insert(job.accountID)
        round.append(job)
      }
      let ids = Set(round.map(\.id))
      waiting.removeAll { ids.contains($0.id) }
      await withDiscardingTaskGroup { group in
        for job in round { group.addTask { await self.runJob(job) } }
      }
    }
  }

  /// Removes expired restored events, then lists the runnable jobs, oldest first, that are
  /// not waiting to be tried again.
  func runnable(now: Date) async -> [RestoreJob] {
    var jobs: [RestoreJob] = []
    do {
      for account in try await store.accounts() {
        let removed = try await store.deleteExpiredRestores(of: account.id, now: now)
        if removed > 0 {
          logger.info("restore: \(removed) restored events of \(account.id) expired")
        }
        jobs += try await store.restoreJobs(of: account.id).filter(ArchiveRestorer.isRunnable)
      }
    } catch {
      logger.warning("restore: the store could not list restore jobs: \(error)")
      return []
    }
    return jobs.reversed().filter { (retryAt[$0.id] ?? .distantPast) <= now }
  }

  func runJob(_ job: RestoreJob) async {
    let account = job.accountID
    do {
      guard
        let lease = try await WorkLease.acquire(
          "restore:" + job.id, holder: holder, store: store, ttl: leaseTTL)
      else { return }
      defer { Task { await lease.release() } }
      guard
        let archive = try await store.archives(of: account).first(where: { $0.id == job.archiveID }
        ),
        let connection = try await store.connection(archive.connectionID, of: account)
      else {
        await fail(job, "its archive \(job.archiveID) or the archive's connection no longer exists")
        return
      }
      let bucket: any ArchiveBucket
      do {
        bucket = try await open(connection)
      } catch {
        let reason =
          "Ferry could not assume the archive connection's role (\(error)). Fix: run `ferry connection check \(connection.id)` for the diagnosis, then start the restore again"
        if error.kind == .unreachable {
          await later(job, reason)
        } else {
          await fail(job, reason)
        }
        return
      }
      let restorer = ArchiveRestorer(
        store: store, job: job, bucket: bucket, layout: try ArchiveLayout(prefix: connection.prefix)
      ) {
        try Task.checkCancellation()
        try await lease.check()
      }
      let ending = try await restorer.run()
      retryAt[job.id] = nil
      if case .thawing(let objects) = ending {
        logger.info("restore \(job.id): \(objects) objects wait for S3 to thaw them")
        retryAt[job.id] = Date().addingTimeInterval(thawRecheck)
      }
      if ending == .finished, let done = try await store.restoreJob(job.id, of: account) {
        Counter(label: "ferry_restore_events_total").increment(by: done.eventsRestored)
        logger.info(
          "restore \(job.id): done: \(done.objectsDone) objects (\(done.objectsFailed) failed, \(done.objectsFrozen) frozen), \(done.eventsMatched) matching events, \(done.eventsRestored) stored"
        )
      }
    } catch is LeaseLost {
      logger.notice("restore \(job.id) lost its lease; another node goes on")
    } catch is CancellationError {
      return
    } catch let error as ArchiveReadError where error.isTransient {
      await later(job, error.description)
    } catch {
      await fail(job, "\(error)")
    }
  }

  /// Ends a job with why it cannot go on.
  func fail(_ job: RestoreJob, _ reason: String) async {
    logger.error("restore \(job.id): \(reason)")
    // The job as it is now (this run may have moved its counters), running so it can end.
    if var current = try? await store.restoreJob(job.id, of: job.accountID),
      current.state == .queued
    {
      current.state = .running
      _ = try? await store.updateRestoreJob(current, of: job.accountID)
    }
    _ = try? await store.finishRestore(jobID: job.id, error: reason, of: job.accountID)
  }

  /// Records why a job waits, and tries it again in a minute.
  func later(_ job: RestoreJob, _ reason: String) async {
    logger.warning("restore \(job.id): \(reason)")
    retryAt[job.id] = Date().addingTimeInterval(60)
    if var current = try? await store.restoreJob(job.id, of: job.accountID) {
      current.error = reason
      _ = try? await store.updateRestoreJob(current, of: job.accountID)
    }
  }
}
