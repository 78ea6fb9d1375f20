import Foundation
import Testing

@testable import FerryIngest

/// CloudWatch Logs subscription payloads, shaped as AWS's documentation of subscription
/// filters shows them (the "Examples" data: `owner`, `logGroup`, `logStream`,
/// `subscriptionFilters`, `messageType`, `logEvents` of `id`, `timestamp` in milliseconds
/// and `message`), written by Foundation's JSONSerialization (an independent writer) back to
/// back as Firehose delivers them. What each event must be is read from the same payloads by
/// JSONSerialization, not by the parser.
@Suite("Parsers: CloudWatch Logs subscription payloads")
struct CloudWatchLogsTests {
  static func payload(_ type: String, stream: String, events: [(String, Int64, String)]) -> [String:
    Any]
  {
    [
      "owner": "111111111111", "logGroup": "CloudTrail/logs", "logStream": stream,
      "subscriptionFilters": ["Destination"], "messageType": type,
      "logEvents": events.map { ["id": $0.0, "timestamp": $0.1, "message": $0.2] },
    ]
  }

  static var documents: [[String: Any]] {
    [
      payload(
        "DATA_MESSAGE", stream: "111111111111_CloudTrail/logs_us-east-1",
        events: [
          (
            "31953106606966983378809025079804211143289615424298221568", 1_432_826_855_000,
            #"{"eventVersion":"1.03","userIdentity":{"type":"Root"},"eventName":"DescribeTable"}"#
          ),
          (
            "31953106606966983378809025079804211143289615424298221569", 1_432_826_855_001,
            "plain text with \"quotes\", a tab\tand caf\u{E9} \u{1F600}"
          ),
        ]),
      payload(
        "CONTROL_MESSAGE", stream: "",
        events: [
          ("0", 1_432_826_855_000, "CWL CONTROL MESSAGE: Checking health of destination Firehose.")
        ]),
      payload(
        "DATA_MESSAGE", stream: "second-stream",
        events: [
          ("31953106606966983378809025079804211143289615424298221570", 1_432_826_856_000, "third")
        ]),
    ]
  }

  func parse(_ bytes: [UInt8], piece: Int) throws -> ([ParsedRecord], String?) {
    var parser = CloudWatchLogsParser()
    var out: [ParsedRecord] = []
    var i = 0
    while i < bytes.count {
      try parser.feed(Array(bytes[i..<min(i + piece, bytes.count)])) { out.append($0) }
      i += piece
    }
    try parser.finish { out.append($0) }
    return (out, parser.notes)
  }

  @Test(arguments: ["", "\n"])
  func everyLogEventOfEveryDataMessageIsAnEvent(separator: String) throws {
    let stream = try Self.documents.map {
      String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self)
    }.joined(separator: separator)
    let bytes = Array(stream.utf8)
    #expect(LogFormat.detect(Array(bytes.prefix(4096))) == .cloudWatchLogs)
    // The expected events: the documents' own values.
    var expected: [(message: String, time: Double, id: String, group: String, stream: String)] = []
    for document in Self.documents where document["messageType"] as? String == "DATA_MESSAGE" {
      for event in document["logEvents"] as? [[String: Any]] ?? [] {
        expected.append(
          (
            event["message"] as? String ?? "", Double(event["timestamp"] as? Int64 ?? 0) / 1000,
            event["id"] as? String ?? "", document["logGroup"] as? String ?? "",
            document["logStream"] as? String ?? ""
          ))
      }
    }
    for piece in [1, 7, 64, 4096] {
      let (records, notes) = try parse(bytes, piece: piece)
      #expect(notes == nil)
      try #require(records.count == expected.count, "piece \(piece): \(records)")
      for (record, want) in zip(records, expected) {
        #expect(record.text == want.message)
        #expect(record.time?.timeIntervalSince1970 == want.time)
        #expect(record.fields["id"] == want.id)
        #expect(record.fields["logGroup"] == want.group)
        #expect(record.fields["logStream"] == want.stream)
        #expect(record.fields["owner"] == "111111111111")
        // The offset is where the log event's object starts in the stream.
        #expect(bytes[Int(record.offset)] == UInt8(ascii: "{"))
        let rest = String(decoding: bytes[Int(record.offset)...], as: UTF8.self)
        #expect(rest.contains(want.id) && rest.hasPrefix("{"))
      }
      #expect(records.map(\.offset) == records.map(\.offset).sorted())
      // A JSON message's own fields are fields too.
      #expect(records.first?.fields["eventName"] == "DescribeTable")
      #expect(records.first?.fields["userIdentity.type"] == "Root")
    }
  }

  @Test func anObjectThatEndsInsideAPayloadKeepsTheCompleteOnesAndSaysSo() throws {
    let whole = try Self.documents.map {
      String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self)
    }
    let first = whole[0]
    let cut = first + String(whole[2].prefix(40))
    let (records, notes) = try parse(Array(cut.utf8), piece: 5)
    #expect(records.count == 2)
    #expect(notes?.contains("ends inside a payload") == true)
  }

  @Test func strayBytesBetweenPayloadsAreCountedNotParsed() throws {
    let one = String(
      decoding: try JSONSerialization.data(withJSONObject: Self.documents[2]), as: UTF8.self)
    let (records, notes) = try parse(Array(("garbage" + one).utf8), piece: 3)
    #expect(records.map(\.text) == ["third"])
    #expect(notes?.contains("7 bytes outside any JSON document") == true)
  }

  @Test func otherJSONIsNotTakenForAPayload() {
    #expect(LogFormat.detect(Array(#"{"level":"info","msg":"logGroup"}"#.utf8)) == .jsonLines)
    #expect(
      LogFormat.detect(Array(#"{"Records":[{"logGroup":"x","messageType":"y"}]}"#.utf8))
        == .cloudTrail)
  }
}
