import FerryCore
import FerryTesting
import Foundation
import Testing

@testable import FerryStore

/// A fetcher's ledger as the API and the UI read it, and reprocessing: the same contract on
/// every backend.
@Suite("Store contract: the ledger and reprocessing")
struct LedgerStoreTests {
  typealias Backend = StoreContractTests.Backend

  @Test(arguments: Backend.allCases)
  func theLedgerPagesInKeyOrderAndReprocessingStartsObjectsOver(backend: Backend) async throws {
    let t = try await JobsStoreTests().tenant(backend)
    let fetcher = Fetcher(
      accountID: t.account, connectionID: t.fetchConnection.id, name: "app", logType: "json")
    try await t.store.addFetcher(fetcher, of: t.account, actor: "alice")
    var status = FetcherStatus()
    status.listCursor = "logs/d"
    status.lastFullListAt = Date(timeIntervalSince1970: 1_764_000_000)
    _ = try await t.store.recordFetcherRun(fetcher.id, of: t.account, status: status)
    // Keys out of order, one replaced (two ETags), one failed.
    let rows: [(String, String, LedgerState)] = [
      ("logs/c", "e1", .ingested), ("logs/a", "e1", .ingested), ("logs/b", "e2", .ingested),
      ("logs/b", "e1", .ingested), ("logs/d", "e1", .failed), ("logs/Z", "e1", .ingested),
    ]
    for (key, eTag, state) in rows {
      let event = Event(
        accountID: t.account, fetcherID: fetcher.id, logType: "json",
        time: Date(timeIntervalSince1970: 1_764_000_000), sourceKey: key, sourceOffset: 0,
        message: "line of \(key) \(eTag)")
      try await t.store.commitObject(
        LedgerEntry(
          fetcherID: fetcher.id, key: key, eTag: eTag, size: 10, state: state,
          events: state == .ingested ? 1 : 0, offset: 10,
          error: state == .failed ? "AccessDenied" : nil, attempts: state == .failed ? 5 : 1),
        events: state == .ingested ? [event] : [], of: t.account)
    }
    // Byte order of keys ("Z" before "a"), then ETag; pages follow one another.
    let first = try await t.store.ledger(
      of: t.account, fetcherID: fetcher.id, state: nil, afterKey: nil, limit: 3)
    #expect(first.map { "\($0.key)#\($0.eTag)" } == ["logs/Z#e1", "logs/a#e1", "logs/b#e1"])
    let rest = try await t.store.ledger(
      of: t.account, fetcherID: fetcher.id, state: nil, afterKey: "logs/b", limit: 10)
    #expect(rest.map(\.key) == ["logs/c", "logs/d"])
    let failed = try await t.store.ledger(
      of: t.account, fetcherID: fetcher.id, state: .failed, afterKey: nil, limit: 10)
    #expect(failed.map(\.key) == ["logs/d"])
    #expect(failed.first?.error == "AccessDenied")
    await #expect(throws: StoreError.self) {
      _ = try await t.store.ledger(
        of: t.account, fetcherID: fetcher.id, state: nil, afterKey: nil, limit: 0)
    }

    let summary = try await t.store.ledgerSummary(of: t.account, fetcherID: fetcher.id)
    #expect(summary.objects == [.ingested: 5, .failed: 1])
    #expect(summary.events == 5)
    #expect(summary.rows == 6)
    // Keys (6 bytes each), ETags (2) and the one error (12), plus the fixed columns.
    #expect(summary.bytes == 6 * 6 + 6 * 2 + 12 + 6 * LedgerSummary.fixedRowBytes)

    // Reprocess b..d: both versions of b, c and d start over; the others stay.
    let count = try await t.store.reprocess(
      fetcherID: fetcher.id, keys: "logs/b"..."logs/d", of: t.account, actor: "bob")
    #expect(count == 4)
    // The request waits for the fetcher's next pass: nothing changes until it is applied
    // (a pass under way is not cut into).
    let waiting = try await t.store.ledger(
      of: t.account, fetcherID: fetcher.id, state: .pending, afterKey: nil, limit: 10)
    #expect(waiting.isEmpty)
    #expect(try await t.store.eventCount(of: t.account) == 5)
    let applied = try #require(
      try await t.store.applyReprocessRequests(fetcherID: fetcher.id, of: t.account))
    #expect(applied.reprocessKeys == KeySpan(from: "logs/b", to: "logs/d"))
    #expect(try await t.store.applyReprocessRequests(fetcherID: fetcher.id, of: t.account) == nil)
    let after = try await t.store.ledger(
      of: t.account, fetcherID: fetcher.id, state: .pending, afterKey: nil, limit: 10)
    #expect(after.map(\.key) == ["logs/b", "logs/b", "logs/c", "logs/d"])
    #expect(after.allSatisfy { $0.offset == 0 && $0.attempts == 0 && $0.error == nil })
    // The next pass lists the whole prefix and reads the span even where compaction removed
    // rows; the cursor stays, so what lies before it is not all read again.
    let stored = try #require(try await t.store.fetchers(of: t.account).first)
    #expect(stored.status.listCursor == "logs/d" && stored.status.lastFullListAt == nil)
    #expect(stored.status.reprocessKeys == KeySpan(from: "logs/b", to: "logs/d"))
    // The events of the objects that start over are gone (logs/b twice and logs/c; logs/d
    // had failed), so reading them again stores each once.
    let before = try await t.store.eventCount(of: t.account)
    #expect(before == 2)
    let again = LedgerEntry(
      fetcherID: fetcher.id, key: "logs/c", eTag: "e1", size: 10, state: .ingested, events: 1,
      offset: 10)
    let event = Event(
      accountID: t.account, fetcherID: fetcher.id, logType: "json",
      time: Date(timeIntervalSince1970: 1_764_000_000), sourceKey: "logs/c", sourceOffset: 0,
      message: "line of logs/c e1")
    #expect(try await t.store.commitObject(again, events: [event], of: t.account).events == 1)
    #expect(try await t.store.eventCount(of: t.account) == before + 1)
    // Events already stored are not stored twice when the object is read again.
    #expect(try await t.store.commitObject(again, events: [event], of: t.account).events == 1)
    #expect(try await t.store.eventCount(of: t.account) == before + 1)
    // Audited; another account's fetcher is not found.
    let log = try await t.store.auditLog(of: t.account, limit: 5)
    #expect(log.contains { $0.action == "fetcher.reprocess" && $0.actor == "bob" })
    let other = try await JobsStoreTests().tenant(backend, store: t.store)
    #expect(
      try await t.store.reprocess(
        fetcherID: fetcher.id, keys: "a"..."z", of: other.account, actor: "mallory") == nil)
  }

  @Test(arguments: Backend.allCases)
  func compactionRemovesOldIngestedRowsBehindTheKeyInBatchesAndKeepsTheTotals(backend: Backend)
    async throws
  {
    let t = try await JobsStoreTests().tenant(backend)
    let fetcher = Fetcher(
      accountID: t.account, connectionID: t.fetchConnection.id, name: "app", logType: "json")
    try await t.store.addFetcher(fetcher, of: t.account, actor: "alice")
    let old = Date(timeIntervalSince1970: 1_764_000_000)
    let cutoff = old.addingTimeInterval(86_400)
    let recent = cutoff.addingTimeInterval(60)
    // (key, state, events, updated)
    let rows: [(String, LedgerState, Int, Date)] = [
      ("logs/b", .ingested, 2, old), ("logs/a", .ingested, 3, old), ("logs/c", .failed, 0, old),
      ("logs/d", .ingested, 1, recent), ("logs/e", .ingested, 4, old),
    ]
    for (key, state, count, updated) in rows {
      let events = (0..<count).map { i in
        Event(
          accountID: t.account, fetcherID: fetcher.id, logType: "json", time: old,
          sourceKey: key, sourceOffset: Int64(i), message: "line \(i) of \(key)")
      }
      try await t.store.commitObject(
        LedgerEntry(
          fetcherID: fetcher.id, key: key, eTag: "e1", size: 10, state: state, events: count,
          offset: Int64(count), error: state == .failed ? "AccessDenied" : nil,
          attempts: state == .failed ? 5 : 1, updatedAt: updated),
        events: events, of: t.account)
    }
    let stored = try await t.store.eventCount(of: t.account)
    #expect(stored == 10)
    // Another account cannot compact this fetcher's ledger.
    let other = try await JobsStoreTests().tenant(backend, store: t.store)
    #expect(
      try await t.store.compactLedger(
        of: other.account, fetcherID: fetcher.id, throughKey: nil, updatedBefore: recent,
        limit: 100) == LedgerCompaction())
    // A batch of one takes the first key; the next batch the rest that qualify: only
    // ingested rows, older than the cutoff, at or before the key.
    let first = try await t.store.compactLedger(
      of: t.account, fetcherID: fetcher.id, throughKey: "logs/d", updatedBefore: cutoff, limit: 1)
    #expect(first == LedgerCompaction(objects: 1, events: 3))
    let second = try await t.store.compactLedger(
      of: t.account, fetcherID: fetcher.id, throughKey: "logs/d", updatedBefore: cutoff,
      limit: 100)
    #expect(second == LedgerCompaction(objects: 1, events: 2))
    let left = try await t.store.ledger(
      of: t.account, fetcherID: fetcher.id, state: nil, afterKey: nil, limit: 10)
    #expect(left.map(\.key) == ["logs/c", "logs/d", "logs/e"])
    // The totals keep what the rows held; the events themselves stay searchable.
    let status = try #require(try await t.store.fetchers(of: t.account).first).status
    #expect(status.compactedObjects == 2 && status.compactedEvents == 5)
    #expect(try await t.store.eventCount(of: t.account) == stored)
    let summary = try await t.store.ledgerSummary(of: t.account, fetcherID: fetcher.id)
    #expect(summary.rows == 3)
    // Without a key (a queue's fetcher), age alone decides.
    let byAge = try await t.store.compactLedger(
      of: t.account, fetcherID: fetcher.id, throughKey: nil, updatedBefore: cutoff, limit: 100)
    #expect(byAge == LedgerCompaction(objects: 1, events: 4))
  }

  /// The store's event identity, chunk by chunk, as the issue's cases state it: a retry cut
  /// into other chunks stores each event once (the issue's [0,10000)+[10000,12000) then
  /// [0,10000)+[10000,15000) lost 3,000; here at a fifth of the size); a failure recorded after a committed chunk keeps
  /// it; a reprocess of a multi-chunk object replaces its events. The offsets stand for
  /// byte positions: event n at 10 n.
  @Test(arguments: Backend.allCases)
  func eventsAreStoredOnceWhateverTheChunksAndAFailureKeepsWhatWasCommitted(backend: Backend)
    async throws
  {
    let t = try await JobsStoreTests().tenant(backend)
    defer { (t.store as? PostgresStore)?.close() }
    let store = t.store
    let fetcher = Fetcher(
      accountID: t.account, connectionID: t.fetchConnection.id, name: "app", logType: "json")
    try await store.addFetcher(fetcher, of: t.account, actor: "alice")
    var rng = SeededGenerator(seed: 32)
    let events = (0..<3_000).map { n in
      Event(
        accountID: t.account, fetcherID: fetcher.id, logType: "json",
        time: Date(timeIntervalSince1970: 1_764_000_000 + Double(n)), sourceKey: "logs/big",
        sourceOffset: Int64(n * 10),
        message: #"{"id":"\#(rng.next())","n":\#(n),"ms":\#(rng.next() % 5000)}"#)
    }
    func commit(_ range: Range<Int>, _ state: LedgerState, error: String? = nil) async throws
      -> LedgerEntry
    {
      try await store.commitObject(
        LedgerEntry(
          fetcherID: fetcher.id, key: "logs/big", eTag: "e1", size: 30_000, state: state,
          events: range.count, offset: Int64(range.upperBound * 10), error: error),
        events: Array(events[range]), of: t.account)
    }
    func stored() async throws -> [Int] {
      var out: [Int] = []
      var cursor: String?
      repeat {
        let page = try await store.search(
          EventQuery(
            from: Date(timeIntervalSince1970: 1_763_000_000),
            to: Date(timeIntervalSince1970: 1_765_000_000), limit: 10_000, cursor: cursor),
          of: t.account)
        out += page.events.map { Int($0.sourceOffset / 10) }
        cursor = page.nextCursor
      } while cursor != nil
      return out.sorted()
    }
    // First attempt: [0,2000) and [2000,2400), then the download fails (the issue's case,
    // at a fifth of its size).
    _ = try await commit(0..<2_000, .pending)
    _ = try await commit(2_000..<2_400, .pending)
    let failed = try await store.commitObject(
      LedgerEntry(
        fetcherID: fetcher.id, key: "logs/big", eTag: "e1", size: 30_000, state: .failed,
        events: 0, offset: 0, error: "connection reset", attempts: 1),
      events: [], of: t.account)
    #expect(
      failed.state == .failed && failed.events == 2_400 && failed.offset == 24_000,
      "the failure is written on top of the committed chunks")
    // The retry resumes cut otherwise: [0,2000) again, then [2000,3000).
    _ = try await commit(0..<2_000, .pending)
    let done = try await commit(2_000..<3_000, .ingested)
    #expect(done.state == .ingested && done.events == 3_000 && done.offset == 30_000)
    #expect(try await stored() == Array(0..<3_000), "each event once, none lost")

    // A reprocess of the multi-chunk object replaces its events: read again in yet other
    // chunks, each is stored once.
    _ = try await store.reprocess(
      fetcherID: fetcher.id, keys: "logs/big"..."logs/big", of: t.account, actor: "alice")
    _ = try await store.applyReprocessRequests(fetcherID: fetcher.id, of: t.account)
    #expect(try await store.eventCount(of: t.account) == 0)
    for (n, range) in [0..<1_401, 1_401..<1_900, 1_900..<3_000].enumerated() {
      _ = try await commit(range, n == 2 ? .ingested : .pending)
    }
    #expect(try await stored() == Array(0..<3_000))
    let row = try #require(
      try await store.ledgerEntry(of: t.account, fetcherID: fetcher.id, key: "logs/big", eTag: "e1")
    )
    #expect(row.events == 3_000 && row.state == .ingested)
  }

}
