import FerryCore
import FerryStore
import FerryTesting
import Foundation
import Testing

/// Restores end to end, against the AWS emulator: `ferry serve` archives two days of events
/// into the customer's bucket (the role made with Ferry's own script), the first day then
/// leaves search (retention), and the customer's side damages three of its hours with the
/// AWS CLI: one object deleted, one overwritten, one manifest that no longer agrees with
/// its object. A dry run prices the restore from the manifests (the test sums them from the
/// AWS CLI's copy); the restore, filtered by a query, brings back exactly the matching
/// events of the undamaged hours, field by field as they were committed, marked as
/// restored; each damaged hour ends in a clear error while the rest goes on; events still
/// in search are not stored twice. (Restores run with IAM enforcement off, like the
/// archive flow: moto cannot verify signatures of keys with `=`.)
@Suite("ferry serve: restores from an archive (emulator)", .serialized)
struct RestoreFlowTests {
  /// 2026-11-29 00:00 UTC: the first day; the second follows.
  static let dayA = Date(timeIntervalSince1970: 1_795_910_400)
  static let dayB = dayA.addingTimeInterval(86_400)
  static let perHour = 600
  static let fetcherID = "fet_restoreflow0001"

  /// Event `n` of an hour's object: every seventh fails with status 500. Text lines, whose
  /// fields (given here) an archive keeps, as it keeps those of every log type but JSON
  /// lines and CloudTrail (whose fields come back from their messages).
  static func event(_ account: AccountID, day: Date, hour: Int, n: Int) -> Event {
    Event(
      accountID: account, fetcherID: fetcherID, logType: "text",
      time: day.addingTimeInterval(Double(hour * 3600 + n * 5)),
      sourceKey: "app/\(Int(day.timeIntervalSince1970))/h\(hour).json",
      sourceOffset: Int64(n * 200),
      message: "GET /orders/\(n) answered \(n % 7 == 0 ? 500 : 200) in \(n % 40) ms",
      fields: ["status": n % 7 == 0 ? "500" : "200", "hour": String(hour), "n": String(n)])
  }

  /// `ferry serve` with an archive connection on `bucket` (prefix `archive`) through a
  /// role made by Ferry's own script under IAM enforcement, which is then switched off:
  /// moto cannot verify signatures of keys with `=`, and every archive key has Hive's `=`.
  static func archiveServer(
    _ aws: EnforcedAWS, bucket: String, arguments: [String], roleName: String
  ) async throws -> (ServerProcess, API, String, AccountID, String) {
    let server = try await ServerProcess.start(
      arguments: arguments, environment: aws.platformEnvironment)
    let token = try #require(server.firstToken)
    let api = API(server.url)
    let role = try await ArchiveFlowTests().makeRole(
      aws, api, token, purpose: "archive", bucket: bucket, prefix: "archive", name: roleName)
    let connection = try await api.post(
      "/api/v1/connections", token: token,
      [
        "purpose": "archive", "bucket": bucket, "region": "us-east-1", "prefix": "archive",
        "roleArn": role,
      ])
    try #require(connection.status == 201, "\(connection.text)")
    let connectionID = try #require(connection.json["id"] as? String)
    let me = try await api.get("/api/v1/me", token: token)
    let account = AccountID(
      rawValue: try #require((me.json["account"] as? [String: Any])?["id"] as? String))
    try await OffPool.run { try aws.disableEnforcement() }
    return (server, api, token, account, connectionID)
  }

  /// A restore over a flaky link: every GET of an archive object fails its first attempts
  /// (0 to 5 of them, more than the AWS layer's own 3 attempts; the same on every run)
  /// through `scripts/fault-proxy` in front of the emulator: a 503 SlowDown, a reset
  /// connection, an answer cut in the middle. Each object is tried again with backoff, none
  /// is failed, and every event comes back exactly once.
  @Test func aRestoreOverAFlakyLinkBringsBackEveryEventOnce() async throws {
    let aws = try await OffPool.run { try EnforcedAWS.start() }
    defer { aws.stop() }
    let bucket = "flaky-\(UUID().uuidString.prefix(8).lowercased())"
    let made = try await aws.customerOffPool(["s3api", "create-bucket", "--bucket", bucket])
    try #require(made.status == 0, "\(made.stderr)")
    let proxy = try await HelperServer.start(
      script: TestPaths.packageRoot.appendingPathComponent("scripts/fault-proxy").path,
      arguments: [String(aws.emulator.url.port ?? 0), #"\.json\.zst$"#, "5"])
    defer { proxy.stop() }
    let data = try TestPaths.temporaryDirectory("ferry-flaky-restore")
    var arguments = ConnectWorld.serverArguments(aws)
    if let endpoint = arguments.firstIndex(of: "--aws-endpoint") {
      arguments[endpoint + 1] = proxy.url
    }
    arguments += [
      "--data-dir", data.path, "--archive-interval", "1s", "--archive-flush-age", "1s",
      "--restore-interval", "1s",
    ]
    let (server, api, token, account, connectionID) = try await Self.archiveServer(
      aws, bucket: bucket, arguments: arguments, roleName: "ferry-flaky-reader")
    defer { _ = server.stop() }

    let store = try SQLiteStore(path: data.appendingPathComponent("ferry.sqlite").path)
    for hour in 0..<24 {
      let events = (0..<Self.perHour).map { Self.event(account, day: Self.dayA, hour: hour, n: $0) }
      try await store.commitObject(
        LedgerEntry(
          fetcherID: Self.fetcherID, key: events[0].sourceKey, eTag: "\"f\(hour)\"", size: 1,
          state: .ingested, events: Self.perHour), events: events, of: account)
    }
    let archive = try await api.post(
      "/api/v1/archives", token: token,
      ["connectionId": connectionID, "name": "flaky"])
    try #require(archive.status == 201, "\(archive.text)")
    let archiveID = try #require(archive.json["id"] as? String)
    try await eventually("the day is archived", seconds: 120, every: .milliseconds(250)) {
      let status =
        try await api.get("/api/v1/archives/\(archiveID)", token: token).json["status"]
        as? [String: Any] ?? [:]
      return status["pendingEvents"] as? Int == 0 && status["events"] as? Int == 24 * Self.perHour
    }
    // The day leaves search; the restore brings it back through the faults.
    let removed = try await store.deleteEvents(
      of: account, olderThan: Self.dayB, batchSize: 10_000)
    #expect(removed == 24 * Self.perHour)
    let started = try await api.post(
      "/api/v1/restores", token: token,
      ["archiveId": archiveID, "from": "2026-11-29T00:00:00Z", "to": "2026-11-30T00:00:00Z"])
    try #require(started.status == 201, "\(started.text)")
    let jobID = try #require(started.json["id"] as? String)
    var done: [String: Any] = [:]
    try await eventually("the restore ends", seconds: 240, every: .milliseconds(250)) {
      done = try await api.get("/api/v1/restores/\(jobID)", token: token).json
      return ["succeeded", "failed", "cancelled"].contains(done["state"] as? String ?? "")
    }
    let progress = done["progress"] as? [String: Any] ?? [:]
    #expect(done["state"] as? String == "succeeded", "\(done)")
    #expect(progress["objectsFailed"] as? Int == 0, "\(progress)")
    #expect(progress["eventsRestored"] as? Int == 24 * Self.perHour, "\(progress)")
    #expect(try await store.eventCount(of: account) == 24 * Self.perHour)
    let faults = try await API(proxy.url).get("/__faults", token: nil).json
    let injected = ["503", "reset", "cut"].map { faults[$0] as? Int ?? 0 }
    #expect(injected.allSatisfy { $0 > 0 }, "every kind of fault happened: \(faults)")
  }

  /// A restore killed with SIGKILL ten times stores every event exactly once. The kills
  /// come on a progress signal: the n-th batch the new process commits (n from a seeded
  /// generator, 1 to 3). Each hour's object holds 10,000 events, committed in batches of
  /// 5,000, so many kills cut into an object; the next process reads that object again and
  /// the store keeps only what it lacks.
  @Test func aRestoreKilledTenTimesStoresEveryEventOnce() async throws {
    let aws = try await OffPool.run { try EnforcedAWS.start() }
    defer { aws.stop() }
    let bucket = "killed-\(UUID().uuidString.prefix(8).lowercased())"
    let made = try await aws.customerOffPool(["s3api", "create-bucket", "--bucket", bucket])
    try #require(made.status == 0, "\(made.stderr)")
    let data = try TestPaths.temporaryDirectory("ferry-killed-restore")
    let arguments =
      ConnectWorld.serverArguments(aws) + [
        "--data-dir", data.path, "--ingest-lease", "2s", "--archive-interval", "1s",
        "--archive-flush-age", "1s", "--restore-interval", "1s", "--log-level", "debug",
      ]
    var (server, api, token, account, connectionID) = try await Self.archiveServer(
      aws, bucket: bucket, arguments: arguments, roleName: "ferry-killed-reader")
    defer { _ = server.stop() }

    let hours = 12
    let perObject = 10_000
    let store = try SQLiteStore(path: data.appendingPathComponent("ferry.sqlite").path)
    var messages: [String] = []
    for hour in 0..<hours {
      let key = "app/killed/h\(hour).json"
      let events = (0..<perObject).map { n in
        Event(
          accountID: account, fetcherID: Self.fetcherID, logType: "text",
          time: Self.dayA.addingTimeInterval(Double(hour * 3600) + Double(n) * 0.25),
          sourceKey: key, sourceOffset: Int64(n * 120),
          message: "GET /orders/\(hour)-\(n) answered \(n % 9 == 0 ? 503 : 200) trace \(UUID())",
          fields: ["n": String(n)])
      }
      messages += events.map(\.message)
      try await store.commitObject(
        LedgerEntry(
          fetcherID: Self.fetcherID, key: key, eTag: "\"k\(hour)\"", size: 1, state: .ingested,
          events: perObject), events: events, of: account)
    }
    let total = hours * perObject
    let archive = try await api.post(
      "/api/v1/archives", token: token, ["connectionId": connectionID, "name": "killed"])
    try #require(archive.status == 201, "\(archive.text)")
    let archiveID = try #require(archive.json["id"] as? String)
    try await eventually("the hours are archived", seconds: 240, every: .milliseconds(250)) {
      let status =
        try await api.get("/api/v1/archives/\(archiveID)", token: token).json["status"]
        as? [String: Any] ?? [:]
      return status["pendingEvents"] as? Int == 0 && status["events"] as? Int == total
    }
    let removed = try await store.deleteEvents(
      of: account, olderThan: Self.dayB, batchSize: 10_000)
    try #require(removed == total)

    let started = try await api.post(
      "/api/v1/restores", token: token,
      ["archiveId": archiveID, "from": "2026-11-29T00:00:00Z", "to": "2026-11-30T00:00:00Z"])
    try #require(started.status == 201, "\(started.text)")
    let jobID = try #require(started.json["id"] as? String)

    var seeded = SeededGenerator(seed: 35)
    var killedInsideAnObject = 0
    var sawPace = false
    var kills = 0
    kills: for kill in 1...10 {
      let n = 1 + Int(seeded.next() % 3)
      let process = server
      func commits() -> [Substring] {
        process.log.split(separator: "\n").filter {
          $0.contains(#""message":"restore: committed""#)
        }
      }
      var ended = false
      try await eventually(
        "process \(kill) logs \(n) restore commits", seconds: 120, every: .milliseconds(10)
      ) {
        if commits().count >= n { return true }
        // A process that ends the restore before its n-th commit ends the kills.
        let state = try await api.get("/api/v1/restores/\(jobID)", token: token).json["state"]
        ended = state as? String == "succeeded"
        return ended
      }
      if ended { break kills }
      // While it runs, the restore says its speed and, once it has read an object, the
      // time left.
      let running = try await api.get("/api/v1/restores/\(jobID)", token: token).json
      let pace = running["progress"] as? [String: Any] ?? [:]
      if (pace["eventsPerSecond"] as? Double ?? 0) > 0, pace["secondsLeft"] is Double,
        (pace["pace"] as? String)?.contains("left") == true
      {
        sawPace = true
      }
      server.crash()
      kills += 1
      // Each process reads an object from its start: the killed one cut into the object it
      // committed last when its batches of that object hold fewer than the object's events.
      let batches = commits().compactMap { line in
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
      }
      if let last = batches.last?["key"] as? String {
        let read = batches.filter { $0["key"] as? String == last }
          .reduce(0) { $0 + (Int($1["events"] as? String ?? "") ?? 0) }
        if read < perObject { killedInsideAnObject += 1 }
      }
      server = try await ServerProcess.start(
        arguments: arguments, environment: aws.platformEnvironment)
      api = API(server.url)
    }
    #expect(kills >= 8, "only \(kills) kills came before the restore ended")
    #expect(
      killedInsideAnObject >= 4,
      "only \(killedInsideAnObject) of the 10 kills came inside an object")
    #expect(sawPace, "the restore said its speed and time left while it ran")

    var done: [String: Any] = [:]
    try await eventually("the restore ends", seconds: 300, every: .milliseconds(250)) {
      done = try await api.get("/api/v1/restores/\(jobID)", token: token).json
      return ["succeeded", "failed", "cancelled"].contains(done["state"] as? String ?? "")
    }
    let progress = done["progress"] as? [String: Any] ?? [:]
    #expect(done["state"] as? String == "succeeded", "\(done)")
    #expect(progress["objectsFailed"] as? Int == 0, "\(progress)")
    #expect(progress["eventsRestored"] as? Int == total, "\(progress)")
    #expect(try await store.eventCount(of: account) == total)
    // Every message once: the store's events against the generator's, as multisets.
    var found: [String: Int] = [:]
    var cursor: String?
    repeat {
      let page = try await store.search(
        EventQuery(
          from: Self.dayA, to: Self.dayB, limit: 10_000, cursor: cursor), of: account)
      for event in page.events { found[event.message, default: 0] += 1 }
      cursor = page.nextCursor
    } while cursor != nil
    #expect(found.count == total && found.values.allSatisfy { $0 == 1 })
    #expect(Set(found.keys) == Set(messages))
  }

  @Test func aFilteredRestoreBringsBackWhatWasArchivedAndReportsDamage() async throws {
    let aws = try await OffPool.run { try EnforcedAWS.start() }
    defer { aws.stop() }
    let bucket = "archive-\(UUID().uuidString.prefix(8).lowercased())"
    let made = try await aws.customerOffPool(["s3api", "create-bucket", "--bucket", bucket])
    try #require(made.status == 0, "\(made.stderr)")
    let data = try TestPaths.temporaryDirectory("ferry-restore-data")
    // The hourly re-check of connections stays on (the default), as for a user: its wait
    // must not hold up the shutdown at the end.
    let arguments =
      ConnectWorld.serverArguments(aws).replacing("--recheck-interval", with: "1h") + [
        "--data-dir", data.path, "--ingest-lease", "2s", "--archive-interval", "1s",
        "--archive-flush-age", "1s", "--restore-interval", "1s",
      ]
    let (server, api, token, account, connectionID) = try await Self.archiveServer(
      aws, bucket: bucket, arguments: arguments, roleName: "ferry-restore-reader")
    defer { _ = server.stop() }

    // Two days in the store, one object per hour (the second day: four hours).
    let store = try SQLiteStore(path: data.appendingPathComponent("ferry.sqlite").path)
    var originals: [String: Event] = [:]
    for (day, hours) in [(Self.dayA, 24), (Self.dayB, 4)] {
      for hour in 0..<hours {
        let events = (0..<Self.perHour).map {
          Self.event(account, day: day, hour: hour, n: $0)
        }
        for e in events { originals["\(e.sourceKey)@\(e.sourceOffset)"] = e }
        try await store.commitObject(
          LedgerEntry(
            fetcherID: Self.fetcherID, key: events[0].sourceKey, eTag: "\"e\(hour)\"", size: 1,
            state: .ingested, events: Self.perHour), events: events, of: account)
      }
    }
    let created = try await api.post(
      "/api/v1/archives", token: token, ["connectionId": connectionID, "name": "all"])
    try #require(created.status == 201, "\(created.text)")
    let archiveID = try #require(created.json["id"] as? String)
    try await eventually("both days are archived", seconds: 120, every: .milliseconds(250)) {
      let shown = try await api.get("/api/v1/archives/\(archiveID)", token: token)
      let status = shown.json["status"] as? [String: Any] ?? [:]
      return status["pendingEvents"] as? Int == 0 && status["events"] as? Int == 28 * Self.perHour
    }

    func restore(_ id: String) async throws -> [String: Any] {
      try await api.get("/api/v1/restores/\(id)", token: token).json
    }
    func finished(_ id: String) async throws -> [String: Any] {
      var last: [String: Any] = [:]
      try await eventually("restore \(id) ends", seconds: 120, every: .milliseconds(250)) {
        last = try await restore(id)
        return ["succeeded", "failed", "cancelled"].contains(last["state"] as? String ?? "")
      }
      return last
    }

    // Day B is still in search: restoring it stores nothing twice.
    let again = try await api.post(
      "/api/v1/restores", token: token,
      ["archiveId": archiveID, "from": "2026-11-30T00:00:00Z", "to": "2026-12-01T00:00:00Z"])
    try #require(again.status == 201, "\(again.text)")
    let againDone = try await finished(try #require(again.json["id"] as? String))
    let againProgress = againDone["progress"] as? [String: Any] ?? [:]
    #expect(againDone["state"] as? String == "succeeded", "\(againDone)")
    #expect(againProgress["eventsMatched"] as? Int == 4 * Self.perHour, "\(againProgress)")
    #expect(againProgress["eventsRestored"] as? Int == 0, "\(againProgress)")

    // Day A leaves search; then the customer's side damages three of its hours.
    let removed = try await store.deleteEvents(of: account, olderThan: Self.dayB, batchSize: 10_000)
    #expect(removed == 24 * Self.perHour)
    let folder = "s3://\(bucket)/archive/account=\(account.rawValue)/year=2026/month=11/day=29/"
    func keys(hour: Int) async throws -> [String] {
      let listed = try await aws.customerOffPool([
        "s3", "ls", folder + String(format: "hour=%02d/", hour),
      ])
      return listed.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").last }
        .map(String.init)
    }
    let deleted = try #require(try await keys(hour: 3).first { $0.hasSuffix(".json.zst") })
    let rm = try await aws.customerOffPool(["s3", "rm", folder + "hour=03/" + deleted])
    try #require(rm.status == 0, "\(rm.stderr)")
    let corrupt = try #require(try await keys(hour: 5).first { $0.hasSuffix(".json.zst") })
    let scratch = try TestPaths.temporaryDirectory("ferry-restore-scratch")
    let garbage = scratch.appendingPathComponent("garbage")
    try Data("not zstd at all".utf8).write(to: garbage)
    let cp = try await aws.customerOffPool([
      "s3", "cp", garbage.path, folder + "hour=05/" + corrupt,
    ])
    try #require(cp.status == 0, "\(cp.stderr)")
    // Hour 07's manifest claims one event more than its first object holds.
    let manifest = scratch.appendingPathComponent("manifest.json")
    let got = try await aws.customerOffPool([
      "s3", "cp", folder + "hour=07/manifest.json", manifest.path,
    ])
    try #require(got.status == 0, "\(got.stderr)")
    var document = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: manifest)) as? [String: Any])
    var objects = try #require(document["objects"] as? [[String: Any]])
    objects[0]["events"] = (objects[0]["events"] as? Int ?? 0) + 1
    document["objects"] = objects
    try JSONSerialization.data(withJSONObject: document).write(to: manifest)
    let put = try await aws.customerOffPool([
      "s3", "cp", manifest.path, folder + "hour=07/manifest.json",
    ])
    try #require(put.status == 0, "\(put.stderr)")

    // Hour 10's object moves to Glacier Flexible Retrieval (a lifecycle rule would).
    let frozenKey = try #require(try await keys(hour: 10).first { $0.hasSuffix(".json.zst") })
    let glacier = try await aws.customerOffPool([
      "s3", "cp", folder + "hour=10/" + frozenKey, folder + "hour=10/" + frozenKey,
      "--storage-class", "GLACIER",
    ])
    try #require(glacier.status == 0, "\(glacier.stderr)")

    // The dry run's figures are the manifests' (summed here from the AWS CLI's copy).
    let copy = try TestPaths.temporaryDirectory("ferry-restore-copy")
    let downloaded = try await aws.customerOffPool([
      "s3", "cp", folder, copy.path, "--recursive", "--exclude", "*", "--include", "*manifest.json",
    ])
    try #require(downloaded.status == 0, "\(downloaded.stderr)")
    var expected = (objects: 0, bytes: 0, events: 0)
    var frozen = (bytes: 0, events: 0)
    for hour in 0..<24 {
      let file = copy.appendingPathComponent(String(format: "hour=%02d/manifest.json", hour))
      let m = try #require(
        try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
      for o in m["objects"] as? [[String: Any]] ?? [] {
        expected.objects += 1
        expected.bytes += o["bytes"] as? Int ?? 0
        expected.events += o["events"] as? Int ?? 0
        if (o["key"] as? String ?? "").hasSuffix(frozenKey) {
          frozen = (o["bytes"] as? Int ?? 0, o["events"] as? Int ?? 0)
        }
      }
    }
    let range: [String: Any] = [
      "archiveId": archiveID, "from": "2026-11-29T00:00:00Z", "to": "2026-11-30T00:00:00Z",
      "query": "status:500",
    ]
    let dry = try await api.post(
      "/api/v1/restores", token: token, range.merging(["dryRun": true]) { $1 })
    try #require(dry.status == 200, "\(dry.text)")
    // The frozen object is listed apart, with what to do.
    #expect(frozen.events == Self.perHour)
    #expect(dry.json["objects"] as? Int == expected.objects - 1, "\(dry.text)")
    #expect(dry.json["bytes"] as? Int == expected.bytes - frozen.bytes, "\(dry.text)")
    #expect(dry.json["events"] as? Int == expected.events - frozen.events, "\(dry.text)")
    #expect(
      dry.json["frozenObjects"] as? Int == 1 && dry.json["frozenBytes"] as? Int == frozen.bytes)
    #expect(dry.text.contains(frozenKey) && dry.text.contains("--thaw"), "\(dry.text)")
    #expect(
      try await api.get("/api/v1/restores", token: token).json["restores"].map {
        ($0 as? [Any])?.count
      } == 1,
      "a dry run starts nothing")

    // A dry run over a century lists the partitions that exist, not one folder per day,
    // and answers within seconds.
    let before = aws.emulator.requestLines().filter { $0.contains("/\(bucket)/?list-type=2") }.count
    let clock = ContinuousClock()
    let centuryStart = clock.now
    let century = try await api.post(
      "/api/v1/restores", token: token,
      range.merging([
        "dryRun": true, "from": "1926-12-01T00:00:00Z", "to": "2026-12-01T00:00:00Z",
      ]) { $1 })
    let took = clock.now - centuryStart
    try #require(century.status == 200, "\(century.text)")
    #expect(took < .seconds(5), "a century's dry run took \(took)")
    // Every object of the day, and those of the other days archived here.
    #expect((century.json["objects"] as? Int ?? 0) >= expected.objects - 1, "\(century.text)")
    let listings =
      aws.emulator.requestLines().filter { $0.contains("/\(bucket)/?list-type=2") }.count - before
    #expect((1...10).contains(listings), "a century's dry run made \(listings) listings")
    let tooLong = try await api.post(
      "/api/v1/restores", token: token,
      range.merging([
        "dryRun": true, "from": "1900-01-01T00:00:00Z", "to": "2026-12-01T00:00:00Z",
      ]) { $1 })
    #expect(
      tooLong.status == 400 && (tooLong.json["detail"] as? String)?.contains("100 years") == true,
      "\(tooLong.text)")

    // Bad input and members are refused.
    let badQuery = try await api.post(
      "/api/v1/restores", token: token, range.merging(["query": "status:(500"]) { $1 })
    #expect(
      badQuery.status == 400 && badQuery.json["field"] as? String == "query", "\(badQuery.text)")
    let backwards = try await api.post(
      "/api/v1/restores", token: token, range.merging(["to": "2026-11-28T00:00:00Z"]) { $1 })
    #expect(backwards.status == 400, "\(backwards.text)")
    let member = try await api.post(
      "/api/v1/tokens", token: token, ["name": "reader", "role": "member"])
    let memberToken = try #require(member.json["secret"] as? String, "\(member.text)")
    #expect(try await api.post("/api/v1/restores", token: memberToken, range).status == 403)

    // The estimate's "Start it:" line keeps the query, quoted as a shell reads it back
    // (Python's shlex splits it by POSIX rules).
    let query = "status:500 OR msg:\"it's slow\""
    let estimate = try await Subprocess.runOffPool(
      TestPaths.ferryExecutable,
      [
        "restore", "estimate", "--archive", archiveID, "--from", "2026-11-29T00:00:00Z", "--to",
        "2026-11-30T00:00:00Z", "--query", query,
      ],
      environment: [
        "FERRY_SERVER": server.url, "FERRY_TOKEN": token, "FERRY_CONFIG_DIR": data.path,
      ])
    try #require(estimate.status == 0, "\(estimate.stderr)")
    let startLine = try #require(
      estimate.stdout.split(separator: "\n").first { $0.hasPrefix("Start it: ") },
      "\(estimate.stdout)")
    let split = try await Subprocess.runOffPool(
      "python3",
      [
        "-c", "import json, shlex, sys; print(json.dumps(shlex.split(sys.argv[1])))",
        String(startLine.dropFirst("Start it: ".count)),
      ])
    let words = try JSONSerialization.jsonObject(with: Data(split.stdout.utf8)) as? [String]
    #expect(
      words == [
        "ferry", "restore", "start", "--archive", archiveID, "--from", "2026-11-29T00:00:00Z",
        "--to", "2026-11-30T00:00:00Z", "--query", query,
      ], "\(startLine)")

    // The restore, started with the CLI.
    let cli = try await Subprocess.runOffPool(
      TestPaths.ferryExecutable,
      [
        "restore", "start", "--archive", archiveID, "--from", "2026-11-29T00:00:00Z", "--to",
        "2026-11-30T00:00:00Z", "--query", "status:500", "--json",
      ],
      environment: [
        "FERRY_SERVER": server.url, "FERRY_TOKEN": token, "FERRY_CONFIG_DIR": data.path,
      ])
    try #require(cli.status == 0, "\(cli.stderr)")
    let started = try #require(
      try JSONSerialization.jsonObject(with: Data(cli.stdout.utf8)) as? [String: Any])
    let jobID = try #require(started["id"] as? String)
    let done = try await finished(jobID)
    #expect(done["state"] as? String == "succeeded", "\(done)")
    let progress = done["progress"] as? [String: Any] ?? [:]
    #expect(progress["objectsTotal"] as? Int == expected.objects, "\(progress)")
    #expect(progress["objectsFailed"] as? Int == 3, "\(progress)")
    #expect(progress["objectsFrozen"] as? Int == 1, "\(progress)")
    let problems = (done["problems"] as? [[String: Any]] ?? []).map {
      ($0["key"] as? String ?? "", $0["error"] as? String ?? "")
    }
    #expect(problems.contains { $0.0.hasSuffix(deleted) && $0.1.contains("gone") }, "\(problems)")
    #expect(
      problems.contains { $0.0.hasSuffix(corrupt) && $0.1.contains("SHA-256") }, "\(problems)")
    #expect(
      problems.contains { $0.0.contains("hour=07") && $0.1.contains("disagree") }, "\(problems)")

    // Search has exactly the matching events of the undamaged hours, as committed.
    let wanted = originals.values.filter {
      $0.time < Self.dayB && $0.fields["status"] == "500"
        && !["3", "5", "7", "10"].contains($0.fields["hour"] ?? "")
    }
    #expect(progress["eventsRestored"] as? Int == wanted.count, "\(progress)")
    var found: [[String: Any]] = []
    var cursor: String?
    repeat {
      var path =
        "/api/v1/search?q=status:500&from=2026-11-29T00:00:00Z&to=2026-11-30T00:00:00Z&limit=1000"
      if let cursor { path += "&cursor=\(cursor)" }
      let page = try await api.get(path, token: token)
      try #require(page.status == 200, "\(page.text)")
      found += page.json["events"] as? [[String: Any]] ?? []
      cursor = page.json["nextCursor"] as? String
    } while cursor != nil
    #expect(found.count == wanted.count)
    var mismatches: [String] = []
    let format = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    for hit in found {
      let key = "\(hit["sourceKey"] as? String ?? "")@\(hit["sourceOffset"] as? Int ?? -1)"
      guard let original = originals[key] else {
        mismatches.append("unexpected \(key)")
        continue
      }
      let time = (hit["time"] as? String).flatMap { try? Date($0, strategy: format) }
      if hit["message"] as? String != original.message
        || hit["fields"] as? [String: String] != original.fields.dictionary
        || hit["logType"] as? String != original.logType
        || hit["fetcherId"] as? String != original.fetcherID || time != original.time
        || hit["restoredBy"] as? String != jobID
      {
        mismatches.append("\(key): \(hit)")
      }
    }
    #expect(mismatches.isEmpty, "\(mismatches.prefix(3))")

    // With thaw, Ferry asks S3 to restore the Glacier object and reads it once it has (the
    // emulator makes the copy readable at once; S3 takes hours).
    let thawed = try await api.post(
      "/api/v1/restores", token: token,
      [
        "archiveId": archiveID, "from": "2026-11-29T10:00:00Z", "to": "2026-11-29T11:00:00Z",
        "query": "status:500", "thaw": true,
      ])
    try #require(thawed.status == 201, "\(thawed.text)")
    let thawDone = try await finished(try #require(thawed.json["id"] as? String))
    let thawProgress = thawDone["progress"] as? [String: Any] ?? [:]
    #expect(thawDone["state"] as? String == "succeeded", "\(thawDone)")
    #expect(thawProgress["objectsFrozen"] as? Int == 0, "\(thawProgress)")
    #expect(
      thawProgress["eventsRestored"] as? Int
        == originals.values.filter {
          $0.time < Self.dayB && $0.fields["hour"] == "10" && $0.fields["status"] == "500"
        }.count, "\(thawProgress)")

    // Another tenant sees none of it and cannot restore from this account's archive.
    let tenant = try await api.post("/api/v1/accounts", token: token, ["name": "Other tenant"])
    let otherToken = try #require(tenant.json["adminToken"] as? String, "\(tenant.text)")
    #expect(try await api.get("/api/v1/restores/\(jobID)", token: otherToken).status == 404)
    #expect(
      (try await api.get("/api/v1/restores", token: otherToken).json["restores"] as? [Any])?
        .isEmpty == true)
    let stolen = try await api.post("/api/v1/restores", token: otherToken, range)
    #expect(stolen.status == 400 && stolen.text.contains("no archive"), "\(stolen.text)")
    #expect(
      try await api.post("/api/v1/restores/\(jobID)/cancel", token: otherToken, [:]).status == 404)

    // A finished restore cannot be paused or resumed; it can be kept (audited).
    #expect(try await api.post("/api/v1/restores/\(jobID)/pause", token: token, [:]).status == 409)
    #expect(try await api.post("/api/v1/restores/\(jobID)/resume", token: token, [:]).status == 409)
    let kept = try await api.post("/api/v1/restores/\(jobID)/keep", token: token, [:])
    #expect(kept.status == 200 && kept.json["expiresAt"] is NSNull, "\(kept.text)")
    // The customer breaks the role (its trust no longer names Ferry), with enforcement on
    // again (these calls have no key with `=`): the dry run and a new restore end in the
    // step, the cause and the fix.
    let untrusted = try await aws.customerOffPool([
      "iam", "update-assume-role-policy", "--role-name", "ferry-restore-reader",
      "--policy-document",
      #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#,
    ])
    try #require(untrusted.status == 0, "\(untrusted.stderr)")
    try await OffPool.run { try aws.enableEnforcement() }
    let refusedDry = try await api.post(
      "/api/v1/restores", token: token, range.merging(["dryRun": true]) { $1 })
    #expect(refusedDry.status == 502, "\(refusedDry.text)")
    #expect(
      refusedDry.text.contains("could not assume") && refusedDry.text.contains("AccessDenied")
        && refusedDry.text.contains("ferry connection check"), "\(refusedDry.text)")
    let broken = try await api.post("/api/v1/restores", token: token, range)
    try #require(broken.status == 201, "\(broken.text)")
    let brokenDone = try await finished(try #require(broken.json["id"] as? String))
    #expect(brokenDone["state"] as? String == "failed", "\(brokenDone)")
    let why = brokenDone["error"] as? String ?? ""
    #expect(why.contains("could not assume") && why.contains("Fix:"), "\(why)")

    let audit = try await api.get("/api/v1/audit?limit=50", token: token)
    let actions = (audit.json["entries"] as? [[String: Any]] ?? []).compactMap {
      $0["action"] as? String
    }
    #expect(actions.contains("restore.create") && actions.contains("restore.expiry"), "\(actions)")
    #expect(!server.log.contains(token))
    #expect(!server.log.contains(aws.platformSecretKey))

    // After real use (an archive, restores, a failed one), SIGTERM ends the process well
    // within its shutdown grace (10 s by default), with status 0.
    let stopping = server
    let stopStart = clock.now
    let status = try await OffPool.run { stopping.stop(grace: 30) }
    let stopTook = clock.now - stopStart
    #expect(status == 0, "ferry serve exited with \(status) after SIGTERM")
    #expect(stopTook < .seconds(8), "ferry serve took \(stopTook) to stop")
  }
}
