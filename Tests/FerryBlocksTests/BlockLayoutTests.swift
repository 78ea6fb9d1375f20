import FerryCore
import FerryTesting
import Foundation
import Testing

@testable import FerryBlocks

/// The `FRB3` layout: values kept once (as places in their message), blocks of the older
/// encoder still read, and the place finder held to a plain search.
@Suite("Event blocks: the v3 layout and older blocks")
struct BlockLayoutTests {
  /// A block written by the `FRB2` encoder, kept as it was written, reads back as the
  /// events it was made from, and its filter (the older layout) still answers.
  @Test func aBlockOfTheOlderEncoderReadsBackAsItWasWritten() throws {
    let data = try OldBlockFixture.file("frb2-block.zst")
    let raw = try Zstd.decompress(data, limit: 1 << 20)
    #expect(Array(raw.prefix(4)) == Array("FRB2".utf8), "the fixture is a v2 block")
    let events = try BlockCodec.decode(
      data, accountID: OldBlockFixture.account, fetcherID: OldBlockFixture.fetcher)
    let expected = OldBlockFixture.events
    #expect(events == expected)
    #expect(events.map(\.fields.keys) == expected.map(\.fields.keys))
    let filterBytes = try OldBlockFixture.file("frb2-filter.bin")
    #expect(filterBytes.count % 8 == 0, "the older filter has no header")
    let filter = try #require(BloomFilter(bytes: filterBytes))
    #expect(filter.probes == 6 && filter.hash == .fnv1a)
    for event in expected {
      for word in SearchText.words(event.message) { #expect(filter.mayContainWord(word)) }
      for (key, value) in event.fields {
        #expect(filter.mayContain(TokenHash.field(key, value)), "v2 filters hold every pair")
      }
    }
    #expect(!filter.mayContain(TokenHash.of("zzqqxxnotthere")))
  }

  /// The same events written again (v3) read back the same, smaller.
  @Test func theSameEventsInTheNewLayoutReadBackTheSameAndSmaller() throws {
    let expected = OldBlockFixture.events
    let block = try #require(try BlockCodec.encode(expected).first)
    let raw = try Zstd.decompress(block.data, limit: 1 << 20)
    #expect(Array(raw.prefix(4)) == Array("FRB3".utf8))
    let events = try BlockCodec.decode(
      block.data, accountID: OldBlockFixture.account, fetcherID: OldBlockFixture.fetcher)
    #expect(events == expected)
    #expect(events.map(\.fields.keys) == expected.map(\.fields.keys))
    let old = try Zstd.decompress(try OldBlockFixture.file("frb2-block.zst"), limit: 1 << 20)
    #expect(raw.count < old.count, "v3 \(raw.count) bytes, v2 \(old.count)")
    let filter = try #require(BloomFilter(bytes: block.filter))
    #expect(block.filter.count % 8 == 4 && filter.probes == BloomFilter.probes)
    for event in expected {
      for (key, value) in event.fields { #expect(filter.mayContainField(key, value)) }
    }
  }

  /// JSON lines whose fields are all in the message: the payload holds the messages and
  /// a few bytes per field, not the values a second time.
  @Test func valuesTheMessageHoldsAreNotStoredTwice() throws {
    var rng = SeededGenerator(seed: 7)
    var events: [Event] = []
    var messageBytes = 0
    var valueBytes = 0
    var fieldCount = 0
    for i in 0..<2000 {
      let trace = (0..<4).map { _ in String(rng.next(), radix: 16) }.joined()
      let user = "u-\(rng.next() % 1_000_000)"
      let message =
        "{\"level\":\"info\",\"trace_id\":\"\(trace)\",\"user\":\"\(user)\",\"n\":\(i),\"http\":{\"status\":200}}"
      let fields: Fields = [
        "level": "info", "trace_id": trace, "user": user, "n": String(i), "http.status": "200",
      ]
      messageBytes += message.utf8.count
      for (_, value) in fields { valueBytes += value.utf8.count }
      fieldCount += fields.count
      events.append(
        Event(
          accountID: AccountID(rawValue: "a"), fetcherID: "f", logType: "json",
          time: Date(timeIntervalSince1970: 1_700_000_000 + Double(i)), sourceKey: "k",
          sourceOffset: Int64(i * 100), message: message, fields: fields))
    }
    let block = try #require(try BlockCodec.encode(events).first)
    let raw = try Zstd.decompress(block.data, limit: 8 << 20)
    // Times, offsets, sources, heads, field count: at most 11 bytes per event; names,
    // places, lengths: 3 per field; no literal bytes.
    #expect(raw.count < messageBytes + events.count * 11 + fieldCount * 3 + 256)
    #expect(raw.count < messageBytes + valueBytes / 2, "the values are not there again")
    var header = Varint.Reader(bytes: raw, position: 4)
    _ = try header.int()
    for _ in 0..<(try header.int()) { _ = try header.string() }
    let lengths = try (0..<BlockWriter.streamCount).map { _ in try header.int() }
    #expect(lengths[7] == 0, "no value is kept as literal bytes")
    #expect(
      try BlockCodec.decode(block.data, accountID: AccountID(rawValue: "a"), fetcherID: "f")
        == events)
  }

  /// The place finder against a plain search: the first place at or after the cursor
  /// where the bytes match with no word byte across either edge, else the first before.
  @Test func placesAreWhereAPlainSearchFindsThem() {
    var rng = SeededGenerator(seed: 3)
    let alphabet = Array("ab1-\"é".utf8)
    func isWord(_ b: UInt8) -> Bool {
      b >= 0x80 || (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }
    func plain(_ v: [UInt8], _ m: [UInt8], _ cursor: Int) -> Int? {
      if v.isEmpty { return cursor }
      func ok(_ p: Int) -> Bool {
        guard p + v.count <= m.count, Array(m[p..<p + v.count]) == v else { return false }
        if isWord(v[0]) && p > 0 && isWord(m[p - 1]) { return false }
        if isWord(v[v.count - 1]) && p + v.count < m.count && isWord(m[p + v.count]) {
          return false
        }
        return true
      }
      if cursor <= m.count, let p = (cursor..<max(cursor, m.count)).first(where: ok) { return p }
      return (0..<min(cursor, m.count)).first(where: ok)
    }
    for _ in 0..<20_000 {
      let m = (0..<Int(rng.next() % 40)).map { _ in
        alphabet[Int(rng.next() % UInt64(alphabet.count))]
      }
      let v = (0..<Int(rng.next() % 4)).map { _ in
        alphabet[Int(rng.next() % UInt64(alphabet.count))]
      }
      let cursor = Int(rng.next() % UInt64(m.count + 2))
      let found = m.withUnsafeBufferPointer { mb in
        v.withUnsafeBufferPointer { vb in BlockWriter.place(of: vb, in: mb, from: cursor) }
      }
      #expect(found == plain(v, m, cursor), "\(m) \(v) \(cursor)")
    }
  }

  /// The packed hash tells apart every word of a large set (words that share prefixes,
  /// that differ in one byte of a chunk, that are one byte longer), and a `field=value`
  /// pair hashes as the text `field=value` with the value lowercased.
  @Test func thePackedHashTellsWordsApart() {
    var seen = Set<UInt64>()
    var words = 0
    for i in 0..<100_000 {
      for word in ["w\(i)", "\(i)", String(repeating: "a", count: i % 40) + "\(i)"] {
        words += 1
        seen.insert(PackedHash.of(word))
      }
    }
    #expect(
      seen.count
        == Set(
          (0..<100_000).flatMap { i in
            ["w\(i)", "\(i)", String(repeating: "a", count: i % 40) + "\(i)"]
          }
        ).count)
    #expect(words > seen.count - 1)
    #expect(PackedHash.of("abcdefgh") != PackedHash.of("abcdefgh\u{0}"))
    #expect(PackedHash.field("level", "ERROR") == PackedHash.of("level=error"))
    #expect(
      PackedHash.field("Level", "x") != PackedHash.field("level", "x"), "keys keep their case")
    #expect(PackedHash.field("k", "ÉTÉ") == PackedHash.of("k=été"))
  }

  /// A damaged v3 header (a stream longer than the block, a place outside its message)
  /// is an error, not a crash.
  @Test func aDamagedV3BlockIsAnError() throws {
    let block = try #require(try BlockCodec.encode(OldBlockFixture.events).first)
    let raw = try Zstd.decompress(block.data, limit: 1 << 20)
    var rng = SeededGenerator(seed: 9)
    var refused = 0
    for _ in 0..<300 {
      var damaged = raw
      let at = 4 + Int(rng.next() % UInt64(min(200, raw.count - 4)))
      damaged[at] = UInt8(truncatingIfNeeded: rng.next())
      do {
        let view = try BlockView(raw: damaged)
        // What reads must stay inside the block.
        for i in 0..<view.count {
          _ = view.event(i, accountID: AccountID(rawValue: "a"), fetcherID: "f")
        }
      } catch {
        refused += 1
      }
    }
    #expect(refused > 0)
  }

  /// A block's offsets read from the start of its frame alone are its events' offsets, for
  /// blocks of one event and of many, blocks whose first columns span several pieces of
  /// decompressed text (thousands of events with long source keys), and blocks of the older
  /// layout (read whole); a damaged frame is an error, not a guess.
  @Test func offsetsReadFromTheFramesStartAreTheEventsOffsets() throws {
    var rng = SeededGenerator(seed: 51)
    let base = Date(timeIntervalSince1970: 1_796_189_600)
    for count in [1, 7, 900, 20_000] {
      let events = (0..<count).map { n in
        Event(
          accountID: AccountID(rawValue: "a"), fetcherID: "f", logType: "json",
          time: base.addingTimeInterval(Double(rng.next() % 100_000) / 7),
          sourceKey: "logs/\(String(repeating: "k", count: Int(rng.next() % 300)))/\(n % 3)",
          sourceOffset: Int64(n) * 211 + Int64(rng.next() % 50),
          message: "{\"n\":\(n),\"w\":\"\(rng.next())\"}", fields: ["n": String(n)])
      }
      for block in try BlockCodec.encode(events, targetBytes: 1 << 22) {
        let view = try BlockCodec.view(block.data)
        #expect(try BlockCodec.offsets(block.data) == (0..<view.count).map { view.offset($0) })
      }
    }
    let old = try OldBlockFixture.file("frb2-block.zst")
    #expect(try BlockCodec.offsets(old) == OldBlockFixture.events.map(\.sourceOffset))
    let block = try #require(try BlockCodec.encode(OldBlockFixture.events).first)
    var flipped = block.data
    flipped[1] ^= 0xFF
    for damaged in [Array(block.data.prefix(20)), flipped, Array(block.data.prefix(3))] {
      #expect(throws: BlockError.self) { try BlockCodec.offsets(damaged) }
    }
    // A frame cut after its first columns gives the offsets they hold, right, or an error:
    // what is read is never a guess.
    let tailCut = Array(block.data.dropLast(block.data.count / 2))
    if let offsets = try? BlockCodec.offsets(tailCut) {
      #expect(offsets == OldBlockFixture.events.map(\.sourceOffset))
    }
  }
}
