import FerryBlocks
import FerryCore
import FerryTesting
import Foundation
import GRDB
import Testing

@testable import FerryStore

/// Events kept in blocks, on every backend: the query language gives the same answers
/// everywhere; a damaged block is reported with its fetcher and time range while the
/// others still answer; events stored row by row before schema v6 are moved into blocks.
@Suite("Store contract: event blocks")
struct EventBlockStoreTests {
  typealias Backend = StoreContractTests.Backend
  static let base = Date(timeIntervalSince1970: 1_796_119_200)

  static func events(_ account: AccountID, fetcher: String = "f1", key: String, count: Int)
    -> [Event]
  {
    var out: [Event] = []
    for i in 0..<count {
      let outcome = i % 5 == 0 ? "connection reset by peer" : "ok"
      let message = "GET /api/v\(i % 3)/items \(outcome) trace=t\(i)"
      let status = String([200, 404, 500, 503][i % 4])
      let user = i % 3 == 0 ? "Alice" : "bot"
      let time = base.addingTimeInterval(Double(i) * 7)
      out.append(
        Event(
          accountID: account, fetcherID: fetcher, logType: i % 2 == 0 ? "app" : "cloudtrail",
          time: time, sourceKey: key, sourceOffset: Int64(i), message: message,
          fields: ["status": status, "user": user]))
    }
    return out
  }

  @Test func theQueryLanguageGivesTheSameAnswersOnEveryBackend() async throws {
    var answers: [Backend: [[String]]] = [:]
    let queries = [
      "", "\"connection reset\"", "status:>=500", "user:alice -status:404", "user:*",
      "(status:500 OR status:503) reset", "/api/v1", "t12*", "nothing-here", "user:ALICE",
    ]
    for backend in Backend.allCases {
      let store = try await StoreContractTests.makeStore(backend)
      defer { (store as? PostgresStore)?.close() }
      let a = try await store.testAccount("A").id
      for object in 0..<3 {
        try await store.commitObject(
          LedgerEntry(
            fetcherID: "f1", key: "o\(object)", eTag: "e", size: 1, state: .ingested, events: 200),
          events: Self.events(a, key: "o\(object)", count: 200), of: a)
      }
      var results: [[String]] = []
      for text in queries {
        let page = try await store.search(
          EventQuery(
            from: .distantPast, to: .distantFuture, limit: 1000, query: try LogQuery.parse(text)),
          of: a)
        results.append(page.events.map { "\($0.sourceKey)#\($0.sourceOffset)" })
      }
      answers[backend] = results
    }
    let counted = try #require(answers[.sqlite])
    #expect(answers[.postgres] == counted)
    // And they are what the queries mean, counted by hand: 600 events in all; status cycles
    // 200, 404, 500, 503.
    #expect(counted[0].count == 600)
    #expect(counted[2].count == 300)
    #expect(counted[8].isEmpty)
    #expect(counted[4].count == 600)
    // Per object of 200: user Alice when i % 3 == 0 (67 events), of which status 404
    // (i % 4 == 1, so i % 12 == 9) 16; "connection reset" when i % 5 == 0 (40).
    #expect(counted[9].count == 3 * 67)
    #expect(counted[3].count == 3 * (67 - 16))
    #expect(counted[1].count == 3 * 40)
  }

  @Test func pagesFollowOneAnotherWithoutGapOrRepeat() async throws {
    for backend in Backend.databases {
      let store = try await StoreContractTests.makeStore(backend)
      defer { (store as? PostgresStore)?.close() }
      let a = try await store.testAccount("A").id
      for object in 0..<4 {
        try await store.commitObject(
          LedgerEntry(
            fetcherID: "f1", key: "p\(object)", eTag: "e", size: 1, state: .ingested, events: 150),
          events: Self.events(a, key: "p\(object)", count: 150), of: a)
      }
      var seen: [String] = []
      var cursor: String?
      repeat {
        let page = try await store.search(
          EventQuery(from: .distantPast, to: .distantFuture, limit: 70, cursor: cursor), of: a)
        seen += page.events.map { "\($0.sourceKey)#\($0.sourceOffset)" }
        let times = page.events.map(\.time)
        #expect(times == times.sorted(by: >), "newest first")
        cursor = page.nextCursor
      } while cursor != nil
      #expect(seen.count == 600, "\(backend)")
      #expect(Set(seen).count == 600, "\(backend)")
    }
  }

  @Test func aDamagedBlockIsReportedAndTheOthersStillAnswer() async throws {
    let dir = try TestPaths.temporaryDirectory("ferry-damaged")
    let path = dir.appendingPathComponent("ferry.sqlite").path
    let store = try SQLiteStore(path: path)
    let a = try await store.testAccount("A").id
    try await store.commitObject(
      LedgerEntry(fetcherID: "good", key: "g", eTag: "e", size: 1, state: .ingested, events: 10),
      events: Self.events(a, fetcher: "good", key: "g", count: 10), of: a)
    try await store.commitObject(
      LedgerEntry(fetcherID: "bad", key: "b", eTag: "e", size: 1, state: .ingested, events: 10),
      events: Self.events(a, fetcher: "bad", key: "b", count: 10), of: a)
    try await store.write { db in
      try db.execute(
        sql: """
          UPDATE event_block_data SET data = zeroblob(40)
          WHERE block_id = (SELECT id FROM event_blocks WHERE fetcher_id = 'bad')
          """)
    }
    let page = try await store.search(EventQuery(from: .distantPast, to: .distantFuture), of: a)
    #expect(page.events.count == 10)
    #expect(page.events.allSatisfy { $0.fetcherID == "good" })
    let problem = try #require(page.problems.first)
    #expect(problem.contains("fetcher bad"))
    #expect(problem.contains(Self.base.formatted(.iso8601)))
  }

  @Test func eventsStoredRowByRowBeforeBlocksAreMovedIntoBlocksOnSQLite() async throws {
    let dir = try TestPaths.temporaryDirectory("ferry-v5")
    let path = dir.appendingPathComponent("ferry.sqlite").path
    let queue = try DatabaseQueue(path: path)
    try SQLiteSchema.migrator.migrate(queue, upTo: "v5-connection-checks-operators-members")
    try await queue.write { db in
      try db.execute(
        sql:
          "INSERT INTO accounts (id, name, external_id, retention_days, created_at) VALUES ('acct_old', 'Old', 'ferry:aws:extid:old0000000000000000000', 30, 0)"
      )
      for i in 0..<500 {
        try db.execute(
          sql: """
            INSERT INTO events (account_id, fetcher_id, log_type, time, source_key, source_etag, source_offset, message, fields, search_text)
            VALUES ('acct_old', 'f1', 'app', ?, ?, 'e1', ?, ?, ?, '')
            """,
          arguments: [
            Self.base.micros + Int64(i) * 1_000_000, "k\(i % 3)", i,
            "old line \(i) needle\(i % 10)",
            "{\"n\":\"\(i)\"}",
          ])
      }
    }
    try queue.close()
    let store = try SQLiteStore(path: path)
    let a = AccountID(rawValue: "acct_old")
    #expect(try await store.schemaVersion() == SQLiteSchema.versions)
    #expect(try await store.eventCount(of: a) == 500)
    let found = try await store.search(
      EventQuery(from: .distantPast, to: .distantFuture, text: "needle7", limit: 1000), of: a)
    #expect(found.events.count == 50)
    #expect(found.events.allSatisfy { $0.message.hasSuffix("needle7") })
    let byField = try await store.search(
      EventQuery(from: .distantPast, to: .distantFuture, fields: ["n": "42"]), of: a)
    #expect(byField.events.map(\.message) == ["old line 42 needle2"])
    let tables = try await store.read { db in
      try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    #expect(!tables.contains("events"))
    #expect(!tables.contains("events_fts"))
  }

  @Test func eventsStoredRowByRowBeforeBlocksAreMovedIntoBlocksOnPostgreSQL() async throws {
    let cluster = try await ThrowawayPostgres.shared()
    let url = try await cluster.createDatabase()
    var script =
      "BEGIN;\nCREATE TABLE ferry_schema (version INT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now());\n"
    for (index, migration) in PostgresSchema.migrations.prefix(5).enumerated() {
      for statement in migration.statements { script += statement + ";\n" }
      script +=
        "INSERT INTO ferry_schema (version, name) VALUES (\(index + 1), '\(migration.name)');\n"
    }
    script +=
      "INSERT INTO accounts (id, name, external_id, retention_days, created_at) VALUES ('acct_old', 'Old', 'ferry:aws:extid:old0000000000000000000', 30, 0);\n"
    script += """
      INSERT INTO events (account_id, fetcher_id, log_type, time, source_key, source_etag, source_offset, message, fields, search)
      SELECT 'acct_old', 'f1', 'app', \(Self.base.micros) + i * 1000000, 'k' || (i % 3), 'e1', i,
        'old line ' || i || ' needle' || (i % 10), jsonb_build_object('n', i::text), ''::tsvector
      FROM generate_series(0, 499) AS i;
      COMMIT;
      """
    let out = try cluster.psql(url, script)
    try #require(out.status == 0, "\(out.stderr)")
    let store = try await PostgresStore(url: url)
    defer { store.close() }
    let a = AccountID(rawValue: "acct_old")
    #expect(try await store.schemaVersion() == PostgresSchema.migrations.count)
    #expect(try await store.eventCount(of: a) == 500)
    let found = try await store.search(
      EventQuery(from: .distantPast, to: .distantFuture, text: "needle7", limit: 1000), of: a)
    #expect(found.events.count == 50)
    let byField = try await store.search(
      EventQuery(from: .distantPast, to: .distantFuture, fields: ["n": "42"]), of: a)
    #expect(byField.events.map(\.message) == ["old line 42 needle2"])
    let tables = try cluster.psql(url, "SELECT to_regclass('events') IS NULL")
    #expect(tables.stdout.contains("t"))
  }
}
