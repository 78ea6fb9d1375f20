import FerryCore
import FerryTesting
import Foundation
import Synchronization
import Testing

@testable import FerryIngest

/// An object's events are committed in chunks bounded by count and by bytes of text, so a
/// few objects of large records in flight do not each hold a whole object's events. On
/// the embedded store (SQLite), the object's bytes handed over in pieces as a download gives them.
@Suite("Object ingest: commits in chunks bounded by bytes")
struct ChunkCommitTests {
  final class Pieces: ObjectSource, ObjectBytes, Sendable {
    let remaining: Mutex<[UInt8]>
    let pieceSize: Int
    init(_ bytes: [UInt8], pieceSize: Int) {
      remaining = Mutex(bytes)
      self.pieceSize = pieceSize
    }
    func list(prefix: String, startAfter: String?, continuation: String?)
      async throws(AWSFailure) -> (objects: [SourceObject], next: String?)
    { ([], nil) }
    func open(key: String, eTag: String) async throws(AWSFailure) -> any ObjectBytes { self }
    func next() async throws(AWSFailure) -> [UInt8]? {
      remaining.withLock { bytes in
        guard !bytes.isEmpty else { return nil }
        let piece = Array(bytes.prefix(pieceSize))
        bytes.removeFirst(piece.count)
        return piece
      }
    }
  }

  /// 40 JSON lines of about 100 KB each: 4 MB of text.
  static let lines = (0..<40).map { i in
    #"{"n":\#(i),"pad":"\#(String(repeating: "x", count: 100_000))"}"#
  }

  func ingest(chunkBytes: Int) async throws -> (commits: Int, entry: LedgerEntry) {
    let world = try await IngestWorld()
    let commits = Mutex(0)
    let ingest = ObjectIngest(
      store: world.store, account: world.account.id, fetcher: world.fetcher,
      chunkBytes: chunkBytes,
      fence: { commits.withLock { $0 += 1 } })
    let text = Self.lines.joined(separator: "\n") + "\n"
    let source = Pieces(Array(text.utf8), pieceSize: 64 << 10)
    let outcome = try await ingest.run(
      SourceObject(
        key: "app/big.json", eTag: "e1", size: Int64(text.utf8.count), lastModified: Date()),
      from: source, previous: nil)
    return (commits.withLock { $0 }, outcome.entry)
  }

  @Test func aChunkHoldsAboutChunkBytesOfTextAndEveryEventIsStoredOnce() async throws {
    let small = try await ingest(chunkBytes: 1 << 20)
    #expect(small.entry.state == .ingested)
    #expect(small.entry.events == Self.lines.count)
    // 4 MB of text in chunks of about 1 MiB (a chunk closes at the first download piece
    // past the bound): 4 or 5 commits, the last the object's end.
    #expect((4...5).contains(small.commits), "\(small.commits) commits")
    // One bound large enough: the whole object in one commit.
    let large = try await ingest(chunkBytes: 64 << 20)
    #expect(large.commits == 1)
    #expect(large.entry.events == Self.lines.count)
  }
}
