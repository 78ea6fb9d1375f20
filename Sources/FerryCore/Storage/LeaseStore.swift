import Foundation

/// Leases with expiry and compare-and-set, so several processes or nodes never do the
/// same work at once.
public protocol LeaseStore: Sendable {
  // MARK: Leases
  /// Takes the lease if it is free, expired, or already ours; nil if another holder has it.
  func acquireLease(_ name: String, holder: String, ttl: TimeInterval) async throws -> Lease?
  /// Extends a lease we hold (compare-and-set on its version); nil if it was lost.
  func renewLease(_ lease: Lease, ttl: TimeInterval) async throws -> Lease?
  func releaseLease(_ lease: Lease) async throws -> Bool
}
