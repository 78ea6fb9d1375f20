import FerryCore
import FerryTesting
import Foundation
import Testing

@testable import FerryStore

/// What the archive writer keeps in the store, on every backend: which blocks an archive
/// still lacks, batches recorded before their objects are written and finished once (their
/// blocks marked, in one transaction), marks that survive retention's rewrite of a block,
/// and tenants that cannot see or touch each other's archives.
@Suite("Store contract: archive progress")
struct ArchiveProgressStoreTests {
  typealias Backend = StoreContractTests.Backend

  @Test(arguments: Backend.allCases)
  func blocksAreArchivedOnceThroughBatches(backend: Backend) async throws {
    let t = try await JobsStoreTests().tenant(backend)
    defer { (t.store as? PostgresStore)?.close() }
    let store = t.store
    let archive = Archive(
      accountID: t.account, connectionID: t.archiveConnection.id, name: "all")
    try await store.addArchive(archive, of: t.account, actor: "admin")
    // Another tenant's events in the same store.
    let other = try await JobsStoreTests().tenant(backend, store: store)
    try await store.commitObject(
      LedgerEntry(fetcherID: "f9", key: "x", eTag: "e", size: 1, state: .ingested, events: 50),
      events: EventBlockStoreTests.events(other.account, fetcher: "f9", key: "x", count: 50),
      of: other.account)

    var committed: [String: [Event]] = [:]
    for (i, fetcher) in ["f1", "f1", "f2"].enumerated() {
      let events = EventBlockStoreTests.events(
        t.account, fetcher: fetcher, key: "o\(i)", count: 100)
      committed["o\(i)"] = events
      try await store.commitObject(
        LedgerEntry(
          fetcherID: fetcher, key: "o\(i)", eTag: "e\(i)", size: 1, state: .ingested, events: 100),
        events: events, of: t.account)
    }

    let pending = try await store.unarchivedBlocks(
      archiveID: archive.id, fetcherIDs: [], of: t.account, limit: 100)
    #expect(pending.map(\.sourceKey) == ["o0", "o1", "o2"], "the account's own, in commit order")
    #expect(pending.map(\.eTag) == ["e0", "e1", "e2"])
    #expect(pending.allSatisfy { $0.eventCount == 100 })
    #expect(pending.map(\.id) == pending.map(\.id).sorted())
    let onlyF2 = try await store.unarchivedBlocks(
      archiveID: archive.id, fetcherIDs: ["f2"], of: t.account, limit: 100)
    #expect(onlyF2.map(\.sourceKey) == ["o2"])
    #expect(
      try await store.unarchivedBlocks(
        archiveID: archive.id, fetcherIDs: [], of: t.account, limit: 1
      ).count == 1)
    await #expect(throws: StoreError.self) {
      _ = try await store.unarchivedBlocks(
        archiveID: archive.id, fetcherIDs: [], of: t.account, limit: 0)
    }

    // A block's events come back whole, with what they were committed with.
    let events = try #require(try await store.blockEvents(pending[0].id, of: t.account))
    #expect(
      Set(events.map(\.message)) == Set(try #require(committed["o0"]).map(\.message)))
    #expect(events.allSatisfy { $0.fetcherID == "f1" && $0.sourceKey == "o0" })
    #expect(events.first?.fields["status"] != nil)
    // Not through another account.
    #expect(try await store.blockEvents(pending[0].id, of: other.account) == nil)
    #expect(try await store.blocks(pending.map(\.id), of: other.account).isEmpty)
    #expect(try await store.blocks([pending[1].id], of: t.account) == [pending[1]])

    // A batch is recorded first; only one is open at a time.
    let first = try await store.startArchiveBatch(
      archiveID: archive.id, blockIDs: pending.prefix(2).map(\.id), of: t.account)
    #expect(first.sequence == 1)
    #expect(try await store.openArchiveBatch(archiveID: archive.id, of: t.account) == first)
    await #expect(throws: StoreError.self) {
      _ = try await store.startArchiveBatch(
        archiveID: archive.id, blockIDs: [pending[2].id], of: t.account)
    }
    // Another tenant can neither see nor start nor finish it.
    #expect(try await store.openArchiveBatch(archiveID: archive.id, of: other.account) == nil)
    await #expect(throws: StoreError.self) {
      _ = try await store.startArchiveBatch(
        archiveID: archive.id, blockIDs: [], of: other.account)
    }
    #expect(
      try await store.finishArchiveBatch(
        first, objects: 1, events: 200, bytes: 10, through: nil, of: other.account) == false)

    // Until it finishes, its blocks are still to archive (a crash repeats the batch).
    #expect(
      try await store.unarchivedBlocks(
        archiveID: archive.id, fetcherIDs: [], of: t.account, limit: 100
      ).count == 3)
    let through = StoreContractTests.base.addingTimeInterval(3600)
    #expect(
      try await store.finishArchiveBatch(
        first, objects: 2, events: 200, bytes: 4096, through: through, of: t.account))
    #expect(
      try await store.finishArchiveBatch(
        first, objects: 2, events: 200, bytes: 4096, through: through, of: t.account) == false,
      "a batch finishes once")
    #expect(
      try await store.unarchivedBlocks(
        archiveID: archive.id, fetcherIDs: [], of: t.account, limit: 100
      ).map(\.sourceKey) == ["o2"])
    #expect(try await store.openArchiveBatch(archiveID: archive.id, of: t.account) == nil)
    #expect(try await store.archives(of: t.account).first?.archivedThrough == through)

    // The watermark never moves back.
    let second = try await store.startArchiveBatch(
      archiveID: archive.id, blockIDs: [pending[2].id], of: t.account)
    #expect(second.sequence == 2)
    var progress = try await store.archiveProgress(
      archiveID: archive.id, fetcherIDs: [], of: t.account)
    #expect(progress.batches == 1 && progress.objects == 2 && progress.events == 200)
    #expect(progress.bytes == 4096 && progress.lastFlushAt != nil)
    #expect(progress.pendingBlocks == 1 && progress.pendingEvents == 100)
    #expect(progress.openBatch == 2)
    #expect(
      try await store.finishArchiveBatch(
        second, objects: 1, events: 100, bytes: 100, through: StoreContractTests.base,
        of: t.account))
    #expect(try await store.archives(of: t.account).first?.archivedThrough == through)
    progress = try await store.archiveProgress(archiveID: archive.id, fetcherIDs: [], of: t.account)
    #expect(progress.pendingBlocks == 0 && progress.openBatch == nil && progress.batches == 2)

    // The writer's last run is kept, and cleared by the next good one.
    try await store.recordArchiveRun(
      archiveID: archive.id, error: "S3.PutObject: AccessDenied", at: through, of: t.account)
    progress = try await store.archiveProgress(archiveID: archive.id, fetcherIDs: [], of: t.account)
    #expect(progress.lastError == "S3.PutObject: AccessDenied" && progress.lastRunAt == through)
    try await store.recordArchiveRun(
      archiveID: archive.id, error: nil, at: through, of: t.account)
    progress = try await store.archiveProgress(archiveID: archive.id, fetcherIDs: [], of: t.account)
    #expect(progress.lastError == nil)
    #expect(
      try await store.archiveProgress(archiveID: archive.id, fetcherIDs: [], of: other.account)
        == ArchiveProgress())

    // A second archive of the account starts from nothing.
    let mirror = Archive(
      accountID: t.account, connectionID: t.archiveConnection.id, name: "mirror")
    try await store.addArchive(mirror, of: t.account, actor: "admin")
    #expect(
      try await store.unarchivedBlocks(
        archiveID: mirror.id, fetcherIDs: [], of: t.account, limit: 100
      ).count == 3)

    // Retention that keeps part of a block keeps it archived: nothing is offered twice.
    // The events are 7 s apart from `base`; cut through the middle of every block.
    let removed = try await store.deleteEvents(
      of: t.account, olderThan: EventBlockStoreTests.base.addingTimeInterval(350), batchSize: 1000)
    #expect(removed == 150)
    #expect(
      try await store.unarchivedBlocks(
        archiveID: archive.id, fetcherIDs: [], of: t.account, limit: 100
      ).isEmpty)
    #expect(
      try await store.unarchivedBlocks(
        archiveID: mirror.id, fetcherIDs: [], of: t.account, limit: 100
      ).reduce(0) { $0 + $1.eventCount } == 150)

    // Removing the archive removes its progress.
    #expect(try await store.removeArchive(archive.id, of: t.account, actor: "admin"))
    #expect(
      try await store.archiveProgress(archiveID: archive.id, fetcherIDs: [], of: t.account)
        == ArchiveProgress())
  }
}
