import Foundation

/// Enforces every account's retention: removes its events older than `retentionDays`, in
/// bounded transactions (``EventStore/deleteEvents(of:olderThan:batchSize:)``), under the
/// lease `retention` so that one node sweeps at a time. Events an enabled archive of the
/// account has not written yet stay until it has (the cutoff stops at the oldest of them),
/// so an archive never misses what retention removed first. Restored events are not
/// touched here: they expire with their restore.
public struct RetentionSweep: Sendable {
  public let store: any Store
  public let holder: String
  /// Events removed per transaction.
  public var batchSize = 10_000
  public var leaseTTL: TimeInterval = 300

  public init(store: any Store, holder: String) {
    self.store = store
    self.holder = holder
  }

  /// What a sweep did.
  public struct Report: Sendable, Equatable {
    public var accounts = 0
    public var removed = 0
    /// Metric data points removed (they follow the account's retention too; no archive
    /// holds them).
    public var metricPointsRemoved = 0
    /// Accounts whose cutoff an archive held back (it has not written those events yet).
    public var heldByArchives = 0
    /// False when another node holds the lease (it sweeps instead).
    public var ran = true

    public init() {}
  }

  /// One sweep of every account, as of `now`.
  public func run(now: Date = Date()) async throws -> Report {
    var report = Report()
    guard
      let lease = try await WorkLease.acquire(
        "retention", holder: holder, store: store, ttl: leaseTTL)
    else {
      report.ran = false
      return report
    }
    defer { Task { await lease.release() } }
    for account in try await store.accounts() {
      try Task.checkCancellation()
      try await lease.check()
      let (cutoff, held) = try await cutoff(for: account, now: now)
      if held { report.heldByArchives += 1 }
      report.removed += try await store.deleteEvents(
        of: account.id, olderThan: cutoff, batchSize: batchSize)
      report.metricPointsRemoved += try await store.deleteMetrics(
        of: account.id, olderThan: now.addingTimeInterval(-Double(account.retentionDays) * 86_400))
      report.accounts += 1
    }
    return report
  }

  /// The time before which the account's events go, and whether an archive held it back.
  public func cutoff(for account: Account, now: Date) async throws -> (Date, held: Bool) {
    var cutoff = now.addingTimeInterval(-Double(account.retentionDays) * 86_400)
    var held = false
    for archive in try await store.archives(of: account.id) where archive.enabled {
      if let oldest = try await store.oldestUnarchivedTime(
        archiveID: archive.id, fetcherIDs: archive.fetcherIDs, of: account.id),
        oldest < cutoff
      {
        cutoff = oldest
        held = true
      }
    }
    return (cutoff, held)
  }
}
