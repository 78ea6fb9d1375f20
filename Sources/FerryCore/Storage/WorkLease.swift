import FerryCore
import Foundation

/// The lease a long piece of work runs under (a fetcher's pass, an archive's flush), so that
/// two nodes never do the same work at once. It is renewed as the work goes (at every
/// check, once a third of its time has passed); a check after the lease was lost throws, so
/// the work stops before its next commit (fencing).
public actor WorkLease {
  let store: any LeaseStore
  let ttl: TimeInterval
  private var lease: Lease
  private var renewedAt: Date

  /// Takes the lease `name` (`fetcher:ID`, `archive:ID`); nil if another node holds it.
  public static func acquire(
    _ name: String, holder: String, store: any LeaseStore, ttl: TimeInterval = 60
  ) async throws -> WorkLease? {
    guard let lease = try await store.acquireLease(name, holder: holder, ttl: ttl)
    else { return nil }
    return WorkLease(lease, store: store, ttl: ttl)
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
    if now >= lease.expiresAt { throw LeaseLost(name: lease.name) }
    guard now.timeIntervalSince(renewedAt) >= ttl / 3 else { return }
    guard let renewed = try await store.renewLease(lease, ttl: ttl) else {
      throw LeaseLost(name: lease.name)
    }
    lease = renewed
    renewedAt = now
  }

  public func release() async {
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
