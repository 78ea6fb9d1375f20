import FerryCore
import FerryTesting
import Foundation
import Testing

@testable import FerryIngest

/// A JSON line's and a CloudTrail record's fields are a function of the message alone:
/// what the streaming parser gave while reading the object is what ``MessageFields`` reads
/// from each message again (an archive leaves such fields out and a restore derives them).
@Suite("Fields derived from the message")
struct MessageFieldsTests {
  /// Records of `text` read by the streaming parser of `format`, a few bytes at a time
  /// (so records span the pieces), with their fields.
  static func streamed(_ text: String, _ format: LogFormat, piece: Int = 777) throws
    -> [ParsedRecord]
  {
    var parser = format.parser()
    var out: [ParsedRecord] = []
    let bytes = Array(text.utf8)
    var start = 0
    while start < bytes.count {
      try parser.feed(Array(bytes[start..<min(bytes.count, start + piece)])) { out.append($0) }
      start += piece
    }
    try parser.finish { out.append($0) }
    return out
  }

  static func check(_ records: [ParsedRecord], _ format: LogFormat) {
    for record in records {
      let derivable = MessageFields.derivable(
        logType: format.rawValue, count: record.fields.count,
        name: { record.fields.key(at: $0) })
      guard derivable else {
        #expect(record.fields["ferry.truncated"] == "true", "only a cut record is not derivable")
        continue
      }
      #expect(
        MessageFields.fields(logType: format.rawValue, message: record.text) == record.fields,
        "\(record.text.prefix(200))")
    }
  }

  @Test(
    .enabled(
      if: BlockRoundTripTests.present,
      "../shared/testdata/logs is absent: AWS's log samples cannot be read"))
  func awsSamplesGiveTheirFieldsBackFromTheirMessages() throws {
    let trail = try BlockRoundTripTests.records("cloudtrail", .cloudTrail)
    #expect(trail.count > 10 && trail.allSatisfy { !$0.fields.isEmpty })
    Self.check(trail, .cloudTrail)
    let waf = try BlockRoundTripTests.records("waf", .jsonLines)
    #expect(!waf.isEmpty)
    Self.check(waf, .jsonLines)
  }

  /// Generated JSON lines with nested objects, arrays, escapes, non-ASCII text, long values
  /// past the parser's limits, many members, time keys, blank lines and lines that are not
  /// objects; and a cut line, which is not derivable.
  @Test func generatedJSONLinesGiveTheirFieldsBack() throws {
    var rng = SeededGenerator(seed: 2026)
    let words = ["info", "déjà", "a \\\"q\\\"", "line\\nbreak", "🚢", "x,y", "", "GET /a b"]
    var lines: [String] = []
    for n in 0..<3_000 {
      var members: [String] = []
      for k in 0..<Int(rng.next() % 40) {
        let word = words[Int(rng.next() % UInt64(words.count))]
        switch rng.next() % 7 {
        case 0: members.append("\"n\(k)\":\(rng.next() % 100_000)")
        case 1:
          members.append("\"o\(k)\":{\"a\":\"\(word)\",\"b\":[1,2],\"c\":{\"d\":1},\"e\":true}")
        case 2: members.append("\"l\(k)\":[\"\(word)\",{\"z\":1}]")
        case 3:
          members.append(
            "\"long\(k)\":\"\(String(repeating: "v", count: 250 + Int(rng.next() % 20)))\"")
        case 4: members.append("\"ts\":\"2026-12-07T10:\(10 + k % 50):00Z\"")
        case 5: members.append("\"k\(k)\":null")
        default: members.append("\"s\(k)\":\"\(word)\(n)\"")
        }
      }
      lines.append(
        n % 97 == 0
          ? "plain text \(n)" : n % 89 == 0 ? "" : "{" + members.joined(separator: ",") + "}")
    }
    let records = try Self.streamed(lines.joined(separator: "\n") + "\n", .jsonLines)
    #expect(records.count > 2_900)
    #expect(records.contains { $0.fields.count >= 30 })
    Self.check(records, .jsonLines)
    // A line longer than the parser keeps is cut; its fields are not the message's.
    let long =
      "{\"a\":\"" + String(repeating: "z", count: ParseLimits.maxRecordBytes + 10) + "\"}\n"
    let cut = try Self.streamed(long, .jsonLines, piece: 1 << 16)
    #expect(cut.count == 1 && cut[0].fields["ferry.truncated"] == "true")
    Self.check(cut, .jsonLines)
  }
}
