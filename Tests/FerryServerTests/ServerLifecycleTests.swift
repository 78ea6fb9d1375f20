import FerryTesting
import Foundation
import Testing

/// `ferry serve` as an operator runs it: the first start creates the first account and
/// prints its token once; settings come from flags, then FERRY_* variables, then the
/// config file; SIGTERM stops it cleanly; the background schedule flags a connection that
/// starts failing; checks are limited per account.
@Suite("ferry serve: first start, settings, shutdown, re-checks", .serialized)
struct ServerLifecycleTests {
  static let quiet = [
    "AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
  ]

  @Test func theFirstStartPrintsTheTokenOnceAndLaterStartsNever() async throws {
    let data = try TestPaths.temporaryDirectory("ferry-first")
    let arguments = [
      "--data-dir", data.path, "--platform-account-id", "111122223333", "--recheck-interval", "off",
    ]
    let first = try await ServerProcess.start(arguments: arguments, environment: Self.quiet)
    let token = try #require(first.firstToken)
    #expect(first.stdout.contains("created the account \"default\""))
    #expect(first.stop() == 0, "SIGTERM ends the server cleanly")
    #expect(!first.log.contains(token), "the token is printed to the operator, never logged")
    let second = try await ServerProcess.start(arguments: arguments, environment: Self.quiet)
    defer { second.stop() }
    #expect(second.firstToken == nil)
    #expect(!second.stdout.contains("fry_"))
  }

  /// `--metrics-token` (set through FERRY_METRICS_TOKEN) guards /metrics and is never
  /// logged; `--secure-cookies on` marks the web UI's cookies Secure even over plain HTTP
  /// (a TLS proxy in front), while the default follows the request.
  @Test func theMetricsTokenGuardsMetricsAndCookiesCanBeMarkedSecure() async throws {
    let secret = "metrics-" + UUID().uuidString
    let data = try TestPaths.temporaryDirectory("ferry-metrics")
    let guarded = try await ServerProcess.start(
      arguments: [
        "--data-dir", data.path, "--platform-account-id", "111122223333", "--recheck-interval",
        "off", "--secure-cookies", "on",
      ], environment: Self.quiet.merging(["FERRY_METRICS_TOKEN": secret]) { $1 })
    var api = API(guarded.url)
    let open = try await api.get("/metrics", token: nil)
    #expect(open.status == 401 && open.text.contains("metrics token"), "\(open.text)")
    #expect(try await api.get("/metrics", token: "not-" + secret).status == 401)
    #expect(
      try await api.get("/metrics", token: guarded.firstToken).status == 401,
      "an API token is not it")
    let allowed = try await api.get("/metrics", token: secret)
    #expect(allowed.status == 200 && allowed.text.contains("# TYPE"), "\(allowed.text.prefix(300))")
    let signIn = try await api.get("/sign-in", token: nil)
    #expect(signIn.header("Set-Cookie")?.contains("; Secure") == true, "\(signIn.headers)")
    #expect(guarded.stop() == 0)
    #expect(!guarded.log.contains(secret) && !guarded.stdout.contains(secret))

    // By default /metrics is open and cookies follow the request.
    let plain = try await ServerProcess.start(
      arguments: [
        "--data-dir", data.path, "--platform-account-id", "111122223333", "--recheck-interval",
        "off",
      ], environment: Self.quiet)
    defer { plain.stop() }
    api = API(plain.url)
    #expect(try await api.get("/metrics", token: nil).status == 200)
    let overHTTP = try await api.get("/sign-in", token: nil)
    #expect(overHTTP.header("Set-Cookie")?.contains("Secure") == false, "\(overHTTP.headers)")
    let proxied = try await api.call(
      .GET, "/sign-in", token: nil, headers: [("X-Forwarded-Proto", "https")])
    #expect(proxied.header("Set-Cookie")?.contains("; Secure") == true, "\(proxied.headers)")
    // A value that is none of on, off or auto is refused with the choices.
    let bad = try await Subprocess.runOffPool(
      TestPaths.ferryExecutable,
      ["serve", "--data-dir", data.path, "--secure-cookies", "maybe"], environment: Self.quiet)
    #expect(bad.status == 2 && bad.stderr.contains("on, off or auto"), "\(bad.stderr)")
  }

  @Test func flagsBeatTheEnvironmentWhichBeatsTheConfigFile() async throws {
    let dir = try TestPaths.temporaryDirectory("ferry-settings")
    let config = dir.appendingPathComponent("ferry.conf")
    try
      "# Ferry settings\nfirst-account = from-file\nplatform-account-id = 111122223333\nrecheck-interval = off\n"
      .write(to: config, atomically: true, encoding: .utf8)
    func start(_ name: String, flag: String?, env: String?) async throws -> String {
      let data = dir.appendingPathComponent(name).path
      var arguments = ["--config", config.path, "--data-dir", data]
      if let flag { arguments += ["--first-account", flag] }
      var environment = Self.quiet
      if let env { environment["FERRY_FIRST_ACCOUNT"] = env }
      let server = try await ServerProcess.start(arguments: arguments, environment: environment)
      defer { server.stop() }
      return server.stdout
    }
    #expect(try await start("a", flag: nil, env: nil).contains("the account \"from-file\""))
    #expect(try await start("b", flag: nil, env: "from-env").contains("the account \"from-env\""))
    #expect(
      try await start("c", flag: "from-flag", env: "from-env").contains("the account \"from-flag\"")
    )
    // A bad line in the file is named with its line number.
    try "first-account = x\nno equals sign here\n".write(
      to: config, atomically: true, encoding: .utf8)
    let bad = try await Subprocess.runOffPool(
      TestPaths.ferryExecutable,
      ["serve", "--config", config.path, "--data-dir", dir.appendingPathComponent("d").path],
      environment: Self.quiet)
    #expect(bad.status == 2)
    #expect(bad.stderr.contains("ferry.conf:2"))
  }

  @Test func aConnectionThatStartsFailingIsFlaggedByTheBackgroundCheck() async throws {
    let world = try await ConnectFlowTests.world.get()
    let data = try TestPaths.temporaryDirectory("ferry-recheck")
    let server = try await ServerProcess.start(
      arguments: ConnectWorld.serverArguments(world.aws).replacing(
        "--recheck-interval", with: "2s"
      ).replacing("--checks-per-minute", with: "2") + ["--data-dir", data.path],
      environment: world.aws.platformEnvironment)
    defer { server.stop() }
    let api = API(server.url)
    let token = try #require(server.firstToken)
    let info = try await api.get("/api/v1/connection-info", token: token)
    let externalID = try #require(info.json["externalId"] as? String)
    let roleName = "ferry-recheck-\(UUID().uuidString.prefix(6).lowercased())"
    let trust = { (id: String) in
      #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"\#(world.aws.platformUserARN)"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"\#(id)"}}}]}"#
    }
    #expect(
      try await world.aws.customerOffPool([
        "iam", "create-role", "--role-name", roleName, "--assume-role-policy-document",
        trust(externalID),
      ]).status == 0)
    #expect(
      try await world.aws.customerOffPool([
        "iam", "put-role-policy", "--role-name", roleName, "--policy-name", "read",
        "--policy-document",
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::\#(world.bucket)"},{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::\#(world.bucket)/*"}]}"#,
      ]).status == 0)
    let created = try await api.post(
      "/api/v1/connections", token: token,
      [
        "bucket": world.bucket, "region": "us-east-1", "prefix": world.prefix,
        "roleArn": "arn:aws:iam::\(world.aws.customerAccount):role/\(roleName)",
      ])
    try #require(created.status == 201, "\(created.text)")
    let id = try #require(created.json["id"] as? String)
    // The limit is 2 checks a minute: the connect was one, this is two, the third waits.
    #expect(
      try await api.call(.POST, "/api/v1/connections/\(id)/check", token: token).status == 200)
    let limited = try await api.call(.POST, "/api/v1/connections/\(id)/check", token: token)
    #expect(limited.status == 429, "\(limited.text)")
    #expect(Int(limited.header("Retry-After") ?? "") ?? 0 >= 1)

    // The customer changes the trust policy to another ID: the schedule notices.
    #expect(
      try await world.aws.customerOffPool([
        "iam", "update-assume-role-policy", "--role-name", roleName, "--policy-document",
        trust("ferry:aws:extid:changedbythecustomer0000000"),
      ]).status == 0)
    var state = ""
    for _ in 0..<60 {
      try await Task.sleep(for: .milliseconds(500))
      let shown = try await api.get("/api/v1/connections/\(id)", token: token)
      state = shown.json["state"] as? String ?? ""
      if state == "failing" {
        let check = shown.json["lastCheck"] as? [String: Any]
        let diagnosis = check?["diagnosis"] as? [String: Any]
        #expect(diagnosis?["code"] as? String == "assume-role-denied")
        break
      }
    }
    #expect(state == "failing")
    #expect(server.log.contains("connection started failing"))
  }
}

extension [String] {
  /// The arguments with the value after `flag` replaced.
  func replacing(_ flag: String, with value: String) -> [String] {
    var out = self
    if let at = out.firstIndex(of: flag), at + 1 < out.count { out[at + 1] = value }
    return out
  }
}
