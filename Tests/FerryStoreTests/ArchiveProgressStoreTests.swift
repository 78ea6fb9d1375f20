import FerryBlocks
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
    // The same block's stored bytes, read in place by the archive writer, hold the same
    // events; not through another account either.
    let data = try #require(try await store.storedBlock(pending[0].id, of: t.account))
    #expect(
      try BlockCodec.decode(data, accountID: t.account, fetcherID: "f1") == events)
    #expect(try await store.storedBlock(pending[0].id, of: other.account) == nil)
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

  /// The flush's age clock: the first look that sees events waiting starts it, later
  /// looks keep it (a restart or another node does not start it again), a look that sees
  /// none stops it; the progress says since when and how much text waits. Another
  /// tenant's archive cannot be touched.
  @Test(arguments: Backend.allCases)
  func theWaitingClockIsKeptUntilNothingWaits(backend: Backend) async throws {
    let t = try await JobsStoreTests().tenant(backend)
    defer { (t.store as? PostgresStore)?.close() }
    let store = t.store
    let archive = Archive(accountID: t.account, connectionID: t.archiveConnection.id, name: "w")
    try await store.addArchive(archive, of: t.account, actor: "admin")
    let events = EventBlockStoreTests.events(t.account, fetcher: "f1", key: "w/o", count: 120)
    try await store.commitObject(
      LedgerEntry(fetcherID: "f1", key: "w/o", eTag: "e", size: 1, state: .ingested, events: 120),
      events: events, of: t.account)
    let first = Date(timeIntervalSince1970: 1_796_000_000)
    let since = try await store.archiveWaiting(
      archiveID: archive.id, waiting: true, now: first, of: t.account)
    #expect(since == first)
    let later = try await store.archiveWaiting(
      archiveID: archive.id, waiting: true, now: first.addingTimeInterval(90), of: t.account)
    #expect(later == first, "a later look keeps the clock")
    var progress = try await store.archiveProgress(
      archiveID: archive.id, fetcherIDs: [], of: t.account)
    #expect(progress.waitingSince == first)
    #expect(progress.pendingEvents == 120)
    // The text a flush by size counts: the blocks' uncompressed bytes, messages and all.
    let blocks = try await store.unarchivedBlocks(
      archiveID: archive.id, fetcherIDs: [], of: t.account, limit: 100)
    #expect(progress.pendingBytes == Int64(blocks.reduce(0) { $0 + $1.rawBytes }))
    #expect(progress.pendingBytes >= Int64(events.reduce(0) { $0 + $1.message.utf8.count }))
    // Another tenant cannot start, read or stop this archive's clock.
    let other = try await JobsStoreTests().tenant(backend, store: store)
    #expect(
      try await store.archiveWaiting(
        archiveID: archive.id, waiting: false, now: first, of: other.account) == nil)
    #expect(
      try await store.archiveProgress(archiveID: archive.id, fetcherIDs: [], of: t.account)
        .waitingSince == first)
    // Nothing waits: the clock stops, and the next look starts it anew.
    #expect(
      try await store.archiveWaiting(
        archiveID: archive.id, waiting: false, now: first, of: t.account) == nil)
    progress = try await store.archiveProgress(
      archiveID: archive.id, fetcherIDs: [], of: t.account)
    #expect(progress.waitingSince == nil)
    let again = first.addingTimeInterval(600)
    #expect(
      try await store.archiveWaiting(
        archiveID: archive.id, waiting: true, now: again, of: t.account) == again)
  }

  /// A reprocess keeps what archives held of the objects it starts over, as spans of
  /// offsets (a block's first offset to the next block's, the last to the ledger row's
  /// offset), so that the events read again are not archived twice; and the totals stop
  /// counting what compaction removed of those objects, which count again once read.
  @Test(arguments: Backend.allCases)
  func aReprocessKeepsWhatArchivesHeldAndUncountsCompactedObjects(backend: Backend)
    async throws
  {
    let t = try await JobsStoreTests().tenant(backend)
    defer { (t.store as? PostgresStore)?.close() }
    let store = t.store
    let fetcher = Fetcher(
      accountID: t.account, connectionID: t.fetchConnection.id, name: "app", logType: "json")
    try await store.addFetcher(fetcher, of: t.account, actor: "admin")
    let archive = Archive(accountID: t.account, connectionID: t.archiveConnection.id, name: "a")
    try await store.addArchive(archive, of: t.account, actor: "admin")
    let other = Archive(accountID: t.account, connectionID: t.archiveConnection.id, name: "b")
    try await store.addArchive(other, of: t.account, actor: "admin")

    // An old object, committed and compacted out of the ledger.
    let old = EventBlockStoreTests.events(t.account, fetcher: fetcher.id, key: "k/old", count: 40)
    try await store.commitObject(
      LedgerEntry(
        fetcherID: fetcher.id, key: "k/old", eTag: "o", size: 1, state: .ingested, events: 40,
        offset: 40), events: old, of: t.account)
    let compacted = try await store.compactLedger(
      of: t.account, fetcherID: fetcher.id, throughKey: nil,
      updatedBefore: Date().addingTimeInterval(60), limit: 10)
    #expect(compacted == LedgerCompaction(objects: 1, events: 40))
    var counted = fetcher
    counted.status.compactedObjects = 1
    counted.status.compactedEvents = 40
    #expect(try await store.recordFetcherRun(counted.id, of: t.account, status: counted.status))

    // A 300-event object in three chunks; archive a holds the first two, b none.
    let events = EventBlockStoreTests.events(
      t.account, fetcher: fetcher.id, key: "k/obj", count: 300)
    for (n, chunk) in [0..<100, 100..<200, 200..<300].enumerated() {
      try await store.commitObject(
        LedgerEntry(
          fetcherID: fetcher.id, key: "k/obj", eTag: "e", size: 1,
          state: n == 2 ? .ingested : .pending, events: chunk.count,
          offset: Int64(chunk.upperBound)),
        events: Array(events[chunk]), of: t.account)
    }
    let blocks = try await store.unarchivedBlocks(
      archiveID: archive.id, fetcherIDs: [], of: t.account, limit: 100
    ).filter { $0.sourceKey == "k/obj" }
    #expect(blocks.count == 3)
    let batch = try await store.startArchiveBatch(
      archiveID: archive.id, blockIDs: blocks.prefix(2).map(\.id), of: t.account)
    #expect(
      try await store.finishArchiveBatch(
        batch, objects: 1, events: 200, bytes: 1, through: nil, of: t.account))
    #expect(
      try await store.archivedSpans(archiveID: archive.id, keys: ["k/obj"], of: t.account).isEmpty)

    _ = try await store.reprocess(
      fetcherID: fetcher.id, keys: "k/"..."k/z", of: t.account, actor: "alice")
    let status = try #require(
      try await store.applyReprocessRequests(fetcherID: fetcher.id, of: t.account))
    #expect(status.compactedObjects == 0 && status.compactedEvents == 0)
    #expect(try await store.eventCount(of: t.account) == 0)
    let spans = try await store.archivedSpans(
      archiveID: archive.id, keys: ["k/obj", "k/old"], of: t.account)
    #expect(
      Set(spans.map(\.offsets)) == [0..<100, 100..<200], "what archive a holds, by offset")
    #expect(
      spans.allSatisfy { $0.fetcherID == fetcher.id && $0.sourceKey == "k/obj" && $0.eTag == "e" })
    #expect(
      try await store.archivedSpans(archiveID: other.id, keys: ["k/obj"], of: t.account).isEmpty)
    // Not another account's to see.
    let stranger = try await JobsStoreTests().tenant(backend, store: store)
    #expect(
      try await store.archivedSpans(archiveID: archive.id, keys: ["k/obj"], of: stranger.account)
        .isEmpty)
    // The spans go with their archive.
    #expect(try await store.removeArchive(archive.id, of: t.account, actor: "admin"))
    #expect(
      try await store.archivedSpans(archiveID: archive.id, keys: ["k/obj"], of: t.account).isEmpty)
  }

}
