import FerryCore
import FerryTesting
import Foundation
import Testing

/// The query language, as docs/query-language.md describes it: what each form means, and
/// where a malformed query is wrong (the column, in characters, and what was expected).
@Suite("Query language")
struct LogQueryTests {
  @Test(
    arguments: [
      ("", LogQuery.all),
      ("error", .word("error", prefix: false)),
      ("ERROR", .word("error", prefix: false)),
      ("time*", .word("time", prefix: true)),
      ("\"connection reset\"", .phrase(["connection", "reset"])),
      ("/api/v1", .phrase(["api", "v1"])),
      ("status:500", .field("status", .equals("500"))),
      ("user:\"Alice Smith\"", .field("user", .equals("alice smith"))),
      ("path:/api/*", .field("path", .prefix("/api/"))),
      ("trace:*", .field("trace", .exists)),
      ("status:>=500", .field("status", .compare(.greaterOrEqual, 500))),
      ("latency:<0.25", .field("latency", .compare(.less, 0.25))),
      ("error timeout", .and([.word("error", prefix: false), .word("timeout", prefix: false)])),
      (
        "error AND timeout", .and([.word("error", prefix: false), .word("timeout", prefix: false)])
      ),
      ("error OR warn", .or([.word("error", prefix: false), .word("warn", prefix: false)])),
      ("-debug", .not(.word("debug", prefix: false))),
      ("NOT debug", .not(.word("debug", prefix: false))),
      (
        "a OR b c",
        .or([
          .word("a", prefix: false), .and([.word("b", prefix: false), .word("c", prefix: false)]),
        ])
      ),
      (
        "(a OR b) c",
        .and([
          .or([.word("a", prefix: false), .word("b", prefix: false)]), .word("c", prefix: false),
        ])
      ),
      (
        "level:error -user:bot",
        .and([.field("level", .equals("error")), .not(.field("user", .equals("bot")))])
      ),
      ("x-y", .phrase(["x", "y"])),
    ] as [(String, LogQuery)])
  func parses(_ text: String, _ expected: LogQuery) throws {
    #expect(try LogQuery.parse(text) == expected)
  }

  @Test(
    arguments: [
      ("status:", 8, "expected a value after 'status:'"),
      ("(error", 7, "expected ')' to close the '(' at column 1"),
      ("error)", 6, "a ')' without its '('"),
      ("\"unclosed", 1, "never closed"),
      ("error AND", 10, "expected a term after AND"),
      ("error OR OR x", 10, "expected a term after OR, not OR"),
      ("status:>=abc", 10, "expected a number after 'status:>='"),
      ("()", 2, "expected a term inside '( )'"),
      ("NOT", 4, "expected a term after NOT"),
      ("*error", 1, "a '*' can only end a word"),
      ("err*or", 4, "a '*' can only end a word"),
      ("ok **", 4, "a '*' can only end a word"),
      ("path:*.gz", 6, "a '*' can only end a word"),
      ("path:/a*b", 8, "a '*' can only end a word"),
    ] as [(String, Int, String)])
  func refusesWithTheColumn(_ text: String, _ column: Int, _ words: String) {
    #expect {
      try LogQuery.parse(text)
    } throws: { error in
      guard let error = error as? LogQueryError else { return false }
      return error.column == column && error.message.contains(words)
    }
  }

  @Test func matchingFollowsTheWordsAndFields() throws {
    let words = SearchText.words("GET /api/v1/items 500 connection reset by peer")
    let fields: Fields = ["status": "500", "user": "Alice", "latency": "0.31"]
    func matches(_ text: String) throws -> Bool {
      try LogQuery.parse(text).matches(words: words, fields: fields)
    }
    #expect(try matches("connection reset"))
    #expect(try matches("\"connection reset\""))
    #expect(try !matches("\"reset connection\""))
    #expect(try matches("conn*"))
    #expect(try matches("/api/v1"))
    #expect(try matches("status:500 user:alice"))
    #expect(try matches("status:>=500 latency:>0.3"))
    #expect(try !matches("status:<500"))
    #expect(try matches("user:Al*"))
    #expect(try !matches("missing:*"))
    #expect(try matches("nothing OR peer"))
    #expect(try !matches("peer -reset"))
    #expect(try matches(""))
  }

  @Test func aBlockFilterExcludesOnlyWhatCannotMatch() throws {
    let present: Set<String> = ["error", "timeout"]
    let pairs: Set<String> = ["status=500"]
    func may(_ text: String) throws -> Bool {
      try LogQuery.parse(text).mayMatch(
        hasWord: { present.contains($0) }, hasField: { pairs.contains("\($0)=\($1)") })
    }
    #expect(try may("error"))
    #expect(try !may("missing"))
    #expect(try !may("error missing"))
    #expect(try may("error OR missing"))
    #expect(try may("-error"), "a negation never excludes a block")
    #expect(try may("status:500"))
    #expect(try !may("status:404"))
    #expect(try may("status:>=404"), "comparisons are not in the filter")
  }

  @Test func timesAreNowSpansOrISODates() throws {
    let now = Date(timeIntervalSince1970: 1_796_119_200)
    #expect(QueryTime.parse("now", now: now) == now)
    #expect(QueryTime.parse("15m", now: now) == now.addingTimeInterval(-900))
    #expect(QueryTime.parse("24h", now: now) == now.addingTimeInterval(-86400))
    #expect(QueryTime.parse("7d", now: now) == now.addingTimeInterval(-7 * 86400))
    #expect(QueryTime.parse("now-2d", now: now) == now.addingTimeInterval(-2 * 86400))
    #expect(QueryTime.parse(" now-15m ", now: now) == now.addingTimeInterval(-900))
    #expect(QueryTime.parse("now-", now: now) == nil)
    #expect(QueryTime.parse("now-2x", now: now) == nil)
    #expect(QueryTime.parse("now+2d", now: now) == nil)
    #expect(QueryTime.parse("2026-12-01T10:00:00Z") == Date(timeIntervalSince1970: 1_796_119_200))
    #expect(
      QueryTime.parse("2026-12-01T12:00:00+02:00") == Date(timeIntervalSince1970: 1_796_119_200))
    #expect(QueryTime.parse("yesterday") == nil)
  }

  @Test func nestingIsBoundedSoNoQueryCanOverflowTheStack() throws {
    let limit = 64
    func nested(_ depth: Int) -> String {
      String(repeating: "(", count: depth) + "error" + String(repeating: ")", count: depth)
    }
    #expect(try LogQuery.parse(nested(limit)) == .word("error", prefix: false))
    #expect(try LogQuery.parse(String(repeating: "NOT ", count: limit) + "x") != .all)
    for text in [
      nested(limit + 1), nested(3000), String(repeating: "NOT ", count: limit + 1) + "x",
      String(repeating: "-(", count: 40) + "x" + String(repeating: ")", count: 40),
    ] {
      #expect {
        try LogQuery.parse(text)
      } throws: { error in
        (error as? LogQueryError)?.message.contains("nests deeper than 64 levels") == true
      }
    }
    // 100,000 levels (200 KB) are refused by the length limit before any parsing.
    #expect {
      try LogQuery.parse(nested(100_000))
    } throws: { error in
      (error as? LogQueryError)?.message.contains("at most 16384 are accepted") == true
    }
    // Long but flat queries are fine.
    let flat = (0..<1500).map { "w\($0)" }.joined(separator: " OR ")
    guard case .or(let parts) = try LogQuery.parse(flat) else {
      Issue.record("a flat OR of 1,500 words is one OR")
      return
    }
    #expect(parts.count == 1500)
  }

  @Test func randomInputNeverTrapsTheParserOrTheEvaluators() {
    var random = SeededGenerator(seed: 20_261_206)
    let alphabet = Array("aZ9 :*\"()-<>=.+e_/\\\u{0}\u{202E}é\t")
    let pieces = ["AND ", "OR ", "NOT ", "(", ")", "\"", "-", "f:", ">=", "*", "x", " "]
    let words = SearchText.words("a z9 x e")
    var parsed = 0
    for round in 0..<20_000 {
      var text = ""
      for _ in 0..<Int(random.next() % 40) {
        if random.next() % 2 == 0 {
          text.append(alphabet[Int(random.next() % UInt64(alphabet.count))])
        } else {
          text += pieces[Int(random.next() % UInt64(pieces.count))]
        }
      }
      if round % 100 == 0 { text = String(repeating: "(", count: Int(random.next() % 200)) + text }
      do {
        let query = try LogQuery.parse(text)
        _ = query.matches(words: words, fields: ["f": "1"])
        _ = query.mayMatch(hasWord: { _ in false }, hasField: { _, _ in true })
        parsed += 1
      } catch {
        #expect(error.column >= 1 && error.column <= text.count + 1, "\(text.debugDescription)")
      }
    }
    #expect(parsed > 1000, "the random queries include many valid ones")
  }

  @Test func spansAndTimesAreRangeChecked() {
    let now = Date(timeIntervalSince1970: 1_796_119_200)
    #expect(QueryTime.parse("99999999999d", now: now) == nil)
    #expect(QueryTime.parse("9223372036854775807s", now: now) == nil)
    #expect(QueryTime.parse("36500d", now: now) == now.addingTimeInterval(-36500 * 86400))
    #expect(QueryTime.parse("-5d", now: now) == nil)
    var random = SeededGenerator(seed: 7)
    let characters = Array("0123456789smhdwTZ:-+.now ")
    for _ in 0..<20_000 {
      var text = ""
      for _ in 0..<Int(random.next() % 24) {
        text.append(characters[Int(random.next() % UInt64(characters.count))])
      }
      if let date = QueryTime.parse(text, now: now) {
        // Every time accepted fits the stores' microseconds.
        #expect(abs(date.timeIntervalSince1970) < 9.2e12, "\(text)")
        _ = date.micros
      }
    }
    #expect(Date(timeIntervalSince1970: 1e300).micros == .max)
    #expect(Date(timeIntervalSince1970: -1e300).micros == .min)
  }
}
