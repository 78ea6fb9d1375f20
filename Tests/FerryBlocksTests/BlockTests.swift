import FerryCore
import FerryTesting
import Foundation
import Testing

@testable import FerryBlocks

/// Blocks, their filters and their compression, checked against independent parts: the
/// `zstd` command reads what Ferry writes and Ferry reads what it writes; the filter's
/// false-positive rate is measured against Bloom's formula; words are compared with
/// expectations written out by hand.
@Suite("Event blocks: zstd, filters, words")
struct BlockTests {
  func zstdCommand() throws -> String {
    guard let path = Subprocess.which("zstd") else {
      throw TestSetupError("the zstd command is not installed (Debian: apt-get install zstd)")
    }
    return path
  }

  @Test func theZstdCommandReadsWhatFerryWritesAndFerryReadsWhatItWrites() throws {
    let dir = try TestPaths.temporaryDirectory("ferry-zstd")
    let text = Array(
      String(
        repeating: "2026-12-01T10:00:00Z GET /api/v1/items 200 12ms trace=ab12cd\n", count: 5000
      )
      .utf8)
    let frame = try Zstd.compress(text)
    #expect(frame.count < text.count / 10, "log text compresses well")
    let ours = dir.appendingPathComponent("ours.zst")
    try Data(frame).write(to: ours)
    let read = try Subprocess.run(try zstdCommand(), ["-d", "-c", ours.path])
    #expect(read.status == 0, "\(read.stderr)")
    #expect(Array(read.stdout.utf8) == text)

    let plain = dir.appendingPathComponent("theirs.txt")
    try Data(text).write(to: plain)
    let made = try Subprocess.run(
      try zstdCommand(), ["-q", "-f", "-3", plain.path, "-o", plain.path + ".zst"])
    #expect(made.status == 0, "\(made.stderr)")
    let theirs = try [UInt8](Data(contentsOf: URL(fileURLWithPath: plain.path + ".zst")))
    #expect(try Zstd.decompress(theirs, limit: 1 << 20) == text)
  }

  /// A frame made a piece at a time, pieces of every size (empty ones, ones larger than
  /// zstd's own buffers), reads back whole with the zstd command.
  @Test func aFrameMadeInPiecesIsOneFrameTheZstdCommandReads() throws {
    var rng = SeededGenerator(seed: 2)
    var text: [UInt8] = []
    let stream = try ZstdStream(level: 3)
    for _ in 0..<40 {
      let size = [0, 1, 1000, 130_000, 700_000][Int(rng.next() % 5)]
      let piece = (0..<size).map { _ in UInt8(ascii: "a") + UInt8(rng.next() % 20) }
      text += piece
      try stream.feed(piece)
    }
    let tail = Array("last line\n".utf8)
    text += tail
    let frame = try stream.finish(tail)
    let file = try TestPaths.temporaryDirectory("ferry-zstd-stream").appendingPathComponent("s.zst")
    try Data(frame).write(to: file)
    let read = try Subprocess.run(try zstdCommand(), ["-d", "-c", file.path])
    #expect(read.status == 0, "\(read.stderr)")
    #expect(Array(read.stdout.utf8) == text)
    #expect(frame.count < text.count * 6 / 10, "20 letters at random: 4.3 bits of 8 a byte")
  }

  @Test func aFrameLargerThanTheLimitOrDamagedIsRefused() throws {
    let frame = try Zstd.compress([UInt8](repeating: 7, count: 100_000))
    #expect(throws: Zstd.Failure.self) { try Zstd.decompress(frame, limit: 99_999) }
    var damaged = frame
    damaged[damaged.count / 2] ^= 0xFF
    damaged[damaged.count - 1] ^= 0xFF
    #expect(throws: Zstd.Failure.self) { try Zstd.decompress(damaged, limit: 1 << 20) }
    #expect(throws: Zstd.Failure.self) { try Zstd.decompress(Array("not zstd".utf8), limit: 100) }
  }

  @Test func wordsAreLowercaseRunsOfLettersAndDigits() {
    func words(_ text: String) -> [UInt64] {
      var out: [UInt64] = []
      Tokenizer.forEachTokenHash(text) { out.append($0) }
      return out
    }
    let cases: [(String, [String])] = [
      (
        "GET /api/v1/Items?id=42 HTTP/1.1",
        ["get", "api", "v1", "items", "id", "42", "http", "1", "1"]
      ),
      ("  trace=AB12cd, user:alice ", ["trace", "ab12cd", "user", "alice"]),
      ("Café Straße 東京 ok", ["café", "straße", "東京", "ok"]),
      ("", []),
      ("---", []),
    ]
    for (text, expected) in cases {
      #expect(words(text) == expected.map(PackedHash.of), "\(text)")
    }
  }

  /// The word-at-a-time tokenizer gives exactly the words of search's own rule
  /// (``SearchText/words(_:)``, Unicode's path), hashed one byte at a time: on texts of every
  /// length around the eight-byte steps, with words of every length (one byte to several
  /// words of eight) starting and ending anywhere in a step, and every kind of byte around
  /// them (digits, both cases, the bytes next to each range, punctuation, controls).
  @Test func theWordAtATimeTokenizerGivesSearchsWords() {
    var rng = SeededGenerator(seed: 88)
    let alphabet = Array(
      "09AZaz/:@[`{~ \t\n\u{0}\u{7F}-_.\"mM5qQ".unicodeScalars.map { UInt8($0.value) })
    for round in 0..<20_000 {
      var bytes: [UInt8] = []
      let length = round < 200 ? round % 40 : Int(rng.next() % 90)
      while bytes.count < length {
        if rng.next() % 3 == 0 {
          // A long word.
          for _ in 0..<Int(rng.next() % 20) {
            bytes.append(
              UInt8(ascii: "a") + UInt8(rng.next() % 26) - (rng.next() % 2 == 0 ? 32 : 0))
          }
        } else {
          bytes.append(alphabet[Int(rng.next() % UInt64(alphabet.count))])
        }
      }
      let text = String(decoding: bytes, as: UTF8.self)
      var got: [UInt64] = []
      let ascii = Tokenizer.forEachTokenHash(text) { got.append($0) }
      #expect(ascii)
      var expected: [UInt64] = []
      for word in SearchText.words(text) {
        var state = PackedHash.State()
        for byte in word.utf8 { state.step(byte) }
        expected.append(state.finish())
      }
      #expect(got == expected, "\(bytes)")
    }
  }

  @Test func theFiltersFalsePositivesStayNearBloomsBound() {
    // k probes and m bits per entry: (1 - e^(-k/m))^k (10 and 7: about 0.008).
    let n = 20_000
    var filter = BloomFilter(capacity: n)
    for i in 0..<n { filter.insert(PackedHash.of("present\(i)")) }
    for i in 0..<n { #expect(filter.mayContainWord("present\(i)")) }
    let probes = 200_000
    var positives = 0
    for i in 0..<probes where filter.mayContainWord("absent\(i)") { positives += 1 }
    let rate = Double(positives) / Double(probes)
    let k = Double(BloomFilter.probes)
    let bound = pow(1 - exp(-k / Double(BloomFilter.bitsPerEntry)), k)
    #expect(rate < bound * 2, "false-positive rate \(rate), Bloom's bound \(bound)")
    #expect(BloomFilter(bytes: filter.bytes) == filter)
    #expect(BloomFilter(bytes: [1, 2, 3]) == nil)
  }

  @Test func eventsComeBackFromTheirBlocksAsTheyWent() throws {
    let account = AccountID(rawValue: "acct_a")
    let base = Date(timeIntervalSince1970: 1_764_000_000)
    var events: [Event] = []
    for i in 0..<5000 {
      // Field order differs between events: a block keeps each event's own.
      let fields: Fields =
        switch i % 3 {
        case 0: [:]
        case 1: ["status": String(200 + i % 5), "k\"ey": "v\(i)"]
        default: ["k\"ey": "v\(i)", "status": String(200 + i % 5), "a": ""]
        }
      let padding = String(repeating: "x", count: i % 300)
      let message = "event \(i) user=u\(i % 13) ünï \u{FFFD} \(padding)"
      let time = base.addingTimeInterval(Double(i % 97) - 40)
      events.append(
        Event(
          accountID: account, fetcherID: "f1", logType: i % 2 == 0 ? "cloudtrail" : "app",
          time: time, sourceKey: "AWSLogs/x/\(i / 1000).json.gz", sourceOffset: Int64(i * 700),
          message: message, fields: fields))
    }
    let blocks = try BlockCodec.encode(events, targetBytes: 256 << 10)
    #expect(blocks.count > 1, "about 1 MB of text spreads over several 256 KiB blocks")
    #expect(blocks.reduce(0) { $0 + $1.eventCount } == events.count)
    var decoded: [Event] = []
    for block in blocks {
      let part = try BlockCodec.decode(block.data, accountID: account, fetcherID: "f1")
      #expect(part.count == block.eventCount)
      let times: [Date] = part.map { $0.time }
      #expect(times.min() == block.minTime)
      #expect(times.max() == block.maxTime)
      #expect(part.first?.sourceOffset == block.firstOffset)
      let filter = try #require(BloomFilter(bytes: block.filter))
      for event in part {
        #expect(filter.mayContainWord("user"))
        for (key, value) in event.fields { #expect(filter.mayContainField(key, value)) }
      }
      decoded += part
    }
    #expect(decoded == events)
    #expect(decoded.map(\.fields.keys) == events.map(\.fields.keys))
  }

  /// The store's fast path: a block is encoded in place unless one of its texts holds a
  /// NUL byte, wherever that byte is; then the store replaces it first.
  @Test func encodingRefusesANULByteInAnyTextAndOnlyThen() throws {
    func events(_ change: (inout Event) -> Void = { _ in }) -> EventsInOrder {
      var list = (0..<50).map { i in
        Event(
          accountID: AccountID(rawValue: "a"), fetcherID: "f", logType: "app",
          time: Date(timeIntervalSince1970: Double(i)), sourceKey: "logs/1.gz",
          sourceOffset: Int64(i * 10), message: "line \(i) ok", fields: ["user": "u\(i)"])
      }
      change(&list[37])
      return EventsInOrder(list, order: Array(list.indices))
    }
    let clean = try #require(try BlockCodec.encodeRefusingNUL(events()))
    #expect(clean == (try BlockCodec.encode(events())))
    let dirty: [(String, (inout Event) -> Void)] = [
      ("message", { $0.message = "a\u{0}b" }),
      ("field value", { $0.fields["user"] = "\u{0}" }),
      ("field name", { $0.fields["us\u{0}er"] = "x" }),
      ("log type", { $0.logType = "app\u{0}" }),
      ("source key", { $0.sourceKey = "logs/\u{0}.gz" }),
    ]
    for (place, change) in dirty {
      #expect(try BlockCodec.encodeRefusingNUL(events(change)) == nil, "a NUL in the \(place)")
      // Allowed, the plain encoder keeps it (the store never calls it with one).
      #expect(try BlockCodec.encode(events(change)).count == 1, "\(place)")
    }
  }

  @Test func aDamagedBlockIsAnErrorNotGarbage() throws {
    let events = [
      Event(
        accountID: AccountID(rawValue: "a"), fetcherID: "f", logType: "app", time: Date(),
        sourceKey: "k", sourceOffset: 0, message: "hello")
    ]
    let block = try #require(try BlockCodec.encode(events).first)
    // A valid frame whose payload is not a block.
    let other = try Zstd.compress(Array("FRB1\u{7F}".utf8))
    #expect(throws: BlockError.self) {
      try BlockCodec.decode(other, accountID: AccountID(rawValue: "a"), fetcherID: "f")
    }
    var cut = block.data
    cut.removeLast(3)
    #expect(throws: BlockError.self) {
      try BlockCodec.decode(cut, accountID: AccountID(rawValue: "a"), fetcherID: "f")
    }
  }
}
