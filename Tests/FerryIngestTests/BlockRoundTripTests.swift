import FerryBlocks
import FerryCore
import FerryTesting
import Foundation
import Testing

@testable import FerryIngest

/// Every log type Ferry reads, from AWS's own samples (`../shared/testdata/logs/`), through
/// the parsers and into blocks and back: each event's message and every field byte for
/// byte, and a filter that rules none of them out.
@Suite("Blocks: every log type round-trips")
struct BlockRoundTripTests {
  static let present = AccessLogTests.root != nil

  /// The samples of `folder`, read as `format`.
  static func records(_ folder: String, _ format: LogFormat) throws -> [ParsedRecord] {
    var texts: [String] = []
    switch format {
    case .cloudTrail:
      texts = try ParserTests.cloudTrailSamples.map { try String(contentsOf: $0, encoding: .utf8) }
    default:
      texts = [AccessLogTests.examples(folder).joined(separator: "\n") + "\n"]
    }
    var out: [ParsedRecord] = []
    for text in texts {
      var parser = format.parser()
      try parser.feed(Array(text.utf8)) { out.append($0) }
      try parser.finish { out.append($0) }
    }
    return out
  }

  @Test(
    .enabled(if: present, "../shared/testdata/logs is absent: AWS's log samples cannot be read"),
    arguments: [
      ("cloudtrail", LogFormat.cloudTrail), ("alb", .alb), ("elb", .elb), ("nlb", .nlb),
      ("s3access", .s3access), ("vpcflow", .vpcflow), ("cloudfront", .cloudfront),
      // WAF logs are JSON lines.
      ("waf", .jsonLines),
    ])
  func everyFieldAndMessageComesBackByteForByte(_ folder: String, _ format: LogFormat) throws {
    let records = try Self.records(folder, format)
    #expect(!records.isEmpty, "the samples give records")
    let account = AccountID(rawValue: "acct_rt")
    let base = Date(timeIntervalSince1970: 1_732_406_400)
    let events = records.enumerated().map { i, record in
      Event(
        accountID: account, fetcherID: "f", logType: format.rawValue,
        time: record.time ?? base.addingTimeInterval(Double(i)), sourceKey: "samples/\(format)",
        sourceOffset: record.offset, message: record.text, fields: record.fields)
    }
    #expect(events.contains { !$0.fields.isEmpty }, "the samples have fields")
    let blocks = try BlockCodec.encode(events, targetBytes: 4096)
    var back: [Event] = []
    for block in blocks {
      let part = try BlockCodec.decode(block.data, accountID: account, fetcherID: "f")
      let filter = try #require(BloomFilter(bytes: block.filter))
      for event in part {
        for word in SearchText.words(event.message) {
          #expect(filter.mayContainWord(word))
        }
        for (key, value) in event.fields {
          #expect(filter.mayContainField(key, value), "\(key)=\(value)")
        }
      }
      back += part
    }
    #expect(back.count == events.count)
    for (a, b) in zip(back, events) {
      #expect(Array(a.message.utf8) == Array(b.message.utf8))
      #expect(a.fields.keys == b.fields.keys)
      for (key, value) in b.fields {
        #expect(a.fields[key].map { Array($0.utf8) } == Array(value.utf8))
      }
      #expect(a.time == b.time && a.sourceOffset == b.sourceOffset && a.logType == b.logType)
    }
  }
}
