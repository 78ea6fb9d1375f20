import FerryCore
import FerryTesting
import Foundation
import Testing

/// Metric shipping through `ferry serve`: an admin creates a delivery key, Firehose
/// delivers CloudWatch's JSON format with it (bodies built here by hand from AWS's
/// documented example, base64 and gzip by Foundation and the gzip program), and the
/// account lists and queries what arrived. The answers are Firehose's protocol; a retry is
/// stored once, across a restart too.
@Suite("ferry serve: metric deliveries", .serialized)
struct MetricDeliveryFlowTests {
  static let path = "/api/v1/firehose/metrics"
  static let minute0 = 1_767_225_600_000  // 2026-01-01T00:00:00Z, ms

  /// One JSON-format line, the documented example's shape.
  static func line(instance: String, minute: Int, sum: Double, count: Double = 4) -> String {
    """
    {"metric_stream_name":"MyMetricStream","account_id":"123456789012","region":"us-east-1","namespace":"AWS/EC2","metric_name":"CPUUtilization","dimensions":{"InstanceId":"\(instance)"},"timestamp":\(minute0 + minute * 60_000),"value":{"count":\(count),"sum":\(sum),"max":\(sum / 2),"min":0.5,"p99":\(sum / 3)},"unit":"Percent"}
    """
  }

  static func body(_ requestID: String, records: [String]) -> [UInt8] {
    let list = records.map { "{\"data\":\"\(Data($0.utf8).base64EncodedString())\"}" }
      .joined(separator: ",")
    return Array(
      "{\"requestId\":\"\(requestID)\",\"timestamp\":\(minute0 + 600_000),\"records\":[\(list)]}"
        .utf8)
  }

  static func headers(_ requestID: String, key: String?) -> [(String, String)] {
    var headers = [
      ("Content-Type", "application/json"), ("X-Amz-Firehose-Protocol-Version", "1.0"),
      ("X-Amz-Firehose-Request-Id", requestID),
      (
        "X-Amz-Firehose-Source-Arn",
        "arn:aws:firehose:us-east-1:123456789012:deliverystream/ferry-metrics"
      ),
      ("X-Amz-Firehose-Common-Attributes", "{\"commonAttributes\":{\"team\":\"payments\"}}"),
    ]
    if let key { headers.append(("X-Amz-Firehose-Access-Key", key)) }
    return headers
  }

  static func start(_ data: URL) async throws -> ServerProcess {
    try await ServerProcess.start(
      arguments: [
        "--data-dir", data.path, "--platform-account-id", "111122223333", "--recheck-interval",
        "off", "--retention-interval", "off",
      ], environment: ["AWS_EC2_METADATA_DISABLED": "true"])
  }

  @Test func firehoseDeliversWithAKeyAndTheAccountQueriesWhatArrived() async throws {
    let data = try TestPaths.temporaryDirectory("ferry-metrics")
    var server = try await Self.start(data)
    var api = API(server.url)
    let token = try #require(server.firstToken)

    // An admin creates a key; the list never shows it again; a member cannot create one.
    let created = try await api.post(
      "/api/v1/metrics/keys", token: token, ["name": "firehose-prod"])
    #expect(created.status == 201, "\(created.text)")
    let key = try #require(created.json["key"] as? String)
    #expect(key.hasPrefix("frm_") && key.count >= 36)
    let keyID = try #require(created.json["id"] as? String)
    let listed = try await api.get("/api/v1/metrics/keys", token: token)
    #expect(listed.status == 200)
    #expect(!listed.text.contains(key) && listed.text.contains(keyID))
    let member = try await api.post(
      "/api/v1/tokens", token: token, ["name": "reader", "role": "member"])
    let memberToken = try #require(member.json["secret"] as? String)
    let refused = try await api.post("/api/v1/metrics/keys", token: memberToken, ["name": "x"])
    #expect(refused.status == 403)
    let badName = try await api.post("/api/v1/metrics/keys", token: token, ["name": ""])
    #expect(badName.status == 400)

    // Missing and wrong keys: 401, in Firehose's answer form, before the body is read.
    let records = (0..<3).map { m in
      (0..<2).map { Self.line(instance: "i-\($0)", minute: m, sum: Double(10 * (m + 1))) }
        .joined(separator: "\n")
    }
    let body = Self.body("req-1", records: records)
    for wrong in [nil, "frm_" + String(repeating: "a", count: 40), ""] {
      let answer = try await api.call(
        .POST, Self.path, token: nil, bytes: body, headers: Self.headers("req-1", key: wrong))
      #expect(answer.status == 401, "\(answer.text)")
      #expect(answer.json["requestId"] as? String == "req-1")
      #expect(answer.json["errorMessage"] is String)
      #expect(answer.json["timestamp"] is NSNumber)
    }
    // Another major version of Firehose's protocol: 400, saying which is spoken.
    let otherVersion = try await api.call(
      .POST, Self.path, token: nil, bytes: body,
      headers: Self.headers("req-1", key: key).map {
        $0.0 == "X-Amz-Firehose-Protocol-Version" ? ($0.0, "2.0") : $0
      })
    #expect(otherVersion.status == 400, "\(otherVersion.text)")
    #expect(
      (otherVersion.json["errorMessage"] as? String)?.contains("version 1.0") == true,
      "\(otherVersion.text)")
    // An API token is not a delivery key.
    let asToken = try await api.call(
      .POST, Self.path, token: nil, bytes: body, headers: Self.headers("req-1", key: token))
    #expect(asToken.status == 401)

    // The delivery: 200, the protocol's answer, no Content-Encoding.
    let sent = Date()
    let ok = try await api.call(
      .POST, Self.path, token: nil, bytes: body, headers: Self.headers("req-1", key: key))
    #expect(ok.status == 200, "\(ok.text)")
    #expect(ok.json["requestId"] as? String == "req-1")
    let stamp = try #require((ok.json["timestamp"] as? NSNumber)?.int64Value)
    #expect(abs(Double(stamp) / 1000 - sent.timeIntervalSince1970) < 60)
    #expect(ok.json["errorMessage"] == nil)
    #expect(ok.header("Content-Encoding") == nil)
    // A retry: stored once.
    let retry = try await api.call(
      .POST, Self.path, token: nil, bytes: body, headers: Self.headers("req-1", key: key))
    #expect(retry.status == 200)

    // Gzip'd, with a malformed record among good ones: 400 naming it, the others stored.
    let mixed = Self.body(
      "req-2",
      records: [Self.line(instance: "i-9", minute: 0, sum: 7), "{\"not\": \"a data point\"}"])
    let gzipped = try TestGzip.gzip(mixed)
    let partial = try await api.call(
      .POST, Self.path, token: nil, bytes: gzipped,
      headers: Self.headers("req-2", key: key) + [("Content-Encoding", "gzip")])
    #expect(partial.status == 400, "\(partial.text)")
    let message = try #require(partial.json["errorMessage"] as? String)
    #expect(message.contains("record 1") && message.contains("1 of 2 records"))
    // A body whose requestId is not the header's.
    let mismatch = try await api.call(
      .POST, Self.path, token: nil, bytes: Self.body("req-3", records: records),
      headers: Self.headers("other", key: key))
    #expect(mismatch.status == 400)
    #expect(
      (mismatch.json["errorMessage"] as? String)?.contains("X-Amz-Firehose-Request-Id") == true)

    // Restart, then Firehose retries req-1 and req-2: nothing stored twice.
    _ = server.stop()
    server = try await Self.start(data)
    defer { server.stop() }
    api = API(server.url)
    let afterRestart = try await api.call(
      .POST, Self.path, token: nil, bytes: body, headers: Self.headers("req-1", key: key))
    #expect(afterRestart.status == 200)
    let partialAgain = try await api.call(
      .POST, Self.path, token: nil, bytes: gzipped,
      headers: Self.headers("req-2", key: key) + [("Content-Encoding", "gzip")])
    #expect(partialAgain.status == 400)

    // What arrived: three series, the deliveries with their outcome.
    let catalog = try await api.get("/api/v1/metrics", token: memberToken)
    #expect(catalog.status == 200, "\(catalog.text)")
    let series = try #require(catalog.json["series"] as? [[String: Any]])
    #expect(series.count == 3)
    #expect(series.map { $0["points"] as? Int } == [3, 3, 1])
    let deliveries = try #require(catalog.json["deliveries"] as? [[String: Any]])
    #expect(Set(deliveries.compactMap { $0["requestId"] as? String }) == ["req-1", "req-2"])
    let second = try #require(deliveries.first { $0["requestId"] as? String == "req-2" })
    #expect(second["rejected"] as? Int == 1 && second["points"] as? Int == 1)
    #expect((second["labels"] as? [String: String]) == ["team": "payments"])

    // Queries: sums per minute as sent (not doubled by the retries), and combined.
    let from = "2026-01-01T00:00:00Z"
    let to = "2026-01-01T00:10:00Z"
    let perMinute = try await api.get(
      "/api/v1/metrics/query?namespace=AWS/EC2&metric=CPUUtilization&statistic=sum&step=60&from=\(from)&to=\(to)&dimension=InstanceId=i-0",
      token: memberToken)
    #expect(perMinute.status == 200, "\(perMinute.text)")
    let one = try #require((perMinute.json["series"] as? [[String: Any]])?.first)
    #expect((one["dimensions"] as? [String: String]) == ["InstanceId": "i-0"])
    #expect(one["unit"] as? String == "Percent")
    let values = (one["points"] as? [[String: Any]])?.compactMap { $0["value"] as? Double }
    #expect(values == [10, 20, 30])
    let times = (one["points"] as? [[String: Any]])?.compactMap { $0["time"] as? String }
    #expect(times?.first == "2026-01-01T00:00:00Z")
    // Average over 5 minutes, every instance: (10+20+30) * 2 + 7 over 4 * 7 samples.
    let average = try await api.get(
      "/api/v1/metrics/query?namespace=AWS/EC2&metric=CPUUtilization&statistic=avg&step=5m&from=\(from)&to=\(to)",
      token: memberToken)
    let all = try #require(average.json["series"] as? [[String: Any]])
    #expect(all.count == 3)
    let averages: [Double] = all.compactMap { series -> Double? in
      let points = series["points"] as? [[String: Any]]
      return points?.first?["value"] as? Double
    }
    let expected: [Double] = [60.0 / 12, 60.0 / 12, 7.0 / 4]
    #expect(averages == expected)
    let percentile = try await api.get(
      "/api/v1/metrics/query?namespace=AWS/EC2&metric=CPUUtilization&statistic=p99&step=5m&from=\(from)&to=\(to)",
      token: memberToken)
    #expect(percentile.json["note"] is String)
    for bad in ["statistic=median%3Cb%3E", "step=90", "from=yesterday-ish", "dimension=novalue"] {
      let refusedQuery = try await api.get(
        "/api/v1/metrics/query?namespace=AWS/EC2&metric=CPUUtilization&\(bad)", token: memberToken)
      #expect(refusedQuery.status == 400, "\(bad): \(refusedQuery.text)")
      #expect(refusedQuery.json["fix"] is String)
    }

    // Revoked, the key is refused; the audit names both changes; no log line holds the key
    // or a record.
    let revoked = try await api.call(.DELETE, "/api/v1/metrics/keys/\(keyID)", token: token)
    #expect(revoked.status == 204)
    let afterRevoke = try await api.call(
      .POST, Self.path, token: nil, bytes: body, headers: Self.headers("req-9", key: key))
    #expect(afterRevoke.status == 401)
    let audit = try await api.get("/api/v1/audit", token: token)
    #expect(audit.text.contains("metrics-key.create") && audit.text.contains("metrics-key.revoke"))
    #expect(!audit.text.contains(key))
    #expect(!server.log.contains(key) && !server.log.contains("CPUUtilization"))
    #expect(!server.log.contains(Data(records[0].utf8).base64EncodedString().prefix(40)))
  }

  /// OpenTelemetry 1.0.0 and 0.7.0 records (built by PyPI's opentelemetry-proto) and JSON
  /// records in one request of 10,000 records, gzip'd; one JSON record of exactly the
  /// protocol's 1,024,000 bytes. Each is stored and queried like the JSON format's.
  @Test(
    .enabled(if: OpenTelemetryRecords.missing == nil, "\(OpenTelemetryRecords.missing ?? "")"))
  func openTelemetryAndJSONRecordsInOneRequestOfTenThousand() async throws {
    let data = try TestPaths.temporaryDirectory("ferry-metrics-otel")
    let server = try await Self.start(data)
    defer { server.stop() }
    let api = API(server.url)
    let token = try #require(server.firstToken)
    let created = try await api.post("/api/v1/metrics/keys", token: token, ["name": "otel"])
    let key = try #require(created.json["key"] as? String)

    // 4,000 records of each OpenTelemetry format and 2,000 JSON ones: instance i-N's
    // point at minute 0 has sum N, min 1, max N + 1 and p99 N + 0.5.
    func point(_ n: Int) -> OpenTelemetryRecords.Point {
      OpenTelemetryRecords.Point(
        namespace: "AWS/EC2", metric: "NetworkIn", dimensions: ["InstanceId": "i-\(n)"],
        unit: "By", startMs: Int64(Self.minute0), count: 3, sum: Double(n),
        quantiles: ["0": 1, "0.99": Double(n) + 0.5, "1": Double(n + 1)])
    }
    let modern = try OpenTelemetryRecords.make(
      format: "1.0", records: (0..<4_000).map { [[point($0)]] })
    let legacy = try OpenTelemetryRecords.make(
      format: "0.7", records: (4_000..<8_000).map { [[point($0)]] })
    let json = (8_000..<10_000).map { n in
      Array(
        """
        {"metric_stream_name":"MyMetricStream","namespace":"AWS/EC2","metric_name":"NetworkIn","dimensions":{"InstanceId":"i-\(n)"},"timestamp":\(Self.minute0),"value":{"count":3,"sum":\(n),"max":\(n + 1),"min":1,"p99":\(Double(n) + 0.5)},"unit":"Bytes"}
        """.utf8)
    }
    let records = modern + legacy + json
    let list = records.map { "{\"data\":\"\(Data($0).base64EncodedString())\"}" }
      .joined(separator: ",")
    let body = try TestGzip.gzip(
      Array("{\"requestId\":\"otel-1\",\"timestamp\":\(Self.minute0),\"records\":[\(list)]}".utf8))
    let answer = try await api.call(
      .POST, Self.path, token: nil, bytes: body,
      headers: Self.headers("otel-1", key: key) + [("Content-Encoding", "gzip")])
    #expect(answer.status == 200, "\(answer.text.prefix(500))")

    let catalog = try await api.get("/api/v1/metrics", token: token)
    let delivery = try #require((catalog.json["deliveries"] as? [[String: Any]])?.first)
    #expect(delivery["points"] as? Int == 10_000 && delivery["rejected"] as? Int == 0)
    #expect(
      delivery["format"] as? String == "json+opentelemetry0.7+opentelemetry1.0",
      "\(delivery)")
    #expect(delivery["stream"] as? String == "MyMetricStream")
    // The stream's status: 10,000 records and points in the last ten minutes.
    let stream = try #require((catalog.json["streams"] as? [[String: Any]])?.first)
    #expect(stream["stream"] as? String == "MyMetricStream")
    #expect(
      stream["recordsPerMinute"] as? Double == 1_000
        && stream["pointsPerMinute"] as? Double == 1_000)
    #expect(
      stream["formats"] as? [String] == ["json", "opentelemetry0.7", "opentelemetry1.0"])
    #expect(stream["refusedLastHour"] as? Int == 0 && stream["deliveriesLastHour"] as? Int == 1)
    // The CLI lists the series, the stream's status and the delivery.
    let cli = try await Subprocess.runOffPool(
      TestPaths.ferryExecutable, ["metrics", "list", "--server", server.url, "--token", token])
    #expect(cli.status == 0, "\(cli.stderr)")
    let streamLine = cli.stdout.split(separator: "\n").first {
      $0.hasPrefix("MyMetricStream") && $0.contains("json,opentelemetry0.7,opentelemetry1.0")
    }
    #expect(streamLine?.contains(" 1000 ") == true, "\(cli.stdout.prefix(3000))")
    #expect(cli.stdout.contains("STREAM") && cli.stdout.contains("AWS/EC2"))

    let range = "from=2026-01-01T00:00:00Z&to=2026-01-01T00:05:00Z"
    for n in [7, 4_321, 9_999] {
      for (statistic, value) in [
        ("sum", Double(n)), ("max", Double(n + 1)), ("min", 1), ("p99", Double(n) + 0.5),
        ("avg", Double(n) / 3), ("count", 3),
      ] {
        let query = try await api.get(
          "/api/v1/metrics/query?namespace=AWS/EC2&metric=NetworkIn&statistic=\(statistic)&step=60&\(range)&dimension=InstanceId=i-\(n)",
          token: token)
        let series = try #require((query.json["series"] as? [[String: Any]])?.first)
        #expect(series["unit"] as? String == "Bytes", "i-\(n)")
        let got = (series["points"] as? [[String: Any]])?.compactMap { $0["value"] as? Double }
        #expect(got == [value], "i-\(n) \(statistic)")
      }
    }

    // One JSON record of exactly 1,024,000 bytes: a data point, then spaces and newlines.
    var exact = Array(
      """
      {"namespace":"AWS/EC2","metric_name":"NetworkIn","dimensions":{"InstanceId":"i-big"},"timestamp":\(Self.minute0),"value":{"count":1,"sum":5,"max":5,"min":5},"unit":"Bytes"}
      """.utf8)
    while exact.count < 1_024_000 { exact += exact.count % 100 == 0 ? [0x0A] : [0x20] }
    #expect(exact.count == 1_024_000)
    let big = Array(
      "{\"requestId\":\"otel-2\",\"timestamp\":\(Self.minute0),\"records\":[{\"data\":\"\(Data(exact).base64EncodedString())\"}]}"
        .utf8)
    let bigAnswer = try await api.call(
      .POST, Self.path, token: nil, bytes: big, headers: Self.headers("otel-2", key: key))
    #expect(bigAnswer.status == 200, "\(bigAnswer.text.prefix(500))")
  }

  @Test func aBodyOverTheLimitIs413() async throws {
    let data = try TestPaths.temporaryDirectory("ferry-metrics-413")
    let server = try await Self.start(data)
    defer { server.stop() }
    let api = API(server.url)
    let token = try #require(server.firstToken)
    let created = try await api.post("/api/v1/metrics/keys", token: token, ["name": "k"])
    let key = try #require(created.json["key"] as? String)
    var big = Self.body("big", records: [Self.line(instance: "i-1", minute: 0, sum: 1)])
    big.removeLast(2)
    big += Array(repeating: 0x20, count: 65 << 20) + Array("]}".utf8)
    let answer = try await api.call(
      .POST, Self.path, token: nil, bytes: big, headers: Self.headers("big", key: key))
    #expect(answer.status == 413, "\(answer.text)")
    #expect(answer.json["requestId"] as? String == "big")
  }
}
