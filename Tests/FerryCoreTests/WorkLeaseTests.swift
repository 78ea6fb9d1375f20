import FerryCore
import FerryStore
import FerryTesting
import Foundation
import Synchronization
import Testing

/// A work lease holds while its process works, however long one step takes (it renews in
/// the background, with no check from the work), keeps other holders out meanwhile, and
/// goes to another holder once released or once its holder stops renewing. The test counts
/// the renewals the store sees rather than timing a step, so a loaded machine that runs the
/// heartbeat late does not make it fail.
@Suite("Work leases")
struct WorkLeaseTests {
  /// The embedded store, counting renewals.
  final class CountingLeases: LeaseStore {
    let store: SQLiteStore
    let renewals = Mutex(0)

    init() throws { store = try TestStore.sqlite() }

    func acquireLease(_ name: String, holder: String, ttl: TimeInterval) async throws -> Lease? {
      try await store.acquireLease(name, holder: holder, ttl: ttl)
    }
    func renewLease(_ lease: Lease, ttl: TimeInterval) async throws -> Lease? {
      renewals.withLock { $0 += 1 }
      return try await store.renewLease(lease, ttl: ttl)
    }
    func releaseLease(_ lease: Lease) async throws -> Bool {
      try await store.releaseLease(lease)
    }
  }

  @Test func theLeaseRenewsItselfWhileTheWorkRunsAndOthersWait() async throws {
    let leases = try CountingLeases()
    let lease = try #require(
      try await WorkLease.acquire("archive:a", holder: "node-1", store: leases, ttl: 3))
    // No check from the work: the renewals come from the lease itself.
    let deadline = Date().addingTimeInterval(60)
    while leases.renewals.withLock({ $0 }) < 2, Date() < deadline {
      try await Task.sleep(for: .milliseconds(100))
    }
    #expect(leases.renewals.withLock { $0 } >= 2, "renewed twice within a minute")
    #expect(
      try await WorkLease.acquire("archive:a", holder: "node-2", store: leases, ttl: 3) == nil,
      "another node waits while the first one works")
    try await lease.check()
    await lease.release()
    let next = try await WorkLease.acquire("archive:a", holder: "node-2", store: leases, ttl: 3)
    #expect(next != nil, "released: another node takes it at once")
    await next?.release()
  }

  @Test func aLeaseNobodyRenewsGoesToAnotherHolder() async throws {
    let store = try TestStore.sqlite()
    // A holder that died: its lease row stays until it expires, and nothing renews it. (A
    // time to live of seconds, not tenths: the store is a real database, on a busy machine.)
    let clock = ContinuousClock()
    let expiry = clock.now + .seconds(8)
    _ = try #require(try await store.acquireLease("fetcher:f", holder: "dead", ttl: 8))
    let early = try await WorkLease.acquire("fetcher:f", holder: "live", store: store, ttl: 3)
    // Meaningful only while the dead holder's lease runs (a very busy machine may take
    // longer than that to get here).
    if clock.now < expiry - .milliseconds(200) {
      #expect(early == nil, "another holder waits while the lease runs")
    }
    await early?.release()
    try await Task.sleep(until: expiry + .milliseconds(500), clock: clock)
    let taken = try await WorkLease.acquire("fetcher:f", holder: "live", store: store, ttl: 3)
    #expect(taken != nil)
    await taken?.release()
  }
}
