import FerryTesting
import Foundation
import Testing

/// The `ferry` CLI's client commands as a person uses them, against a running server and
/// the emulator with IAM enforcement: log in, read the connection info, get the role
/// policy as a script, run it, connect, see a failure diagnosed, and be refused as a member.
@Suite("ferry CLI against a running server", .serialized)
struct ClientCLITests {
  @Test func aTenantAdminConnectsABucketFromTheCommandLine() async throws {
    let world = try await ConnectFlowTests.world.get()
    let token = try #require(world.server.firstToken)
    let config = try TestPaths.temporaryDirectory("ferry-cli-config")
    let environment = ["FERRY_CONFIG_DIR": config.path, "FERRY_SERVER": "", "FERRY_TOKEN": ""]
    func ferry(_ arguments: [String], env: [String: String] = [:]) async throws
      -> Subprocess.Output
    {
      try await Subprocess.runOffPool(
        TestPaths.ferryExecutable, arguments, environment: environment.merging(env) { $1 })
    }
    let login = try await ferry(["login", world.server.url, "--token", token])
    #expect(login.status == 0, "\(login.stderr)")
    #expect(login.stdout.contains("as admin of the account \"default\""))
    let file = config.appendingPathComponent("login.json").path
    let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
    #expect(mode == 0o600)

    let info = try await ferry(["connection-info"])
    #expect(info.status == 0, "\(info.stderr)")
    #expect(info.stdout.contains("External ID  ferry:aws:extid:"))
    #expect(info.stdout.contains("Account ID   \(world.aws.platformAccountID)"))

    let script = try await ferry([
      "role-policy", "--bucket", world.bucket, "--prefix", world.prefix, "--format", "cli",
    ])
    #expect(script.status == 0, "\(script.stderr)")
    let scriptFile = config.appendingPathComponent("role.sh")
    try ChildProcess.withSpawnLock {
      try script.stdout.write(to: scriptFile, atomically: true, encoding: .utf8)
    }
    let ran = try await Subprocess.runOffPool(
      "bash", [scriptFile.path],
      environment: world.aws.customerEnvironment.merging(["ROLE_NAME": "ferry-cli-fetcher"]) {
        $1
      })
    try #require(ran.status == 0, "\(ran.stderr)")
    let roleARN = "arn:aws:iam::\(world.aws.customerAccount):role/ferry-cli-fetcher"
    // The shared world's account may hold the guide flow's connection for the same place.
    let created = try await ferry([
      "connection", "create", "--bucket", world.bucket, "--prefix", world.prefix, "--role-arn",
      roleARN, "--allow-duplicate",
    ])
    #expect(created.status == 0, "\(created.stdout) \(created.stderr)")
    #expect(created.stdout.contains("Connected: conn_"))
    #expect(created.stdout.contains("ok   Ferry can assume the role with your external ID"))
    let id = try #require(
      created.stdout.split(separator: "\n").first { $0.hasPrefix("Connected: ") }?
        .split(separator: " ").dropFirst().first.map(String.init))

    let listed = try await ferry(["connection", "list", "--json"])
    let json = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any]
    let ids = (json?["connections"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
    #expect(ids?.contains(id) == true)
    #expect(try await ferry(["connection", "check", id]).status == 0)

    // A role that does not let Ferry in: exit 1, the failed step, the cause and the fix.
    let trust =
      #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"sts:AssumeRole"}]}"#
    let made = try await world.aws.customerOffPool([
      "iam", "create-role", "--role-name", "does-not-trust-ferry", "--assume-role-policy-document",
      trust,
    ])
    try #require(made.status == 0, "\(made.stderr)")
    // Without --allow-duplicate, the place that is connected already is named first.
    let twice = try await ferry([
      "connection", "create", "--bucket", world.bucket, "--prefix", world.prefix, "--role-arn",
      "arn:aws:iam::\(world.aws.customerAccount):role/does-not-trust-ferry",
    ])
    #expect(twice.status == 2, "\(twice.stdout) \(twice.stderr)")
    #expect(twice.stderr.contains("--allow-duplicate"), "\(twice.stderr)")
    let broken = try await ferry([
      "connection", "create", "--bucket", world.bucket, "--prefix", world.prefix, "--role-arn",
      "arn:aws:iam::\(world.aws.customerAccount):role/does-not-trust-ferry", "--allow-duplicate",
    ])
    #expect(broken.status == 1, "\(broken.stdout) \(broken.stderr)")
    #expect(broken.stdout.contains("Nothing was saved"))
    #expect(broken.stdout.contains("FAIL"))
    #expect(broken.stdout.contains("Fix:"))

    // A member may read but not delete: exit 4.
    let issued = try await ferry(["token", "create", "--name", "cli-reader", "--role", "member"])
    #expect(issued.status == 0, "\(issued.stderr)")
    let member = try #require(
      issued.stdout.split(separator: "\n").first { $0.hasPrefix("fry_") }.map(String.init))
    let refused = try await ferry(["connection", "delete", id, "--token", member])
    #expect(refused.status == 4, "\(refused.stderr)")
    #expect(refused.stderr.contains("admin"))
    #expect(try await ferry(["connection", "show", id, "--token", member]).status == 0)

    let audit = try await ferry(["audit"])
    #expect(audit.stdout.contains("connection.add"))
    #expect(audit.stdout.contains(id))

    // An operator manages accounts over the API too.
    let name = "initech-\(UUID().uuidString.prefix(6).lowercased())"
    let account = try await ferry(["account", "create", name, "--api"])
    #expect(account.status == 0, "\(account.stderr)")
    #expect(account.stdout.contains("Its first admin's token, shown only now"))
    #expect(try await ferry(["account", "list", "--api"]).stdout.contains(name))
    #expect(
      try await ferry(["account", "list", "--api"], env: ["FERRY_TOKEN": member]).status == 4)

    // No server there: exit 3, and it says so.
    let away = try await ferry(["connection", "list", "--server", "http://127.0.0.1:9"])
    #expect(away.status == 3)
    #expect(away.stderr.contains("cannot reach the server"))
  }
}
