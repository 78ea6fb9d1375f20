import FerryCore
import FerryStore
import FerryTesting
import Foundation
import Synchronization
import Testing

@testable import FerryIngest

/// Every event exactly once when a download fails mid-object, whatever the byte it fails
/// at: the retry resumes where the committed chunks end, though it cuts its chunks
/// elsewhere (download pieces of another size), and a retry that fails before the first
/// attempt's failure point moves nothing backwards. Through the fetcher's pass, on both
/// real backends. The bucket is a fault-injecting S3 double (an object whose reads fail
/// after a chosen byte with a connection reset): the AWS layer's own retries are tested
/// against the emulator; here the point is what the pass and the store make of a failure.
@Suite("Fetcher pass: a download that fails mid-object stores every event exactly once")
struct DownloadFaultTests {
  /// One object whose reads follow a script: per attempt, the piece size and the byte after
  /// which the read fails (nil: it reads to the end).
  final class FaultyBucket: ObjectSource, Sendable {
    let key = "app/big.json"
    let bytes: [UInt8]
    let script: Mutex<[(piece: Int, failAfter: Int?)]>
    let opened = Mutex(0)
    /// Runs as each read starts (to ask for a reprocess while a pass reads, say).
    let onOpen: @Sendable () async -> Void

    init(
      _ bytes: [UInt8], script: [(piece: Int, failAfter: Int?)],
      onOpen: @escaping @Sendable () async -> Void = {}
    ) {
      self.bytes = bytes
      self.script = Mutex(script)
      self.onOpen = onOpen
    }

    func list(prefix: String, startAfter: String?, continuation: String?)
      async throws(AWSFailure) -> (objects: [SourceObject], next: String?)
    {
      guard key > (startAfter ?? "") else { return ([], nil) }
      return (
        [
          SourceObject(
            key: key, eTag: "e1", size: Int64(bytes.count), lastModified: Date())
        ], nil
      )
    }

    func open(key: String, eTag: String) async throws(AWSFailure) -> any ObjectBytes {
      opened.withLock { $0 += 1 }
      await onOpen()
      let attempt = script.withLock {
        $0.isEmpty ? (piece: 65_536, failAfter: nil) : $0.removeFirst()
      }
      return Reader(bytes, piece: attempt.piece, failAfter: attempt.failAfter)
    }
  }

  final class Reader: ObjectBytes, Sendable {
    let bytes: [UInt8]
    let piece: Int
    let failAfter: Int?
    let position = Mutex(0)

    init(_ bytes: [UInt8], piece: Int, failAfter: Int?) {
      self.bytes = bytes
      self.piece = piece
      self.failAfter = failAfter
    }

    func next() async throws(AWSFailure) -> [UInt8]? {
      let end = failAfter ?? bytes.count
      let range = position.withLock { at -> Range<Int>? in
        guard at < end else { return nil }
        let upper = min(at + piece, end)
        defer { at = upper }
        return at..<upper
      }
      guard let range else {
        if failAfter != nil {
          throw AWSFailure(
            kind: .unreachable, operation: "S3.GetObject", message: "connection reset by peer")
        }
        return nil
      }
      return Array(bytes[range])
    }
  }

  enum Backend: String, CaseIterable, Sendable {
    case sqlite, postgres
    func store() async throws -> any Store {
      switch self {
      case .sqlite: return try TestStore.sqlite()
      case .postgres:
        return try await PostgresStore(url: try await ThrowawayPostgres.shared().createDatabase())
      }
    }
  }

  static let eventCount = 15_000

  /// JSON lines like a service's: a unique id per event, random numbers, varied words.
  static func object(seed: UInt64) -> (bytes: [UInt8], ids: Set<String>) {
    var rng = SeededGenerator(seed: seed)
    let words = [
      "request", "served", "cache", "miss", "upstream", "retry", "timeout", "user", "login",
      "order", "created", "payment", "declined", "queue", "drained", "slow", "query",
    ]
    var ids = Set<String>()
    var text = ""
    for n in 0..<eventCount {
      let id = String(format: "%016llx%016llx", rng.next(), rng.next())
      ids.insert(id)
      let message = (0..<(3 + Int(rng.next() % 6))).map { _ in
        words[Int(rng.next() % UInt64(words.count))]
      }.joined(separator: " ")
      text +=
        #"{"id":"\#(id)","n":\#(n),"ms":\#(rng.next() % 5000),"msg":"\#(message)","service":"svc-\#(rng.next() % 40)"}"#
        + "\n"
    }
    return (Array(text.utf8), ids)
  }

  /// Runs passes, recorded as the scheduler records them, until the object is ingested
  /// (at most `passes`); returns the object's ledger row.
  static func ingest(_ world: IngestWorld, _ bucket: FaultyBucket, passes: Int) async throws
    -> LedgerEntry?
  {
    var settings = IngestSettings()
    settings.chunkEvents = 1_000
    settings.retryBackoff = 0
    settings.maxAttempts = 10
    let lease = try #require(
      try await WorkLease.acquire(
        "fetcher:" + world.fetcher.id, holder: "test", store: world.store, ttl: 60))
    defer { Task { await lease.release() } }
    var fetcher = world.fetcher
    for _ in 0..<passes {
      let (_, status) = try await FetcherPass(
        store: world.store, fetcher: fetcher, connection: world.connection, source: bucket,
        lease: lease, settings: settings
      ).run()
      _ = try await world.store.recordFetcherRun(fetcher.id, of: world.account.id, status: status)
      fetcher = try #require(
        try await world.store.fetchers(of: world.account.id).first { $0.id == fetcher.id })
      let entry = try await world.store.ledgerEntry(
        of: world.account.id, fetcherID: fetcher.id, key: bucket.key, eTag: "e1")
      if entry?.state == .ingested { return entry }
    }
    return try await world.store.ledgerEntry(
      of: world.account.id, fetcherID: fetcher.id, key: bucket.key, eTag: "e1")
  }

  /// Every id of the stored events, read back through search, page by page.
  static func storedIDs(_ world: IngestWorld) async throws -> [String] {
    var ids: [String] = []
    var cursor: String?
    repeat {
      let page = try await world.store.search(
        EventQuery(
          from: .distantPast, to: .distantFuture, text: "", limit: 1000, cursor: cursor),
        of: world.account.id)
      ids += page.events.compactMap { $0.fields["id"] }
      cursor = page.nextCursor
    } while cursor != nil
    return ids
  }

  @Test(arguments: Backend.allCases)
  func everyEventOnceWhateverByteTheDownloadFailsAt(backend: Backend) async throws {
    let (bytes, ids) = Self.object(seed: 7)
    var rng = SeededGenerator(seed: backend == .sqlite ? 11 : 13)
    // Failure points spread over the object (several chunks each), plus its edges.
    var points = [1, 4096, bytes.count - 1]
    for _ in 0..<(backend == .sqlite ? 9 : 4) {
      points.append(1 + Int(rng.next() % UInt64(bytes.count - 1)))
    }
    let store = try await backend.store()
    defer { (store as? PostgresStore)?.close() }
    for (index, first) in points.enumerated() {
      // A second attempt that fails too, sometimes before the first one's point, with other
      // piece sizes each time, so every attempt cuts its chunks elsewhere.
      let second = 1 + Int(rng.next() % UInt64(bytes.count - 1))
      let bucket = FaultyBucket(
        bytes,
        script: [
          (piece: 1_000 + Int(rng.next() % 60_000), failAfter: first),
          (piece: 1_000 + Int(rng.next() % 60_000), failAfter: second),
          (piece: 1_000 + Int(rng.next() % 60_000), failAfter: nil),
        ])
      let world = try await IngestWorld(accountName: "acme\(index)", on: store)
      let entry = try #require(try await Self.ingest(world, bucket, passes: 6))
      let stored = try await Self.storedIDs(world)
      let context = "failing after byte \(first), then \(second)"
      #expect(entry.state == .ingested, "\(context)")
      #expect(bucket.opened.withLock { $0 } == 3, "\(context)")
      #expect(stored.count == Self.eventCount, "\(context): \(stored.count) events stored")
      #expect(Set(stored) == ids, "\(context): the ids stored are the object's, each once")
      #expect(entry.events == Self.eventCount, "\(context): the ledger counts what is stored")
      // The row's offset is just past where the last event starts (the line after the
      // object's second-to-last newline).
      let lastStart = (bytes.dropLast().lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
      #expect(entry.offset == Int64(lastStart + 1), "\(context)")
    }
  }

  /// The row a failure leaves says what is stored: the chunks committed before the failure
  /// stay counted (the row does not go back to the state before the attempt).
  @Test func aFailureKeepsTheChunksCommittedBeforeIt() async throws {
    let (bytes, _) = Self.object(seed: 3)
    let bucket = FaultyBucket(
      bytes, script: [(piece: 4096, failAfter: bytes.count / 2), (piece: 4096, failAfter: 10)])
    let world = try await IngestWorld()
    let entry = try #require(try await Self.ingest(world, bucket, passes: 2))
    #expect(entry.state == .failed)
    #expect(entry.attempts == 2)
    let stored = try await world.store.eventCount(of: world.account.id)
    #expect(stored > 0, "chunks were committed before the failure")
    #expect(entry.events == stored, "the failed row counts the \(stored) events stored")
    #expect(entry.offset > Int64(bytes.count / 4))
  }
}

extension DownloadFaultTests {
  /// Reprocessing replaces an object's events: a multi-chunk object read again, twice in a
  /// row, and a reprocess asked while a pass reads the object (applied at the next pass,
  /// not lost, and not cutting into the read under way) leave each event stored once.
  @Test(arguments: Backend.allCases)
  func reprocessingReplacesTheEventsAndARequestDuringAPassWaitsForTheNext(backend: Backend)
    async throws
  {
    let (bytes, ids) = Self.object(seed: 5)
    let store = try await backend.store()
    defer { (store as? PostgresStore)?.close() }
    let world = try await IngestWorld(on: store)
    let asked = Mutex(false)
    let bucket = FaultyBucket(
      bytes,
      script: [(piece: 7_001, failAfter: nil), (piece: 13_337, failAfter: nil)],
      onOpen: { [world] in
        // During the first read only: an admin asks for the object again.
        guard
          !asked.withLock({ was in
            defer { was = true }
            return was
          })
        else { return }
        _ = try? await world.store.reprocess(
          fetcherID: world.fetcher.id, keys: "app/big.json"..."app/big.json",
          of: world.account.id, actor: "alice")
      })
    let first = try #require(try await Self.ingest(world, bucket, passes: 1))
    #expect(first.state == .ingested && first.events == Self.eventCount)
    #expect(try await Self.storedIDs(world).count == Self.eventCount)
    // The request asked during that pass is applied by the next one, which reads the object
    // again, cut into other chunks.
    let second = try #require(try await Self.ingest(world, bucket, passes: 1))
    #expect(bucket.opened.withLock { $0 } == 2, "the request was not lost")
    #expect(second.state == .ingested && second.events == Self.eventCount)
    var stored = try await Self.storedIDs(world)
    #expect(stored.count == Self.eventCount && Set(stored) == ids)
    // Twice in a row: each applied once, each event stored once.
    for _ in 0..<2 {
      _ = try await world.store.reprocess(
        fetcherID: world.fetcher.id, keys: "app/a"..."app/c", of: world.account.id,
        actor: "alice")
    }
    let third = try #require(try await Self.ingest(world, bucket, passes: 1))
    #expect(bucket.opened.withLock { $0 } == 3)
    #expect(third.events == Self.eventCount)
    stored = try await Self.storedIDs(world)
    #expect(stored.count == Self.eventCount && Set(stored) == ids)
    let summary = try await world.store.ledgerSummary(
      of: world.account.id, fetcherID: world.fetcher.id)
    #expect(summary.events == Self.eventCount)
  }
}
