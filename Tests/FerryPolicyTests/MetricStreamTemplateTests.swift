import FerryTesting
import Foundation
import Testing

@testable import FerryPolicy

/// The metric-shipping stack: valid for cfn-lint, the shape the issue and Firehose's
/// documentation ask for, created in the emulator as far as it supports the types, and
/// deployable with exactly the minimum permissions.
@Suite("Metric-shipping stack")
struct MetricStreamTemplateTests {
  static let template = MetricStreamTemplate.template(endpoint: "https://ferry.example.com")

  static func json() throws -> [String: Any] {
    let data = Data(template.serialized(pretty: true).utf8)
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
  }

  static func resources() throws -> [String: [String: Any]] {
    try #require(try json()["Resources"] as? [String: [String: Any]])
  }

  static func properties(_ name: String) throws -> [String: Any] {
    try #require(try resources()[name]?["Properties"] as? [String: Any])
  }

  @Test(arguments: [true, false])
  func passesCfnLint(withEndpoint: Bool) async throws {
    let cfnLint = try #require(
      Subprocess.which("cfn-lint"),
      "cfn-lint is not installed: run scripts/install-test-tools (pip install cfn-lint)")
    let file = try TestPaths.temporaryDirectory().appendingPathComponent("metrics.json")
    try MetricStreamTemplate.template(endpoint: withEndpoint ? "https://f.example.com:8443" : nil)
      .serialized(pretty: true).write(to: file, atomically: true, encoding: .utf8)
    let result = try await Subprocess.runOffPool(cfnLint, [file.path])
    #expect(result.status == 0, "cfn-lint: \(result.stdout)\(result.stderr)")
  }

  @Test func firehoseDeliversToFerryAsTheIssueAsks() throws {
    let delivery = try Self.properties("DeliveryStream")
    let http = try #require(delivery["HttpEndpointDestinationConfiguration"] as? [String: Any])
    let endpoint = try #require(http["EndpointConfiguration"] as? [String: Any])
    #expect(
      (endpoint["Url"] as? [String: String])?["Fn::Sub"]
        == "${FerryEndpoint}/api/v1/firehose/metrics")
    #expect((endpoint["AccessKey"] as? [String: String])?["Ref"] == "DeliveryKey")
    let buffering = try #require(http["BufferingHints"] as? [String: Int])
    #expect(buffering == ["IntervalInSeconds": 60, "SizeInMBs": 1])
    #expect((http["RequestConfiguration"] as? [String: String])?["ContentEncoding"] == "GZIP")
    #expect(http["S3BackupMode"] as? String == "FailedDataOnly")
    let retry = try #require((http["RetryOptions"] as? [String: Int])?["DurationInSeconds"])
    // Firehose allows 0 to 7,200 seconds.
    #expect((0...7200).contains(retry))
    #expect((http["CloudWatchLoggingOptions"] as? [String: Any])?["Enabled"] as? Bool == true)

    // The roles: each trusted by its service alone, for this account.
    for (role, service) in [
      ("FirehoseRole", "firehose.amazonaws.com"),
      ("MetricStreamRole", "streams.metrics.cloudwatch.amazonaws.com"),
    ] {
      let trust = try #require(
        try Self.properties(role)["AssumeRolePolicyDocument"] as? [String: Any])
      let statement = try #require((trust["Statement"] as? [[String: Any]])?.first)
      #expect((statement["Principal"] as? [String: String]) == ["Service": service])
      #expect(statement["Condition"] != nil)
    }
    // The key is a NoEcho parameter, the endpoint must be https without a path.
    let parameters = try #require(try Self.json()["Parameters"] as? [String: [String: Any]])
    #expect(parameters["DeliveryKey"]?["NoEcho"] as? Bool == true)
    #expect(parameters["FerryEndpoint"]?["Default"] as? String == "https://ferry.example.com")
    #expect(
      Set(parameters.keys) == [
        "FerryEndpoint", "DeliveryKey", "Namespaces", "NamespaceFilter", "OutputFormat",
      ])
    let pattern = try #require(parameters["FerryEndpoint"]?["AllowedPattern"] as? String)
    let regex = try Regex(pattern)
    for (text, ok) in [
      ("https://ferry.example.com", true), ("https://f.example.com:8443", true),
      ("http://ferry.example.com", false), ("https://ferry.example.com/x", false),
    ] {
      #expect((try regex.wholeMatch(in: text) != nil) == ok, "\(text)")
      #expect(MetricStreamTemplate.isEndpoint(text) == ok, "\(text)")
    }
    // The bucket is private, encrypted and forgets failed deliveries.
    let bucket = try Self.properties("BackupBucket")
    #expect(
      bucket["PublicAccessBlockConfiguration"] as? [String: Bool] == [
        "BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true,
        "RestrictPublicBuckets": true,
      ])
    #expect(bucket["BucketEncryption"] != nil && bucket["LifecycleConfiguration"] != nil)
  }

  /// Every resource type the template declares is mapped to what CloudFormation calls for
  /// it, and the minimum permissions are exactly the union: nothing the stack does not
  /// need, nothing it needs missing.
  @Test func theMinimumPermissionsAreExactlyWhatTheStackNeeds() throws {
    let types = Set(try Self.resources().values.compactMap { $0["Type"] as? String })
    #expect(
      types.union(["AWS::CloudFormation::Stack"]) == Set(MetricStreamTemplate.deployActions.keys))
    let needed = Set(MetricStreamTemplate.deployActions.values.joined())
    let granted = Set(MetricShipping.grants.flatMap(\.actions))
    #expect(needed.subtracting(granted).isEmpty, "missing: \(needed.subtracting(granted).sorted())")
    #expect(
      granted.subtracting(needed).isEmpty, "not needed: \(granted.subtracting(needed).sorted())")

    // And the generated policy allows each on what the stack names: for a stack
    // ferry-metrics-prod in us-east-1 of account 123456789012.
    let policy = PolicyGenerator.permissionsPolicy(
      for: try AccessScope(purpose: .metrics, bucket: nil))
    let stack = "ferry-metrics-prod"
    let account = "123456789012"
    let named: [String: String] = [
      "s3": "arn:aws:s3:::\(stack)-backupbucket-1a2b3c4d",
      "cloudwatch": "arn:aws:cloudwatch:us-east-1:\(account):metric-stream/\(stack)",
      "logs":
        "arn:aws:logs:us-east-1:\(account):log-group:/aws/kinesisfirehose/\(stack):log-stream:HttpEndpointDelivery",
      "firehose": "arn:aws:firehose:us-east-1:\(account):deliverystream/\(stack)",
      "cloudformation":
        "arn:aws:cloudformation:us-east-1:\(account):stack/\(stack)/0f6c1a10-0000-11ef-0000-000000000000",
    ]
    for action in needed.sorted() {
      let service = String(action.prefix { $0 != ":" })
      var context: [String: [String]] = [:]
      var resource = named[service] ?? ""
      if service == "iam" {
        let onPolicies: Set = [
          "iam:CreatePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:DeletePolicy",
          "iam:ListPolicyVersions", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion",
          "iam:ListEntitiesForPolicy",
        ]
        resource =
          onPolicies.contains(action)
          ? "arn:aws:iam::\(account):policy/\(stack)-firehose"
          : "arn:aws:iam::\(account):role/\(stack)-firehose"
        if action == "iam:PassRole" { context["iam:PassedToService"] = ["firehose.amazonaws.com"] }
        if action == "iam:AttachRolePolicy" {
          context["iam:PolicyARN"] = ["arn:aws:iam::\(account):policy/\(stack)-firehose"]
        }
      }
      let decision = PolicyEvaluator.evaluate(
        policy,
        request: AuthorizationRequest(
          action: action, resource: resource, context: RequestContext(context)))
      #expect(decision.decision == .allow, "\(action) on \(resource): \(decision)")
    }
    // Not another account's roles' policies, nor a role passed to Lambda.
    let lambda = PolicyEvaluator.evaluate(
      policy,
      request: AuthorizationRequest(
        action: "iam:PassRole", resource: "arn:aws:iam::\(account):role/\(stack)-firehose",
        context: RequestContext(["iam:PassedToService": ["lambda.amazonaws.com"]])))
    #expect(lambda.decision != .allow)
    let foreign = PolicyEvaluator.evaluate(
      policy,
      request: AuthorizationRequest(
        action: "iam:CreateRole", resource: "arn:aws:iam::\(account):role/admin"))
    #expect(foreign.decision != .allow)
  }

  /// The stack in moto's server: what moto's CloudFormation supports is created by it and
  /// checked through the services' APIs; the delivery stream through Firehose's own API
  /// (moto's CloudFormation lacks AWS::KinesisFirehose::DeliveryStream,
  /// AWS::Logs::LogStream and AWS::CloudWatch::MetricStream; moto has no metric streams).
  @Test func createsInTheEmulatorAsFarAsItSupportsTheTypes() async throws {
    let emulator = try AWSEmulator.shared()
    let file = try TestPaths.temporaryDirectory().appendingPathComponent("metrics.json")
    try Self.template.serialized(pretty: true).write(to: file, atomically: true, encoding: .utf8)
    let script = TestPaths.packageRoot.appendingPathComponent(
      "Tests/FerryPolicyTests/Fixtures/create_metric_stack.py")
    let result = try await Subprocess.runOffPool(
      "python3", [script.path, emulator.url.absoluteString, file.path])
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    let report = try #require(
      try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: [String]])
    #expect(
      report["leftOutOfTheStack"] == [
        "DeliveryLogStream", "DeliveryStream", "MetricStream", "MetricStreamExcluding",
      ])
    #expect(report["created"]?.count == 6)
  }
}
