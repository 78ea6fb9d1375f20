import FerryCore
import FerryIngest
import FerryStore
import FerryTesting
import Foundation
import Testing

/// The archive writer end to end, against the AWS emulator with IAM enforcement on: the
/// customer makes the archive role with Ferry's own script, a store holds many events, and
/// `ferry serve` writes them into the customer's bucket while it is killed with SIGKILL ten
/// times, mostly in the middle of flushes. Then the AWS CLI downloads the archive and
/// independent readers check it (Tests/FerryServerTests/Fixtures/check_archive.py: the
/// `zstd` command, Python's json and hashlib, DuckDB with `hive_partitioning`): every event
/// is in exactly one object, every object is listed once by its partition's manifest with
/// the right digest and counts, the event IDs follow docs/archive-format.md, DuckDB counts
/// the same per hour. A bucket the customer deleted ends in an error that names the step,
/// the cause and the fix, and nothing is lost: the events wait. (The roles are made and
/// checked with enforcement on; the writing runs with it off, because moto cannot verify
/// signatures of keys with `=`: see ``EnforcedAWS/disableEnforcement()``.)
@Suite("ferry serve: the archive writer (emulator)", .serialized)
struct ArchiveFlowTests {
  /// Events the store holds before the archive starts (the issue's figure).
  static let events = 1_000_000
  static let perObject = 10_000
  /// Events of the object the fetcher reads, and reads again when an admin reprocesses it.
  static let reprocessed = 3_000
  /// 2026-12-01 00:00:00 UTC; the events are spread over that day.
  static let day = Date(timeIntervalSince1970: 1_796_083_200)

  static let checker = TestPaths.packageRoot.appendingPathComponent(
    "Tests/FerryServerTests/Fixtures/check_archive.py")

  /// Event `n`'s message; check_archive.py reads `n` back from it.
  static func message(_ n: Int) -> String {
    #"{"n":\#(n),"level":"\#(n % 10 == 0 ? "error" : "info")","msg":"request \#(n) served","trace":"t\#(n)"}"#
  }

  /// Runs Ferry's generated role script as the customer; returns the role's ARN.
  func makeRole(
    _ aws: EnforcedAWS, _ api: API, _ token: String, purpose: String, bucket: String,
    prefix: String, name: String
  ) async throws -> String {
    let policy = try await api.post(
      "/api/v1/role-policy", token: token,
      ["bucket": bucket, "prefix": prefix, "purpose": purpose, "region": "us-east-1"])
    let script = try #require(policy.json["awsCliScript"] as? String, "\(policy.text)")
    let file = try TestPaths.temporaryDirectory("ferry-archive-script")
      .appendingPathComponent("create-role.sh")
    try ChildProcess.withSpawnLock { try script.write(to: file, atomically: true, encoding: .utf8) }
    let ran = try await Subprocess.runOffPool(
      "bash", [file.path], environment: aws.customerEnvironment.merging(["ROLE_NAME": name]) { $1 })
    try #require(ran.status == 0, "the generated script failed: \(ran.stderr)")
    return "arn:aws:iam::\(aws.customerAccount):role/\(name)"
  }

  @Test func eventsAreArchivedExactlyOnceThroughCrashesAndReadByOthers() async throws {
    let aws = try await OffPool.run { try EnforcedAWS.start() }
    defer { aws.stop() }
    let suffix = UUID().uuidString.prefix(8).lowercased()
    let logs = "logs-\(suffix)"
    let archiveBucket = "archive-\(suffix)"
    for bucket in [logs, archiveBucket] {
      let made = try await aws.customerOffPool(["s3api", "create-bucket", "--bucket", bucket])
      try #require(made.status == 0, "\(made.stderr)")
    }
    let data = try TestPaths.temporaryDirectory("ferry-archive-data")
    let base =
      ConnectWorld.serverArguments(aws) + [
        "--data-dir", data.path, "--ingest-lease", "2s", "--archive-interval", "1s",
        "--archive-flush-mib", "4", "--archive-flush-age", "1s", "--ingest-interval", "1s",
        "--ingest-chunk-events", "700",
      ]
    var server = try await ServerProcess.start(
      arguments: base, environment: aws.platformEnvironment)
    let token = try #require(server.firstToken)
    var api = API(server.url)

    // The customer's two roles, made with Ferry's scripts; the admin connects both.
    let fetchRole = try await makeRole(
      aws, api, token, purpose: "fetcher", bucket: logs, prefix: "app", name: "ferry-src")
    let archiveRole = try await makeRole(
      aws, api, token, purpose: "archive", bucket: archiveBucket, prefix: "ferry-archive",
      name: "ferry-archive-writer")
    func connect(_ purpose: String, _ bucket: String, _ prefix: String, _ role: String)
      async throws -> String
    {
      let made = try await api.post(
        "/api/v1/connections", token: token,
        [
          "purpose": purpose, "bucket": bucket, "region": "us-east-1", "prefix": prefix,
          "roleArn": role,
        ])
      try #require(made.status == 201, "\(made.text)")
      return try #require(made.json["id"] as? String)
    }
    let source = try await connect("fetcher", logs, "app", fetchRole)
    let target = try await connect("archive", archiveBucket, "ferry-archive", archiveRole)
    let fetcher = try await api.post(
      "/api/v1/fetchers", token: token,
      ["connectionId": source, "name": "app-logs", "pollIntervalSeconds": 10])
    try #require(fetcher.status == 201, "\(fetcher.text)")
    let fetcherID = try #require(fetcher.json["id"] as? String)
    let me = try await api.get("/api/v1/me", token: token)
    let accountID = AccountID(
      rawValue: try #require((me.json["account"] as? [String: Any])?["id"] as? String, "\(me.text)")
    )

    // From here on moto checks no signature: with IAM enforcement on, it refuses every key
    // with `=` (a moto bug, boto3 and the AWS CLI alike; real S3 takes them), and every
    // archive key has Hive's `=`. The roles above were made and checked under enforcement.
    try await OffPool.run { try aws.disableEnforcement() }

    // The store fills while the server is stopped: objects of 10,000 events spread over
    // one day, as the fetcher would have committed them.
    let stopping = server
    let stopped = try await OffPool.run { stopping.stop() }
    #expect(stopped == 0)
    let store = try SQLiteStore(path: data.appendingPathComponent("ferry.sqlite").path)
    let spacing = 86_400.0 / Double(Self.events)
    for object in 0..<(Self.events / Self.perObject) {
      let key = "app/2026/12/01/part-\(String(format: "%04d", object)).json"
      var events: [Event] = []
      events.reserveCapacity(Self.perObject)
      for i in 0..<Self.perObject {
        let n = object * Self.perObject + i
        events.append(
          Event(
            accountID: accountID, fetcherID: fetcherID, logType: "json",
            time: Self.day.addingTimeInterval(Double(n) * spacing), sourceKey: key,
            sourceOffset: Int64(i * 120), message: Self.message(n),
            // As ingest parses them (the archive leaves them to the message).
            fields: MessageFields.fields(logType: "json", message: Self.message(n)) ?? [:]))
      }
      try await store.commitObject(
        LedgerEntry(
          fetcherID: fetcherID, key: key, eTag: "\"etag-\(object)\"", size: 1, state: .ingested,
          events: Self.perObject),
        events: events, of: accountID)
    }

    server = try await ServerProcess.start(arguments: base, environment: aws.platformEnvironment)
    api = API(server.url)
    // Bad input is refused with the reason; members may not create archives.
    let wrongPurpose = try await api.post(
      "/api/v1/archives", token: token, ["connectionId": source, "name": "x"])
    #expect(wrongPurpose.status == 400)
    #expect(wrongPurpose.text.contains("purpose archive"), "\(wrongPurpose.text)")
    let unknownFetcher = try await api.post(
      "/api/v1/archives", token: token,
      ["connectionId": target, "name": "x", "fetcherIds": ["fet_nope"]])
    #expect(unknownFetcher.status == 400 && unknownFetcher.text.contains("fet_nope"))
    let member = try await api.post(
      "/api/v1/tokens", token: token, ["name": "viewer", "role": "member"])
    let memberToken = try #require(member.json["secret"] as? String, "\(member.text)")
    let refused = try await api.post(
      "/api/v1/archives", token: memberToken, ["connectionId": target, "name": "x"])
    #expect(refused.status == 403)

    let created = try await api.post(
      "/api/v1/archives", token: token, ["connectionId": target, "name": "everything"])
    try #require(created.status == 201, "\(created.text)")
    let archiveID = try #require(created.json["id"] as? String)
    func status() async throws -> [String: Any] {
      let shown = try await api.get("/api/v1/archives/\(archiveID)", token: token)
      return shown.json["status"] as? [String: Any] ?? [:]
    }

    // Ten kills with SIGKILL at random moments of the writing, a new start after each.
    do {
      try await eventually("the archive has started", seconds: 120, every: .milliseconds(250)) {
        (try await status()["flushes"] as? Int ?? 0) >= 1
      }
    } catch {
      let log = server.log.split(separator: "\n").filter { !$0.contains(#""message":"request""#) }
      Issue.record(
        "status: \(try await status())\nserver log: \(log.suffix(30).joined(separator: "\n"))")
      throw error
    }
    var random = SystemRandomNumberGenerator()
    var killedMidWork = 0
    for _ in 0..<10 {
      try await Task.sleep(for: .milliseconds(2500 + Int.random(in: 0...1500, using: &random)))
      let before = try await status()
      if (before["pendingEvents"] as? Int ?? 0) > 0 || before["openBatch"] is Int {
        killedMidWork += 1
      }
      server.crash()
      server = try await ServerProcess.start(arguments: base, environment: aws.platformEnvironment)
      api = API(server.url)
    }
    #expect(killedMidWork >= 5, "only \(killedMidWork) of the 10 kills came before the end")
    var last: [String: Any] = [:]
    try await eventually("every event is archived", seconds: 600, every: .milliseconds(250)) {
      last = try await status()
      return (last["pendingEvents"] as? Int) == 0 && last["openBatch"] is NSNull
    }
    #expect(last["events"] as? Int == Self.events, "\(last)")
    #expect(last["lastError"] is NSNull, "\(last)")
    // The next flush, from the server's flags (--archive-flush-age 1s, --archive-flush-mib 4).
    #expect(last["flushAtBytes"] as? Int == 4 << 20, "\(last)")
    #expect(last["nextFlushAt"] is NSNull && last["pendingBytes"] as? Int == 0, "\(last)")
    #expect(
      last["nextFlush"] as? String == "nothing waits; 1 s after events arrive, or once 4 MiB wait",
      "\(last)")

    // A reprocessed object is not archived twice: the customer uploads an object, the
    // fetcher reads it and the archive takes its events; an admin reprocesses it; the fetcher
    // reads it again and stores its events anew, and the archive still holds each once.
    let key = "app/2026/12/01/reprocessed.json"
    let stamp = ISO8601DateFormatter()
    stamp.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    let lines = (0..<Self.reprocessed).map { i in
      let n = Self.events + i
      return
        #"{"n":\#(n),"level":"info","msg":"request \#(n) served","trace":"t\#(n)","time":"\#(stamp.string(from: Self.day.addingTimeInterval(7200 + Double(i))))"}"#
    }
    let upload = try TestPaths.temporaryDirectory("ferry-archive-upload")
      .appendingPathComponent("reprocessed.json")
    try ChildProcess.withSpawnLock {
      try (lines.joined(separator: "\n") + "\n").write(
        to: upload, atomically: true, encoding: .utf8)
    }
    let put = try await aws.customerOffPool(["s3", "cp", upload.path, "s3://\(logs)/\(key)"])
    try #require(put.status == 0, "\(put.stderr)")
    func row() async throws -> [String: Any] {
      // After the 100 objects the store was filled with.
      let rows = try await api.get(
        "/api/v1/fetchers/\(fetcherID)/objects?after=app/2026/12/01/q&limit=5", token: token)
      return (rows.json["objects"] as? [[String: Any]])?.first { $0["key"] as? String == key }
        ?? [:]
    }
    func archived(_ events: Int) async throws {
      try await eventually("\(events) events are archived", seconds: 120, every: .milliseconds(250))
      {
        last = try await status()
        return (last["pendingEvents"] as? Int) == 0 && last["openBatch"] is NSNull
          && (last["events"] as? Int ?? 0) >= events
      }
    }
    try await eventually("the fetcher reads the object", seconds: 60, every: .milliseconds(250)) {
      try await row()["state"] as? String == "ingested"
    }
    try await archived(Self.events + Self.reprocessed)
    let readOnce = try await row()
    let asked = try await api.post(
      "/api/v1/fetchers/\(fetcherID)/reprocess", token: token, ["key": key])
    #expect(asked.status == 200 && asked.json["objects"] as? Int == 1, "\(asked.text)")
    try await eventually("the fetcher reads it again", seconds: 60, every: .milliseconds(250)) {
      let now = try await row()
      return now["state"] as? String == "ingested"
        && now["updatedAt"] as? String != readOnce["updatedAt"] as? String
    }
    #expect(try await row()["events"] as? Int == Self.reprocessed)
    // The re-read events wait for the archive, which takes none of them twice.
    try await archived(Self.events + Self.reprocessed)
    #expect(last["events"] as? Int == Self.events + Self.reprocessed, "\(last)")

    // The AWS CLI lists and downloads the archive; independent readers check it.
    let listed = try await aws.customerOffPool([
      "s3", "ls", "s3://\(archiveBucket)/ferry-archive/", "--recursive",
    ])
    try #require(listed.status == 0, "\(listed.stderr)")
    let keys = listed.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").last }
    #expect(keys.contains { $0.hasSuffix("manifest.json") })
    #expect(
      keys.filter { $0.hasSuffix(".json.zst") }.count == last["objects"] as? Int,
      "the status counts the objects the bucket holds")
    let copy = try TestPaths.temporaryDirectory("ferry-archive-copy")
    let downloaded = try await aws.customerOffPool([
      "s3", "cp", "s3://\(archiveBucket)/ferry-archive/", copy.path, "--recursive",
      "--only-show-errors",
    ])
    try #require(downloaded.status == 0, "\(downloaded.stderr)")
    let checked = try await Subprocess.runOffPool(
      "python3", [Self.checker.path, copy.path, String(Self.events + Self.reprocessed)])
    try #require(checked.status == 0, "check_archive.py failed: \(checked.stderr)")
    let summary = try #require(
      try JSONSerialization.jsonObject(with: Data(checked.stdout.utf8)) as? [String: Any])
    let total = Self.events + Self.reprocessed
    #expect(summary["events"] as? Int == total, "\(summary)")
    #expect(summary["distinctIds"] as? Int == total, "each event in exactly one object")
    #expect(summary["missingMessages"] as? Int == 0 && summary["unexpectedMessages"] as? Int == 0)
    #expect(summary["badIds"] as? Int == 0, "event IDs as docs/archive-format.md says")
    #expect((summary["unlisted"] as? [String])?.isEmpty == true, "no object outside a manifest")
    #expect((summary["missing"] as? [String])?.isEmpty == true, "no manifest entry without object")
    #expect(summary["digestMismatch"] as? Int == 0 && summary["countMismatch"] as? Int == 0)
    #expect(summary["manifestEvents"] as? Int == total)
    #expect((summary["badPaths"] as? [String])?.isEmpty == true)
    // A new archive writes compact lines (no eventId; readers derive it), which manifests
    // list at schema 2.
    // Compact lines of JSON lines leave their fields to the message: schema 3, and the
    // independent reader takes them from there for every line.
    #expect(summary["schema"] as? [Int] == [3])
    #expect(summary["derivedFields"] as? Int == total)
    #expect(summary["compactLines"] as? Int == total && summary["fullLines"] as? Int == 0)
    #expect(summary["duckdbDistinctIds"] as? Int == total, "DuckDB derives every event ID")
    #expect(summary["duckdb"] as? Int == total, "DuckDB reads every event")
    let perHour = summary["perHour"] as? [String: Int] ?? [:]
    #expect(perHour.count == 24, "one partition per hour of the day")
    #expect(summary["duckdbPerHour"] as? [String: Int] == perHour, "DuckDB agrees per hour")

    // The CLI shows it; every change is audited.
    let cli = try await Subprocess.runOffPool(
      TestPaths.ferryExecutable, ["archive", "show", archiveID],
      environment: [
        "FERRY_SERVER": server.url, "FERRY_TOKEN": token, "FERRY_CONFIG_DIR": data.path,
      ])
    #expect(cli.status == 0, "\(cli.stderr)")
    #expect(cli.stdout.contains("s3://\(archiveBucket)/ferry-archive"), "\(cli.stdout)")
    #expect(cli.stdout.contains(String(total)), "\(cli.stdout)")
    let audit = try await api.get("/api/v1/audit?limit=50", token: token)
    let actions = (audit.json["entries"] as? [[String: Any]] ?? []).compactMap {
      $0["action"] as? String
    }
    #expect(actions.contains("archive.add"), "\(actions)")

    // The customer deletes the archive bucket: the next flush fails with the step and the
    // fix, and the new events wait in the store.
    let gone = try await aws.customerOffPool(["s3", "rb", "s3://\(archiveBucket)", "--force"])
    try #require(gone.status == 0, "\(gone.stderr)")
    let late = (0..<100).map { i in
      Event(
        accountID: accountID, fetcherID: fetcherID, logType: "json",
        time: Self.day.addingTimeInterval(3600 + Double(i)), sourceKey: "app/late.json",
        sourceOffset: Int64(i), message: Self.message(Self.events + Self.reprocessed + i),
        fields: MessageFields.fields(
          logType: "json", message: Self.message(Self.events + Self.reprocessed + i)) ?? [:])
    }
    try await store.commitObject(
      LedgerEntry(
        fetcherID: fetcherID, key: "app/late.json", eTag: "\"late\"", size: 1, state: .ingested,
        events: 100), events: late, of: accountID)
    try await eventually("the failed write is reported", seconds: 60, every: .milliseconds(250)) {
      (try await status()["lastError"] as? String)?.contains("does not exist") == true
    }
    let failed = try await status()
    let error = try #require(failed["lastError"] as? String)
    #expect(error.contains("writing s3://\(archiveBucket)/ferry-archive/"), "the step: \(error)")
    #expect(error.contains("NoSuchBucket"), "the cause: \(error)")
    #expect(error.contains("Fix: create it"), "the fix: \(error)")
    #expect(failed["pendingEvents"] as? Int == 100, "the late events wait: \(failed)")

    for secret in [aws.platformSecretKey, aws.customerEnvironment["AWS_SECRET_ACCESS_KEY"] ?? "-"] {
      #expect(!server.log.contains(secret))
    }
    #expect(!server.log.contains(token))
  }
}
