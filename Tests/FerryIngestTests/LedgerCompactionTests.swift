import FerryCore
import FerryTesting
import Foundation
import Synchronization
import Testing

@testable import FerryIngest

/// What a listing fetcher keeps to know what is new stays bounded: rows of objects
/// ingested before the re-list window, behind the cursor, are compacted away, and a full
/// listing passes those objects without reading them again, while it still reads a key
/// that arrived late, a replaced object and a key an admin asked for again. On the
/// embedded store (SQLite) with the bucket scripted: a mock, because the rules turn on objects
/// written days ago, and the emulator stamps every object with the time it is written.
@Suite("Listing pass: the ledger is compacted behind the cursor")
struct LedgerCompactionTests {
  final class Bucket: ObjectSource, Sendable {
    struct Object {
      var eTag: String
      var modified: Date
      var text: String
    }
    let objects: Mutex<[String: Object]>
    let opened = Mutex<[String]>([])
    /// Keys whose reads fail for now (the network, say: a passing failure).
    let failing = Mutex<Set<String>>([])

    init(_ objects: [String: Object]) { self.objects = Mutex(objects) }

    func put(_ key: String, _ object: Object) { objects.withLock { $0[key] = object } }

    func list(prefix: String, startAfter: String?, continuation: String?)
      async throws(AWSFailure) -> (objects: [SourceObject], next: String?)
    {
      let listed = objects.withLock { objects in
        objects.filter { $0.key.hasPrefix(prefix) && $0.key > (startAfter ?? "") }
          .sorted { $0.key < $1.key }
          .map {
            SourceObject(
              key: $0.key, eTag: $0.value.eTag, size: Int64($0.value.text.utf8.count),
              lastModified: $0.value.modified)
          }
      }
      return (listed, nil)
    }

    func open(key: String, eTag: String) async throws(AWSFailure) -> any ObjectBytes {
      opened.withLock { $0.append(key) }
      if failing.withLock({ $0.contains(key) }) {
        throw AWSFailure(kind: .unreachable, operation: "S3.GetObject", message: "timed out")
      }
      let text = objects.withLock { $0[key]?.text } ?? ""
      return OneShot(bytes: Array(text.utf8))
    }
  }

  final class OneShot: ObjectBytes, Sendable {
    let bytes: Mutex<[UInt8]?>
    init(bytes: [UInt8]) { self.bytes = Mutex(bytes) }
    func next() async throws(AWSFailure) -> [UInt8]? {
      bytes.withLock { b in
        defer { b = nil }
        return b
      }
    }
  }

  static let linesPerObject = 3

  /// Runs one pass of `fetcher` at `now` and records it, as the scheduler does; `fetcher`
  /// is read back from the store (its status moves on from pass to pass).
  static func pass(
    _ world: IngestWorld, _ fetcher: inout Fetcher, _ bucket: Bucket, _ lease: WorkLease,
    _ settings: IngestSettings, at now: Date
  ) async throws -> (PassReport, FetcherStatus) {
    let (store, account) = (world.store, world.account)
    let (report, status) = try await FetcherPass(
      store: store, fetcher: fetcher, connection: world.connection, source: bucket,
      lease: lease, settings: settings
    ).run(now: now)
    _ = try await store.recordFetcherRun(fetcher.id, of: account.id, status: status)
    let id = fetcher.id
    fetcher = try #require(try await store.fetchers(of: account.id).first { $0.id == id })
    return (report, fetcher.status)
  }

  static func text(_ key: String, _ version: String) -> String {
    (0..<linesPerObject).map { #"{"key":"\#(key)","version":"\#(version)","line":\#($0)}"# }
      .joined(separator: "\n") + "\n"
  }

  @Test func rowsBehindTheCursorGoAndOnlyWhatIsNewIsReadAgain() async throws {
    let world = try await IngestWorld()
    let (store, account, connection) = (world.store, world.account, world.connection)
    var fetcher = world.fetcher

    let start = Date()
    let day: TimeInterval = 86_400
    let keys = (0..<20).map { String(format: "app/2024/11/%02d.json", $0) }
    let bucket = Bucket(
      Dictionary(
        uniqueKeysWithValues: keys.map {
          ($0, Bucket.Object(eTag: "v1", modified: start - 3 * day, text: Self.text($0, "v1")))
        }))
    var settings = IngestSettings()
    // A window of seconds, not days, so that the rows' own times (the clock's) take part.
    settings.fullListEvery = 0.5
    settings.relistWindow = 2
    settings.compactionBatch = 7  // several batches
    let lease = try #require(
      try await WorkLease.acquire("fetcher:" + fetcher.id, holder: "test", store: store))

    func pass(at now: Date = Date()) async throws -> FetcherStatus {
      try await Self.pass(world, &fetcher, bucket, lease, settings, at: now).1
    }

    // First pass: everything is read; the rows are new, so none is compacted.
    var status = try await pass()
    #expect(bucket.opened.withLock { $0.count } == 20)
    #expect(status.listCursor == keys.last)
    #expect(status.ledgerRows == 20)
    let bytesWithRows = status.ledgerBytes ?? 0
    // Past the window: a key that arrived late behind the cursor, and a replaced object.
    try await Task.sleep(for: .milliseconds(2500))
    let later = Date()
    bucket.put(
      "app/2024/11/05b.json",
      .init(eTag: "v1", modified: later, text: Self.text("app/2024/11/05b.json", "v1")))
    bucket.put(keys[3], .init(eTag: "v2", modified: later, text: Self.text(keys[3], "v2")))
    bucket.opened.withLock { $0 = [] }
    status = try await pass()
    // Only those two are read; the old objects behind the cursor are passed without a read.
    #expect(
      bucket.opened.withLock { $0.sorted() } == ["app/2024/11/03.json", "app/2024/11/05b.json"])
    // The 20 old rows went, in batches; the two new ones stay (inside the window).
    #expect(status.ledgerRows == 2)
    #expect((status.ledgerBytes ?? 0) * 5 < bytesWithRows)
    #expect(status.compactedObjects == 20)
    // The totals still count every object version and its events.
    #expect(status.objectsIngested == 22)
    #expect(status.eventsIngested == 22 * Self.linesPerObject)
    #expect(try await store.eventCount(of: account.id) == 22 * Self.linesPerObject)

    // An admin asks for one old key again: its row was compacted, yet it is read again,
    // and its events are not stored twice.
    _ = try await store.reprocess(
      fetcherID: fetcher.id, keys: keys[7]...keys[7], of: account.id, actor: "alice")
    fetcher = try #require(try await store.fetchers(of: account.id).first { $0.id == fetcher.id })
    bucket.opened.withLock { $0 = [] }
    status = try await pass()
    #expect(bucket.opened.withLock { $0 } == [keys[7]])
    #expect(status.reprocessKeys == nil)
    #expect(try await store.eventCount(of: account.id) == 22 * Self.linesPerObject)
    // ... and the totals count it once: no longer as compacted, now in its new row.
    #expect(status.objectsIngested == 22 && status.compactedObjects == 19)
    #expect(status.eventsIngested == 22 * Self.linesPerObject)

    // The next full listing reads nothing at all.
    bucket.opened.withLock { $0 = [] }
    try await Task.sleep(for: .milliseconds(600))
    _ = try await pass()
    #expect(bucket.opened.withLock { $0 }.isEmpty)
  }

  /// A key that arrives late, behind the cursor, and fails is read again once its backoff
  /// is over, by the next pass after the cursor: not only by the next full listing, an hour
  /// later. Before its backoff is over it waits, and counts as pending.
  @Test func aLateKeyThatFailedIsRetriedAfterItsBackoffNotAtTheNextFullListing() async throws {
    let world = try await IngestWorld()
    let (store, account, connection) = (world.store, world.account, world.connection)
    var fetcher = world.fetcher
    let keys = (0..<6).map { String(format: "app/2024/11/%02d.json", $0) }
    let bucket = Bucket(
      Dictionary(
        uniqueKeysWithValues: keys.map {
          ($0, Bucket.Object(eTag: "v1", modified: Date(), text: Self.text($0, "v1")))
        }))
    var settings = IngestSettings()
    settings.fullListEvery = 3600
    settings.retryBackoff = 600
    let lease = try #require(
      try await WorkLease.acquire("fetcher:" + fetcher.id, holder: "test", store: store))
    func pass(at now: Date) async throws -> (PassReport, FetcherStatus) {
      try await Self.pass(world, &fetcher, bucket, lease, settings, at: now)
    }

    let start = Date()
    _ = try await pass(at: start)
    #expect(fetcher.status.listCursor == keys.last)
    // A key behind the cursor arrives late; the full listing two hours on finds it, and
    // its read fails.
    let late = "app/2024/11/02b.json"
    bucket.put(late, .init(eTag: "v1", modified: Date(), text: Self.text(late, "v1")))
    bucket.failing.withLock { $0 = [late] }
    bucket.opened.withLock { $0 = [] }
    var (report, status) = try await pass(at: start + 7200)
    #expect(bucket.opened.withLock { $0 } == [late])
    #expect(report.objectsPending == 1)
    #expect(status.listCursor == keys.last, "the late key is behind the cursor")
    var row = try await store.ledgerEntry(
      of: account.id, fetcherID: fetcher.id, key: late, eTag: "v1")
    #expect(row?.state == .failed && row?.attempts == 1)

    // Before its backoff is over, a pass after the cursor leaves it waiting.
    bucket.failing.withLock { $0 = [] }
    bucket.opened.withLock { $0 = [] }
    (report, status) = try await pass(at: Date())
    #expect(bucket.opened.withLock { $0 }.isEmpty)
    #expect(report.objectsPending == 1)

    // Once it is over (and still within the hour before the next full listing), the next
    // pass reads it, and only it.
    (report, status) = try await pass(at: start + 7200 + 900)
    #expect(bucket.opened.withLock { $0 } == [late])
    #expect(report.objectsIngested == 1 && report.objectsPending == 0)
    row = try await store.ledgerEntry(of: account.id, fetcherID: fetcher.id, key: late, eTag: "v1")
    #expect(row?.state == .ingested)
    #expect(try await store.eventCount(of: account.id) == 7 * Self.linesPerObject)
    #expect(status.objectsIngested == 7 && status.objectsFailed == 0)
  }
}
