import Foundation

/// The lease a long piece of work runs under (a fetcher's pass, an archive's flush, a
/// restore), so that two nodes never do the same work at once. It is renewed in the
/// background every third of its time for as long as the process holds it (so one slow
/// step, on a loaded machine, never loses it), and at checks when due; a check after the
/// lease was lost or expired throws, so the work stops before its next commit (fencing). A
/// process that dies stops renewing, and another node takes the work after the lease's
/// time.
public actor WorkLease {
  let store: any LeaseStore
  let ttl: TimeInterval
  private var lease: Lease
  private var renewedAt: Date
  /// Set once a renewal found the lease taken by another holder.
  private var lost = false
  private var heartbeat: Task<Void, Never>?
  /// A renewal is under way (the actor may run a check meanwhile: one renewal at a time,
  /// or the second, with the lease's old version, would look like a loss).
  private var renewing = false

  /// Takes the lease `name` (`fetcher:ID`, `archive:ID`); nil if another node holds it.
  public static func acquire(
    _ name: String, holder: String, store: any LeaseStore, ttl: TimeInterval = 60
  ) async throws -> WorkLease? {
    guard let lease = try await store.acquireLease(name, holder: holder, ttl: ttl)
    else { return nil }
    let work = WorkLease(lease, store: store, ttl: ttl)
    await work.startHeartbeat()
    return work
  }

  func startHeartbeat() {
    let interval = Duration.milliseconds(Int64(ttl * 1000 / 3))
    heartbeat = Task { [weak self] in
      while !Task.isCancelled {
        try? await Task.sleep(for: interval)
        guard !Task.isCancelled, let self, await self.renewInBackground() else { return }
      }
    }
  }

  /// One background renewal; false once the lease is lost (the heartbeat stops). A store
  /// that cannot be reached is tried again at the next beat; checks fence on the expiry.
  func renewInBackground() async -> Bool {
    guard !lost else { return false }
    guard !renewing else { return true }
    renewing = true
    defer { renewing = false }
    do {
      guard let renewed = try await store.renewLease(lease, ttl: ttl) else {
        lost = true
        return false
      }
      lease = renewed
      renewedAt = Date()
    } catch {}
    return true
  }

  init(_ lease: Lease, store: any LeaseStore, ttl: TimeInterval) {
    self.lease = lease
    self.store = store
    self.ttl = ttl
    renewedAt = Date()
  }

  /// Throws ``LeaseLost`` when the lease is no longer ours; renews it when due.
  public func check() async throws {
    let now = Date()
    if lost || now >= lease.expiresAt { throw LeaseLost(name: lease.name) }
    guard now.timeIntervalSince(renewedAt) >= ttl / 3, !renewing else { return }
    renewing = true
    defer { renewing = false }
    guard let renewed = try await store.renewLease(lease, ttl: ttl) else {
      lost = true
      throw LeaseLost(name: lease.name)
    }
    lease = renewed
    renewedAt = now
  }

  public func release() async {
    heartbeat?.cancel()
    heartbeat = nil
    _ = try? await store.releaseLease(lease)
  }
}

/// The work's lease went to another holder (or expired): the work stops uncommitted.
public struct LeaseLost: Error, CustomStringConvertible {
  public let name: String
  public var description: String {
    "the lease \(name) was lost (it expired or another node took it): the work stopped before committing"
  }
}
