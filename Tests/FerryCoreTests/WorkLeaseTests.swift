import FerryCore
import FerryTesting
import Foundation
import Testing

/// A work lease holds while its process works, however long one step takes (it renews in
/// the background), keeps other holders out meanwhile, and goes to another holder once
/// released or once its holder stops renewing.
@Suite("Work leases")
struct WorkLeaseTests {
  @Test func aSlowStepKeepsTheLeaseAndOthersWait() async throws {
    let store = InMemoryStore()
    let lease = try #require(
      try await WorkLease.acquire("archive:a", holder: "node-1", store: store, ttl: 0.3))
    // A step five times the lease's time, with no check in between.
    try await Task.sleep(for: .milliseconds(1500))
    try await lease.check()
    #expect(
      try await WorkLease.acquire("archive:a", holder: "node-2", store: store, ttl: 0.3) == nil,
      "another node waits while the first one works")
    await lease.release()
    let next = try await WorkLease.acquire("archive:a", holder: "node-2", store: store, ttl: 0.3)
    #expect(next != nil, "released: another node takes it at once")
    await next?.release()
  }

  @Test func aLeaseNobodyRenewsGoesToAnotherHolder() async throws {
    let store = InMemoryStore()
    // A holder that died: its lease row stays until it expires, and nothing renews it.
    _ = try #require(try await store.acquireLease("fetcher:f", holder: "dead", ttl: 0.3))
    #expect(try await WorkLease.acquire("fetcher:f", holder: "live", store: store, ttl: 0.3) == nil)
    try await Task.sleep(for: .milliseconds(500))
    let taken = try await WorkLease.acquire("fetcher:f", holder: "live", store: store, ttl: 0.3)
    #expect(taken != nil)
    await taken?.release()
  }
}
