import FerryCore
import Foundation
import Testing

@testable import FerryMetrics

/// The fast reader of the JSON format's lines against Foundation's JSONDecoder (the
/// authority): on varied valid lines both read the same data point, bit for bit; on lines
/// that are not JSON the fast reader declines (so JSONDecoder answers, and refuses them).
@Suite("CloudWatch JSON line reader")
struct CloudWatchJSONLineTests {
  static func fast(_ line: String) -> CloudWatchJSONMetrics.Datum? {
    Array(line.utf8).withUnsafeBufferPointer { CloudWatchJSONLine.read($0) }.flatMap(
      CloudWatchJSONMetrics.Datum.init)
  }

  static func decoded(_ line: String) -> CloudWatchJSONMetrics.Datum? {
    try? JSONDecoder().decode(CloudWatchJSONMetrics.Datum.self, from: Data(line.utf8))
  }

  static let numbers = [
    "0", "-0", "1", "-1", "0.1", "17.8764", "1e5", "1E+5", "1.5e-7", "-2.25E-300", "1e308",
    "123456789012345678", "9007199254740993", "0.30000000000000004", "4.9e-324",
    "2.2250738585072014e-308", "1234.5678e10", "0.000001234", "3.14159265358979323846",
    "100000000000000000000000", "5e-22", "7e22", "123456789012345e-22",
  ]
  static let strings = [
    "plain", "with space", "quote \\\" inside", "back\\\\slash", "sl\\/ash", "tab\\tnew\\nline",
    "caf\\u00e9", "\\ud83d\\ude00 emoji", "é direct", "日本", "\\u0000nul", "",
  ]

  @Test func readsWhatJSONDecoderReadsBitForBit() throws {
    var generator = SystemRandomNumberGenerator()
    var checked = 0
    for i in 0..<3_000 {
      let number = { Self.numbers.randomElement(using: &generator) ?? "1" }
      let text = { Self.strings.randomElement(using: &generator) ?? "x" }
      var members = [
        "\"namespace\":\"AWS/\(text())\"", "\"metric_name\":\"M\(i)\"",
        "\"timestamp\":\(1_600_000_000_000 + i)",
        "\"value\":{\"count\":\(number()),\"sum\":\(number()),\"max\":\(number()),\"min\":\(number()),\"p99.9\":\(number()),\"TM(25%:75%)\":\(Double(UInt32.random(in: 0...UInt32.max, using: &generator)) / 7)}",
      ]
      if i % 2 == 0 {
        members.append("\"dimensions\":{\"Instance\(text())\":\"\(text())\",\"B\":\"\(i)\"}")
      }
      if i % 3 == 0 { members.append("\"unit\":\"Count/Second\"") }
      if i % 5 == 0 { members.append("\"metric_stream_name\":\"s-\(text())\"") }
      if i % 7 == 0 {
        members.append("\"extra\":[1,{\"a\":[true,false,null]},\"x\\\"\",-2.5e3,[]]")
      }
      if i % 11 == 0 { members.append("\"account_id\":\"123456789012\",\"region\":\"eu-west-1\"") }
      members.shuffle(using: &generator)
      let separator = i % 4 == 0 ? " , " : ","
      let line = (i % 6 == 0 ? " { " : "{") + members.joined(separator: separator) + "}  "
      let expected = try #require(Self.decoded(line), "JSONDecoder refused \(line)")
      let got = try #require(Self.fast(line), "the fast reader declined \(line)")
      #expect(got == expected, "\(line)")
      #expect(
        got.value.mapValues(\.bitPattern) == expected.value.mapValues(\.bitPattern), "\(line)")
      checked += 1
    }
    #expect(checked == 3_000)
  }

  @Test func declinesWhatIsNotJSON() {
    let good =
      #"{"namespace":"N","metric_name":"M","timestamp":1,"value":{"count":1,"sum":1,"max":1,"min":1}}"#
    #expect(Self.fast(good) != nil)
    let replacements: [(String, String)] = [
      ("}}", "},}"),
      ("\"sum\":1", "\"sum\":01"),
      ("\"sum\":1", "\"sum\":1."),
      ("\"sum\":1", "\"sum\":.5"),
      ("\"sum\":1", "\"sum\":+1"),
      ("\"sum\":1", "\"sum\":NaN"),
      ("\"sum\":1", "\"sum\":1e400"),
      ("\"sum\":1", "\"sum\":\"1\""),
      ("\"N\"", "\"a\\x\""),
      ("\"N\"", "\"a\tb\""),
      ("\"N\"", "\"\\ud83d alone\""),
      ("\"N\"", "\"\\u12\""),
      ("\"timestamp\":1", "\"timestamp\":1.5"),
      ("\"namespace\":\"N\",", ""),
      ("\"N\"", "null"),
    ]
    var bad: [String] = replacements.map { good.replacingOccurrences(of: $0.0, with: $0.1) }
    bad += [String(good.dropLast()), good + "x", good + "{}"]
    for line in bad {
      #expect(Self.fast(line) == nil, "\(line)")
    }
    // Invalid UTF-8 in a string.
    var bytes = Array(good.utf8)
    if let n = bytes.firstIndex(of: UInt8(ascii: "N")) { bytes[n] = 0xC3 }
    #expect(bytes.withUnsafeBufferPointer { CloudWatchJSONLine.read($0) } == nil)
  }
}
