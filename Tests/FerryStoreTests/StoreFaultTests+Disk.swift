import FerryCore
import FerryTesting
import Foundation
import Synchronization
import Testing

@testable import FerryStore

/// A locked database, a full disk, a connection cut mid-transaction: each is a clear error,
/// nothing is half-written, and the store goes on serving what it can.
@Suite("Store faults: locks, full disks, cut connections")
struct StoreDiskFaultTests {
  static func events(_ account: AccountID, object: Int, count: Int, bytes: Int) -> [Event] {
    // Random words: incompressible, and each one new to the full-text index.
    (0..<count).map { n in
      let words = (0..<(bytes / 9)).map { _ in String(UInt32.random(in: 0...UInt32.max), radix: 36)
      }
      return Event(
        accountID: account, fetcherID: "f1", logType: "alb",
        time: Date(timeIntervalSince1970: 1_732_400_000 + Double(object * 10_000 + n)),
        sourceKey: "object-\(object)", sourceOffset: Int64(n),
        message: "object\(object) " + words.joined(separator: " "))
    }
  }

  static func entry(_ object: Int, events: Int) -> LedgerEntry {
    LedgerEntry(
      fetcherID: "f1", key: "object-\(object)", eTag: "e", size: 1, state: .ingested,
      events: events)
  }

  /// Commits objects until one fails; returns how many made it and the failure.
  static func fillUntilFailure(_ store: any Store, _ account: AccountID, eventsPerObject: Int)
    async -> (committed: Int, error: (any Error)?)
  {
    for object in 1...400 {
      do {
        try await store.commitObject(
          entry(object, events: eventsPerObject),
          events: events(account, object: object, count: eventsPerObject, bytes: 900),
          of: account)
      } catch {
        return (object - 1, error)
      }
    }
    return (400, nil)
  }

  /// Fills the store until its disk is full, then checks the failure says so and that what
  /// was committed is whole and searchable while the failed object left nothing.
  static func fillUntilFullThenCheck(
    _ store: any Store, _ a: AccountID, mentioning expected: [String]
  ) async throws {
    let (committed, error) = await fillUntilFailure(store, a, eventsPerObject: 200)
    #expect(committed >= 1, "the first objects fit")
    let failure = try #require(error, "the disk never filled")
    guard case .unavailable(let detail) = failure as? StoreError else {
      Issue.record("expected .unavailable, got \(failure)")
      return
    }
    for text in expected { #expect(detail.contains(text)) }
    #expect(try await store.eventCount(of: a) == committed * 200)
    #expect(
      try await store.ledgerEntry(of: a, fetcherID: "f1", key: "object-\(committed + 1)", eTag: "e")
        == nil)
    #expect(
      try await store.search(
        EventQuery(from: .distantPast, to: .distantFuture, text: "object1"), of: a
      ).events.count == 100)
  }

  @Test func aLockedSQLiteDatabaseFailsWritesClearlyAndKeepsServingReads() async throws {
    let dir = try TestPaths.temporaryDirectory("ferry-sqlite")
    let path = dir.appendingPathComponent("ferry.sqlite").path
    let store = try SQLiteStore(path: path, busyTimeout: 1)
    let a = try await store.testAccount("A")
      .id
    try await store.commitObject(
      Self.entry(1, events: 3), events: Self.events(a, object: 1, count: 3, bytes: 50), of: a)

    // Another process takes SQLite's write lock and keeps it.
    let holder = try BackgroundProgram(
      "python3",
      [
        "-c",
        "import sqlite3, sys, time\nc = sqlite3.connect(sys.argv[1], isolation_level=None)\nc.execute('BEGIN IMMEDIATE')\nprint('locked', flush=True)\ntime.sleep(120)",
        path,
      ], readyLine: "locked")
    let clock = ContinuousClock()
    let start = clock.now
    await #expect {
      try await store.commitObject(
        Self.entry(2, events: 3), events: Self.events(a, object: 2, count: 3, bytes: 50), of: a)
    } throws: { error in
      guard case .unavailable(let detail) = error as? StoreError else { return false }
      return detail.contains("locked by another process") && detail.contains(path)
    }
    #expect(clock.now - start < .seconds(10), "the busy timeout bounds the wait")
    // Reads go on while the lock is held (WAL): search, the ledger, the audit log.
    #expect(try await store.eventCount(of: a) == 3)
    #expect(
      try await store.search(
        EventQuery(from: .distantPast, to: .distantFuture, text: "object1"), of: a
      ).events.count == 3)
    #expect(try await store.ledgerEntry(of: a, fetcherID: "f1", key: "object-2", eTag: "e") == nil)

    // Once the other process lets go, the same write succeeds.
    holder.stop()
    try await store.commitObject(
      Self.entry(2, events: 3), events: Self.events(a, object: 2, count: 3, bytes: 50), of: a)
    #expect(try await store.eventCount(of: a) == 6)
  }

  @Test(.enabled(if: SmallDisk.isAvailable, "needs root to mount a small tmpfs"))
  func aFullDiskUnderSQLiteIsAClearErrorAndLosesNothingCommitted() async throws {
    let disk = try SmallDisk(megabytes: 3)
    defer { disk.unmount() }
    let path = disk.path + "/ferry.sqlite"
    let store = try SQLiteStore(path: path)
    let a = try await store.testAccount("A")
      .id
    try await Self.fillUntilFullThenCheck(store, a, mentioning: ["full", path])
    // Once there is room again, the same store writes again: no restart needed.
    try disk.grow(toMegabytes: 16)
    try await store.commitObject(
      Self.entry(999, events: 1), events: Self.events(a, object: 999, count: 1, bytes: 50), of: a)
  }

  @Test(.enabled(if: SmallDisk.isAvailable, "needs root to mount a small tmpfs"))
  func aFullDiskUnderPostgreSQLIsAClearErrorAndLosesNothingCommitted() async throws {
    let cluster = try await ThrowawayPostgres.shared()
    let url = try await cluster.createDatabase()
    let store = try await PostgresStore(url: url)
    let disk = try SmallDisk(megabytes: 4)
    let tablespace = "small_" + UUID().uuidString.prefix(8).lowercased()
    _ = try Subprocess.run("chown", ["postgres:postgres", disk.path])
    let database = String(url[url.index(after: try #require(url.lastIndex(of: "/")))...])
    defer {
      store.close()
      _ = try? cluster.psql(cluster.url, "DROP DATABASE \(database) WITH (FORCE)")
      _ = try? cluster.psql(cluster.url, "DROP TABLESPACE \(tablespace)")
      disk.unmount()
    }
    // The event blocks live on the small disk; the rest of the cluster does not.
    for sql in [
      "CREATE TABLESPACE \(tablespace) LOCATION '\(disk.path)'",
      "ALTER TABLE event_blocks SET TABLESPACE \(tablespace)",
      "ALTER TABLE event_block_filters SET TABLESPACE \(tablespace)",
      "ALTER TABLE event_block_data SET TABLESPACE \(tablespace)",
    ] {
      let out = try cluster.psql(url, sql)
      try #require(out.status == 0, "\(sql): \(out.stderr)")
    }
    let a = try await store.testAccount("A")
      .id
    try await Self.fillUntilFullThenCheck(store, a, mentioning: ["disk is full"])
    // Everything not on the full disk still works: configuration, audit.
    try await store.addConnection(
      Connection(
        accountID: a, purpose: .fetcher, bucket: "b", region: "us-east-1", prefix: "",
        roleARN: "arn:aws:iam::111122223333:role/r", externalID: "x", usesLegacyExternalID: false),
      of: a, actor: "admin")
    #expect(try await store.connections(of: a).count == 1)
  }

  @Test func aConnectionCutMidTransactionLeavesNothingAndTheStoreRecovers() async throws {
    let cluster = try await ThrowawayPostgres.shared()
    let url = try await cluster.createDatabase()
    let store = try await PostgresStore(url: url, callTimeout: .seconds(5))
    let a = try await store.testAccount("A")
      .id
    // Start a large commit and end its server process while it writes its blocks, as a
    // crash or a failover would. Should a commit finish before it is caught, try again.
    var cut: (task: Task<Void, any Error>, object: Int)?
    var committed = 0
    for object in 1...5 where cut == nil {
      let big = Self.events(a, object: object, count: 60_000, bytes: 200)
      let finished = Flag()
      let commit = Task {
        defer { finished.set() }
        try await store.commitObject(Self.entry(object, events: big.count), events: big, of: a)
      }
      while !finished.isSet {
        let out = try cluster.psql(
          url,
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND (query LIKE 'WITH new AS%' OR query LIKE 'INSERT INTO ledger%') AND state IN ('active', 'idle in transaction')"
        )
        if out.stdout.contains("t") {
          cut = (commit, object)
          break
        }
        try await Task.sleep(for: .milliseconds(5))
      }
      if cut == nil {
        try await commit.value
        committed += big.count
      }
    }
    let (commit, object) = try #require(cut, "no commit was ever seen running")
    await #expect {
      try await commit.value
    } throws: { error in
      guard case .unavailable = error as? StoreError else { return false }
      return true
    }
    #expect(try await store.eventCount(of: a) == committed)
    #expect(
      try await store.ledgerEntry(of: a, fetcherID: "f1", key: "object-\(object)", eTag: "e") == nil
    )
    // The pool replaces the lost connection: the next call works.
    let small = Self.events(a, object: 99, count: 10, bytes: 50)
    try await store.commitObject(Self.entry(99, events: 10), events: small, of: a)
    #expect(try await store.eventCount(of: a) == committed + 10)
    store.close()
  }
}

/// A one-way flag shared with a task.
final class Flag: Sendable {
  private let value = Mutex(false)
  var isSet: Bool { value.withLock { $0 } }
  func set() { value.withLock { $0 = true } }
}
