import Foundation
import Testing

@testable import FerryIngest

/// Text whose events span lines, joined by a start pattern. The expected events are
/// written out by hand from the log below (a Java application's log with a stack trace,
/// laid out as Logback prints it), and offsets found in the text by searching, not
/// computed by the parser's own rules.
@Suite("Multiline text: lines joined by a start pattern")
struct MultilineTextTests {
  static let log = """
    2024-11-24T10:00:00Z INFO  OrderService - order 17 received
    2024-11-24T10:00:01Z ERROR OrderService - order 17 failed
    java.lang.IllegalStateException: stock is negative
    \tat com.shop.Stock.take(Stock.java:42)
    \tat com.shop.OrderService.place(OrderService.java:88)

    Caused by: java.sql.SQLException: deadlock detected
    \t... 2 more
    2024-11-24T10:00:02Z INFO  OrderService - order 18 received


    """

  func parse(_ text: String, pattern: String, piece: Int) throws -> (
    records: [ParsedRecord], notes: String?
  ) {
    var parser = MultilineTextParser(start: try MultilineStart(pattern))
    let records = try ParserTests().parse(&parser, Array(text.utf8), piece: piece)
    return (records, parser.notes)
  }

  func offset(of line: String, in text: String) throws -> Int64 {
    let range = try #require(text.range(of: line))
    return Int64(text.utf8.distance(from: text.utf8.startIndex, to: range.lowerBound))
  }

  @Test(arguments: [1, 7, 64, 1 << 20])
  func aStackTraceIsOneEventWithItsLogLine(piece: Int) throws {
    let (records, notes) = try parse(Self.log, pattern: #"^\d{4}-\d{2}-\d{2}T"#, piece: piece)
    #expect(records.count == 3)
    #expect(records.map(\.text.utf8.first) == Array(repeating: UInt8(ascii: "2"), count: 3))
    #expect(records[0].text == "2024-11-24T10:00:00Z INFO  OrderService - order 17 received")
    #expect(
      records[1].text == """
        2024-11-24T10:00:01Z ERROR OrderService - order 17 failed
        java.lang.IllegalStateException: stock is negative
        \tat com.shop.Stock.take(Stock.java:42)
        \tat com.shop.OrderService.place(OrderService.java:88)

        Caused by: java.sql.SQLException: deadlock detected
        \t... 2 more
        """)
    // The blank lines at the end belong to no event.
    #expect(records[2].text == "2024-11-24T10:00:02Z INFO  OrderService - order 18 received")
    #expect(
      records.map(\.offset) == [
        0, try offset(of: "2024-11-24T10:00:01Z", in: Self.log),
        try offset(of: "2024-11-24T10:00:02Z", in: Self.log),
      ])
    let expectedTime = try #require(ISO8601DateFormatter().date(from: "2024-11-24T10:00:01Z"))
    #expect(records[1].time == expectedTime)
    #expect(records.allSatisfy { $0.fields.isEmpty })
    #expect(notes == nil)
  }

  @Test func linesBeforeTheFirstStartAreOneEventAndNothingIsDropped() throws {
    let text =
      "  at leftover.Frame(Frame.java:1)\n  at leftover.Frame(Frame.java:2)\nSTART one\nnext\n"
    let (records, _) = try parse(text, pattern: "^START", piece: 5)
    #expect(
      records.map(\.text) == [
        "  at leftover.Frame(Frame.java:1)\n  at leftover.Frame(Frame.java:2)",
        "START one\nnext",
      ])
    #expect(records.map(\.offset) == [0, try offset(of: "START", in: text)])
    // No line starts with a time: the object's time is used.
    #expect(records.allSatisfy { $0.time == nil })
  }

  @Test func anEventLongerThanTheLineLimitIsCutAndMarked() throws {
    var text = "2024-11-24T10:00:00Z boom\n"
    for i in 0..<(MultilineTextParser.maxLines + 100) { text += "\tat frame\(i)\n" }
    text += "2024-11-24T10:00:05Z after\n"
    let (records, notes) = try parse(text, pattern: #"^\d{4}-"#, piece: 4096)
    #expect(records.count == 2)
    let lines = records[0].text.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.count == MultilineTextParser.maxLines)
    #expect(lines.last == "\tat frame\(MultilineTextParser.maxLines - 2)")
    #expect(records[0].fields["ferry.truncated"] == "true")
    #expect(records[1].text == "2024-11-24T10:00:05Z after")
    #expect(records[1].fields["ferry.truncated"] == nil)
    #expect(
      notes?.contains("1 multiline events were longer than 500 lines") == true, "\(notes ?? "")")
  }

  @Test func anEventIsNeverHeldPastTheByteLimit() throws {
    let frame = "\tat " + String(repeating: "x", count: 4000) + "\n"
    var text = "START\n"
    // About 2.4 MiB in 600 continuation lines, each under the limit: the byte limit is
    // reached before the line limit.
    for _ in 0..<600 { text += frame }
    let (records, _) = try parse(text, pattern: "^START", piece: 65536)
    #expect(records.count == 1)
    #expect(records[0].text.utf8.count <= ParseLimits.maxRecordBytes)
    #expect(records[0].text.utf8.count > ParseLimits.maxRecordBytes - frame.utf8.count)
    #expect(records[0].fields["ferry.truncated"] == "true")
  }

  @Test func aPatternThatIsNotARegularExpressionIsRefusedWithTheReason() {
    #expect(throws: ParseError.self) { try MultilineStart("^(\\d{4}") }
    #expect(throws: ParseError.self) { try MultilineStart("") }
    #expect(throws: ParseError.self) {
      try MultilineStart(String(repeating: "a", count: MultilineTextParser.maxPatternLength + 1))
    }
    do {
      _ = try MultilineStart("[unclosed")
      Issue.record("an unclosed class was accepted")
    } catch {
      #expect(error.description.contains("not a regular expression"), "\(error)")
    }
  }

  @Test func textWithoutAPatternStaysOneEventPerLine() throws {
    var parser = LogFormat.text.parser()
    var out: [ParsedRecord] = []
    try parser.feed(Array(Self.log.utf8)) { out.append($0) }
    try parser.finish { out.append($0) }
    // Every non-empty line of the log, as written.
    #expect(out.count == Self.log.split(separator: "\n").count)
  }
}
