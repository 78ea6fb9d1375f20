import FerryTesting
import Foundation
import Testing

/// `ferry serve` as a process, driven over real HTTP, against the AWS emulator with IAM
/// enforcement on: the guide's "+ Add a bucket → Authenticate with a role" flow, end to
/// end, on SQLite and on PostgreSQL. The customer creates the role by running the very
/// AWS CLI script Ferry generated.
@Suite("ferry serve: connect a bucket (emulator with IAM enforcement)", .serialized)
struct ConnectFlowTests {
  static let world = Shared { try ConnectWorld.make() }

  @Test func theGuidesFlowWorksEndToEndOnSQLite() async throws {
    let world = try await Self.world.get()
    try await Self.runFlow(world: world, server: world.server, roleName: "ferry-s3-fetcher")
  }

  @Test func theGuidesFlowWorksEndToEndOnPostgreSQL() async throws {
    let world = try await Self.world.get()
    let postgres = try await ThrowawayPostgres.shared()
    let database = try await postgres.createDatabase()
    let data = try TestPaths.temporaryDirectory("ferry-pg-serve")
    let urlFile = data.appendingPathComponent("database-url")
    try database.write(to: urlFile, atomically: true, encoding: .utf8)
    let server = try await ServerProcess.start(
      arguments: world.serverArguments + ["--database-url-file", urlFile.path],
      environment: world.aws.platformEnvironment)
    defer { server.stop() }
    try await Self.runFlow(world: world, server: server, roleName: "ferry-pg-fetcher")
  }

  /// Connection info → role policy → the generated script, run as the customer → connect →
  /// success, every step passed; then the connection is listed, re-checked and audited.
  static func runFlow(world: ConnectWorld, server: ServerProcess, roleName: String) async throws {
    let api = API(server.url)
    let token = try #require(server.firstToken, "the first start prints the admin's token")
    let info = try await api.get("/api/v1/connection-info", token: token)
    #expect(info.status == 200)
    #expect(info.json["awsAccountId"] as? String == world.aws.platformAccountID)
    #expect(info.json["principalArn"] as? String == world.aws.platformUserARN)
    let externalID = try #require(info.json["externalId"] as? String)
    // At least 128 bits from 36 symbols: 25 characters or more after the prefix.
    let random = externalID.replacingOccurrences(of: "ferry:aws:extid:", with: "")
    #expect(Double(random.count) * log2(36) >= 128, "\(externalID)")

    let policy = try await api.post(
      "/api/v1/role-policy", token: token,
      ["bucket": world.bucket, "prefix": world.prefix, "purpose": "fetcher", "region": "us-east-1"])
    #expect(policy.status == 200, "\(policy.text)")
    let script = try #require(policy.json["awsCliScript"] as? String)
    #expect(script.contains(externalID))
    let scriptFile = try TestPaths.temporaryDirectory("ferry-script").appendingPathComponent(
      "create-role.sh")
    try ChildProcess.withSpawnLock {
      try script.write(to: scriptFile, atomically: true, encoding: .utf8)
    }
    let ran = try await Subprocess.runOffPool(
      "bash", [scriptFile.path],
      environment: world.aws.customerEnvironment.merging(["ROLE_NAME": roleName]) { $1 })
    try #require(ran.status == 0, "the generated script failed: \(ran.stderr)")

    let roleARN = "arn:aws:iam::\(world.aws.customerAccount):role/\(roleName)"
    // The shared world's account may hold another test's connection for the same place
    // (the CLI's): this one is added anyway, as a second role for it.
    let created = try await api.post(
      "/api/v1/connections", token: token,
      [
        "purpose": "fetcher", "bucket": world.bucket, "region": "us-east-1",
        "prefix": world.prefix, "roleArn": roleARN, "allowDuplicate": true,
      ])
    #expect(created.status == 201, "\(created.text)")
    #expect(created.json["state"] as? String == "ok")
    #expect(created.json["externalId"] as? String == externalID)
    // The same bucket and prefix again would ingest every object twice: refused, naming
    // the first connection.
    let again = try await api.post(
      "/api/v1/connections", token: token,
      [
        "purpose": "fetcher", "bucket": world.bucket, "region": "us-east-1",
        "prefix": world.prefix, "roleArn": roleARN,
      ])
    #expect(again.status == 409, "\(again.text)")
    let existing = try await api.get("/api/v1/connections", token: token).json["connections"]
    let ids = (existing as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    #expect(ids.contains(again.json["existingId"] as? String ?? "-"), "\(again.text)")
    #expect((again.json["fix"] as? String)?.contains("allowDuplicate") == true)
    let check = try #require(created.json["lastCheck"] as? [String: Any])
    let steps = try #require(check["steps"] as? [[String: Any]])
    let status = Dictionary(
      uniqueKeysWithValues: steps.map {
        ($0["name"] as? String ?? "", $0["status"] as? String ?? "")
      })
    for step in ["validate-role", "assume-role", "external-id-required", "list", "read"] {
      #expect(status[step] == "passed", "\(step): \(steps)")
    }
    let id = try #require(created.json["id"] as? String)
    #expect(created.header("Location") == "/api/v1/connections/\(id)")

    let listed = try await api.get("/api/v1/connections", token: token)
    let connections = try #require(listed.json["connections"] as? [[String: Any]])
    #expect(connections.contains { $0["id"] as? String == id })
    let rechecked = try await api.call(.POST, "/api/v1/connections/\(id)/check", token: token)
    #expect(rechecked.status == 200, "\(rechecked.text)")
    #expect(rechecked.json["succeeded"] as? Bool == true)

    let audit = try await api.get("/api/v1/audit", token: token)
    let entries = try #require(audit.json["entries"] as? [[String: Any]])
    let add = try #require(
      entries.first {
        $0["action"] as? String == "connection.add" && $0["target"] as? String == id
      })
    #expect((add["actor"] as? String)?.contains("first-admin") == true)
    #expect(add["after"] is [String: Any])

    // No secret in any response or in the server's log.
    let secrets = [
      world.aws.platformSecretKey, world.aws.customerEnvironment["AWS_SECRET_ACCESS_KEY"] ?? "-",
    ]
    for secret in secrets {
      #expect(!api.everything.contains(secret))
      #expect(!server.log.contains(secret))
    }
    #expect(!server.log.contains(token), "the token must not be logged")
  }
}

/// The emulator with enforcement on, a customer bucket with one log object, and one
/// server on SQLite, shared by the suites of this file.
struct ConnectWorld: Sendable {
  let aws: EnforcedAWS
  let server: ServerProcess
  let bucket: String
  /// A prefix without `/`: moto, with enforcement on, mis-signs listings whose prefix has
  /// one (DESIGN.md's test-bed facts).
  let prefix = "app"

  var serverArguments: [String] { Self.serverArguments(aws) }

  static func serverArguments(_ aws: EnforcedAWS) -> [String] {
    [
      "--aws-endpoint", aws.emulator.url.absoluteString, "--platform-account-id",
      aws.platformAccountID, "--platform-principal-arn",
      aws.platformUserARN, "--recheck-interval", "off", "--log-format", "json",
      "--checks-per-minute", "1000",
      // The flows' logs are from 2024: the account's 30-day retention would sweep them.
      "--retention-interval", "off",
    ]
  }

  static func make() throws -> ConnectWorld {
    let aws = try EnforcedAWS.start()
    let bucket = "cust-logs-\(UUID().uuidString.prefix(8).lowercased())"
    for arguments in [
      ["s3api", "create-bucket", "--bucket", bucket],
      ["s3api", "create-bucket", "--bucket", bucket + "-deny"],
    ] {
      let out = try aws.customer(arguments)
      guard out.status == 0 else { throw TestSetupError("\(arguments): \(out.stderr)") }
    }
    let sample = try TestPaths.temporaryDirectory("ferry-sample").appendingPathComponent("a.json")
    try Data(#"{"level":"info","msg":"hello"}"#.utf8).write(to: sample)
    for target in [bucket, bucket + "-deny"] {
      let put = try aws.customer([
        "s3api", "put-object", "--bucket", target, "--key", "app-2026-12-01.json", "--body",
        sample.path,
      ])
      guard put.status == 0 else { throw TestSetupError("put-object: \(put.stderr)") }
    }
    let data = try TestPaths.temporaryDirectory("ferry-serve-data")
    let server = try ServerProcess(
      arguments: serverArguments(aws) + ["--data-dir", data.path],
      environment: aws.platformEnvironment)
    return ConnectWorld(aws: aws, server: server, bucket: bucket)
  }
}
