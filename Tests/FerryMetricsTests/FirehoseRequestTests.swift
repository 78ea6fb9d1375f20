import FerryCore
import FerryTesting
import Foundation
import Testing

@testable import FerryMetrics

/// Firehose's HTTP endpoint delivery request, read as AWS's "HTTP Endpoint Delivery Request
/// and Response Specifications" give it.
@Suite("Firehose request")
struct FirehoseRequestTests {
  /// The documented example request (its body, with the comma the page's copy leaves out
  /// after `timestamp`), records "hello" and "hello world".
  static let requestID = "ed4acda5-034f-9f42-bba1-f29aea6d7d8f"
  static let example = """
    {
      "requestId": "ed4acda5-034f-9f42-bba1-f29aea6d7d8f",
      "timestamp": 1578090901599,
      "records": [
        { "data": "aGVsbG8=" },
        { "data": "aGVsbG8gd29ybGQ=" }
      ]
    }
    """

  @Test func readsTheDocumentedExample() throws {
    let request = try FirehoseRequest.read(
      body: Data(Self.example.utf8), contentEncoding: nil, headerRequestID: Self.requestID)
    #expect(request.requestID == Self.requestID)
    #expect(request.timestamp == 1_578_090_901_599)
    #expect(request.records == [Array("hello".utf8), Array("hello world".utf8)])
  }

  @Test func readsAGzipBody() throws {
    let gzipped = try TestGzip.gzip(Array(Self.example.utf8))
    let request = try FirehoseRequest.read(
      body: Data(gzipped), contentEncoding: "gzip", headerRequestID: Self.requestID)
    #expect(request.records.count == 2)
  }

  @Test func refusesARequestIDThatIsNotTheHeaders() {
    #expect(throws: FirehoseRequest.Problem.self) {
      try FirehoseRequest.read(
        body: Data(Self.example.utf8), contentEncoding: nil, headerRequestID: "another")
    }
    let missing = #expect(throws: FirehoseRequest.Problem.self) {
      try FirehoseRequest.read(
        body: Data(Self.example.utf8), contentEncoding: nil, headerRequestID: nil)
    }
    #expect(missing?.status == 400)
    #expect(missing?.message.contains("X-Amz-Firehose-Request-Id") == true)
  }

  static func body(records: [[UInt8]], id: String = requestID) -> Data {
    let list = records.map { "{\"data\":\"\(Data($0).base64EncodedString())\"}" }
      .joined(separator: ",")
    return Data("{\"requestId\":\"\(id)\",\"timestamp\":1,\"records\":[\(list)]}".utf8)
  }

  @Test func recordLimitsAreTheProtocols() throws {
    // 10,000 records pass, 10,001 do not; none is not a delivery either.
    let many = try FirehoseRequest.read(
      body: Self.body(records: Array(repeating: [0x41], count: 10_000)), contentEncoding: nil,
      headerRequestID: Self.requestID)
    #expect(many.records.count == 10_000)
    for count in [0, 10_001] {
      let problem = #expect(throws: FirehoseRequest.Problem.self) {
        try FirehoseRequest.read(
          body: Self.body(records: Array(repeating: [0x41], count: count)),
          contentEncoding: nil, headerRequestID: Self.requestID)
      }
      #expect(problem?.status == 400)
    }
    // A record of exactly 1,024,000 bytes passes; one byte more does not.
    let exact = try FirehoseRequest.read(
      body: Self.body(records: [Array(repeating: 0x7B, count: 1_024_000)]), contentEncoding: nil,
      headerRequestID: Self.requestID)
    #expect(exact.records[0].count == 1_024_000)
    let over = #expect(throws: FirehoseRequest.Problem.self) {
      try FirehoseRequest.read(
        body: Self.body(records: [Array(repeating: 0x7B, count: 1_024_001)]),
        contentEncoding: nil, headerRequestID: Self.requestID)
    }
    #expect(over?.status == 400)
  }

  @Test func aBodyOverSixtyFourMebibytesIs413EvenGzipped() throws {
    // 65 MiB of spaces inside a valid body: over the limit before gzip.
    var big = Array(
      "{\"requestId\":\"\(Self.requestID)\",\"timestamp\":1,\"records\":[{\"data\":\"QQ==\"}]".utf8)
    big += Array(repeating: 0x20, count: 65 << 20)
    big += [0x7D]
    let plain = #expect(throws: FirehoseRequest.Problem.self) {
      try FirehoseRequest.read(
        body: Data(big), contentEncoding: nil, headerRequestID: Self.requestID)
    }
    #expect(plain?.status == 413)
    let gzipped = try TestGzip.gzip(big)
    #expect(gzipped.count < 1 << 20)
    let bomb = #expect(throws: FirehoseRequest.Problem.self) {
      try FirehoseRequest.read(
        body: Data(gzipped), contentEncoding: "gzip", headerRequestID: Self.requestID)
    }
    #expect(bomb?.status == 413)
  }

  @Test func badBodiesSayWhatIsWrong() {
    let cases: [(String, String)] = [
      ("not json", "not valid JSON"),
      ("{\"requestId\":\"\(Self.requestID)\",\"timestamp\":1}", "records is missing"),
      (
        "{\"requestId\":\"\(Self.requestID)\",\"timestamp\":1,\"records\":[{\"data\":\"@@\"}]}",
        "not base64"
      ),
    ]
    for (body, words) in cases {
      let problem = #expect(throws: FirehoseRequest.Problem.self) {
        try FirehoseRequest.read(
          body: Data(body.utf8), contentEncoding: nil, headerRequestID: Self.requestID)
      }
      #expect(problem?.message.contains(words) == true, "\(body): \(problem?.message ?? "")")
    }
    let encoding = #expect(throws: FirehoseRequest.Problem.self) {
      try FirehoseRequest.read(body: Data(), contentEncoding: "br", headerRequestID: Self.requestID)
    }
    #expect(encoding?.message.contains("Content-Encoding") == true)
  }

  @Test func theAnswerIsTheProtocolsAndEscapesWhatItQuotes() throws {
    let body = FirehoseAnswer.body(
      requestID: "id\"1", timestamp: Date(millis: 1_578_090_903_599),
      errorMessage: String(repeating: "x", count: 9000))
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
    #expect(object["requestId"] as? String == "id\"1")
    #expect((object["timestamp"] as? NSNumber)?.int64Value == 1_578_090_903_599)
    #expect((object["errorMessage"] as? String)?.count == 8192)
    let ok = try #require(
      try JSONSerialization.jsonObject(
        with: Data(FirehoseAnswer.body(requestID: "a", errorMessage: nil))) as? [String: Any])
    #expect(Set(ok.keys) == ["requestId", "timestamp"])
  }
}
