import FerryCore
import Foundation

/// The lease a fetcher's work runs under, so that two nodes never read the same fetcher
/// at once. It is renewed as the work goes (at every check, once a third of its time has
/// passed); a check after the lease was lost throws, so the work stops before its next
/// commit (fencing).
public actor FetcherLease {
  let store: any Store
  let ttl: TimeInterval
  private var lease: Lease
  private var renewedAt: Date

  /// Takes the lease for `fetcherID`; nil if another node holds it.
  public static func acquire(
    _ fetcherID: String, holder: String, store: any Store, ttl: TimeInterval = 60
  ) async throws -> FetcherLease? {
    guard let lease = try await store.acquireLease("fetcher:" + fetcherID, holder: holder, ttl: ttl)
    else { return nil }
    return FetcherLease(lease, store: store, ttl: ttl)
  }

  init(_ lease: Lease, store: any Store, ttl: TimeInterval) {
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

/// The fetcher's lease went to another holder (or expired): its work stops uncommitted.
public struct LeaseLost: Error, CustomStringConvertible {
  public let name: String
  public var description: String {
    "the lease \(name) was lost (it expired or another node took it): the work stopped before committing"
  }
}
