import FerryCore
import Foundation
import Testing

@testable import FerryBlocks

/// The matcher tests events on a block's bytes; the rule it must agree with is the query
/// language's own (`LogQuery.matches` on ``SearchText``'s words), checked here over every
/// pair of a set of queries and a set of events chosen to sit on the edges: words inside
/// other words, case, punctuation at the ends of messages, non-ASCII text, fields with
/// differing case, absent fields.
@Suite("Block matcher: the same answers as the query language's rules")
struct BlockMatcherTests {
  static let messages = [
    "GET /api/orders 500 upstream timeout trace=AB12",
    "get /API/Orders 200 ok",
    "timeouts are not timeout? yes: TIMEOUT.",
    "xtimeout timeoutx time out",
    "timeout",
    "connection reset by peer",
    "Connection RESET by peer again",
    "reset by connection peer",
    "Café ERROR straße timeout",
    "\u{212A}elvin sign key",
    "",
    "error42 error 42",
    "a-b-c a_b",
  ]
  static let fieldSets: [Fields] = [
    [:], ["status": "500"], ["status": "200", "level": "ERROR"], ["level": "error"],
    ["level": "Érror"], ["user": "Alice Smith"],
  ]
  static let queries = [
    "", "timeout", "TIMEOUT", "timeout upstream", "\"connection reset\"", "\"reset by peer\"",
    "time*", "-timeout", "timeout OR ok", "status:500", "status:500 timeout", "level:error",
    "level:*", "status:>=300", "level:érror", "key", "kelvin", "error42", "42", "café",
    "a b c", "straße timeout", "user:\"alice smith\"", "NOT (status:200 OR level:error)",
    "(timeout AND status:500) OR reset",
  ]

  func events() -> [Event] {
    var out: [Event] = []
    for (m, message) in Self.messages.enumerated() {
      for (f, fields) in Self.fieldSets.enumerated() {
        out.append(
          Event(
            accountID: AccountID(rawValue: "a"), fetcherID: "f", logType: "app",
            time: Date(timeIntervalSince1970: Double(1_764_000_000 + m * 10 + f)),
            sourceKey: "k\(m)", sourceOffset: Int64(m * 100 + f), message: message,
            fields: fields))
      }
    }
    return out
  }

  @Test func everyQueryPicksTheEventsTheRulesPick() throws {
    let events = events()
    let block = try #require(try BlockCodec.encode(events).first)
    let view = try BlockCodec.view(block.data)
    #expect(view.count == events.count)
    for text in Self.queries {
      let query = try LogQuery.parse(text)
      let matcher = BlockMatcher(query: query, words: [], fields: [:])
      let picked = matcher.select(view, Array(0..<view.count))
      let expected = events.indices.filter {
        query.matches(words: SearchText.words(events[$0].message), fields: events[$0].fields)
      }
      #expect(picked == expected, "query \(text)")
    }
  }

  @Test func wordsAndExactFieldsOfAnEventQueryNarrowTheLanguagesAnswer() throws {
    let events = events()
    let view = try BlockCodec.view(try #require(try BlockCodec.encode(events).first).data)
    let cases: [(words: [String], fields: [String: String])] = [
      (["timeout"], [:]), (["timeout", "upstream"], ["status": "500"]), ([], ["level": "error"]),
      ([], ["level": "ERROR"]), ([], ["nothere": "x"]), (["café"], [:]),
    ]
    for (words, fields) in cases {
      let picked = BlockMatcher(query: .all, words: words, fields: fields).select(
        view, Array(0..<view.count))
      let expected = events.indices.filter { i in
        let present = Set(SearchText.words(events[i].message))
        return words.allSatisfy(present.contains)
          && fields.allSatisfy { events[i].fields[$0.key] == $0.value }
      }
      #expect(picked == expected, "words \(words) fields \(fields)")
    }
  }

  @Test func aWordIsFoundAtEveryPlaceInTheSixteenByteWindow() throws {
    // Every start position and message length around the 16-byte scan's edges.
    for length in 0..<70 {
      for position in 0..<max(1, length - 6) {
        var bytes = [UInt8](repeating: UInt8(ascii: "."), count: length)
        let word = Array("TiMeOuT".utf8)
        if position + word.count <= length {
          bytes.replaceSubrange(position..<position + word.count, with: word)
        }
        let expected = SearchText.words(String(decoding: bytes, as: UTF8.self)).contains(
          "timeout")
        let finder = try #require(WordFinder("timeout"))
        let found = bytes.withUnsafeBufferPointer { buffer in
          guard let base = buffer.baseAddress else { return false }
          return finder.occurs(in: base, start: 0, length: length)
        }
        #expect(found == expected, "length \(length), at \(position)")
      }
    }
  }

  @Test func blocksWrittenInTheRowLayoutAreStillRead() throws {
    // FRB1, as written by the first block store: count, then per event the time (zigzag
    // delta), offset, log type, source key, message, field count, fields.
    var raw = Array("FRB1".utf8)
    func varint(_ v: UInt64) {
      var v = v
      while v >= 0x80 {
        raw.append(UInt8(v & 0x7F) | 0x80)
        v >>= 7
      }
      raw.append(UInt8(v))
    }
    func string(_ s: String) {
      varint(UInt64(s.utf8.count))
      raw += Array(s.utf8)
    }
    varint(2)
    varint(UInt64(1_764_000_000_000_000) << 1)
    varint(0)
    string("app")
    string("logs/a.json")
    string("first Timeout")
    varint(1)
    string("status")
    string("500")
    varint(UInt64(1_000_000) << 1)
    varint(77)
    string("app")
    string("logs/a.json")
    string("second ok")
    varint(0)
    let data = try Zstd.compress(raw)
    let events = try BlockCodec.decode(data, accountID: AccountID(rawValue: "a"), fetcherID: "f")
    #expect(events.map(\.message) == ["first Timeout", "second ok"])
    #expect(events.map(\.sourceOffset) == [0, 77])
    #expect(events[0].fields == ["status": "500"])
    #expect(events[1].time == Date(micros: 1_764_000_001_000_000))
    let view = try BlockCodec.view(data)
    #expect(
      BlockMatcher(query: try LogQuery.parse("timeout status:500"), words: [], fields: [:])
        .select(view, [0, 1]) == [0])
  }
}
