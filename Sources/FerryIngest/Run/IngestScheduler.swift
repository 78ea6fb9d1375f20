import FerryCore
import Foundation
import Logging
import Metrics

/// What a fetcher reads through its connection's role: the bucket, and the queue of the
/// bucket's S3 event notifications when the fetcher has one.
public struct FetcherSources: Sendable {
  public var bucket: any ObjectSource
  public var queue: (any S3NotificationQueue)?

  public init(bucket: any ObjectSource, queue: (any S3NotificationQueue)? = nil) {
    self.bucket = bucket
    self.queue = queue
  }
}

/// Opens a fetcher's bucket, and its queue when it has a URL, through its connection's role
/// (the server does this over the AWS layer, one role session for both, always with the
/// owning account's external ID).
public typealias SourceOpener =
  @Sendable (Connection, _ queueURL: String?) async throws(AWSFailure) -> FetcherSources

/// Runs every enabled fetcher of every account when it is due (its poll interval after
/// its last run), a few at a time, each under its lease, so that several nodes share the
/// work and none reads a fetcher another is reading.
///
/// Fair between tenants: a pass that ends frees its slot for the next due fetcher at once
/// (no pass waits for another), due fetchers take the free slots account by account in
/// turn, and one account holds at most `concurrency - 1` slots, so one tenant's slow or
/// stuck objects never keep another tenant's fetchers from their interval.
public actor IngestScheduler {
  let store: any Store
  let holder: String
  let open: SourceOpener
  let settings: IngestSettings
  let concurrency: Int
  let logger: Logger
  private var running: Set<String> = []
  /// Passes running now, per account.
  private var runningByAccount: [AccountID: Int] = [:]

  public init(
    store: any Store, holder: String, settings: IngestSettings = IngestSettings(),
    concurrency: Int = 4, logger: Logger = Logger(label: "ferry.ingest"),
    open: @escaping SourceOpener
  ) {
    self.store = store
    self.holder = holder
    self.open = open
    var settings = settings
    settings.logger = settings.logger ?? logger
    self.settings = settings
    self.concurrency = max(1, concurrency)
    self.logger = logger
  }

  /// Starts due fetchers into free slots every `tick` until cancelled; each pass runs on
  /// its own and frees its slot when it ends. Cancelling stops the passes between steps.
  public func run(tick: Duration = .seconds(1)) async {
    await withDiscardingTaskGroup { group in
      while !Task.isCancelled {
        for fetcher in await self.startable(now: Date()) {
          group.addTask {
            await self.runFetcher(fetcher)
            await self.finished(fetcher)
          }
        }
        try? await Task.sleep(for: tick)
      }
    }
  }

  /// One sweep: every fetcher due at `now` runs once, in the same fair turns; returns when
  /// they are done.
  public func sweep(now: Date = Date()) async {
    await withDiscardingTaskGroup { group in
      var tried: Set<String> = []
      while !Task.isCancelled {
        let started = await self.startable(now: now, excluding: tried)
        for fetcher in started {
          tried.insert(fetcher.id)
          group.addTask {
            await self.runFetcher(fetcher)
            await self.finished(fetcher)
          }
        }
        // Those due and not tried yet wait for a slot to free.
        let waiting = (await self.due(now: now) ?? []).contains { !tried.contains($0.id) }
        guard waiting else { break }
        try? await Task.sleep(for: .milliseconds(50))
      }
    }
  }

  /// The due fetchers that are not running, every account's, or nil if the store cannot
  /// say.
  func due(now: Date) async -> [Fetcher]? {
    do {
      var all: [Fetcher] = []
      for account in try await store.accounts() {
        all += try await store.fetchers(of: account.id).filter { fetcher in
          fetcher.enabled && !running.contains(fetcher.id)
            && (fetcher.status.limitedUntil.map { $0 <= now } ?? true)
            && (fetcher.status.lastRunAt.map {
              now.timeIntervalSince($0) >= Double(fetcher.pollInterval)
            } ?? true)
        }
      }
      return all
    } catch {
      logger.warning("ingest: the store could not list fetchers: \(error)")
      return nil
    }
  }

  /// Slots one account may hold at once: all but one, so another tenant always has one.
  var perAccount: Int { max(1, concurrency - 1) }

  /// The due fetchers that take the free slots now, marked running: accounts in turn (the
  /// one with the fewest passes running first), each within its share.
  func startable(now: Date, excluding tried: Set<String> = []) async -> [Fetcher] {
    guard let due = await due(now: now), running.count < concurrency else { return [] }
    var queues = Dictionary(grouping: due.filter { !tried.contains($0.id) }, by: \.accountID)
    var picked: [Fetcher] = []
    while running.count < concurrency {
      let turn = queues.keys
        .filter { (runningByAccount[$0] ?? 0) < perAccount && !(queues[$0] ?? []).isEmpty }
        .min { (runningByAccount[$0] ?? 0, $0.rawValue) < (runningByAccount[$1] ?? 0, $1.rawValue) }
      guard let account = turn, let fetcher = queues[account]?.first else { break }
      queues[account]?.removeFirst()
      running.insert(fetcher.id)
      runningByAccount[account, default: 0] += 1
      picked.append(fetcher)
    }
    return picked
  }

  func finished(_ fetcher: Fetcher) {
    running.remove(fetcher.id)
    runningByAccount[fetcher.accountID, default: 1] -= 1
    if runningByAccount[fetcher.accountID] == 0 { runningByAccount[fetcher.accountID] = nil }
  }

  /// One pass of one fetcher, if its lease is free.
  func runFetcher(_ fetcher: Fetcher) async {
    let account = fetcher.accountID
    let labels = [("fetcher", fetcher.id)]
    do {
      guard
        let lease = try await WorkLease.acquire(
          StoreRules.fetcherLease(fetcher.id), holder: holder, store: store, ttl: settings.leaseTTL)
      else { return }
      defer { Task { await lease.release() } }
      guard let connection = try await store.connection(fetcher.connectionID, of: account) else {
        await pause(fetcher, because: "its connection \(fetcher.connectionID) no longer exists")
        return
      }
      let sources: FetcherSources
      do {
        sources = try await open(connection, fetcher.queueURL)
      } catch {
        guard FetcherPass.breaksRole(error) else {
          // Unreachable, or Ferry's own credentials: not the customer's role; try again.
          await record(
            fetcher,
            error: "the role could not be assumed now (\(error)); the next poll tries again")
          return
        }
        await pause(
          fetcher,
          because:
            "Ferry could not assume the connection's role (\(error)). Fix: run `ferry connection check \(connection.id)` for the diagnosis, then `ferry fetcher resume \(fetcher.id)`"
        )
        return
      }
      var pass = FetcherPass(
        store: store, fetcher: fetcher, connection: connection, source: sources.bucket,
        lease: lease,
        settings: settings)
      pass.othersToday = DailyLimit.accountToday(
        try await store.fetchers(of: account), except: fetcher.id, now: Date())
      let store = self.store
      let (report, status) =
        if let queue = sources.queue {
          try await pass.runQueue(queue) { partial in
            _ = try? await store.recordFetcherRun(fetcher.id, of: account, status: partial)
          }
        } else {
          try await pass.run { partial in
            _ = try? await store.recordFetcherRun(fetcher.id, of: account, status: partial)
          }
        }
      _ = try await store.recordFetcherRun(fetcher.id, of: account, status: status)
      Counter(label: "ferry_ingest_objects_total", dimensions: labels + [("outcome", "ingested")])
        .increment(by: report.objectsIngested)
      Counter(label: "ferry_ingest_objects_total", dimensions: labels + [("outcome", "failed")])
        .increment(by: report.objectsFailed)
      Counter(label: "ferry_ingest_events_total", dimensions: labels).increment(by: report.events)
      Counter(label: "ferry_ingest_bytes_total", dimensions: labels).increment(
        by: Int(report.bytes))
      Gauge(label: "ferry_account_events_today", dimensions: [("account", account.rawValue)])
        .record(pass.othersToday + (status.eventsToday ?? 0))
      if let limit = settings.dailyLimit.eventsPerDay {
        Gauge(label: "ferry_account_events_per_day_limit").record(limit)
      }
      if let lag = status.lagSeconds {
        Gauge(label: "ferry_ingest_lag_seconds", dimensions: labels).record(lag)
      }
      for problem in report.problems.prefix(20) {
        logger.warning("ingest: fetcher \(fetcher.id): \(problem)")
      }
      if let problem = report.roleProblem { await pause(fetcher, because: problem) }
    } catch is LeaseLost {
      logger.notice(
        "ingest: fetcher \(fetcher.id) lost its lease (it was paused or deleted, or another node took it); its pass stopped before its next commit"
      )
    } catch {
      logger.error("ingest: fetcher \(fetcher.id) stopped: \(error)")
      await record(fetcher, error: "the pass stopped: \(error)")
    }
  }

  /// Records a run that did not get through, so the fetcher waits its poll interval.
  func record(_ fetcher: Fetcher, error: String) async {
    var status = fetcher.status
    status.lastRunAt = Date()
    status.lastError = error
    _ = try? await store.recordFetcherRun(fetcher.id, of: fetcher.accountID, status: status)
  }

  /// Pauses a fetcher whose role broke, with the reason: audited, as any change.
  func pause(_ fetcher: Fetcher, because reason: String) async {
    logger.error("ingest: fetcher \(fetcher.id) paused: \(reason)")
    await record(fetcher, error: reason)
    var paused = fetcher
    paused.enabled = false
    do {
      _ = try await store.updateFetcher(
        paused, of: fetcher.accountID, actor: "ferry (ingest: the role failed)")
    } catch {
      logger.error("ingest: could not pause fetcher \(fetcher.id): \(error)")
    }
  }
}
