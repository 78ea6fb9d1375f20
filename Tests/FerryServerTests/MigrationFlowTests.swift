import Crypto
import FerryCore
import FerryTesting
import Foundation
import Testing

/// Migration to the generated external ID end to end, against the AWS emulator with IAM
/// enforcement on (moto checks the trust policy's principal and a wrong `sts:ExternalId`).
/// The customer's side is done with the AWS CLI running exactly the scripts Ferry's plan
/// gives; what Ferry ingested is checked against the generator's manifest (count and
/// SHA-256, computed by boto3's writer, not by Ferry).
@Suite(
  "ferry serve: migration to the generated external ID (emulator with IAM enforcement)", .serialized
)
struct MigrationFlowTests {
  /// A customer role trusting Ferry's platform user when it presents one of `externalIDs`,
  /// allowed to list and read `bucket`.
  static func makeRole(
    _ aws: EnforcedAWS, name: String, externalIDs: [String], bucket: String
  ) async throws -> String {
    let trust = try JSONSerialization.data(
      withJSONObject: [
        "Version": "2012-10-17",
        "Statement": [
          [
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": ["AWS": aws.platformUserARN],
            "Condition": ["StringEquals": ["sts:ExternalId": externalIDs]],
          ]
        ],
      ])
    let made = try await aws.customerOffPool([
      "iam", "create-role", "--role-name", name, "--assume-role-policy-document",
      String(decoding: trust, as: UTF8.self),
    ])
    try #require(made.status == 0, "\(made.stderr)")
    let read = """
      {"Version":"2012-10-17","Statement":[
       {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::\(bucket)"},
       {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::\(bucket)/*"}]}
      """
    let attached = try await aws.customerOffPool([
      "iam", "put-role-policy", "--role-name", name, "--policy-name", "read",
      "--policy-document", read,
    ])
    try #require(attached.status == 0, "\(attached.stderr)")
    return "arn:aws:iam::\(aws.customerAccount):role/\(name)"
  }

  /// Runs a script of Ferry's plan as the customer, with the AWS CLI, in a folder of its
  /// own (the scripts write their policy files next to them).
  static func runAsCustomer(_ aws: EnforcedAWS, _ script: String) async throws {
    let folder = try TestPaths.temporaryDirectory("ferry-migrate-step")
    let file = folder.appendingPathComponent("step.sh")
    try ChildProcess.withSpawnLock {
      try ("cd \"$(dirname \"$0\")\"\nset -e\n" + script).write(
        to: file, atomically: true, encoding: .utf8)
    }
    let ran = try await Subprocess.runOffPool(
      "bash", [file.path], environment: aws.customerEnvironment)
    try #require(ran.status == 0, "the plan's script failed: \(ran.stderr)\n\(script)")
  }

  static func externalIDs(of policy: Any?) -> [String] {
    let statements = (policy as? [String: Any])?["Statement"] as? [[String: Any]] ?? []
    let condition = statements.first?["Condition"] as? [String: Any]
    let value = (condition?["StringEquals"] as? [String: Any])?["sts:ExternalId"]
    if let one = value as? String { return [one] }
    return value as? [String] ?? []
  }

  static func bucket(_ aws: EnforcedAWS, _ name: String) async throws {
    let made = try await aws.customerOffPool(["s3api", "create-bucket", "--bucket", name])
    try #require(made.status == 0, "\(made.stderr)")
  }

  static func serverArguments(_ aws: EnforcedAWS, data: URL) -> [String] {
    ConnectWorld.serverArguments(aws) + [
      "--data-dir", data.path, "--ingest-interval", "1s", "--ingest-lease", "5s",
      "--full-list-interval", "5s", "--ingest-chunk-events", "100",
    ]
  }

  @Test func oneAccountsRoleMovesThroughTheTransitionPolicyWhileItsFetcherIngests() async throws {
    let aws = try await OffPool.run { try EnforcedAWS.start() }
    defer { aws.stop() }
    let bucket = "mig-\(UUID().uuidString.prefix(8).lowercased())"
    try await Self.bucket(aws, bucket)
    let objects = 80
    let made = try await Subprocess.runOffPool(
      "python3",
      [
        FetcherFlowTests.generator.path, aws.emulator.url.absoluteString, bucket, "\(objects)",
        "1000",
      ],
      environment: aws.customerEnvironment)
    try #require(made.status == 0, "the generator failed: \(made.stderr)")
    let manifest = try JSONDecoder().decode(
      FetcherFlowTests.Manifest.self, from: Data(made.stdout.utf8))
    let data = try TestPaths.temporaryDirectory("ferry-migrate-data")
    let server = try await ServerProcess.start(
      arguments: Self.serverArguments(aws, data: data), environment: aws.platformEnvironment)
    defer { server.stop() }
    let operatorToken = try #require(server.firstToken)
    let api = API(server.url)
    let generated = try #require(
      try await api.get("/api/v1/connection-info", token: operatorToken).json["externalId"]
        as? String)

    // The customer's role from before: it trusts Ferry with an ID the customer chose.
    let legacyID = "acme-logs-2019"
    let role = try await Self.makeRole(
      aws, name: "ferry-legacy-reader", externalIDs: [legacyID], bucket: bucket)

    // Only an operator imports a legacy configuration, and only with a legacy ID.
    let other = try await api.post("/api/v1/accounts", token: operatorToken, ["name": "other"])
    try #require(other.status == 201, "\(other.text)")
    let otherAdmin = try #require(other.json["adminToken"] as? String)
    let accountID =
      try #require(
        try await api.get("/api/v1/me", token: operatorToken).json["account"] as? [String: Any])[
        "id"]
      as? String
    let importPath = "/api/v1/accounts/\(try #require(accountID))/legacy-connections"
    let legacyBody: [String: Any] = [
      "purpose": "fetcher", "bucket": bucket, "region": "us-east-1", "prefix": "app",
      "roleArn": role, "externalId": legacyID,
    ]
    #expect(try await api.post(importPath, token: otherAdmin, legacyBody).status == 403)
    var generatedAsLegacy = legacyBody
    generatedAsLegacy["externalId"] = generated
    let refused = try await api.post(importPath, token: operatorToken, generatedAsLegacy)
    #expect(refused.status == 400)
    #expect(refused.json["field"] as? String == "externalId")
    var chosen = legacyBody
    chosen.removeValue(forKey: "externalId")
    chosen["externalId"] = legacyID
    let viaConnect = try await api.post("/api/v1/connections", token: operatorToken, chosen)
    #expect(viaConnect.status == 400, "a new connection never takes a chosen ID")
    let imported = try await api.post(importPath, token: operatorToken, legacyBody)
    try #require(imported.status == 201, "\(imported.text)")
    #expect(imported.json["legacyExternalId"] as? Bool == true)
    #expect(imported.json["externalId"] as? String == legacyID)
    let connectionID = try #require(imported.json["id"] as? String)

    let created = try await api.post(
      "/api/v1/fetchers", token: operatorToken,
      ["connectionId": connectionID, "name": "app-logs", "logType": "auto"])
    try #require(created.status == 201, "\(created.text)")
    let fetcherID = try #require(created.json["id"] as? String)
    func status() async throws -> [String: Any] {
      let shown = try await api.get("/api/v1/fetchers/\(fetcherID)", token: operatorToken)
      return shown.json["status"] as? [String: Any] ?? [:]
    }

    // Inventory and plan: one account on the role, so the same role, through a transition
    // trust policy that accepts both IDs.
    let inventory = try await api.get("/api/v1/migration/inventory", token: operatorToken)
    try #require(inventory.status == 200, "\(inventory.text)")
    let roles = inventory.json["roles"] as? [[String: Any]] ?? []
    #expect(roles.count == 1)
    #expect(roles.first?["roleArn"] as? String == role)
    #expect(roles.first?["legacyExternalIds"] as? [String] == [legacyID])
    #expect(roles.first?["accountsUsingRole"] as? Int == 1)
    let configurations = roles.first?["configurations"] as? [[String: Any]] ?? []
    #expect(configurations.map { $0["name"] as? String } == ["app-logs"])
    let plans = try await api.get("/api/v1/migration/plan", token: operatorToken)
    let plan = try #require((plans.json["plans"] as? [[String: Any]])?.first, "\(plans.text)")
    #expect(plan["procedure"] as? String == "same-role")
    let steps = plan["steps"] as? [[String: Any]] ?? []
    try #require(steps.count == 4, "\(steps)")
    #expect(Set(Self.externalIDs(of: steps[0]["policy"])) == [legacyID, generated])
    #expect(
      (steps[1]["ferryCommand"] as? String)?.contains("ferry migrate apply --role \(role)") == true)
    #expect(Self.externalIDs(of: steps[2]["policy"]) == [generated])

    // Before the customer's first step, the role refuses the generated ID: nothing switches.
    let early = try await api.post(
      "/api/v1/migration/apply", token: operatorToken, ["roleArn": role])
    #expect(early.status == 422, "\(early.text)")
    #expect(early.json["type"] as? String == "https://ferry.dev/problems/migration-check-failed")
    #expect((early.json["fix"] as? String)?.contains("transition trust policy") == true)
    let still = try await api.get("/api/v1/connections/\(connectionID)", token: operatorToken)
    #expect(still.json["legacyExternalId"] as? Bool == true)

    // Step 1 in AWS, with the plan's own AWS CLI script; then the switch, mid-ingest.
    try await Self.runAsCustomer(aws, try #require(steps[0]["awsCli"] as? String))
    try await eventually("the fetcher is ingesting", seconds: 120) {
      (try await status()["objectsIngested"] as? Int ?? 0) >= 3
    }
    let applied = try await api.post(
      "/api/v1/migration/apply", token: operatorToken, ["roleArn": role])
    try #require(applied.status == 200, "\(applied.text)")
    let atSwitch = try await status()
    let doneAtSwitch =
      (atSwitch["objectsIngested"] as? Int ?? 0) + (atSwitch["objectsFailed"] as? Int ?? 0)
    #expect(doneAtSwitch < objects + 11, "the switch came in the middle of the ingest")
    let migration = applied.json["migration"] as? [String: Any] ?? [:]
    #expect(migration["procedure"] as? String == "same-role")
    #expect(migration["state"] as? String == "switched")
    let next = applied.json["nextSteps"] as? [[String: Any]] ?? []
    #expect(Self.externalIDs(of: next.first?["policy"]) == [generated])
    let switched = try await api.get("/api/v1/connections/\(connectionID)", token: operatorToken)
    #expect(switched.json["legacyExternalId"] as? Bool == false)
    #expect(switched.json["externalId"] as? String == generated)
    #expect(switched.json["roleArn"] as? String == role)

    // The role still takes the legacy ID until the final policy: status says so.
    let halfway = try await api.post("/api/v1/migration/check", token: operatorToken, [:])
    try #require(halfway.status == 200, "\(halfway.text)")
    let entry = (halfway.json["migrations"] as? [[String: Any]])?.first ?? [:]
    #expect(entry["legacyStillAccepted"] as? Bool == true, "\(halfway.text)")
    #expect((halfway.json["broken"] as? [Any])?.isEmpty == true, "\(halfway.text)")

    // Step 3 in AWS; then Ferry sees the legacy ID refused and the migration finished.
    try await Self.runAsCustomer(aws, try #require(next.first?["awsCli"] as? String))
    let after = try await api.post("/api/v1/migration/check", token: operatorToken, [:])
    let finished = (after.json["migrations"] as? [[String: Any]])?.first ?? [:]
    #expect(finished["legacyStillAccepted"] as? Bool == false, "\(after.text)")
    #expect((finished["migration"] as? [String: Any])?["state"] as? String == "finished")
    #expect((after.json["broken"] as? [Any])?.isEmpty == true, "\(after.text)")
    #expect(after.json["checked"] as? Int == 1)
    // GET /api/v1/migration/status only reads: no check runs (the connections' last checks
    // keep their times), no audit entry, and it shows what the last check found.
    func checkTimes() async throws -> [String] {
      let listed = try await api.get("/api/v1/connections", token: operatorToken)
      return (listed.json["connections"] as? [[String: Any]] ?? []).map {
        (($0["lastCheck"] as? [String: Any])?["checkedAt"] as? String) ?? "-"
      }
    }
    let checkedBefore = try await checkTimes()
    let auditBefore = try await api.get("/api/v1/audit?limit=200", token: operatorToken).text
    try await Task.sleep(for: .milliseconds(1100))  // a check now would have a later time
    let read = try await api.get("/api/v1/migration/status", token: operatorToken)
    #expect(read.status == 200, "\(read.text)")
    #expect(try await checkTimes() == checkedBefore, "GET status checks nothing")
    #expect(try await api.get("/api/v1/audit?limit=200", token: operatorToken).text == auditBefore)
    let readEntry = (read.json["migrations"] as? [[String: Any]])?.first ?? [:]
    #expect((readEntry["migration"] as? [String: Any])?["state"] as? String == "finished")
    #expect((read.json["broken"] as? [Any])?.isEmpty == true && read.json["checked"] as? Int == 1)

    // Every event exactly once across the switch: count and digest against the manifest.
    let total = objects + 5 + 1 + 1 + 4
    try await eventually("every object is ingested or failed", seconds: 240) {
      let s = try await status()
      return (s["objectsIngested"] as? Int ?? 0) + (s["objectsFailed"] as? Int ?? 0) >= total
        && (s["objectsPending"] as? Int ?? 1) == 0
    }
    let events = try await FetcherFlowTests().allEvents(api, operatorToken)
    let good = events.filter {
      let key = $0["sourceKey"] as? String ?? ""
      return !key.hasPrefix("app/bad/") && !key.hasPrefix("app/long/")
    }
    let messages = good.compactMap { $0["message"] as? String }
    #expect(messages.count == manifest.count, "\(messages.count) stored, \(manifest.count) written")
    #expect(FetcherFlowTests().digest(messages) == manifest.sha256)

    // The CLI tells the same; the audit log has the switch.
    let cli = try await Subprocess.runOffPool(
      TestPaths.ferryExecutable, ["migrate", "inventory"],
      environment: [
        "FERRY_SERVER": server.url, "FERRY_TOKEN": operatorToken, "FERRY_CONFIG_DIR": data.path,
      ])
    #expect(cli.status == 0, "\(cli.stderr)")
    #expect(cli.stdout.contains(role) && cli.stdout.contains("(generated)"), "\(cli.stdout)")
    #expect(!cli.stdout.contains("[legacy external ID]"), "\(cli.stdout)")
    let audit = try await api.get("/api/v1/audit", token: operatorToken)
    let actions = (audit.json["entries"] as? [[String: Any]] ?? []).compactMap {
      $0["action"] as? String
    }
    #expect(actions.contains("connection.migrate"), "\(actions)")
    #expect(!server.log.contains(aws.platformSecretKey))
    #expect(!api.everything.contains(aws.platformSecretKey))
  }

  @Test func aSharedRoleGivesEachAccountItsOwnAndATooEarlyChangeIsListed() async throws {
    let aws = try await OffPool.run { try EnforcedAWS.start() }
    defer { aws.stop() }
    let bucket = "shared-\(UUID().uuidString.prefix(8).lowercased())"
    try await Self.bucket(aws, bucket)
    let sample = try TestPaths.temporaryDirectory("ferry-migrate-sample")
      .appendingPathComponent("app-1.log")
    try ChildProcess.withSpawnLock {
      try "2026-12-01T00:00:00Z hello\n".write(to: sample, atomically: true, encoding: .utf8)
    }
    let put = try await aws.customerOffPool([
      "s3api", "put-object", "--bucket", bucket, "--key", "app-1.log", "--body", sample.path,
    ])
    try #require(put.status == 0, "\(put.stderr)")
    let data = try TestPaths.temporaryDirectory("ferry-migrate-shared")
    let server = try await ServerProcess.start(
      arguments: Self.serverArguments(aws, data: data), environment: aws.platformEnvironment)
    defer { server.stop() }
    let operatorToken = try #require(server.firstToken)
    let api = API(server.url)
    func me(_ token: String) async throws -> [String: Any] {
      try await api.get("/api/v1/me", token: token).json["account"] as? [String: Any] ?? [:]
    }
    let alpha = try await me(operatorToken)
    let alphaID = try #require(alpha["externalId"] as? String)
    let made = try await api.post("/api/v1/accounts", token: operatorToken, ["name": "beta"])
    try #require(made.status == 201, "\(made.text)")
    let beta = try #require(made.json["adminToken"] as? String)
    let betaID = try #require(made.json["externalId"] as? String)

    // One role, one legacy ID, used by two Ferry accounts.
    let legacyID = "shared-team-id"
    let shared = try await Self.makeRole(
      aws, name: "ferry-shared", externalIDs: [legacyID], bucket: bucket)
    var legacy: [String: String] = [:]
    // Alpha's over the API, beta's with the CLI, both by the operator.
    let imported = try await api.post(
      "/api/v1/accounts/\(try #require(alpha["id"] as? String))/legacy-connections",
      token: operatorToken,
      [
        "purpose": "fetcher", "bucket": bucket, "region": "us-east-1", "prefix": "app",
        "roleArn": shared, "externalId": legacyID,
      ])
    try #require(imported.status == 201, "\(imported.text)")
    legacy["alpha"] = imported.json["id"] as? String
    let operatorCLI = [
      "FERRY_SERVER": server.url, "FERRY_TOKEN": operatorToken, "FERRY_CONFIG_DIR": data.path,
    ]
    let betaAccount = try #require(made.json["id"] as? String)
    let cliImport = try await Subprocess.runOffPool(
      TestPaths.ferryExecutable,
      [
        "account", "import-legacy", betaAccount, "--bucket", bucket, "--prefix", "app",
        "--role-arn", shared, "--external-id", legacyID, "--json",
      ], environment: operatorCLI)
    try #require(cliImport.status == 0, "\(cliImport.stdout)\(cliImport.stderr)")
    let cliAnswer =
      try JSONSerialization.jsonObject(with: Data(cliImport.stdout.utf8)) as? [String: Any]
    #expect(cliAnswer?["legacyExternalId"] as? Bool == true)
    legacy["beta"] = cliAnswer?["id"] as? String
    // An ID that fails the rules is refused before anything is asked of AWS.
    let badID = try await Subprocess.runOffPool(
      TestPaths.ferryExecutable,
      [
        "account", "import-legacy", betaAccount, "--bucket", bucket, "--role-arn", shared,
        "--external-id", "x",
      ], environment: operatorCLI)
    #expect(badID.status == 2, "\(badID.stdout)\(badID.stderr)")
    #expect(badID.stderr.contains("externalId"), "\(badID.stderr)")
    let betaFetcher = try await api.post(
      "/api/v1/fetchers", token: beta,
      ["connectionId": try #require(legacy["beta"]), "name": "beta-app", "logType": "auto"])
    try #require(betaFetcher.status == 201, "\(betaFetcher.text)")

    // Alpha's plan: a new role of its own, since the role is shared.
    let inventory = try await api.get("/api/v1/migration/inventory", token: operatorToken)
    #expect(
      (inventory.json["roles"] as? [[String: Any]])?.first?["accountsUsingRole"] as? Int == 2)
    let plans = try await api.get("/api/v1/migration/plan", token: operatorToken)
    let plan = try #require((plans.json["plans"] as? [[String: Any]])?.first, "\(plans.text)")
    #expect(plan["procedure"] as? String == "new-role")
    let newName = try #require(plan["newRoleName"] as? String)
    let steps = plan["steps"] as? [[String: Any]] ?? []
    try #require(steps.count == 3, "\(steps)")
    #expect(Self.externalIDs(of: steps[0]["policy"]) == [alphaID])

    // Without the new role the switch is refused with the reason; a member may not switch.
    let noNewRole = try await api.post(
      "/api/v1/migration/apply", token: operatorToken, ["roleArn": shared])
    #expect(noNewRole.status == 400, "\(noNewRole.text)")
    #expect((noNewRole.json["fix"] as? String)?.contains("newRoleArn") == true)
    let member = try await api.post(
      "/api/v1/tokens", token: operatorToken, ["name": "reader", "role": "member"])
    let memberToken = try #require(member.json["secret"] as? String)
    #expect(try await api.get("/api/v1/migration/plan", token: memberToken).status == 403)
    #expect(
      try await api.post("/api/v1/migration/apply", token: memberToken, ["roleArn": shared]).status
        == 403)

    // The customer creates alpha's role with the plan's script; Ferry switches to it.
    try await Self.runAsCustomer(aws, try #require(steps[0]["awsCli"] as? String))
    let newRole = "arn:aws:iam::\(aws.customerAccount):role/\(newName)"
    let applied = try await api.post(
      "/api/v1/migration/apply", token: operatorToken,
      ["roleArn": shared, "newRoleArn": newRole])
    try #require(applied.status == 200, "\(applied.text)")
    let migration = applied.json["migration"] as? [String: Any] ?? [:]
    #expect(migration["procedure"] as? String == "new-role")
    #expect(migration["newRoleArn"] as? String == newRole)
    let moved = try await api.get(
      "/api/v1/connections/\(try #require(legacy["alpha"]))", token: operatorToken)
    #expect(moved.json["roleArn"] as? String == newRole)
    #expect(moved.json["externalId"] as? String == alphaID)

    // Beta still uses the shared role with the legacy ID, now alone on it: same role.
    let betaPlan = try await api.get("/api/v1/migration/plan", token: beta)
    let betaSteps =
      (betaPlan.json["plans"] as? [[String: Any]])?.first?["steps"] as? [[String: Any]] ?? []
    try #require(betaSteps.count == 4, "\(betaPlan.text)")
    // Beta also has a role of its own on the generated ID, which keeps working.
    let own = try await Self.makeRole(aws, name: "beta-own", externalIDs: [betaID], bucket: bucket)
    // A second connection for the same place, asked for: the legacy one stays until the
    // migration is done.
    let connected = try await api.post(
      "/api/v1/connections", token: beta,
      [
        "purpose": "fetcher", "bucket": bucket, "region": "us-east-1", "prefix": "app",
        "roleArn": own, "allowDuplicate": true,
      ])
    try #require(connected.status == 201, "\(connected.text)")

    // The customer applies the final trust policy too early (skipping the transition).
    try await Self.runAsCustomer(aws, try #require(betaSteps[2]["awsCli"] as? String))
    let betaStatus = try await api.post("/api/v1/migration/check", token: beta, [:])
    try #require(betaStatus.status == 200, "\(betaStatus.text)")
    #expect(betaStatus.json["checked"] as? Int == 2)
    let broken = betaStatus.json["broken"] as? [[String: Any]] ?? []
    #expect(
      broken.compactMap { ($0["connection"] as? [String: Any])?["id"] as? String }
        == [legacy["beta"]], "exactly the configuration on the changed role: \(betaStatus.text)")
    let first = broken.first ?? [:]
    #expect(
      (first["diagnosis"] as? [String: Any])?["code"] as? String == "legacy-external-id-refused")
    #expect(
      (first["configurations"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        == ["beta-app"])
    #expect((first["fix"] as? String)?.contains("ferry migrate apply --role \(shared)") == true)
    // Alpha, on its own role, is not affected.
    let alphaStatus = try await api.post("/api/v1/migration/check", token: operatorToken, [:])
    #expect((alphaStatus.json["broken"] as? [Any])?.isEmpty == true, "\(alphaStatus.text)")

    // Beta's admin follows the fix with the CLI: the status lists the broken one (exit 1),
    // the switch mends it, and the status is clean and finished.
    let environment = [
      "FERRY_SERVER": server.url, "FERRY_TOKEN": beta, "FERRY_CONFIG_DIR": data.path,
    ]
    let listed = try await Subprocess.runOffPool(
      TestPaths.ferryExecutable, ["migrate", "status"], environment: environment)
    #expect(listed.status == 1, "\(listed.stdout)\(listed.stderr)")
    #expect(listed.stdout.contains("1 of 2 configurations fail"), "\(listed.stdout)")
    #expect(listed.stdout.contains("ferry migrate apply --role \(shared)"), "\(listed.stdout)")
    let fixed = try await Subprocess.runOffPool(
      TestPaths.ferryExecutable, ["migrate", "apply", "--role", shared], environment: environment)
    #expect(fixed.status == 0, "\(fixed.stdout)\(fixed.stderr)")
    #expect(fixed.stdout.contains("Switched 1 configuration"), "\(fixed.stdout)")
    let clean = try await Subprocess.runOffPool(
      TestPaths.ferryExecutable, ["migrate", "status"], environment: environment)
    #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
    #expect(clean.stdout.contains("All 2 configurations work"), "\(clean.stdout)")
    #expect(clean.stdout.contains(": finished"), "\(clean.stdout)")
  }
}
