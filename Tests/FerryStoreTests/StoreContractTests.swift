import FerryCore
import FerryTesting
import Foundation
import GRDB
import Synchronization
import Testing

@testable import FerryStore

/// The store's contract, run against both backends: SQLite (a file in a temporary data
/// directory) and PostgreSQL (a throwaway cluster on loopback, one database per test).
@Suite("Store contract")
struct StoreContractTests {
  /// Every backend the contract runs on: the two databases.
  enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres
    var testDescription: String { rawValue }

    /// The backends with a schema of their own.
    static let databases: [Backend] = [.sqlite, .postgres]
  }

  static func makeStore(_ backend: Backend) async throws -> any Store {
    switch backend {
    case .sqlite:
      let dir = try TestPaths.temporaryDirectory("ferry-sqlite")
      return try SQLiteStore(path: dir.appendingPathComponent("ferry.sqlite").path)
    case .postgres:
      return try await PostgresStore(url: try await ThrowawayPostgres.shared().createDatabase())
    }
  }

  static let base = Date(timeIntervalSince1970: 1_732_400_000)

  func event(
    _ account: AccountID, _ minutes: Int, _ message: String, fields: Fields = [:],
    logType: String = "alb"
  ) -> Event {
    Event(
      accountID: account, fetcherID: "f1", logType: logType,
      time: Self.base.addingTimeInterval(Double(minutes) * 60),
      sourceKey: "AWSLogs/a.log", sourceOffset: Self.nextOffset(), message: message,
      fields: fields)
  }

  /// Each event of a test is at its own offset in its object, as a real object's are (the
  /// store keeps one event per object version and offset).
  static let offsets = Atomic<Int64>(0)
  static func nextOffset() -> Int64 { offsets.add(1, ordering: .relaxed).newValue }

  /// Names are shown in terminals and pages: control characters and invalid UTF-8 are
  /// refused, and names are unique regardless of case, on both backends alike.
  @Test(arguments: Backend.allCases)
  func accountNamesAreCheckedAndUnique(backend: Backend) async throws {
    let store = try await Self.makeStore(backend)
    defer { (store as? PostgresStore)?.close() }
    for bad in ["Evil\nacct_x", "Bad\u{1B}[31m", "Del\u{7F}", "Bidi\u{202E}x", "Broken\u{FFFD}"] {
      await #expect(throws: StoreError.self) {
        try await store.testAccount(bad)
      }
    }
    _ = try await store.testAccount("Acme Corp")
    await #expect {
      try await store.testAccount("ACME CORP")
    } throws: { error in
      "\(error)".contains("exists already")
    }
    // Accents and CJK are names like any other.
    _ = try await store.testAccount("Café 東京")
    #expect(try await store.accounts().map(\.name) == ["Acme Corp", "Café 東京"])
  }

  @Test(arguments: Backend.databases)
  func migrationsAreRecordedAndANewerSchemaIsRefused(backend: Backend) async throws {
    switch backend {
    case .sqlite:
      let dir = try TestPaths.temporaryDirectory("ferry-sqlite")
      let path = dir.appendingPathComponent("ferry.sqlite").path
      let store = try SQLiteStore(path: path)
      #expect(try await store.schemaVersion() == SQLiteSchema.versions)
      try await store.writerPool().write { db in
        try db.execute(
          sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
      }
      #expect(
        throws: StoreError.schemaTooNew(
          found: SQLiteSchema.versions + 1, supported: SQLiteSchema.versions)
      ) {
        try SQLiteStore(path: path)
      }
    case .postgres:
      let cluster = try await ThrowawayPostgres.shared()
      let url = try await cluster.createDatabase()
      let store = try await PostgresStore(url: url)
      #expect(try await store.schemaVersion() == PostgresSchema.migrations.count)
      // A second node starting against the same database migrates nothing and agrees.
      let second = try await PostgresStore(url: url)
      #expect(try await second.schemaVersion() == PostgresSchema.migrations.count)
      _ = try cluster.psql(url, "INSERT INTO ferry_schema (version, name) VALUES (99, 'future')")
      await #expect(
        throws: StoreError.schemaTooNew(found: 99, supported: PostgresSchema.migrations.count)
      ) {
        try await PostgresStore(url: url)
      }
    }
  }

  @Test(arguments: Backend.allCases)
  func accountsGetTheirOwnGeneratedExternalID(backend: Backend) async throws {
    let store = try await Self.makeStore(backend)
    let a = try await store.testAccount("Acme")
    let b = try await store.createAccount(
      name: "Globex", externalIDPrefix: "ferry", retentionDays: 7, actor: "setup")
    #expect(a.externalID.hasPrefix("ferry:aws:extid:"))
    // At least 128 bits (the serve issue): lowercase letters and digits, 36 symbols.
    let random = a.externalID.dropFirst("ferry:aws:extid:".count)
    #expect(random.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber) })
    #expect(Double(random.count) * log2(36.0) >= 128, "\(a.externalID)")
    #expect(a.externalID != b.externalID)
    let loaded = try #require(try await store.account(a.id))
    #expect(loaded.externalID == a.externalID)
    #expect(loaded.name == "Acme")
    #expect(try await store.account(AccountID(rawValue: "acct_missing")) == nil)
    // Creation is audited, with who did it.
    let created = try #require(try await store.auditLog(of: a.id, limit: 10).first)
    #expect(created.action == "account.create" && created.actor == "test")
    #expect(created.after?.contains(a.externalID) == true)
    // Bad input is refused with the reason, and nothing is created.
    for (name, prefix, days, reason) in [
      ("", "ferry", 30, "name must be 1 to 100"), ("Acme", "fer ry", 30, "external ID prefix"),
      ("Acme", "ferry", 0, "retention"),
    ] {
      await #expect {
        _ = try await store.createAccount(
          name: name, externalIDPrefix: prefix, retentionDays: days, actor: "setup")
      } throws: { error in
        (error as? StoreError)?.description.contains(reason) == true
      }
    }
    #expect(try await store.accounts().count == 2)
  }

  @Test(arguments: Backend.allCases)
  func tenantsAreIsolated(backend: Backend) async throws {
    let store = try await Self.makeStore(backend)
    let a = try await store.testAccount("A")
      .id
    let b = try await store.testAccount("B")
      .id
    let connection = Connection(
      accountID: a, purpose: .fetcher, bucket: "a-logs", region: "us-east-1", prefix: "",
      roleARN: "arn:aws:iam::111122223333:role/r",
      externalID: "ferry:aws:extid:x", usesLegacyExternalID: false)
    try await store.addConnection(connection, of: a, actor: "admin@a")
    try await store.commitObject(
      LedgerEntry(fetcherID: "f1", key: "k", eTag: "e", size: 1, state: .ingested, events: 1),
      events: [event(a, 1, "secret of a")], of: a)
    #expect(try await store.connections(of: b).isEmpty)
    #expect(try await store.eventCount(of: b) == 0)
    #expect(
      try await store.search(
        EventQuery(from: .distantPast, to: .distantFuture, text: "secret"), of: b
      ).events.isEmpty)
    #expect(try await store.ledgerEntry(of: b, fetcherID: "f1", key: "k", eTag: "e") == nil)
    // B's audit log holds only B's own creation.
    #expect(try await store.auditLog(of: b, limit: 10).map(\.action) == ["account.create"])
    #expect(try await store.removeConnection(connection.id, of: b, actor: "admin@b") == false)
    #expect(try await store.connections(of: a).count == 1)
  }

  @Test(arguments: Backend.allCases)
  func everyConnectionChangeIsAudited(backend: Backend) async throws {
    let store = try await Self.makeStore(backend)
    let a = try await store.testAccount("A")
      .id
    let connection = Connection(
      accountID: a, purpose: .archive, bucket: "a-archive", region: "eu-west-1", prefix: "ferry/",
      roleARN: "arn:aws:iam::111122223333:role/archive", externalID: "legacy-id",
      usesLegacyExternalID: true)
    try await store.addConnection(connection, of: a, actor: "alice")
    #expect(try await store.removeConnection(connection.id, of: a, actor: "bob"))
    let log = try await store.auditLog(of: a, limit: 10)
    #expect(log.map(\.action) == ["connection.remove", "connection.add", "account.create"])
    #expect(log.map(\.actor) == ["bob", "alice", "test"])
    #expect(log[1].after?.contains("a-archive") == true)
    #expect(log[0].before?.contains("arn:aws:iam::111122223333:role/archive") == true)
    #expect(log[0].after == nil)
    // Snapshots as the API spells them, with dates in RFC 3339 (read by Foundation's
    // independent JSON and ISO 8601 readers).
    let snapshot = try #require(
      try JSONSerialization.jsonObject(with: Data((log[1].after ?? "").utf8)) as? [String: Any])
    #expect(snapshot["accountId"] as? String == a.rawValue, "\(snapshot.keys.sorted())")
    #expect(snapshot["roleArn"] as? String == "arn:aws:iam::111122223333:role/archive")
    #expect(snapshot["accountID"] == nil && snapshot["roleARN"] == nil)
    let created = try #require(snapshot["createdAt"] as? String, "\(snapshot)")
    let parsed = try #require(ISO8601DateFormatter().date(from: created), "\(created)")
    #expect(abs(parsed.timeIntervalSince(connection.createdAt)) < 1)
  }

  @Test(arguments: Backend.allCases)
  func anObjectAndItsEventsCommitTogetherOrNotAtAll(backend: Backend) async throws {
    let store = try await Self.makeStore(backend)
    let a = try await store.testAccount("A")
      .id
    let entry = LedgerEntry(
      fetcherID: "f1", key: "AWSLogs/1.log", eTag: "\"e1\"", size: 100, state: .ingested, events: 2,
      offset: 100)
    try await store.commitObject(entry, events: [event(a, 1, "one"), event(a, 2, "two")], of: a)
    let stored = try #require(
      try await store.ledgerEntry(of: a, fetcherID: "f1", key: "AWSLogs/1.log", eTag: "\"e1\""))
    #expect(stored.state == .ingested)
    #expect(stored.events == 2)
    #expect(try await store.eventCount(of: a) == 2)
    // An event the store refuses (empty log type) fails the whole object: no ledger row, no events.
    let bad = LedgerEntry(
      fetcherID: "f1", key: "AWSLogs/2.log", eTag: "\"e2\"", size: 100, state: .ingested, events: 2)
    await #expect(throws: StoreError.self) {
      try await store.commitObject(
        bad, events: [event(a, 3, "three"), event(a, 4, "four", logType: "")], of: a)
    }
    #expect(
      try await store.ledgerEntry(of: a, fetcherID: "f1", key: "AWSLogs/2.log", eTag: "\"e2\"")
        == nil)
    #expect(try await store.eventCount(of: a) == 2)
    // A failed object is recorded with its error.
    var failed = bad
    failed.state = .failed
    failed.error = "gzip: unexpected end of stream"
    failed.attempts = 1
    try await store.commitObject(failed, events: [], of: a)
    #expect(
      try await store.ledgerEntry(of: a, fetcherID: "f1", key: "AWSLogs/2.log", eTag: "\"e2\"")?
        .error == "gzip: unexpected end of stream")
  }

  @Test(arguments: Backend.allCases)
  func writesThousandsOfEventsPerTransaction(backend: Backend) async throws {
    let store = try await Self.makeStore(backend)
    let a = try await store.testAccount("A")
      .id
    let events = (0..<12_000).map {
      event(a, $0 % 1440, "GET /index.html 200 request \($0)", fields: ["status": "200"])
    }
    try await store.commitObject(
      LedgerEntry(
        fetcherID: "f1", key: "big.log", eTag: "e", size: 1, state: .ingested, events: 12_000),
      events: events, of: a)
    #expect(try await store.eventCount(of: a) == 12_000)
  }

  static let corpus: [(minutes: Int, message: String, fields: Fields)] = [
    (1, "GET /api/users 200 12ms", ["status": "200", "method": "GET"]),
    (2, "POST /api/login 500 upstream timeout", ["status": "500", "method": "POST"]),
    (3, "GET /health 200 1ms", ["status": "200", "method": "GET"]),
    (4, "ERROR: connection timeout to db-1.internal:5432", ["level": "error"]),
    (5, "POST /api/orders 500 Timeout while writing", ["status": "500", "method": "POST"]),
    (6, "Café crème served to user-42", ["level": "info"]),
    (7, "GET /api/orders 404 not found", ["status": "404", "method": "GET"]),
    (8, "timeout-retry scheduled (attempt 3)", ["level": "warn"]),
  ]

  @Test(arguments: Backend.allCases)
  func searchGivesTheSameAnswersOnBothBackends(backend: Backend) async throws {
    let store = try await Self.makeStore(backend)
    let a = try await store.testAccount("A")
      .id
    try await store.commitObject(
      LedgerEntry(
        fetcherID: "f1", key: "k", eTag: "e", size: 1, state: .ingested, events: Self.corpus.count),
      events: Self.corpus.map { event(a, $0.minutes, $0.message, fields: $0.fields) }, of: a)
    func messages(_ text: String, fields: [String: String] = [:], from: Int = 0, to: Int = 100)
      async throws -> [String]
    {
      try await store.search(
        EventQuery(
          from: Self.base.addingTimeInterval(Double(from) * 60),
          to: Self.base.addingTimeInterval(Double(to) * 60), text: text, fields: fields),
        of: a
      ).events.map(\.message)
    }
    // Newest first; every word must appear, as a whole word, case-insensitively.
    #expect(
      try await messages("timeout") == [
        "timeout-retry scheduled (attempt 3)", "POST /api/orders 500 Timeout while writing",
        "ERROR: connection timeout to db-1.internal:5432", "POST /api/login 500 upstream timeout",
      ])
    #expect(
      try await messages("timeout post") == [
        "POST /api/orders 500 Timeout while writing", "POST /api/login 500 upstream timeout",
      ])
    #expect(try await messages("time").isEmpty)
    #expect(
      try await messages("db 1 internal") == ["ERROR: connection timeout to db-1.internal:5432"])
    #expect(try await messages("CAFÉ") == ["Café crème served to user-42"])
    #expect(
      try await messages("", fields: ["status": "500"]) == [
        "POST /api/orders 500 Timeout while writing", "POST /api/login 500 upstream timeout",
      ])
    #expect(
      try await messages("orders", fields: ["method": "GET"]) == ["GET /api/orders 404 not found"])
    #expect(
      try await messages("", from: 3, to: 5) == [
        "ERROR: connection timeout to db-1.internal:5432", "GET /health 200 1ms",
      ])
    #expect(try await messages("\"; DROP TABLE events; --").isEmpty)
  }

  @Test(arguments: Backend.allCases)
  func pagesAreStableAndComplete(backend: Backend) async throws {
    let store = try await Self.makeStore(backend)
    let a = try await store.testAccount("A")
      .id
    // Several events share a timestamp: the cursor must not skip or repeat them.
    let events = (0..<25).map { event(a, $0 / 3, "line \($0)") }
    try await store.commitObject(
      LedgerEntry(fetcherID: "f1", key: "k", eTag: "e", size: 1, state: .ingested, events: 25),
      events: events, of: a)
    var seen: [String] = []
    var cursor: String?
    var pages = 0
    repeat {
      let page = try await store.search(
        EventQuery(from: .distantPast, to: .distantFuture, limit: 4, cursor: cursor), of: a)
      seen += page.events.map(\.message)
      cursor = page.nextCursor
      pages += 1
    } while cursor != nil
    #expect(pages == 7)
    #expect(seen.count == 25)
    #expect(Set(seen).count == 25)
    await #expect(throws: StoreError.self) {
      try await store.search(
        EventQuery(from: .distantPast, to: .distantFuture, cursor: "not-a-cursor"), of: a)
    }
  }

  @Test(arguments: Backend.allCases)
  func leasesExpireAndAreComparedAndSet(backend: Backend) async throws {
    let store = try await Self.makeStore(backend)
    // Long TTLs until expiry is what is tested: a loaded machine may pause between steps.
    let lease = try #require(try await store.acquireLease("fetcher:f1", holder: "node-a", ttl: 60))
    #expect(try await store.acquireLease("fetcher:f1", holder: "node-b", ttl: 30) == nil)
    #expect(
      try await store.acquireLease("fetcher:f1", holder: "node-a", ttl: 60)?.version == lease
        .version + 1)
    let current = try #require(
      try await store.acquireLease("fetcher:f1", holder: "node-a", ttl: 60))
    let renewed = try #require(try await store.renewLease(current, ttl: 0.3))
    #expect(renewed.version == current.version)
    try await Task.sleep(for: .milliseconds(600))
    let taken = try #require(try await store.acquireLease("fetcher:f1", holder: "node-b", ttl: 30))
    #expect(taken.version == current.version + 1)
    // node-a's lease was lost: renewing or releasing it changes nothing.
    #expect(try await store.renewLease(current, ttl: 30) == nil)
    #expect(try await store.releaseLease(current) == false)
    #expect(try await store.releaseLease(taken))
    #expect(try await store.acquireLease("fetcher:f1", holder: "node-a", ttl: 30) != nil)
  }

  @Test(arguments: Backend.allCases)
  func onlyOneOfManyConcurrentContendersGetsALease(backend: Backend) async throws {
    let store = try await Self.makeStore(backend)
    let winners = try await withThrowingTaskGroup(of: Lease?.self) { group in
      for n in 0..<40 {
        group.addTask { try await store.acquireLease("fetcher:hot", holder: "node-\(n)", ttl: 30) }
      }
      return try await group.reduce(into: [Lease]()) { if let lease = $1 { $0.append(lease) } }
    }
    #expect(winners.count == 1)
  }

  @Test(arguments: Backend.allCases)
  func retentionDeletesOldEventsInBatches(backend: Backend) async throws {
    let store = try await Self.makeStore(backend)
    let a = try await store.testAccount("A")
      .id
    let b = try await store.testAccount("B")
      .id
    let old = (0..<250).map { event(a, $0, "old \($0)") }
    let new = (0..<10).map { event(a, 10_000 + $0, "new \($0)") }
    try await store.commitObject(
      LedgerEntry(fetcherID: "f1", key: "k", eTag: "e", size: 1, state: .ingested, events: 260),
      events: old + new, of: a)
    try await store.commitObject(
      LedgerEntry(fetcherID: "f1", key: "k", eTag: "e", size: 1, state: .ingested, events: 5),
      events: (0..<5).map { event(b, $0, "b \($0)") }, of: b)
    let deleted = try await store.deleteEvents(
      of: a, olderThan: Self.base.addingTimeInterval(5000 * 60), batchSize: 100)
    #expect(deleted == 250)
    #expect(try await store.eventCount(of: a) == 10)
    #expect(try await store.eventCount(of: b) == 5)
    #expect(
      try await store.search(EventQuery(from: .distantPast, to: .distantFuture, text: "old"), of: a)
        .events.isEmpty)
  }
}

@Suite("Store faults")
struct StoreFaultTests {
  @Test func aCorruptDatabaseFileIsReportedNotOverwritten() throws {
    let dir = try TestPaths.temporaryDirectory("ferry-sqlite")
    let path = dir.appendingPathComponent("ferry.sqlite").path
    let garbage = Data(repeating: 0x5A, count: 8192)
    try garbage.write(to: URL(fileURLWithPath: path))
    do {
      _ = try SQLiteStore(path: path)
      Issue.record("opening a corrupt file must fail")
    } catch let error as StoreError {
      guard case .corrupt(let detail) = error else {
        Issue.record("expected .corrupt, got \(error)")
        return
      }
      #expect(detail.contains(path))
      #expect(error.description.contains("Restore it from a backup"))
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
  }

  @Test func postgresGoingAwayIsAClearErrorAndNothingHalfWritten() async throws {
    let cluster = try ThrowawayPostgres.start()
    defer { cluster.stop() }
    // The test cluster trades durability for speed (synchronous_commit=off), which loses
    // the last commits in a crash: this test needs commits to be durable.
    let durable = try cluster.psql(
      cluster.url, "ALTER DATABASE postgres SET synchronous_commit = on")
    try #require(durable.status == 0, "\(durable.stderr)")
    // A call waits up to 15 s: on a loaded 2-core machine (CI runs this beside the server
    // suites) a healthy call can take several seconds, and only the call made while
    // PostgreSQL is down is meant to fail.
    let store = try await PostgresStore(url: cluster.url, callTimeout: .seconds(15))
    let a = try await store.testAccount("A")
      .id
    /// After the restart the pool reconnects with backoff, connection by connection: a call
    /// may still find it unready, so each check is tried again until the pool answers.
    func onceUp<T: Sendable>(_ body: () async throws -> T) async throws -> T {
      for _ in 0..<10 {
        do { return try await body() } catch StoreError.unavailable { continue }
      }
      return try await body()
    }
    func object(_ key: String) -> (LedgerEntry, [Event]) {
      (
        LedgerEntry(fetcherID: "f1", key: key, eTag: "e", size: 1, state: .ingested, events: 2),
        (0..<2).map {
          Event(
            accountID: a, fetcherID: "f1", logType: "alb", time: Date(), sourceKey: key,
            sourceOffset: Int64($0), message: "m\($0)")
        }
      )
    }
    let (first, firstEvents) = object("first")
    try await store.commitObject(first, events: firstEvents, of: a)
    try cluster.kill()
    let (second, secondEvents) = object("second")
    do {
      try await store.commitObject(second, events: secondEvents, of: a)
      Issue.record("must fail while PostgreSQL is down")
    } catch let error as StoreError {
      guard case .unavailable(let detail) = error else {
        Issue.record("expected .unavailable, got \(error)")
        return
      }
      #expect(detail.contains("127.0.0.1"))
    }
    // Back up: the first object is whole, the second left no ledger row and no event.
    // (The pool reconnects with backoff: on a loaded 2-core machine that can take a while.)
    try cluster.restart()
    var count = -1
    for _ in 0..<150 {
      if let n = try? await store.eventCount(of: a) {
        count = n
        break
      }
      try await Task.sleep(for: .milliseconds(200))
    }
    #expect(count == 2)
    let firstRow = try await onceUp {
      try await store.ledgerEntry(of: a, fetcherID: "f1", key: "first", eTag: "e")
    }
    #expect(firstRow != nil)
    let secondRow = try await onceUp {
      try await store.ledgerEntry(of: a, fetcherID: "f1", key: "second", eTag: "e")
    }
    #expect(secondRow == nil)
    // The commit can simply be made again.
    try await onceUp { try await store.commitObject(second, events: secondEvents, of: a) }
    #expect(try await onceUp { try await store.eventCount(of: a) } == 4)
    store.close()
  }
}

@Suite("Store: users and tokens")
struct AccessStoreTests {
  typealias Backend = StoreContractTests.Backend

  @Test(arguments: Backend.allCases)
  func tokensAreStoredOnlyAsHashesAndAudited(backend: Backend) async throws {
    let store = try await StoreContractTests.makeStore(backend)
    let a = try await store.testAccount("A")
      .id
    let b = try await store.testAccount("B")
      .id
    try await store.addUser(
      User(accountID: a, email: "alice@a.example", role: .admin), actor: "setup")
    #expect(try await store.users(of: a).map(\.email) == ["alice@a.example"])
    #expect(try await store.users(of: b).isEmpty)
    let issued = try await store.issueToken(
      name: "ci", role: .member, of: a, actor: "alice@a.example")
    #expect(issued.secret.revealed.hasPrefix("fry_"))
    #expect(try await store.authenticate(tokenSecret: issued.secret.revealed)?.accountID == a)
    #expect(try await store.authenticate(tokenSecret: issued.secret.revealed + "x") == nil)
    // The secret appears nowhere the store keeps: not in the token, not in the audit log.
    let audit = try await store.auditLog(of: a, limit: 10)
    #expect(audit.map(\.action) == ["token.issue", "user.add", "account.create"])
    #expect(
      !audit.contains {
        ($0.after ?? "").contains(issued.secret.revealed)
          || ($0.before ?? "").contains(issued.secret.revealed)
      })
    #expect(try await store.revokeToken(issued.token.id, of: b, actor: "mallory") == false)
    #expect(try await store.revokeToken(issued.token.id, of: a, actor: "alice@a.example"))
    #expect(try await store.authenticate(tokenSecret: issued.secret.revealed) == nil)
  }

  @Test(arguments: Backend.allCases)
  func theLastAdminCredentialCannotBeRevoked(_ backend: Backend) async throws {
    let store = try await StoreContractTests.makeStore(backend)
    let a = try await store.testAccount("A").id
    let first = try await store.issueToken(name: "first", role: .admin, of: a, actor: "setup")
    let member = try await store.issueToken(name: "ci", role: .member, of: a, actor: "setup")
    // A member token is no admin credential: the first admin token is still the last one.
    await #expect {
      try await store.revokeToken(first.token.id, of: a, actor: "admin")
    } throws: { error in
      "\(error)".contains("last admin credential")
    }
    #expect(try await store.authenticate(tokenSecret: first.secret.revealed) != nil)
    #expect(try await store.auditLog(of: a, limit: 10).map(\.action).first == "token.issue")
    // With a second admin token, either may go, but not both.
    let second = try await store.issueToken(name: "second", role: .admin, of: a, actor: "setup")
    #expect(try await store.revokeToken(first.token.id, of: a, actor: "admin"))
    #expect(try await store.revokeToken(member.token.id, of: a, actor: "admin"))
    await #expect(throws: StoreError.self) {
      try await store.revokeToken(second.token.id, of: a, actor: "admin")
    }
    #expect(try await store.authenticate(tokenSecret: second.secret.revealed)?.role == .admin)
  }

  @Test func theSQLiteFileHoldsNoTokenSecret() async throws {
    let dir = try TestPaths.temporaryDirectory("ferry-sqlite")
    let path = dir.appendingPathComponent("ferry.sqlite").path
    let store = try SQLiteStore(path: path)
    let a = try await store.testAccount("A")
      .id
    let issued = try await store.issueToken(name: "ci", role: .admin, of: a, actor: "setup")
    try await store.writerPool().writeWithoutTransaction { db in try db.checkpoint(.truncate) }
    for file in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
      let bytes = try Data(contentsOf: dir.appendingPathComponent(file))
      #expect(
        bytes.range(of: Data(issued.secret.revealed.utf8)) == nil,
        "\(file) contains the token secret")
    }
  }
}

/// Secrets the store hands out or is given never show in text.
@Suite("Store secrets never leak")
struct StoreSecretLeakTests {
  @Test func anIssuedTokenNeverShowsItsSecret() async throws {
    let dir = try TestPaths.temporaryDirectory("ferry-sqlite")
    let store = try SQLiteStore(path: dir.appendingPathComponent("ferry.sqlite").path)
    let account = try await store.testAccount("Acme")
    let issued = try await store.issueToken(
      name: "ci", role: .admin, of: account.id, actor: "t")
    var dumped = ""
    dump(issued, to: &dumped)
    for text in ["\(issued)", String(reflecting: issued), dumped] {
      #expect(!text.contains(issued.secret.revealed))
    }
  }

  @Test func aBadDatabaseURLIsNotEchoedWithItsPassword() async throws {
    await #expect {
      try await PostgresStore(url: "mysql://ferry:hunter2-password@db.example/x")
    } throws: { error in
      !"\(error)".contains("hunter2-password")
    }
  }
}

/// Events on both backends: committed once by their natural key, stored by one rule.
@Suite("Store contract: events")
struct EventContractTests {
  typealias Backend = StoreContractTests.Backend

  /// A new store of the backend with one account, "A".
  func freshAccount(_ backend: Backend) async throws -> (any Store, AccountID) {
    let store = try await StoreContractTests.makeStore(backend)
    let account = try await store.testAccount("A")
    return (store, account.id)
  }

  func event(
    _ account: AccountID, _ minutes: Int, _ message: String, fields: Fields = [:]
  )
    -> Event
  {
    Event(
      accountID: account, fetcherID: "f1", logType: "alb",
      time: StoreContractTests.base.addingTimeInterval(Double(minutes) * 60),
      sourceKey: "AWSLogs/a.log", sourceOffset: Int64(minutes), message: message, fields: fields)
  }

  /// A commit repeated after its answer was lost (a timeout, a dropped connection) stores
  /// nothing twice: events have a natural key (fetcher, object version, offset) that the
  /// database enforces.
  @Test(arguments: Backend.allCases)
  func aRepeatedCommitStoresNothingTwice(backend: Backend) async throws {
    let (store, a) = try await freshAccount(backend)
    defer { (store as? PostgresStore)?.close() }
    let entry = LedgerEntry(
      fetcherID: "f1", key: "logs/a.gz", eTag: "e1", size: 10, state: .ingested, events: 3)
    let events = (0..<3).map { event(a, $0, "line \($0)") }.map {
      var e = $0
      e.sourceKey = "logs/a.gz"
      return e
    }
    try await store.commitObject(entry, events: events, of: a)
    try await store.commitObject(entry, events: events, of: a)
    #expect(try await store.eventCount(of: a) == 3)
    // A new version of the object (another ETag) is new events.
    var replaced = entry
    replaced.eTag = "e2"
    try await store.commitObject(replaced, events: events, of: a)
    #expect(try await store.eventCount(of: a) == 6)
  }

  /// One rule on both backends: NUL characters (which PostgreSQL's text cannot hold) are
  /// stored as U+FFFD, so such an object commits, and reads back, the same everywhere.
  @Test(arguments: Backend.allCases)
  func nulCharactersAreStoredAsReplacementCharacters(backend: Backend) async throws {
    let (store, a) = try await freshAccount(backend)
    defer { (store as? PostgresStore)?.close() }
    try await store.commitObject(
      LedgerEntry(fetcherID: "f1", key: "k", eTag: "e", size: 1, state: .ingested, events: 1),
      events: [event(a, 1, "before\u{0}after", fields: ["k\u{0}": "v\u{0}"])], of: a)
    let page = try await store.search(
      EventQuery(from: .distantPast, to: .distantFuture, text: ""), of: a)
    #expect(page.events.first?.message == "before\u{FFFD}after")
    #expect(page.events.first?.fields == ["k\u{FFFD}": "v\u{FFFD}"])
  }

  /// Field filters compare the key as written, quotes and dots included.
  @Test(arguments: Backend.allCases)
  func fieldKeysAreComparedExactly(backend: Backend) async throws {
    let (store, a) = try await freshAccount(backend)
    defer { (store as? PostgresStore)?.close() }
    try await store.commitObject(
      LedgerEntry(fetcherID: "f1", key: "k", eTag: "e", size: 1, state: .ingested, events: 2),
      events: [
        event(a, 1, "one", fields: ["a\"b": "1"]), event(a, 2, "two", fields: ["ab": "1"]),
        event(a, 3, "three", fields: ["x.y": "2", "x": "{\"y\":\"2\"}"]),
      ], of: a)
    func messages(_ fields: [String: String]) async throws -> [String] {
      try await store.search(
        EventQuery(from: .distantPast, to: .distantFuture, text: "", fields: fields), of: a
      ).events.map(\.message)
    }
    #expect(try await messages(["a\"b": "1"]) == ["one"])
    #expect(try await messages(["ab": "1"]) == ["two"])
    #expect(try await messages(["x.y": "2"]) == ["three"])
    #expect(try await messages(["') OR 1=1 --": "1"]).isEmpty)
  }

  /// Hostile text reaches the database only as data: in names, ledger keys, fetcher IDs,
  /// messages, field keys and values, it is stored and read back byte for byte, matches
  /// only itself, and every table is still there.
  @Test(arguments: Backend.allCases)
  func hostileStringsAreDataNotSQL(backend: Backend) async throws {
    let store = try await StoreContractTests.makeStore(backend)
    defer { (store as? PostgresStore)?.close() }
    let probes = [
      "'; DROP TABLE events; --", "\"; DROP TABLE accounts; --", "x') OR ('1'='1",
      "$1 $2", "back\\slash", "%_ wildcards", "ünïcödé 東京",
    ]
    for (i, probe) in probes.enumerated() {
      let account = try await store.createAccount(
        name: "\(probe) \(i)", externalIDPrefix: "ferry", retentionDays: 30, actor: probe)
      let a = account.id
      #expect(try await store.account(a)?.name == "\(probe) \(i)")
      let entry = LedgerEntry(
        fetcherID: probe, key: probe, eTag: probe, size: 1, state: .ingested, events: 1)
      let event = Event(
        accountID: a, fetcherID: probe, logType: "alb", time: StoreContractTests.base,
        sourceKey: probe, sourceOffset: 0, message: probe, fields: [probe: probe, "other": "1"])
      try await store.commitObject(entry, events: [event], of: a)
      #expect(
        try await store.ledgerEntry(of: a, fetcherID: probe, key: probe, eTag: probe)?.key == probe)
      let byField = try await store.search(
        EventQuery(from: .distantPast, to: .distantFuture, fields: [probe: probe]), of: a)
      #expect(byField.events.map(\.message) == [probe])
      #expect(byField.events.first?.fields[probe] == probe)
      let wrongValue = try await store.search(
        EventQuery(from: .distantPast, to: .distantFuture, fields: [probe: probe + "x"]), of: a)
      #expect(wrongValue.events.isEmpty)
    }
    #expect(try await store.accounts().count == probes.count)
    for account in try await store.accounts() {
      #expect(try await store.eventCount(of: account.id) == 1)
    }
  }

  @Test(arguments: Backend.allCases)
  func aBatchSizeBelowOneIsRefused(backend: Backend) async throws {
    let (store, a) = try await freshAccount(backend)
    defer { (store as? PostgresStore)?.close() }
    for size in [0, -5] {
      await #expect(throws: StoreError.self) {
        try await store.deleteEvents(of: a, olderThan: Date(), batchSize: size)
      }
    }
  }
}

/// Leases across nodes are judged by the database server's clock, not by each node's.
@Suite("Store: leases use the database's clock")
struct LeaseClockTests {
  @Test func aLeaseExpiresByTheDatabaseClock() async throws {
    let cluster = try await ThrowawayPostgres.shared()
    let url = try await cluster.createDatabase()
    let store = try await PostgresStore(url: url)
    defer { store.close() }
    let before = try cluster.psql(
      url, "SELECT (extract(epoch from clock_timestamp()) * 1000000)::bigint")
    let lease = try #require(try await store.acquireLease("fetcher-1", holder: "node-a", ttl: 60))
    let after = try cluster.psql(
      url, "SELECT (extract(epoch from clock_timestamp()) * 1000000)::bigint")
    let low = try #require(Int64(before.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
    let high = try #require(Int64(after.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
    let expires = Int64(lease.expiresAt.timeIntervalSince1970 * 1_000_000)
    #expect(expires >= low + 60_000_000 - 1_000)
    #expect(expires <= high + 60_000_000 + 1_000)
    // Another node cannot take it while the database says it is live.
    #expect(try await store.acquireLease("fetcher-1", holder: "node-b", ttl: 60) == nil)
    // Once the database's clock has passed its expiry, it can.
    _ = try cluster.psql(
      url,
      "UPDATE leases SET expires_at = (extract(epoch from clock_timestamp()) * 1000000)::bigint - 1"
    )
    #expect(
      try await store.acquireLease("fetcher-1", holder: "node-b", ttl: 60)?.holder == "node-b")
  }
}
