import FerryCore
import FerryTesting
import Foundation
import Testing

@testable import FerryIngest

/// AWS's access-log formats, read from the examples in AWS's own documentation
/// (`../shared/testdata/logs/`). The expected fields are written out by hand from the
/// documentation's field tables for the first example of each format; every other full
/// example must parse with its time and as many fields as the format documents.
@Suite("Parsers: AWS access logs (ALB, ELB, NLB, S3, VPC flow, CloudFront, WAF)")
struct AccessLogTests {
  static var root: URL? { TestPaths.sharedTestData?.appendingPathComponent("logs") }

  static func examples(_ format: String) -> [String] {
    guard let root,
      let data = try? Data(contentsOf: root.appendingPathComponent("\(format)/examples.json")),
      let document = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let examples = document["examples"] as? [[String: Any]]
    else { return [] }
    return examples.compactMap { ($0["joined"] as? String) ?? ($0["raw"] as? String) }
  }

  func parse(_ format: LogFormat, _ text: String) throws -> [ParsedRecord] {
    var parser = format.parser()
    var out: [ParsedRecord] = []
    try parser.feed(Array((text + "\n").utf8)) { out.append($0) }
    try parser.finish { out.append($0) }
    return out
  }

  func utc(_ text: String) -> Date? {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.date(from: text)
  }

  static let present = root != nil

  /// Within a microsecond (the logs' precision; Date is a Double).
  func same(_ a: Date?, _ b: Date?) -> Bool {
    guard let a, let b else { return false }
    return abs(a.timeIntervalSince(b)) < 1e-6
  }

  @Test(
    .enabled(if: present, "../shared/testdata/logs is absent: AWS's log samples cannot be read"))
  func applicationLoadBalancer() throws {
    let lines = Self.examples("alb")
    #expect(lines.count >= 5)
    for line in lines {
      #expect(LogFormat.detect(Array(line.utf8)) == .alb, "\(line.prefix(60))")
      let record = try #require(try parse(.alb, line).first)
      #expect(record.time != nil)
      #expect(record.fields["elb"] != nil && record.fields["request"] != nil)
    }
    let first = try #require(try parse(.alb, lines[0]).first)
    #expect(first.fields["type"] == "http")
    #expect(same(first.time, utc("2018-07-02T22:23:00.186Z")?.addingTimeInterval(0.000641)))
    #expect(first.fields["elb"] == "app/my-loadbalancer/50dc6c495c0c9188")
    #expect(first.fields["client:port"] == "192.168.131.39:2817")
    #expect(first.fields["target:port"] == "10.0.0.1:80")
    #expect(first.fields["elb_status_code"] == "200")
    #expect(first.fields["received_bytes"] == "34")
    #expect(first.fields["sent_bytes"] == "366")
    #expect(first.fields["request"] == "GET http://www.example.com:80/ HTTP/1.1")
    #expect(first.fields["user_agent"] == "curl/7.46.0")
    #expect(first.fields["ssl_cipher"] == nil, "'-' is absent")
    #expect(
      first.fields["target_group_arn"]
        == "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067"
    )
    #expect(first.fields["trace_id"] == "Root=1-58337262-36d228ad5d99923122bbe354")
    #expect(first.fields["actions_executed"] == "forward")
    #expect(first.fields["target:port_list"] == "10.0.0.1:80")
    #expect(first.fields["target_status_code_list"] == "200")
    // The 502 example: no target, no target status.
    let failed = try #require(try parse(.alb, lines[6]).first)
    #expect(failed.fields["elb_status_code"] == "502")
    #expect(failed.fields["target_status_code"] == nil)
  }

  @Test(
    .enabled(if: present, "../shared/testdata/logs is absent: AWS's log samples cannot be read"))
  func classicLoadBalancer() throws {
    let lines = Self.examples("elb").filter { !$0.hasPrefix("timestamp ") }
    #expect(lines.count >= 4)
    for line in lines {
      #expect(LogFormat.detect(Array(line.utf8)) == .elb, "\(line.prefix(60))")
      let time = try parse(.elb, line).first?.time
      #expect(same(time, utc("2015-05-13T23:39:43.945Z")?.addingTimeInterval(0.000958)))
    }
    let first = try #require(try parse(.elb, lines[0]).first)
    #expect(first.fields["elb"] == "my-loadbalancer")
    #expect(first.fields["backend:port"] == "10.0.0.1:80")
    #expect(first.fields["request_processing_time"] == "0.000073")
    #expect(first.fields["elb_status_code"] == "200")
    #expect(first.fields["request"] == "GET http://www.example.com:80/ HTTP/1.1")
    let tcp = try #require(try parse(.elb, lines[3]).first)
    #expect(tcp.fields["request"] == "- - - ")
    #expect(tcp.fields["ssl_cipher"] == "ECDHE-ECDSA-AES128-GCM-SHA256")
  }

  @Test(
    .enabled(if: present, "../shared/testdata/logs is absent: AWS's log samples cannot be read"))
  func networkLoadBalancer() throws {
    let lines = Self.examples("nlb")
    let line = try #require(lines.first)
    let first = try #require(try parse(.nlb, line).first)
    #expect(LogFormat.detect(Array(lines[0].utf8)) == .nlb)
    #expect(first.fields["type"] == "tls" && first.fields["version"] == "2.0")
    #expect(first.time == utc("2018-12-20T02:59:40.000Z"))
    #expect(first.fields["listener"] == "g3d4b5e8bb8464cd")
    #expect(first.fields["client:port"] == "72.21.218.154:51341")
    #expect(first.fields["destination:port"] == "172.100.100.185:443")
    #expect(first.fields["connection_time"] == "5")
    #expect(first.fields["tls_handshake_time"] == "2")
    #expect(first.fields["received_bytes"] == "98" && first.fields["sent_bytes"] == "246")
    #expect(first.fields["tls_cipher"] == "ECDHE-RSA-AES128-SHA")
    #expect(first.fields["tls_protocol_version"] == "tlsv12")
    #expect(
      first.fields["domain_name"]
        == "my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com")
  }

  @Test(
    .enabled(if: present, "../shared/testdata/logs is absent: AWS's log samples cannot be read"))
  func s3ServerAccess() throws {
    var full: [String] = []
    for example in Self.examples("s3access") {
      for line in example.split(separator: "\n") where line.split(separator: " ").count > 20 {
        full.append(String(line))
      }
    }
    #expect(full.count >= 2)
    for line in full {
      #expect(LogFormat.detect(Array(line.utf8)) == .s3access, "\(line.prefix(60))")
      #expect(try parse(.s3access, line).first?.time != nil)
    }
    let first = try #require(try parse(.s3access, full[0]).first)
    #expect(first.fields["bucket"] == "DOC-EXAMPLE-BUCKET1")
    #expect(first.time == utc("2019-02-06T00:00:38.000Z"))
    #expect(first.fields["remote_ip"] == "192.0.2.3")
    #expect(first.fields["request_id"] == "3E57427F3EXAMPLE")
    #expect(first.fields["operation"] == "REST.GET.VERSIONING")
    #expect(first.fields["key"] == nil)
    #expect(first.fields["request_uri"] == "GET /DOC-EXAMPLE-BUCKET1?versioning HTTP/1.1")
    #expect(first.fields["http_status"] == "200")
    #expect(first.fields["bytes_sent"] == "113")
    #expect(first.fields["total_time"] == "7")
    #expect(first.fields["user_agent"] == "S3Console/0.4")
    #expect(first.fields["signature_version"] == "SigV4")
    #expect(first.fields["tls_version"] == "TLSV1.2")
    #expect(first.fields["acl_required"] == "Yes")
    #expect(AccessLogParser.s3Time("06/Feb/2019:01:00:38 +0100") == utc("2019-02-06T00:00:38.000Z"))
  }

  @Test(
    .enabled(if: present, "../shared/testdata/logs is absent: AWS's log samples cannot be read"))
  func vpcFlowLogsDefaultAndCustom() throws {
    let lines = Self.examples("vpcflow")
    let first = try #require(try parse(.vpcflow, lines[0]).first)
    #expect(LogFormat.detect(Array(lines[0].utf8)) == .vpcflow)
    // In the order of AWS's default (version 2) format, which is the record's order.
    let expected: Fields = [
      "version": "2", "account-id": "123456789010", "interface-id": "eni-1235b8ca123456789",
      "srcaddr": "172.31.16.139", "dstaddr": "172.31.16.21", "srcport": "20641", "dstport": "22",
      "protocol": "6", "packets": "20", "bytes": "4249", "start": "1418530010",
      "end": "1418530070", "action": "ACCEPT", "log-status": "OK",
    ]
    #expect(first.fields == expected)
    #expect(first.fields.keys == expected.keys)
    #expect(first.time == Date(timeIntervalSince1970: 1_418_530_010))
    // NODATA: the absent fields are left out.
    let nodata = try #require(try parse(.vpcflow, lines[2]).first)
    #expect(nodata.fields["srcaddr"] == nil && nodata.fields["log-status"] == "NODATA")
    // A custom format: the header line names the fields.
    let header = try #require(lines.first { $0.hasPrefix("version vpc-id subnet-id") })
    let data = try #require(lines.first { $0.hasPrefix("3 vpc-abcdefab012345678") })
    let custom = try #require(try parse(.vpcflow, header + "\n" + data).first)
    #expect(custom.fields["vpc-id"] == "vpc-abcdefab012345678")
    #expect(custom.fields["subnet-id"] == "subnet-aaaaaaaa012345678")
    #expect(custom.fields["instance-id"] == "i-01234567890123456")
    #expect(custom.fields["type"] == "IPv4")
    #expect(custom.fields["srcaddr"] == "52.213.180.42")
  }

  @Test(
    .enabled(if: present, "../shared/testdata/logs is absent: AWS's log samples cannot be read"))
  func cloudFrontStandardLogs() throws {
    let log = try #require(Self.examples("cloudfront").first)
    #expect(LogFormat.detect(Array(log.utf8)) == .cloudfront)
    let records = try parse(.cloudfront, log)
    #expect(records.count == log.split(separator: "\n").filter { !$0.hasPrefix("#") }.count)
    let first = try #require(records.first)
    #expect(first.time == utc("2019-12-04T21:02:31.000Z"))
    #expect(first.fields["x-edge-location"] == "LAX1")
    #expect(first.fields["sc-bytes"] == "392")
    #expect(first.fields["c-ip"] == "192.0.2.100")
    #expect(first.fields["cs-method"] == "GET")
    #expect(first.fields["cs(Host)"] == "d111111abcdef8.cloudfront.net")
    #expect(first.fields["cs-uri-stem"] == "/index.html")
    #expect(first.fields["sc-status"] == "200")
  }

  @Test(
    .enabled(if: present, "../shared/testdata/logs is absent: AWS's log samples cannot be read"))
  func wafLogsAreJSONLinesWithTheirTime() throws {
    // WAF writes one JSON object per line; the documentation shows them pretty-printed.
    let examples = Self.examples("waf").compactMap { text -> [String: Any]? in
      (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }
    #expect(!examples.isEmpty)
    for example in examples {
      let line = String(
        decoding: try JSONSerialization.data(withJSONObject: example), as: UTF8.self)
      #expect(LogFormat.detect(Array(line.utf8)) == .jsonLines)
      let record = try #require(try parse(.jsonLines, line).first)
      let millis = try #require(example["timestamp"] as? Double)
      #expect(record.time == Date(timeIntervalSince1970: millis / 1000))
      #expect(record.fields["action"] == example["action"] as? String)
      #expect(record.fields["webaclId"] == example["webaclId"] as? String)
      let request = example["httpRequest"] as? [String: Any]
      #expect(record.fields["httpRequest.clientIp"] == request?["clientIp"] as? String)
      #expect(record.fields["httpRequest.country"] == request?["country"] as? String)
    }
  }
}
