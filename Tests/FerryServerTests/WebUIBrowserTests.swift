import FerryCore
import FerryTesting
import Foundation
import Testing

/// The web UI in a real browser: headless Chromium (Debian's chromium and chromium-driver)
/// driven by Selenium (PyPI) through `Tests/Browser/ui_flow.py`, against `ferry serve` and
/// the AWS emulator with IAM enforcement on. The script does the guide's whole flow as a
/// tenant's admin would (sign in, add a bucket, copy the policy, create the role with the
/// copied AWS CLI script, paste the ARN, see every step pass, watch events arrive, search,
/// the histogram), then a broken role's diagnosis, hostile values shown escaped, forms
/// without the CSRF token refused, a member's session kept from admin actions, axe-core's
/// WCAG 2 A/AA rules on every page, and a 390 px screen. `scripts/install-test-tools`
/// installs the browser; where it is missing the test is skipped and says why.
@Suite("Web UI in headless Chromium (emulator with IAM enforcement)", .serialized)
struct WebUIBrowserTests {
  static var browserMissing: String? {
    for path in ["/usr/bin/chromium", "/usr/bin/chromedriver"]
    where !FileManager.default.isExecutableFile(atPath: path) {
      return "\(path) is not installed (scripts/install-test-tools installs it)"
    }
    let probe = try? Subprocess.run("python3", ["-c", "import selenium, axe_selenium_python"])
    return probe?.status == 0
      ? nil : "Selenium or axe-selenium-python is not installed (scripts/install-test-tools)"
  }

  @Test(.enabled(if: browserMissing == nil, "\(browserMissing ?? "")"))
  func theGuidesWholeFlowWorksInABrowser() async throws {
    let aws = try await OffPool.run { try EnforcedAWS.start() }
    let bucket = "ui-logs-\(UUID().uuidString.prefix(8).lowercased())"
    let prefix = "app"
    let word = "ferryuiword"
    let hostileWord = "hostileline"
    for name in [bucket, bucket + "-deny"] {
      let made = try await aws.customerOffPool(["s3api", "create-bucket", "--bucket", name])
      try #require(made.status == 0, "create-bucket: \(made.stderr)")
    }
    // Three objects of 40 JSON lines and one with a hostile line, all with the word.
    let files = try TestPaths.temporaryDirectory("ferry-ui-objects")
    let now = Date()
    var events = 0
    var objects: [(String, String)] = []
    for object in 0..<3 {
      var lines: [String] = []
      for line in 0..<40 {
        // Spread over the last 20 hours, so the histogram has a shape.
        let time = now.addingTimeInterval(-Double(object * 25_200 + line * 540 + 60))
        lines.append(
          #"{"time":"\#(time.formatted(.iso8601))","level":"info","msg":"\#(word) request \#(object)-\#(line) served"}"#
        )
      }
      events += lines.count
      objects.append(("app-2026-12-0\(object + 1).json", lines.joined(separator: "\n") + "\n"))
    }
    objects.append(
      (
        "app-hostile.json",
        #"{"time":"\#(now.formatted(.iso8601))","level":"warn","msg":"\#(word) \#(hostileWord) <img src=x onerror=\"window.__ferryXSS=1\"><script>window.__ferryXSS=1</script>"}"#
          + "\n"
      ))
    events += 1
    for (key, body) in objects {
      let file = files.appendingPathComponent(key)
      try Data(body.utf8).write(to: file)
      for target in [bucket, bucket + "-deny"] {
        let put = try await aws.customerOffPool([
          "s3api", "put-object", "--bucket", target, "--key", key, "--body", file.path,
        ])
        try #require(put.status == 0, "put-object: \(put.stderr)")
      }
    }

    let data = try TestPaths.temporaryDirectory("ferry-ui-data")
    let server = try await ServerProcess.start(
      arguments: ConnectWorld.serverArguments(aws) + [
        "--data-dir", data.path, "--ingest-interval", "1s",
      ],
      environment: aws.platformEnvironment)
    defer { server.stop() }
    let token = try #require(server.firstToken)
    let customer = try String(
      data: JSONSerialization.data(withJSONObject: aws.customerEnvironment), encoding: .utf8)
    let screenshots = TestPaths.packageRoot.appendingPathComponent("Tests/Browser/screenshots")
    let script = TestPaths.packageRoot.appendingPathComponent("Tests/Browser/ui_flow.py")
    let ran = try await Subprocess.runOffPool(
      "python3", [script.path],
      environment: [
        "FERRY_URL": server.url, "FERRY_TOKEN": token, "FERRY_BUCKET": bucket,
        "FERRY_PREFIX": prefix, "FERRY_WORD": word, "FERRY_EVENTS": String(events),
        "FERRY_OBJECTS": String(objects.count), "FERRY_HOSTILE_WORD": hostileWord,
        "FERRY_PLATFORM_ACCOUNT": aws.platformAccountID,
        "FERRY_CUSTOMER_ACCOUNT": aws.customerAccount, "FERRY_SCREENSHOTS": screenshots.path,
        "FERRY_PLATFORM_PRINCIPAL": aws.platformUserARN,
        "FERRY_CUSTOMER_ENV": customer ?? "{}", "SE_OFFLINE": "true",
      ])
    let lines = ran.stdout.split(separator: "\n")
    #expect(ran.status == 0, "the browser flow failed:\n\(ran.stdout)\n\(ran.stderr.suffix(4000))")
    #expect(lines.last == "all browser checks passed", "\(ran.stdout)")
    #expect(lines.filter { $0.hasPrefix("ok: ") }.count >= 60, "\(ran.stdout)")
    // Secrets never reach the server's log: not the token, not the session cookie.
    #expect(!server.log.contains(token))
    #expect(!server.log.contains("frs_"), "a session secret reached the log")
  }
}
