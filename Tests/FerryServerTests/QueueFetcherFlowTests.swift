import FerryCore
import FerryTesting
import Foundation
import Testing

/// The S3 fetcher reading S3 event notifications from SQS, against the AWS emulator with
/// IAM enforcement on: the role is made by Ferry's own script for a fetcher with a queue,
/// the bucket notifies the queue directly (moto delivers on put, and sends S3's
/// `s3:TestEvent` when notifications are configured), and the AWS CLI sends notifications
/// shaped as SNS and EventBridge deliver them (their formats as AWS documents them), one
/// of them naming an object the direct notifications already named. Every event must be
/// stored once, every message deleted, except the one whose object cannot be read yet,
/// which stays in the queue.
@Suite("ferry serve: the S3 fetcher reading notifications from SQS (emulator with IAM enforcement)")
struct QueueFetcherFlowTests {
  @Test func notificationsDirectThroughSNSAndEventBridgeBecomeEventsOnce() async throws {
    let aws = try await OffPool.run { try EnforcedAWS.start() }
    defer { aws.stop() }
    let bucket = "notified-\(UUID().uuidString.prefix(8).lowercased())"
    func customer(_ arguments: [String]) async throws -> String {
      // The AWS CLI (v1) does not take SQS's endpoint from AWS_ENDPOINT_URL.
      let endpoint =
        arguments.first == "sqs" ? ["--endpoint-url", aws.emulator.url.absoluteString] : []
      let out = try await aws.customerOffPool(arguments + endpoint)
      try #require(out.status == 0, "aws \(arguments.prefix(2)): \(out.stderr)")
      return out.stdout
    }
    _ = try await customer(["s3api", "create-bucket", "--bucket", bucket])
    let created = try await customer(["sqs", "create-queue", "--queue-name", "ferry-events"])
    let queueJSON = try JSONSerialization.jsonObject(with: Data(created.utf8)) as? [String: Any]
    let queueURL = try #require(queueJSON?["QueueUrl"] as? String)
    let queueARN = "arn:aws:sqs:us-east-1:\(aws.customerAccount):ferry-events"

    // Objects written before notifications are configured are named by hand below, in the
    // SNS and EventBridge formats; the rest are notified by S3 itself.
    let files = try TestPaths.temporaryDirectory("ferry-queue-objects")
    var expected: [String] = []
    func object(_ key: String, lines: Int) async throws -> String {
      let text = (0..<lines).map {
        #"{"ts":"2024-11-24T10:00:00Z","id":"\#(key)-\#($0)","msg":"notified"}"#
      }
      expected += text
      let file = files.appendingPathComponent(UUID().uuidString)
      try ChildProcess.withSpawnLock {
        try (text.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
      }
      let put = try await customer([
        "s3api", "put-object", "--bucket", bucket, "--key", key, "--body", file.path,
      ])
      let answer = try JSONSerialization.jsonObject(with: Data(put.utf8)) as? [String: Any]
      let eTag = try #require(answer?["ETag"] as? String)
      return eTag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }
    let snsKey = "app/sns copy.json"
    let snsETag = try await object(snsKey, lines: 30)
    let bridgeKey = "app/eventbridge.json"
    let bridgeETag = try await object(bridgeKey, lines: 20)

    let data = try TestPaths.temporaryDirectory("ferry-queue-data")
    let server = try await ServerProcess.start(
      arguments: ConnectWorld.serverArguments(aws) + [
        "--data-dir", data.path, "--ingest-interval", "1s",
      ], environment: aws.platformEnvironment)
    defer { server.stop() }
    let token = try #require(server.firstToken)
    let api = API(server.url)

    // The role, from Ferry's own policy for a fetcher with a queue.
    let policy = try await api.post(
      "/api/v1/role-policy", token: token,
      [
        "bucket": bucket, "prefix": "app", "purpose": "fetcher", "region": "us-east-1",
        "queueArn": queueARN,
      ])
    try #require(policy.status == 200, "\(policy.text)")
    let statements =
      (policy.json["permissionsPolicy"] as? [String: Any])?["Statement"] as? [[String: Any]] ?? []
    #expect(
      statements.contains {
        ($0["Resource"] as? String) == queueARN || ($0["Resource"] as? [String]) == [queueARN]
      })
    let script = try #require(policy.json["awsCliScript"] as? String)
    let scriptFile = files.appendingPathComponent("create-role.sh")
    try ChildProcess.withSpawnLock {
      try script.write(to: scriptFile, atomically: true, encoding: .utf8)
    }
    let ran = try await Subprocess.runOffPool(
      "bash", [scriptFile.path],
      environment: aws.customerEnvironment.merging(["ROLE_NAME": "ferry-queue-reader"]) { $1 })
    try #require(ran.status == 0, "the generated script failed: \(ran.stderr)")
    let connection = try await api.post(
      "/api/v1/connections", token: token,
      [
        "purpose": "fetcher", "bucket": bucket, "region": "us-east-1", "prefix": "app",
        "roleArn": "arn:aws:iam::\(aws.customerAccount):role/ferry-queue-reader",
      ])
    try #require(connection.status == 201, "\(connection.text)")
    let connectionID = try #require(connection.json["id"] as? String)

    // A queue URL that is not one is refused with the reason.
    let bad = try await api.post(
      "/api/v1/fetchers", token: token,
      ["connectionId": connectionID, "name": "x", "queueUrl": "ferry-events"])
    #expect(bad.status == 400)
    #expect(bad.json["field"] as? String == "queueUrl")

    // S3 notifies the queue of new objects under app (and sends its test event now).
    let notification = """
      {"QueueConfigurations":[{"Id":"ferry","QueueArn":"\(queueARN)","Events":["s3:ObjectCreated:*"]}]}
      """
    _ = try await customer([
      "s3api", "put-bucket-notification-configuration", "--bucket", bucket,
      "--notification-configuration", notification,
    ])
    for n in 0..<12 { _ = try await object("app/direct-\(n).json", lines: 25) }

    // The same kinds of message as SNS and EventBridge deliver, sent by the customer.
    let record: [String: Any] = [
      "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
      "eventTime": "2024-11-24T10:00:00.000Z", "eventName": "ObjectCreated:Put",
      "s3": [
        "s3SchemaVersion": "1.0", "configurationId": "ferry",
        "bucket": ["name": bucket, "arn": "arn:aws:s3:::\(bucket)"],
        "object": ["key": "app/sns+copy.json", "size": 1, "eTag": snsETag, "sequencer": "0A1"],
      ],
    ]
    let s3Message = String(
      decoding: try JSONSerialization.data(withJSONObject: ["Records": [record]]), as: UTF8.self)
    let sns: [String: Any] = [
      "Type": "Notification", "MessageId": UUID().uuidString,
      "TopicArn": "arn:aws:sns:us-east-1:\(aws.customerAccount):s3-events",
      "Subject": "Amazon S3 Notification", "Message": s3Message,
      "Timestamp": "2024-11-24T10:00:00.000Z", "SignatureVersion": "1",
    ]
    let bridge: [String: Any] = [
      "version": "0", "id": UUID().uuidString, "detail-type": "Object Created",
      "source": "aws.s3", "account": aws.customerAccount, "time": "2024-11-24T10:00:00Z",
      "region": "us-east-1", "resources": ["arn:aws:s3:::\(bucket)"],
      "detail": [
        "version": "0", "bucket": ["name": bucket],
        "object": ["key": bridgeKey, "size": 1, "etag": bridgeETag, "sequencer": "0A2"],
        "request-id": "R1", "requester": aws.customerAccount, "reason": "PutObject",
      ],
    ]
    // The SNS copy once more (a duplicate delivery), a message that is no notification,
    // and one naming an object that does not exist (it must stay in the queue).
    var missing = record
    missing["s3"] = [
      "bucket": ["name": bucket], "object": ["key": "app/not-there.json", "size": 1, "eTag": "0"],
    ]
    for body in [
      sns, bridge, sns, ["Records": [missing]], ["hello": "not a notification"],
    ] {
      _ = try await customer([
        "sqs", "send-message", "--queue-url", queueURL, "--message-body",
        String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self),
      ])
    }

    let madeFetcher = try await api.post(
      "/api/v1/fetchers", token: token,
      [
        "connectionId": connectionID, "name": "notified", "logType": "auto",
        "queueUrl": queueURL, "pollIntervalSeconds": 10,
      ])
    try #require(madeFetcher.status == 201, "\(madeFetcher.text)")
    #expect(madeFetcher.json["queueUrl"] as? String == queueURL)
    let fetcherID = try #require(madeFetcher.json["id"] as? String)

    let to = Date().addingTimeInterval(3600).formatted(.iso8601)
    func stored() async throws -> [String] {
      let page = try await api.get(
        "/api/v1/search?from=2024-01-01T00:00:00Z&to=\(to)&limit=1000", token: token)
      return (page.json["events"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String }
    }
    func queueCounts() async throws -> (visible: Int, hidden: Int) {
      let out = try await customer([
        "sqs", "get-queue-attributes", "--queue-url", queueURL, "--attribute-names", "All",
      ])
      let attributes =
        (try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])?["Attributes"]
        as? [String: String] ?? [:]
      return (
        Int(attributes["ApproximateNumberOfMessages"] ?? "") ?? -1,
        Int(attributes["ApproximateNumberOfMessagesNotVisible"] ?? "") ?? -1
      )
    }
    var last = ""
    do {
      try await eventually("every notified object is searchable", seconds: 120) {
        last = try await api.get("/api/v1/fetchers/\(fetcherID)", token: token).text
        return try await stored().count >= expected.count
      }
    } catch {
      Issue.record("fetcher: \(last)\nserver log: \(server.log.suffix(3000))")
      throw error
    }
    // Every message is gone but the one whose object could not be read.
    try await eventually("the queue holds only the unreadable object's message", seconds: 60) {
      let counts = try await queueCounts()
      return counts.visible + counts.hidden == 1
    }
    let messages = try await stored()
    #expect(messages.count == expected.count, "each event once")
    #expect(Set(messages) == Set(expected))
    let shown = try await api.get("/api/v1/fetchers/\(fetcherID)", token: token)
    let status = shown.json["status"] as? [String: Any] ?? [:]
    #expect(status["objectsIngested"] as? Int == 14, "\(status)")
    #expect(status["objectsPending"] as? Int == 1, "\(status)")
    #expect(shown.json["enabled"] as? Bool == true)

    // An admin asks for three objects again: their notifications are long gone, so the
    // fetcher lists those keys and reads them once more; each event is still stored once.
    func rows() async throws -> [String: [String: Any]] {
      let page = try await api.get("/api/v1/fetchers/\(fetcherID)/objects", token: token)
      var out: [String: [String: Any]] = [:]
      for row in page.json["objects"] as? [[String: Any]] ?? [] {
        if let key = row["key"] as? String { out[key] = row }
      }
      return out
    }
    // (Enforcement goes off here: moto refuses a listing whose start-after holds `/`, see
    // ``EnforcedAWS/disableEnforcement()``; the role was made and used under it above.)
    try await OffPool.run { try aws.disableEnforcement() }
    let again = ["app/direct-0.json", "app/direct-1.json", "app/direct-10.json"]
    let before = try await rows()
    let asked = try await api.post(
      "/api/v1/fetchers/\(fetcherID)/reprocess", token: token,
      ["fromKey": "app/direct-0.json", "toKey": "app/direct-10.json"])
    #expect(asked.status == 200 && asked.json["objects"] as? Int == 3, "\(asked.text)")
    do {
      try await eventually("the three objects are read again", seconds: 60) {
        let now = try await rows()
        return again.allSatisfy { key in
          now[key]?["state"] as? String == "ingested"
            && now[key]?["updatedAt"] as? String != before[key]?["updatedAt"] as? String
        }
      }
    } catch {
      let shown = try await api.get("/api/v1/fetchers/\(fetcherID)", token: token)
      Issue.record(
        "rows: \(try await rows())\nfetcher: \(shown.text)\nlog: \(server.log.suffix(3000))")
      throw error
    }
    let afterwards = try await stored()
    #expect(afterwards.count == expected.count, "each event still once")
    #expect(Set(afterwards) == Set(expected))
    let unchanged = try await rows()
    #expect(
      unchanged["app/direct-2.json"]?["updatedAt"] as? String == before["app/direct-2.json"]?[
        "updatedAt"] as? String, "a key outside the range is not read again")
    #expect(!server.log.contains(aws.platformSecretKey))
  }
}
