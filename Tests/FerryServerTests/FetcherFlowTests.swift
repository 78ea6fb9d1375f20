import Crypto
import FerryCore
import FerryTesting
import Foundation
import Testing

/// The S3 fetcher end to end, against the AWS emulator with IAM enforcement on: a bucket
/// written by boto3 (gzip JSON lines, a two-member gzip, gzip CloudTrail, plain text, a
/// 100 MiB line, and four objects that cannot be read) is ingested through a role made by
/// Ferry's own generated script; the server is killed with SIGKILL 20 times, each on the
/// n-th commit it logs (a seeded n), and started again each time; then every event the generator wrote must be in search exactly once (count and
/// a SHA-256 of the sorted messages, computed by the generator), the bad objects recorded
/// as failed, and a replaced object ingested again as a new version.
@Suite("ferry serve: the S3 fetcher (emulator with IAM enforcement)", .serialized)
struct FetcherFlowTests {
  struct Manifest: Decodable {
    var count: Int
    var sha256: String
  }

  static let generator = TestPaths.packageRoot.appendingPathComponent(
    "Tests/FerryServerTests/Fixtures/make_logs.py")

  func run(_ aws: EnforcedAWS, _ bucket: String, _ extra: [String] = []) async throws -> Manifest {
    let made = try await Subprocess.runOffPool(
      "python3", [Self.generator.path, aws.emulator.url.absoluteString, bucket] + extra,
      environment: aws.customerEnvironment)
    try #require(made.status == 0, "the generator failed: \(made.stderr)")
    return try JSONDecoder().decode(Manifest.self, from: Data(made.stdout.utf8))
  }

  /// Every event in search, page by page.
  func allEvents(_ api: API, _ token: String, query: String = "") async throws -> [[String: Any]] {
    var events: [[String: Any]] = []
    var cursor: String?
    let to = Date().addingTimeInterval(3600).formatted(.iso8601)
    repeat {
      var path =
        "/api/v1/search?from=2024-01-01T00:00:00Z&to=\(to)&limit=1000&q=\(query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
      if let cursor { path += "&cursor=\(cursor)" }
      let page = try await api.get(path, token: token)
      try #require(page.status == 200, "\(page.text.prefix(500))")
      events += page.json["events"] as? [[String: Any]] ?? []
      cursor = page.json["nextCursor"] as? String
    } while cursor != nil
    return events
  }

  func digest(_ messages: [String]) -> String {
    SHA256.hash(data: Data(messages.sorted().joined(separator: "\n").utf8)).map {
      String(format: "%02x", $0)
    }.joined()
  }

  @Test func everyObjectBecomesEventsExactlyOnceThroughACrash() async throws {
    let aws = try await OffPool.run { try EnforcedAWS.start() }
    defer { aws.stop() }
    let bucket = "fetch-\(UUID().uuidString.prefix(8).lowercased())"
    let made = try await aws.customerOffPool(["s3api", "create-bucket", "--bucket", bucket])
    try #require(made.status == 0, "\(made.stderr)")
    // 120 objects of 1,000 JSON lines: enough work for the kills below to land inside it.
    let jsonObjects = 120
    let manifest = try await run(aws, bucket, [String(jsonObjects), "1000"])
    let data = try TestPaths.temporaryDirectory("ferry-fetch-data")
    let arguments =
      ConnectWorld.serverArguments(aws) + [
        "--data-dir", data.path, "--ingest-interval", "1s", "--ingest-lease", "2s",
        "--full-list-interval", "5s", "--ingest-chunk-events", "100", "--log-level", "debug",
      ]
    var server = try await ServerProcess.start(
      arguments: arguments, environment: aws.platformEnvironment)
    defer { server.stop() }
    let token = try #require(server.firstToken)
    var api = API(server.url)

    // The customer creates the role with Ferry's script; the admin connects the bucket.
    let policy = try await api.post(
      "/api/v1/role-policy", token: token,
      ["bucket": bucket, "prefix": "app", "purpose": "fetcher", "region": "us-east-1"])
    let script = try #require(policy.json["awsCliScript"] as? String)
    let scriptFile = try TestPaths.temporaryDirectory("ferry-fetch-script")
      .appendingPathComponent("create-role.sh")
    try ChildProcess.withSpawnLock {
      try script.write(to: scriptFile, atomically: true, encoding: .utf8)
    }
    let ran = try await Subprocess.runOffPool(
      "bash", [scriptFile.path],
      environment: aws.customerEnvironment.merging(["ROLE_NAME": "ferry-fetch-test"]) { $1 })
    try #require(ran.status == 0, "the generated script failed: \(ran.stderr)")
    let connection = try await api.post(
      "/api/v1/connections", token: token,
      [
        "purpose": "fetcher", "bucket": bucket, "region": "us-east-1", "prefix": "app",
        "roleArn": "arn:aws:iam::\(aws.customerAccount):role/ferry-fetch-test",
      ])
    try #require(connection.status == 201, "\(connection.text)")
    let connectionID = try #require(connection.json["id"] as? String)

    // Bad input to the fetcher API is refused with the reason.
    let badType = try await api.post(
      "/api/v1/fetchers", token: token,
      ["connectionId": connectionID, "name": "x", "logType": "parquet"])
    #expect(badType.status == 400)
    #expect(badType.text.contains("logType"))

    let created = try await api.post(
      "/api/v1/fetchers", token: token,
      [
        "connectionId": connectionID, "name": "app-logs", "logType": "auto",
        "pollIntervalSeconds": 10,
      ])
    try #require(created.status == 201, "\(created.text)")
    let fetcherID = try #require(created.json["id"] as? String)
    // A second fetcher over the same connection would store every event twice: refused,
    // naming the first, unless asked for.
    let twice = try await api.post(
      "/api/v1/fetchers", token: token, ["connectionId": connectionID, "name": "app-logs-2"])
    #expect(twice.status == 409, "\(twice.text)")
    #expect(twice.json["existingId"] as? String == fetcherID, "\(twice.text)")

    func status() async throws -> [String: Any] {
      let shown = try await api.get("/api/v1/fetchers/\(fetcherID)", token: token)
      return shown.json["status"] as? [String: Any] ?? [:]
    }
    // Kill the server 20 times on a progress signal: the n-th commit the new process logs
    // (n from a seeded generator, 1 to 6; objects commit in chunks of 100 events), so every
    // kill lands while work remains, and most inside an object, on any machine's speed.
    // Each new process first waits for the dead one's 2 s lease to expire.
    try await eventually("the fetcher has started", seconds: 90) {
      (try await status()["ledgerRows"] as? Int ?? 0) >= 1
    }
    var seeded = SeededGenerator(seed: 32)
    var killedInsideAnObject = 0
    var killedMidWork = 0
    for kill in 1...20 {
      let n = 1 + Int(seeded.next() % 6)
      let process = server
      func commits() -> [Substring] {
        process.log.split(separator: "\n").filter { $0.contains(#""message":"ingest: committed""#) }
      }
      try await eventually(
        "process \(kill) logs \(n) commits", seconds: 60, every: .milliseconds(10)
      ) { commits().count >= n }
      let before = try await status()
      let done = (before["objectsIngested"] as? Int ?? 0) + (before["objectsFailed"] as? Int ?? 0)
      if done < jsonObjects + 11 { killedMidWork += 1 }
      server.crash()
      // The last commit before the kill: an object's chunk, not its end, means the kill
      // cut into the object (its next chunks were not committed). Most objects are smaller
      // than one download piece, so they commit whole: the large ones are cut into.
      if commits().last?.contains(#""state":"pending""#) == true { killedInsideAnObject += 1 }
      server = try await ServerProcess.start(
        arguments: arguments, environment: aws.platformEnvironment)
      api = API(server.url)
    }
    #expect(killedMidWork >= 18, "only \(killedMidWork) of the 20 kills came before the end")
    #expect(
      killedInsideAnObject >= 3,
      "only \(killedInsideAnObject) of the 20 kills came inside an object")
    let objects = jsonObjects + 5 + 1 + 1 + 4
    var last: [String: Any] = [:]
    defer {
      if (last["objectsPending"] as? Int ?? 1) != 0 {
        Issue.record("last status: \(last)\nserver log: \(server.log.suffix(3000))")
      }
    }
    try await eventually("every object is ingested or failed", seconds: 180) {
      let s = try await status()
      last = s
      return (s["objectsIngested"] as? Int ?? 0) + (s["objectsFailed"] as? Int ?? 0) >= objects
        && (s["objectsPending"] as? Int ?? 1) == 0
    }
    let final = try await status()
    #expect(final["objectsFailed"] as? Int == 3, "\(final)")

    let events = try await allEvents(api, token)
    func key(_ e: [String: Any]) -> String { e["sourceKey"] as? String ?? "" }
    let good = events.filter { !key($0).hasPrefix("app/bad/") && !key($0).hasPrefix("app/long/") }
    let messages = good.compactMap { $0["message"] as? String }
    #expect(
      messages.count == manifest.count,
      "every event once: \(messages.count) stored, \(manifest.count) written")
    #expect(digest(messages) == manifest.sha256, "the stored events are the written ones")
    // The 100 MiB line: cut at 1 MiB, kept, marked, the cut noted in its ledger row.
    let long = events.filter { key($0).hasPrefix("app/long/") }
    #expect(long.count == 1)
    #expect((long.first?["message"] as? String)?.utf8.count == 1 << 20)
    #expect((long.first?["fields"] as? [String: Any])?["ferry.truncated"] as? String == "true")
    let longRows = try await api.get(
      "/api/v1/fetchers/\(fetcherID)/objects?state=ingested&after=app/jsonl&limit=5", token: token)
    let longRow = (longRows.json["objects"] as? [[String: Any]] ?? []).first {
      $0["key"] as? String == "app/long/one-line.log.gz"
    }
    #expect(
      (longRow?["error"] as? String)?.contains("longer than 1048576 bytes and were cut") == true,
      "\(longRows.text.prefix(800))")
    // Nothing from the corrupt or binary objects; from the cut one, only real lines.
    #expect(
      !events.contains { key($0) == "app/bad/corrupt.json.gz" || key($0) == "app/bad/binary.bin" })
    for e in events where key(e) == "app/bad/truncated.json.gz" {
      #expect((e["message"] as? String)?.hasPrefix("{\"id\": \"trunc-") == true, "\(e)")
    }
    // CloudTrail fields and times from the records.
    let trail = try #require(good.first { key($0).hasPrefix("app/cloudtrail/") })
    let trailFields = trail["fields"] as? [String: Any] ?? [:]
    #expect(trailFields["eventName"] as? String == "GetObject")
    #expect(trailFields["userIdentity.type"] as? String == "AssumedRole")
    #expect((trail["time"] as? String)?.hasPrefix("2024-11-24T10:") == true)

    // The ledger names each failed object and why; reprocessing reads one again.
    let failedObjects = try await api.get(
      "/api/v1/fetchers/\(fetcherID)/objects?state=failed", token: token)
    let failedRows = failedObjects.json["objects"] as? [[String: Any]] ?? []
    #expect(
      failedRows.compactMap { $0["key"] as? String }
        == ["app/bad/binary.bin", "app/bad/corrupt.json.gz", "app/bad/truncated.json.gz"])
    #expect(failedRows.allSatisfy { ($0["error"] as? String)?.isEmpty == false })
    #expect((final["ledgerRows"] as? Int ?? 0) >= objects)
    let again = try await api.post(
      "/api/v1/fetchers/\(fetcherID)/reprocess", token: token,
      ["key": "app/bad/corrupt.json.gz"])
    #expect(again.status == 200, "\(again.text)")
    #expect(again.json["objects"] as? Int == 1)
    let neither = try await api.post(
      "/api/v1/fetchers/\(fetcherID)/reprocess", token: token, [:])
    #expect(neither.status == 400)

    // The CLI shows the same progress.
    let cli = try await Subprocess.runOffPool(
      TestPaths.ferryExecutable, ["fetcher", "list"],
      environment: [
        "FERRY_SERVER": server.url, "FERRY_TOKEN": token, "FERRY_CONFIG_DIR": data.path,
      ])
    #expect(cli.status == 0, "\(cli.stderr)")
    #expect(cli.stdout.contains("app-logs") && cli.stdout.contains("running"), "\(cli.stdout)")
    // The reprocessed object is read again (and fails again) before the bar is drawn, so the
    // bar's end is the whole bucket's.
    try await eventually("the reprocessed object has failed again", seconds: 90) {
      let s = try await status()
      return (s["objectsFailed"] as? Int) == 3 && (s["objectsPending"] as? Int) == 0
        && (s["objectsIngested"] as? Int ?? 0) + 3 >= objects
    }
    let follow = try await Subprocess.runOffPool(
      TestPaths.ferryExecutable, ["fetcher", "status", fetcherID, "--follow"],
      environment: [
        "FERRY_SERVER": server.url, "FERRY_TOKEN": token, "FERRY_CONFIG_DIR": data.path,
      ])
    #expect(follow.status == 0, "\(follow.stderr)")
    print("ferry fetcher status --follow printed:\n\(follow.stdout)")
    #expect(follow.stdout.contains("\(objects)/\(objects) objects"), "\(follow.stdout)")
    #expect(follow.stdout.contains("3 failed"), "\(follow.stdout)")

    // A replaced object (new ETag) is ingested again, as a new version.
    let second = try await run(aws, bucket, ["v2"])
    try await eventually("the new version is searchable", seconds: 90) {
      try await allEvents(api, token, query: "id:v2-0").count == 1
    }
    let replaced = try await allEvents(api, token, query: "replaced")
    #expect(replaced.count == second.count)
    #expect(digest(replaced.compactMap { $0["message"] as? String }) == second.sha256)

    // Members see fetchers but may not change them; every change is audited.
    let audit = try await api.get("/api/v1/audit", token: token)
    let actions = (audit.json["entries"] as? [[String: Any]] ?? []).compactMap {
      $0["action"] as? String
    }
    #expect(actions.contains("fetcher.add"), "\(actions)")
    let paused = try await api.call(.POST, "/api/v1/fetchers/\(fetcherID)/pause", token: token)
    #expect(paused.status == 200)
    #expect(paused.json["enabled"] as? Bool == false)

    // Text whose events span lines: a second fetcher, on its own prefix (without "/":
    // ConnectWorld.prefix says why), joins each stack trace to the line that logged it.
    let javaLog = """
      2024-11-24T10:00:01Z ERROR OrderService - order 17 failed
      java.lang.IllegalStateException: stock is negative
      \tat com.shop.Stock.take(Stock.java:42)
      2024-11-24T10:00:02Z INFO  OrderService - order 18 received

      """
    let logFile = scriptFile.deletingLastPathComponent().appendingPathComponent("app.log")
    try ChildProcess.withSpawnLock {
      try javaLog.write(to: logFile, atomically: true, encoding: .utf8)
    }
    let put = try await aws.customerOffPool([
      "s3api", "put-object", "--bucket", bucket, "--key", "appjava/2024/11/24/app.log",
      "--body", logFile.path,
    ])
    try #require(put.status == 0, "\(put.stderr)")
    let javaConnection = try await api.post(
      "/api/v1/connections", token: token,
      [
        "purpose": "fetcher", "bucket": bucket, "region": "us-east-1", "prefix": "appjava",
        "roleArn": "arn:aws:iam::\(aws.customerAccount):role/ferry-fetch-test",
      ])
    try #require(javaConnection.status == 201, "\(javaConnection.text)")
    let javaConnectionID = try #require(javaConnection.json["id"] as? String)
    let notARegex = try await api.post(
      "/api/v1/fetchers", token: token,
      [
        "connectionId": javaConnectionID, "name": "java", "logType": "text",
        "multilineStart": "^(\\d{4}",
      ])
    #expect(notARegex.status == 400, "\(notARegex.text)")
    #expect(notARegex.json["field"] as? String == "multilineStart")
    let notText = try await api.post(
      "/api/v1/fetchers", token: token,
      [
        "connectionId": javaConnectionID, "name": "java", "logType": "cloudtrail",
        "multilineStart": "^\\d{4}",
      ])
    #expect(notText.status == 400, "\(notText.text)")
    let javaFetcher = try await api.post(
      "/api/v1/fetchers", token: token,
      [
        "connectionId": javaConnectionID, "name": "java", "logType": "text",
        "multilineStart": "^\\d{4}-\\d{2}-\\d{2}T", "pollIntervalSeconds": 10,
      ])
    try #require(javaFetcher.status == 201, "\(javaFetcher.text)")
    #expect(javaFetcher.json["multilineStart"] as? String == "^\\d{4}-\\d{2}-\\d{2}T")
    var javaEvents: [[String: Any]] = []
    try await eventually("the Java log is searchable", seconds: 90) {
      javaEvents = try await allEvents(api, token).filter { key($0).hasPrefix("appjava/") }
      return javaEvents.count >= 2
    }
    #expect(
      Set(javaEvents.compactMap { $0["message"] as? String }) == [
        "2024-11-24T10:00:01Z ERROR OrderService - order 17 failed\njava.lang.IllegalStateException: stock is negative\n\tat com.shop.Stock.take(Stock.java:42)",
        "2024-11-24T10:00:02Z INFO  OrderService - order 18 received",
      ])
    let trace = try await allEvents(api, token, query: "IllegalStateException")
    #expect(trace.count == 1)
    #expect((trace.first?["time"] as? String)?.hasPrefix("2024-11-24T10:00:01") == true)
    for secret in [aws.platformSecretKey, aws.customerEnvironment["AWS_SECRET_ACCESS_KEY"] ?? "-"] {
      #expect(!server.log.contains(secret))
    }
  }
}
