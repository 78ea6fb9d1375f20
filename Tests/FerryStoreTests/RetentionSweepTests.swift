import FerryCore
import FerryTesting
import Foundation
import Testing

@testable import FerryStore

/// The retention sweep on every backend: an account's events past its retention go, newer
/// ones stay, another account keeps its own by its own retention, and events an enabled
/// archive has not written yet wait for it.
@Suite("Store contract: retention sweep")
struct RetentionSweepTests {
  typealias Backend = StoreContractTests.Backend

  @Test(arguments: Backend.allCases)
  func oldEventsGoNewOnesStayAndAnArchiveKeepsWhatItHasNotWritten(backend: Backend) async throws {
    let t = try await JobsStoreTests().tenant(backend)
    defer { (t.store as? PostgresStore)?.close() }
    let store = t.store
    let base = EventBlockStoreTests.base
    let day = 86_400.0
    func commit(_ account: AccountID, key: String, daysAfterBase: Double) async throws {
      let events = EventBlockStoreTests.events(account, key: key, count: 100).map {
        var event = $0
        event.time = event.time.addingTimeInterval(daysAfterBase * day)
        return event
      }
      try await store.commitObject(
        LedgerEntry(fetcherID: "f1", key: key, eTag: "e", size: 1, state: .ingested, events: 100),
        events: events, of: account)
    }
    try await commit(t.account, key: "old", daysAfterBase: 0)
    try await commit(t.account, key: "new", daysAfterBase: 40)
    // Another tenant keeps ten years.
    let keeper = try await store.createAccount(
      name: "Keeper \(UUID().uuidString.prefix(6))", externalIDPrefix: "ferry",
      retentionDays: 3650, actor: "setup")
    try await commit(keeper.id, key: "old", daysAfterBase: 0)

    // Day 45: the account keeps 30 days, so "old" is past it, "new" is not. But an enabled
    // archive has not written "old" yet: it stays.
    let now = base.addingTimeInterval(45 * day)
    let archive = Archive(accountID: t.account, connectionID: t.archiveConnection.id, name: "a")
    try await store.addArchive(archive, of: t.account, actor: "admin")
    #expect(
      try await store.oldestUnarchivedTime(archiveID: archive.id, fetcherIDs: [], of: t.account)
        == base)
    let sweep = RetentionSweep(store: store, holder: "node-1")
    let held = try await sweep.run(now: now)
    #expect(held.ran && held.removed == 0 && held.heldByArchives == 1, "\(held)")
    #expect(try await store.eventCount(of: t.account) == 200)

    // Once the archive has written every block, the old events go and the new ones stay.
    let pending = try await store.unarchivedBlocks(
      archiveID: archive.id, fetcherIDs: [], of: t.account, limit: 100)
    let batch = try await store.startArchiveBatch(
      archiveID: archive.id, blockIDs: pending.map(\.id), of: t.account)
    #expect(
      try await store.finishArchiveBatch(
        batch, objects: 1, events: 200, bytes: 1, through: nil, of: t.account))
    #expect(
      try await store.oldestUnarchivedTime(archiveID: archive.id, fetcherIDs: [], of: t.account)
        == nil)
    let swept = try await sweep.run(now: now)
    #expect(swept.removed == 100 && swept.heldByArchives == 0, "\(swept)")
    let left = try await store.search(
      EventQuery(from: .distantPast, to: .distantFuture, limit: 1000), of: t.account)
    #expect(left.events.count == 100)
    #expect(left.events.allSatisfy { $0.sourceKey == "new" })
    #expect(try await store.eventCount(of: keeper.id) == 100, "the other account keeps its own")
    // A second node meanwhile finds the lease taken only while a sweep runs: after it, it
    // sweeps too, and finds nothing more to remove.
    #expect(try await RetentionSweep(store: store, holder: "node-2").run(now: now).removed == 0)
  }
}
