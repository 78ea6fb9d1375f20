import FerryTesting
import Foundation
import Testing

@testable import FerryIngest

/// Multiline start patterns are matched by Ferry's automaton, in time linear in the line.
/// What it matches is checked against Swift's own regular expression engine (an
/// independent, backtracking implementation) on patterns people write for log starts and
/// on random lines; the patterns that make a backtracking engine run for ever finish here
/// in milliseconds; what an automaton cannot do is refused with the reason.
@Suite("Multiline start patterns: a linear-time automaton")
struct LinearPatternTests {
  static let patterns = [
    #"^\d{4}-\d{2}-\d{2}"#, #"^\[\d{4}-\d\d-\d\d[ T]\d\d:\d\d"#, "^(ERROR|WARN|INFO|DEBUG) ",
    #"^\s"#, #"^[^\s]"#, #"^\S+ \S+"#, "^Traceback", #"^\w+Exception\b"#, #"^(?:at|Caused by)\b"#,
    "^[A-Z][a-z]{2} [ 0-9]?[0-9] ", #"\bERROR\b"#, "a.c", "^$", "^a*$", "x?y+z*",
    #"^\d{1,3}(\.\d{1,3}){3}"#, "(ab|a)(bc|c)", #"^\t+at "#, "[[:digit:]]{2}:[[:digit:]]{2}",
    "^(a|b)*c", "colou?r", #"^\{"#, #"\.\.\."#, "^[-+]?[0-9]+", "[a-]", #"[\]a]"#, #"^\x41"#,
    "^(?<date>\\d{4})", "^a{2,}b", "^a{0,2}b$", "(?i)^error", "\\Bb", "^(a|ab)(c|bcd)(d*)$",
  ]

  static let alphabet = Array("aAbBcdxyz019 -:.[]{}\tTERORWNIFat")

  @Test(arguments: patterns)
  func matchesWhatSwiftsRegexMatches(_ pattern: String) throws {
    let ours = try LinearPattern(pattern)
    let theirs = try Regex(pattern)
    var random = SeededGenerator(seed: UInt64(pattern.utf8.count) &* 7919)
    var lines = [
      "", "2026-12-01 10:00:00 ERROR x", "[2026-12-01T10:00:00Z] ok", "  at com.example.Foo",
      "Traceback (most recent call last):", "java.lang.IllegalStateException: boom",
      "ERROR disk full", "error lower", "Dec  6 10:00:00 host", "10.0.0.1 - -", "abc", "abcd",
      "aaab", "b", "color colour", "{\"json\":1}", "...", "-42", "]", "A", "2026", "bb", "\tat x",
    ]
    for _ in 0..<400 {
      lines.append(
        String((0..<Int(random.next() % 24)).map { _ in Self.alphabet[Int(random.next() % 32)] }))
    }
    for line in lines {
      let expected = try theirs.firstMatch(in: line) != nil
      #expect(
        ours.firstMatch(in: line.unicodeScalars) == expected,
        "\(pattern) on \(line.debugDescription): Swift's Regex says \(expected)")
    }
  }

  @Test(arguments: [
    "^(a+)+$", "^(a|a)*$", "^(a|aa)+$", "^(.*a){20}$", "(x+x+)+y", "^(\\w+\\s?)*$",
  ])
  func catastrophicPatternsTakeLinearTime(_ pattern: String) throws {
    let automaton = try LinearPattern(pattern)
    let line = String(repeating: "a", count: 1024) + "b"
    let clock = ContinuousClock()
    let started = clock.now
    for _ in 0..<10 { _ = automaton.firstMatch(in: line.unicodeScalars) }
    let elapsed = clock.now - started
    // A backtracking engine needs about 2^40 steps on 40 a's; this is 10 lines of 1,025.
    #expect(elapsed < .seconds(5), "\(pattern): \(elapsed) for 10 lines")
  }

  @Test(
    arguments: [
      (#"(a)\1"#, "back-references"), ("a(?=b)", "lookahead"), ("(?<=a)b", "lookbehind"),
      ("(?>a)", "atomic groups"), ("a++", "possessive"), ("a{2000}", "count above 1000"),
      ("(", "never closed"), (")", "without its '('"), ("[a", "never closed"),
      ("*a", "nothing to repeat"),
      (#"\p{L}"#, "Unicode properties"), ("a**", "a quantifier after a quantifier"),
      ("[z-a]", "out of order"), ("(?i", "not supported"), (#"\q"#, "not an escape"),
      (String(repeating: "(", count: 40) + String(repeating: ")", count: 40), "nest deeper"),
      ("(a{1000}){1000}", "too large"),
    ] as [(String, String)])
  func whatAnAutomatonCannotDoIsRefusedWithTheReason(_ pattern: String, _ reason: String) {
    #expect {
      try LinearPattern(pattern)
    } throws: { error in
      "\(error)".contains(reason)
    }
  }

  @Test func dollarMatchesOnlyAtTheRealEndOfALine() throws {
    let start = try MultilineStart("^a+$")
    #expect(start.matches(Array("aaa".utf8)[...]))
    // A line longer than the searched KiB: its first KiB is not its end.
    #expect(!start.matches(Array(String(repeating: "a", count: 2000).utf8)[...]))
  }
}
