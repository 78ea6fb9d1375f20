import FerryCore
import FerryTesting
import Foundation
import Testing

@testable import FerryIngest

/// One tenant's object cannot fill the shared store: an object that expands without bound
/// (compressed by the real zstd command) or holds too many events fails with the cause once
/// it passes a limit, keeping what was read before, on the embedded store; a normal object
/// under the same limits is read whole.
@Suite("Object ingest: volume limits")
struct ObjectLimitTests {
  func run(_ bytes: [UInt8], limits: ObjectLimits) async throws -> (LedgerEntry, Int) {
    let world = try await IngestWorld()
    let ingest = ObjectIngest(
      store: world.store, account: world.account.id, fetcher: world.fetcher, chunkEvents: 1000,
      limits: limits, fence: {})
    let outcome = try await ingest.run(
      SourceObject(key: "app/x.zst", eTag: "e1", size: Int64(bytes.count), lastModified: Date()),
      from: ChunkCommitTests.Pieces(bytes, pieceSize: 64 << 10), previous: nil)
    return (outcome.entry, try await world.store.eventCount(of: world.account.id))
  }

  @Test func aDecompressionBombFailsWithTheCauseAndKeepsWhatCameBefore() async throws {
    // 64 MiB of one repeated line compresses a few thousand times with zstd.
    let line = Array(#"{"level":"info","msg":"ok"}"#.utf8) + [0x0A]
    var text: [UInt8] = []
    text.reserveCapacity(64 << 20)
    while text.count < 64 << 20 { text += line }
    let bomb = try DecompressionTests.compress(text, "zstd", ["-19", "-c"])
    #expect(bomb.count * 2000 < text.count, "the sample expands more than 2,000 times")
    var limits = ObjectLimits()
    limits.ratioFloor = 1 << 20
    let (entry, stored) = try await run(bomb, limits: limits)
    #expect(entry.state == .failed)
    #expect(entry.error?.contains("decompression bomb") == true, "\(entry.error ?? "")")
    #expect(stored > 0 && stored < text.count / line.count, "\(stored) events kept")
    #expect(stored == entry.events)
  }

  @Test func tooManyEventsOrBytesFailTheObjectButANormalOneIsReadWhole() async throws {
    var random = SeededGenerator(seed: 42)
    let lines = (0..<20_000).map { n in
      #"{"id":"\#(UUID().uuidString)","n":\#(n),"latency":\#(random.next() % 5000)}"#
    }
    let text = Array((lines.joined(separator: "\n") + "\n").utf8)
    let compressed = try DecompressionTests.compress(text, "zstd", ["-3", "-c"])
    var few = ObjectLimits()
    few.maxEvents = 5000
    let (capped, keptEvents) = try await run(compressed, limits: few)
    #expect(capped.state == .failed)
    #expect(capped.error?.contains("more than 5000 events") == true, "\(capped.error ?? "")")
    #expect(keptEvents >= 5000 && keptEvents < 20_000, "\(keptEvents)")
    var small = ObjectLimits()
    small.maxBytes = 256 << 10
    let (big, _) = try await run(compressed, limits: small)
    #expect(big.state == .failed && big.error?.contains("--max-object-gib") == true)
    // Under the defaults, the same object is read whole.
    let (whole, all) = try await run(compressed, limits: ObjectLimits())
    #expect(whole.state == .ingested && all == 20_000)
  }

  /// One attempt at an object reads at most `maxSeconds`: then it commits what it read,
  /// gives its slot back with the reason, and the next attempt goes on from there; every
  /// event read is stored once.
  @Test func anAttemptThatReadsTooLongCommitsWhatItReadAndTheNextGoesOn() async throws {
    let world = try await IngestWorld()
    var settings = IngestSettings()
    settings.chunkEvents = 50
    settings.retryBackoff = 0
    settings.objectLimits.maxSeconds = 2
    func pass() async throws -> (PassReport, TimeInterval) {
      let lease = try #require(
        try await WorkLease.acquire(
          "fetcher:" + world.fetcher.id, holder: "t", store: world.store, ttl: 30))
      defer { Task { await lease.release() } }
      let fetcher = try #require(try await world.store.fetchers(of: world.account.id).first)
      let started = Date()
      let pass = FetcherPass(
        store: world.store, fetcher: fetcher, connection: world.connection,
        source: FairSchedulingTests.Drip(), lease: lease, settings: settings)
      // The object never ends: without the time box the pass would never return.
      let (report, status) = try await withThrowingTaskGroup(
        of: (PassReport, FetcherStatus)?.self
      ) { group in
        group.addTask { try await pass.run() }
        group.addTask {
          try await Task.sleep(for: .seconds(60))
          return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        return try #require(first, "the pass was still reading after 60 s")
      }
      #expect(
        try await world.store.recordFetcherRun(fetcher.id, of: world.account.id, status: status))
      return (report, Date().timeIntervalSince(started))
    }
    let (first, took) = try await pass()
    // About a second, plus the pass's own work (slower while other tests run).
    #expect(took < 20, "the attempt gave its slot back after about a second, not \(took) s")
    let row = try #require(
      try await world.store.ledgerEntry(
        of: world.account.id, fetcherID: world.fetcher.id, key: "app/drip.json", eTag: "e"))
    #expect(row.state == .failed && row.attempts == 1)
    #expect(row.error?.contains("--max-object-minutes") == true, "\(row.error ?? "")")
    #expect(row.events > 0 && first.events == row.events, "what it read is kept and counted")
    #expect(try await world.store.eventCount(of: world.account.id) == row.events)
    // The next attempt goes on from there.
    let (second, _) = try await pass()
    let after = try #require(
      try await world.store.ledgerEntry(
        of: world.account.id, fetcherID: world.fetcher.id, key: "app/drip.json", eTag: "e"))
    #expect(after.offset > row.offset && after.events == row.events + second.events)
    #expect(try await world.store.eventCount(of: world.account.id) == after.events)
  }

}
