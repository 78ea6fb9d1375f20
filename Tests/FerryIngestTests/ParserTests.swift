import FerryTesting
import Foundation
import Testing

@testable import FerryIngest

/// Parsers checked against independent readings of the same input: Foundation's
/// JSONSerialization (a general JSON parser) reads the CloudTrail samples from AWS's
/// documentation and JSON lines, and ISO8601DateFormatter the times; the byte scanners
/// must agree with them, record by record and field by field, fed in pieces of any size.
@Suite("Parsers: CloudTrail, JSON lines, text")
struct ParserTests {
  func parse(_ parser: inout some RecordParser, _ bytes: [UInt8], piece: Int) throws
    -> [ParsedRecord]
  {
    var out: [ParsedRecord] = []
    var i = 0
    while i < bytes.count {
      try parser.feed(Array(bytes[i..<min(i + piece, bytes.count)])) { out.append($0) }
      i += piece
    }
    try parser.finish { out.append($0) }
    return out
  }

  static var cloudTrailSamples: [URL] {
    guard let root = TestPaths.sharedTestData?.appendingPathComponent("logs/cloudtrail"),
      let data = try? Data(contentsOf: root.appendingPathComponent("index.json")),
      let index = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let files = index["files"] as? [[String: Any]]
    else { return [] }
    return files.compactMap { file in
      guard file["valid_json"] as? Bool == true, file["has_Records"] as? Bool == true,
        let name = file["file"] as? String
      else { return nil }
      return root.appendingPathComponent(name)
    }
  }

  @Test(
    .enabled(
      if: !cloudTrailSamples.isEmpty,
      "../shared/testdata/logs/cloudtrail is absent: AWS's CloudTrail samples cannot be read"))
  func cloudTrailSamplesGiveEveryRecordWithItsDocumentedFields() throws {
    let iso = ISO8601DateFormatter()
    iso.formatOptions = [.withInternetDateTime]
    for file in Self.cloudTrailSamples {
      let data = try Data(contentsOf: file)
      let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
      let records = try #require(document["Records"] as? [[String: Any]])
      for piece in [1, 7, 4096] {
        var parser = CloudTrailParser()
        let parsed = try parse(&parser, [UInt8](data), piece: piece)
        #expect(parsed.count == records.count, "\(file.lastPathComponent)")
        for (record, event) in zip(records, parsed) {
          // The kept text is the record itself.
          let reread = try JSONSerialization.jsonObject(with: Data(event.text.utf8))
          #expect(
            (reread as? NSDictionary) == (record as NSDictionary), "\(file.lastPathComponent)")
          for name in [
            "eventName", "eventSource", "awsRegion", "sourceIPAddress", "errorCode", "eventID",
          ] {
            #expect(
              event.fields[name] == record[name] as? String, "\(name) of \(file.lastPathComponent)")
          }
          let identity = record["userIdentity"] as? [String: Any]
          #expect(event.fields["userIdentity.type"] == identity?["type"] as? String)
          #expect(event.fields["userIdentity.arn"] == identity?["arn"] as? String)
          if let time = record["eventTime"] as? String {
            #expect(event.time == iso.date(from: time), "eventTime \(time)")
          }
          // Offsets point at the record's opening brace in the file.
          #expect([UInt8](data)[Int(event.offset)] == UInt8(ascii: "{"))
        }
      }
    }
  }

  /// JSON allows a key written with escapes; it names the same member (RFC 8259, 7), so
  /// the fields are the same as for the plain spelling, and a null is no value.
  @Test func cloudTrailKeysWrittenWithEscapesAreTheSameKeys() throws {
    let document = #"""
      {"Records":[{"event\u004eame":"GetObject","userIdentity":{"\u0074ype":"Root","arn":"arn:aws:iam::123456789012:root"},"eventTime":"2024-11-24T10:00:00Z","errorCode":null,"requestParameters":{"eventName":"not this"},"awsRegion":"us-east-1","aws\u0052egion":"eu-west-1"}]}
      """#
    var parser = CloudTrailParser()
    let records = try parse(&parser, Array(document.utf8), piece: 7)
    #expect(records.count == 1)
    #expect(
      records.first?.fields == [
        "eventName": "GetObject", "userIdentity.type": "Root",
        "userIdentity.arn": "arn:aws:iam::123456789012:root", "eventTime": "2024-11-24T10:00:00Z",
        // Given twice, the second time escaped: one field, with the last value (as
        // JSONSerialization reads a repeated key).
        "awsRegion": "eu-west-1",
      ])
    #expect(records.first?.fields.count == 5)
    #expect(records.first?.time == ISO8601DateFormatter().date(from: "2024-11-24T10:00:00Z"))
  }

  /// A record read whole in its piece and one read across pieces give the same event:
  /// strings holding brackets, quotes and backslashes, nested arrays, and a malformed
  /// record (kept as text with the fields before its fault), fed whole and byte by byte.
  @Test func cloudTrailRecordsReadTheSameWholeOrInPieces() throws {
    let document = #"""
      {"Records":[{"eventName":"A}]","n":[1,[2,{"x":"]"}]],"eventTime":"2024-11-24T10:00:00Z"},
      {"eventName":"B\\","userAgent":"say \"hi\" {not} [json]","userIdentity":{"type":"Root"}},
      {"eventName":"C","awsRegion" "us-east-1"},
      {"eventName":"D","awsRegion":"eu-west-1"}]}
      """#
    var whole = CloudTrailParser()
    let fast = try parse(&whole, Array(document.utf8), piece: 1 << 20)
    var bytewise = CloudTrailParser()
    let slow = try parse(&bytewise, Array(document.utf8), piece: 1)
    #expect(fast == slow)
    #expect(fast.map { $0.fields["eventName"] } == ["A}]", #"B\"#, "C", "D"])
    #expect(fast[1].fields["userAgent"] == #"say "hi" {not} [json]"#)
    #expect(fast[1].fields["userIdentity.type"] == "Root")
    #expect(fast[2].fields["awsRegion"] == nil, "read up to its fault only")
    #expect(fast[3].fields["awsRegion"] == "eu-west-1")
    // The well-formed records' texts are what a general JSON parser reads as the records.
    for i in [0, 1, 3] {
      let object = try JSONSerialization.jsonObject(with: Data(fast[i].text.utf8))
      #expect((object as? [String: Any])?["eventName"] as? String == fast[i].fields["eventName"])
    }
  }

  /// The name table compares keys word by word (8 bytes at a time); its answers must be a
  /// dictionary's: names of 1 to 28 bytes, keys that agree with a name in their first 8 or
  /// 16 bytes and differ after, keys one byte shorter or longer, and keys with escapes.
  @Test func nameTableFindsExactlyTheNamesADictionaryFinds() {
    let names = [
      "a", "type", "arn", "eventID", "userName", "eventTime", "eventName", "readOnly",
      "principalId", "eventSource", "sourceIPAddress", "recipientAccountId",
      "recipientAccountIx", "sessionCredentialFromConsole", "sessionCredentialFromConsolf",
      "abcdefgh", "abcdefghijklmnop", "abcdefghijklmnoq",
    ]
    let table = NameTable(names.map { ($0, "kept." + $0) }, firstID: 5)
    let expected = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0 + 5) })
    var keys = names + ["", "b", "typ", "types", "abcdefgi", "abcdefghijklmnoz", "abcdefg"]
    keys += names.map { $0 + "x" } + names.map { String($0.dropLast()) }
    keys += names.map { "x" + $0.dropFirst() }
    for key in keys {
      let found = Array(key.utf8).withUnsafeBufferPointer { table.name($0) }
      #expect(found?.id == expected[key], "\(key)")
      #expect(found?.name == expected[key].map { _ in "kept." + key }, "\(key)")
    }
    // A key written with escapes is the name it decodes to (RFC 8259, 7).
    let escaped = Array(#"recipient\u0041ccountId"#.utf8).withUnsafeBufferPointer { table.name($0) }
    #expect(escaped?.id == expected["recipientAccountId"])
    #expect(table.count == names.count)
  }

  @Test func aCloudTrailFileCutShortIsAnErrorAndAnotherDocumentIsNotCloudTrail() throws {
    let file = #"{"Records":[{"eventName":"A","eventTime":"2024-01-01T00:00:00Z"},{"eventName":"B""#
    var parser = CloudTrailParser()
    var seen: [ParsedRecord] = []
    #expect(throws: ParseError.self) { seen = try parse(&parser, Array(file.utf8), piece: 5) }
    var other = CloudTrailParser()
    #expect(throws: ParseError.self) {
      _ = try parse(&other, Array(#"{"messageType":"x","logEvents":[]}"#.utf8), piece: 5)
    }
    _ = seen
  }

  @Test(arguments: [1, 2, 50, 1 << 20])
  func jsonLinesKeepEachLineAndItsScalarFields(piece: Int) throws {
    let lines = [
      #"{"ts":"2024-11-24T10:00:01.250Z","level":"info","msg":"ok \"quoted\" \u00e9","n":42,"ok":true,"nested":{"a":1}}"#,
      #"{"@timestamp":"2024-11-24T11:00:00+02:00","level":"error","trace":"ab12"}"#,
      #"{"time":1732442401,"service":"auth"}"#,
      #"{"timestamp":1732442401500}"#,
      "not json at all",
      "",
      #"{"unterminated": "x"#,
      #"{"ts":"2024-11-24T10:00:01Z","cut":"#,
      #"{"a":"1","b":"x","a":"2"}"#,
    ]
    let text = lines.joined(separator: "\r\n") + "\n"
    var parser = JSONLinesParser()
    let records = try parse(&parser, Array(text.utf8), piece: piece)
    let kept = lines.filter { !$0.isEmpty }
    #expect(records.map(\.text) == kept)
    // Offsets: where each kept line starts in the text.
    var offsets: [Int64] = []
    var position: Int64 = 0
    for line in lines {
      if !line.isEmpty { offsets.append(position) }
      position += Int64(line.utf8.count + 2)
    }
    #expect(records.map(\.offset) == offsets)
    let iso = ISO8601DateFormatter()
    iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    #expect(records[0].time == iso.date(from: "2024-11-24T10:00:01.250Z"))
    iso.formatOptions = [.withInternetDateTime]
    #expect(records[1].time == iso.date(from: "2024-11-24T11:00:00+02:00"))
    #expect(records[2].time == Date(timeIntervalSince1970: 1_732_442_401))
    #expect(records[3].time == Date(timeIntervalSince1970: 1_732_442_401.5))
    #expect(records[4].time == nil)
    // Fields: what JSONSerialization reads as scalars, as text.
    let first = try #require(
      try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
    #expect(records[0].fields["msg"] == first["msg"] as? String)
    #expect(records[0].fields["n"] == "42")
    #expect(records[0].fields["ok"] == "true")
    #expect(records[0].fields["nested"] == nil)
    #expect(records[0].fields["nested.a"] == "1")
    #expect(records[1].fields["level"] == "error")
    #expect(records[5].fields.isEmpty)
    // Fields come in the line's order.
    #expect(records[0].fields.keys == ["ts", "level", "msg", "n", "ok", "nested.a"])
    // A line that is not a whole JSON object: kept as text, no time, no fields.
    #expect(records[6].time == nil)
    #expect(records[6].fields.isEmpty)
    // A repeated key holds its last value, as JSONSerialization reads it.
    let repeated = try #require(
      try JSONSerialization.jsonObject(with: Data(lines[8].utf8)) as? [String: String])
    #expect(records[7].fields["a"] == repeated["a"])
    #expect(records[7].fields.count == 2)
  }

  @Test func aLineLongerThanTheLimitIsCutAndMarked() throws {
    var splitter = LineSplitter(limit: 100)
    var lines: [(String, Int64, Bool)] = []
    let long = String(repeating: "x", count: 10_000)
    let text = "short\n" + long + "\nafter\n"
    let bytes = Array(text.utf8)
    for start in stride(from: 0, to: bytes.count, by: 333) {
      try splitter.feed(Array(bytes[start..<min(start + 333, bytes.count)])) { line, offset, cut in
        lines.append((String(decoding: line, as: UTF8.self), offset, cut))
      }
    }
    try splitter.finish { line, offset, cut in
      lines.append((String(decoding: line, as: UTF8.self), offset, cut))
    }
    #expect(lines.map(\.0) == ["short", String(repeating: "x", count: 100), "after"])
    #expect(lines.map(\.1) == [0, 6, 10_007])
    #expect(lines.map(\.2) == [false, true, false])
    #expect(splitter.cutLines == 1)
  }

  @Test func formatsAreToldFromContentNotNames() {
    #expect(LogFormat.detect(Array("{\n  \"Records\" : [".utf8)) == .cloudTrail)
    #expect(LogFormat.detect(Array("{\"level\":\"info\"}\n".utf8)) == .jsonLines)
    #expect(LogFormat.detect(Array("2024-01-01 hello\n".utf8)) == .text)
    #expect(LogFormat.detect(Array("\u{FEFF}{\"Records\":[]}".utf8)) == .cloudTrail)
  }

  @Test func timesAgreeWithFoundationsISO8601() {
    let iso = ISO8601DateFormatter()
    iso.formatOptions = [.withInternetDateTime]
    for text in [
      "2024-02-29T23:59:59Z", "1999-12-31T00:00:00Z", "2024-11-24T10:00:01+05:30",
      "2024-11-24T10:00:01-08:00", "2038-01-19T03:14:08Z", "2000-03-01T12:00:00Z",
    ] {
      #expect(LogTime.parse(text) == iso.date(from: text), "\(text)")
    }
    #expect(LogTime.parse("2024-13-01T00:00:00Z") == nil)
    #expect(LogTime.parse("yesterday") == nil)
  }
}
