import FerryBlocks
import FerryCore
import FerryTesting
import Foundation
import GRDB
import Testing

@testable import FerryStore

/// A store written by an older Ferry (a block of the `FRB2` encoder, kept as a fixture in
/// `Tests/FerryBlocksTests/Fixtures`, with its filter of the older layout): searched under
/// this Ferry with the answers of the same events committed now, then rewritten in the
/// current layout (``EventStore/upgradeBlocks(after:limit:)``) with the same answers and
/// the same event IDs, on every backend.
@Suite("Store contract: blocks of an older layout")
struct BlockUpgradeStoreTests {
  typealias Backend = StoreContractTests.Backend

  /// Every operator of the query language, and the event query's own text and fields.
  static let queries: [(text: String, fields: [String: String])] = [
    ("", [:]), ("served", [:]), ("\"request served\"", [:]), ("level:error", [:]),
    ("level:info", [:]), ("LEVEL:INFO", [:]), ("http.status:>=300", [:]), ("http.status:<300", [:]),
    ("svc-1", [:]), ("svc*", [:]), ("trace_id:*", [:]), ("-level:info", [:]),
    ("level:warn OR level:debug", [:]), ("(level:error OR level:warn) served", [:]),
    ("größe", [:]), ("zoë", [:]), ("derived:\"not in message\"", [:]), ("empty:*", [:]),
    ("accessdenied", [:]), ("eventName:GetObject", [:]), ("nothing-here", [:]),
    ("", ["level": "warn"]), ("", ["service": "svc-3"]),
  ]

  func answers(_ store: any Store, _ account: AccountID) async throws -> [[String]] {
    var out: [[String]] = []
    for (text, fields) in Self.queries {
      let page = try await store.search(
        EventQuery(
          from: .distantPast, to: .distantFuture, fields: fields, limit: 1000,
          query: try LogQuery.parse(text)), of: account)
      out.append(page.events.map { "\($0.id ?? -1) \($0.message)" })
    }
    return out
  }

  func messages(_ answers: [[String]]) -> [[String]] {
    answers.map { $0.map { String($0.drop { $0 != " " }.dropFirst()) } }
  }

  @Test(arguments: Backend.allCases)
  func anOlderBlockIsSearchedThenRewrittenWithTheSameAnswers(backend: Backend) async throws {
    let data = try OldBlockFixture.file("frb2-block.zst")
    let filter = try OldBlockFixture.file("frb2-filter.bin")
    let dir = try TestPaths.temporaryDirectory("ferry-upgrade")
    let url: String?
    let store: any Store
    switch backend {
    case .sqlite:
      url = nil
      store = try SQLiteStore(path: dir.appendingPathComponent("ferry.sqlite").path)
    case .postgres:
      let made = try await ThrowawayPostgres.shared().createDatabase()
      url = made
      store = try await PostgresStore(url: made)
    }
    defer { (store as? PostgresStore)?.close() }
    let old = try await store.testAccount("Old").id
    let now = try await store.testAccount("Now").id
    // The fixture's events committed by this Ferry: the answers to hold the old block to.
    let events = OldBlockFixture.events.map {
      var event = $0
      event.accountID = now
      return event
    }
    try await store.commitObject(
      LedgerEntry(
        fetcherID: "fixture-fetcher", key: "app/2024/11/24/part-0001.gz", eTag: "e", size: 1,
        state: .ingested, events: events.count), events: events, of: now)
    // The old block, as the older Ferry stored it.
    let times = events.map(\.time.micros)
    let minTime = try #require(times.min())
    let maxTime = try #require(times.max())
    func insertOld(firstOffset: Int, data: [UInt8], filter: [UInt8]) async throws {
      let values: [String] = [
        old.rawValue, "fixture-fetcher", "app/2024/11/24/part-0001.gz", "e", "\(firstOffset)",
        "\(minTime)", "\(maxTime)", "\(events.count)", "10697",
      ]
      switch backend {
      case .sqlite:
        let sqlite = try #require(store as? SQLiteStore)
        try await sqlite.write { db in
          try db.execute(
            sql: """
              INSERT INTO event_blocks (account_id, fetcher_id, source_key, source_etag, first_offset,
                min_time, max_time, event_count, raw_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
              """, arguments: StatementArguments(values))
          let id = db.lastInsertedRowID
          try db.execute(
            sql: "INSERT INTO event_block_filters (block_id, filter) VALUES (?, ?)",
            arguments: [id, Data(filter)])
          try db.execute(
            sql: "INSERT INTO event_block_data (block_id, data) VALUES (?, ?)",
            arguments: [id, Data(data)])
        }
      case .postgres:
        let hex = { (bytes: [UInt8]) in bytes.map { String(format: "%02x", $0) }.joined() }
        let quoted = values.map { "'\($0)'" }.joined(separator: ", ")
        let out = try await ThrowawayPostgres.shared().psql(
          try #require(url),
          """
          WITH b AS (INSERT INTO event_blocks (account_id, fetcher_id, source_key, source_etag, first_offset,
            min_time, max_time, event_count, raw_bytes) VALUES (\(quoted)) RETURNING id),
          f AS (INSERT INTO event_block_filters (block_id, filter) SELECT id, decode('\(hex(filter))', 'hex') FROM b)
          INSERT INTO event_block_data (block_id, data) SELECT id, decode('\(hex(data))', 'hex') FROM b
          """)
        try #require(out.status == 0, "\(out.stderr)")
      }
    }
    try await insertOld(firstOffset: 0, data: data, filter: filter)
    // And a damaged one of the older layout (a zstd header, then garbage): passed over by
    // the rewrite, left as it is.
    try await insertOld(
      firstOffset: 1_000_000, data: [0x28, 0xB5, 0x2F, 0xFD, 1, 2, 3],
      filter: [UInt8](repeating: 0xFF, count: 16))
    let expected = try await answers(store, now)
    #expect(expected[1].count == 40, "every JSON line says served")
    #expect(expected[3].count == 10 && expected.last?.count == 8)
    let before = try await answers(store, old)
    #expect(messages(before) == messages(expected), "the old block answers as a new one does")

    var after: Int64 = 0
    var rewritten = 0
    while true {
      let ids = try await store.upgradeBlocks(after: after, limit: 1)
      guard let last = ids.last else { break }
      rewritten += ids.count
      after = last
    }
    #expect(rewritten == 2, "the two older blocks are come to, and only those")
    #expect(
      try await store.upgradeBlocks(after: 0, limit: 8).count == 1,
      "only the damaged block is left in the older layout")
    let upgraded = try await answers(store, old)
    #expect(upgraded == before, "the same answers, the same event IDs")
    #expect(
      try await store.eventCount(of: old) == 2 * events.count,
      "both index rows count as they did (the damaged one claims as many events)")
  }
}
