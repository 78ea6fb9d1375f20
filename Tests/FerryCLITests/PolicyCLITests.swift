import FerryCore
import FerryPolicy
import FerryTesting
import Foundation
import Testing

/// Runs the real `ferry` binary, as a person would.
@Suite("ferry policy")
struct PolicyCLITests {
  func ferry(_ arguments: String..., stdin: String? = nil) async throws -> Subprocess.Output {
    try await OffPool.run {
      try Subprocess.run(TestPaths.ferryExecutable, arguments, stdin: stdin)
    }
  }

  func writeTemp(_ text: String) throws -> String {
    let file = try TestPaths.temporaryDirectory().appendingPathComponent("policy.json")
    try text.write(to: file, atomically: true, encoding: .utf8)
    return file.path
  }

  @Test func everySubcommandHasHelp() async throws {
    for sub in [
      [], ["policy"], ["policy", "generate"], ["policy", "trust"], ["policy", "check"],
      ["policy", "lint"], ["policy", "simulate"],
    ] {
      let out = try Subprocess.run(TestPaths.ferryExecutable, sub + ["--help"])
      #expect(out.status == 0)
      #expect(out.stdout.contains("USAGE:"), "\(sub)")
    }
  }

  @Test func generateWritesTheGuidesPolicy() async throws {
    let out = try await ferry("policy", "generate", "--purpose", "fetcher", "--bucket", "my-logs")
    #expect(out.status == 0)
    // The public guide's S3 fetcher policy, written out from the guide.
    let guide = """
      {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": ["arn:aws:s3:::my-logs"]},
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::my-logs/*"]}
      ]}
      """
    #expect(try JSONValue.parse(out.stdout) == JSONValue.parse(guide))
  }

  @Test func generateCloudFormationAndCLINeedTheTrustInputs() async throws {
    let missing = try await ferry(
      "policy", "generate", "--purpose", "fetcher", "--bucket", "my-logs", "--format",
      "cloudformation")
    #expect(missing.status == 2)
    #expect(missing.stderr.contains("--account-id"))
    let ok = try await ferry(
      "policy", "generate", "--purpose", "archive", "--bucket", "my-logs", "--format",
      "cloudformation", "--account-id", "123456789012", "--external-id", "ferry:aws:extid:abc123")
    #expect(ok.status == 0)
    #expect(ok.stdout.hasPrefix("AWSTemplateFormatVersion"))
    let script = try await ferry(
      "policy", "generate", "--purpose", "archive", "--bucket", "my-logs", "--format", "cli",
      "--account-id", "123456789012", "--external-id", "ferry:aws:extid:abc123")
    #expect(script.stdout.hasPrefix("#!/usr/bin/env bash"))
  }

  @Test func trustPrintsTheTrustPolicy() async throws {
    let out = try await ferry(
      "policy", "trust", "--account-id", "123456789012", "--external-id", "ferry:aws:extid:abc123")
    #expect(out.status == 0)
    let doc = try PolicyDocument.parse(out.stdout)
    let caller = NamedPolicy(
      "caller",
      try PolicyDocument.parse(
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#
      ))
    #expect(
      PolicyEvaluator.evaluateTrust(
        doc, roleARN: "arn:aws:iam::999988887777:role/r",
        caller: "arn:aws:iam::123456789012:role/ferry", externalID: "ferry:aws:extid:abc123",
        callerPolicies: [caller]
      ).decision == .allow)
  }

  @Test(arguments: [
    (["policy", "generate", "--purpose", "fetcher", "--bucket", "My_Bucket"], "--bucket:"),
    (["policy", "generate", "--purpose", "fetch", "--bucket", "my-logs"], "--purpose:"),
    (
      [
        "policy", "generate", "--purpose", "fetcher", "--bucket", "my-logs", "--kms-key",
        "not-an-arn",
      ], "--kms-key:"
    ),
    (
      ["policy", "trust", "--account-id", "12345", "--external-id", "ferry:aws:extid:x1"],
      "--account-id:"
    ),
    (
      ["policy", "trust", "--account-id", "123456789012", "--external-id", "bad id"],
      "--external-id:"
    ),
    (["policy", "lint", "/nonexistent/policy.json"], "no such file"),
    (["policy", "generate", "--bucket", "my-logs"], "--purpose"),
    (
      ["policy", "generate", "--purpose", "fetcher", "--bucket", "my-logs", "--format", "xml"],
      "--format"
    ),
    (["policy", "frobnicate"], "frobnicate"),
  ])
  func badInputIsOneClearLineAndExitCode2(arguments: [String], mentions: String) throws {
    let out = try Subprocess.run(TestPaths.ferryExecutable, arguments)
    #expect(out.status == 2, "\(arguments): \(out.stderr)")
    let lines = out.stderr.split(separator: "\n")
    #expect(lines.count == 1, "\(out.stderr)")
    #expect(out.stderr.hasPrefix("error: "))
    #expect(out.stderr.contains(mentions), "\(out.stderr)")
    #expect(!out.stderr.contains("Fatal error"))
  }

  @Test(arguments: [
    ("{not json", "malformed JSON"),
    ("[]", "expected a policy document"),
    (
      #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEqualz":{"a:b":"c"}}}]}"#,
      "Statement[0].Condition.StringEqualz"
    ),
  ])
  func malformedPoliciesNameTheProblem(text: String, mentions: String) async throws {
    let out = try await ferry("policy", "lint", "-", stdin: text)
    #expect(out.status == 2)
    #expect(out.stderr.contains(mentions), "\(out.stderr)")
    #expect(out.stderr.split(separator: "\n").count == 1)
  }

  @Test func lintReadsStdinAndExitsOneOnFindings() async throws {
    let bad =
      #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-logs"}]}"#
    let out = try await ferry("policy", "lint", "-", stdin: bad)
    #expect(out.status == 1)
    #expect(out.stdout.contains("object-action-on-bucket"))
    #expect(out.stdout.contains("arn:aws:s3:::my-logs/*"))
    let json = try await ferry("policy", "lint", "-", "--json", stdin: bad)
    let findings = try #require(JSONValue.parse(json.stdout)["findings"])
    guard case .array(let items) = findings else {
      Issue.record("findings is not an array")
      return
    }
    #expect(items.first?["rule"] == .string("object-action-on-bucket"))
    let good = PolicyGenerator.permissionsPolicy(
      for: try AccessScope(purpose: .fetcher, bucket: "my-logs")
    ).json()
    let clean = try await ferry("policy", "lint", try writeTemp(good))
    #expect(clean.status == 0)
    #expect(clean.stdout.contains("no findings"))
  }

  @Test func checkListsMissingPermissionsWithTheStatementToAdd() async throws {
    let file = try writeTemp(
      #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::my-logs"}]}"#
    )
    let out = try await ferry(
      "policy", "check", file, "--purpose", "fetcher", "--bucket", "my-logs", "--prefix", "app/")
    #expect(out.status == 1)
    #expect(out.stdout.contains("MISSING  s3:GetObject on arn:aws:s3:::my-logs/app/*"))
    #expect(out.stdout.contains("\"Resource\": ["))
    let json = try await ferry(
      "policy", "check", file, "--purpose", "fetcher", "--bucket", "my-logs", "--json")
    #expect(try JSONValue.parse(json.stdout)["allGranted"] == .bool(false))
    let full = try writeTemp(
      PolicyGenerator.permissionsPolicy(for: try AccessScope(purpose: .fetcher, bucket: "my-logs"))
        .json())
    let granted = try await ferry(
      "policy", "check", full, "--purpose", "fetcher", "--bucket", "my-logs")
    #expect(granted.status == 0)
    #expect(granted.stdout.contains("All 2 permissions granted."))
  }

  @Test func simulateEvaluatesIdentityAndTrustPolicies() async throws {
    let identity = try writeTemp(
      #"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-logs/*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}"#
    )
    let allowed = try await ferry(
      "policy", "simulate", identity, "--action", "s3:GetObject", "--resource",
      "arn:aws:s3:::my-logs/a.log", "--context", "aws:SourceIp=203.0.113.9")
    #expect(allowed.status == 0)
    #expect(allowed.stdout.hasPrefix("Allow"))
    let denied = try await ferry(
      "policy", "simulate", identity, "--action", "s3:GetObject", "--resource",
      "arn:aws:s3:::my-logs/a.log", "--context", "aws:SourceIp=198.51.100.1")
    #expect(denied.status == 1)
    #expect(denied.stdout.hasPrefix("ImplicitDeny"))
    let trust = try writeTemp(
      try PolicyGenerator.trustPolicy(
        platformPrincipal: "123456789012", externalID: "ferry:aws:extid:abc123"
      ).json())
    let noCaller = try await ferry(
      "policy", "simulate", trust, "--action", "sts:AssumeRole", "--resource",
      "arn:aws:iam::999988887777:role/r")
    #expect(noCaller.status == 2)
    #expect(noCaller.stderr.contains("--principal"))
    // The trust policy names the platform account's root: delegation, so the caller's own
    // policy must allow too; without it the answer says so.
    let alone = try await ferry(
      "policy", "simulate", trust, "--action", "sts:AssumeRole", "--resource",
      "arn:aws:iam::999988887777:role/r", "--principal", "arn:aws:iam::123456789012:role/ferry",
      "--context", "sts:ExternalId=ferry:aws:extid:abc123")
    #expect(alone.status == 1)
    #expect(alone.stdout.hasPrefix("ImplicitDeny"))
    #expect(alone.stdout.contains("identity policies must also allow"))
    let callerPolicy = try writeTemp(
      #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#
    )
    let assume = try await ferry(
      "policy", "simulate", trust, "--action", "sts:AssumeRole", "--resource",
      "arn:aws:iam::999988887777:role/r", "--principal", "arn:aws:iam::123456789012:role/ferry",
      "--context", "sts:ExternalId=ferry:aws:extid:abc123", "--identity-policy", callerPolicy,
      "--json")
    #expect(assume.status == 0)
    #expect(try JSONValue.parse(assume.stdout)["decision"] == .string("Allow"))
    let badContext = try await ferry(
      "policy", "simulate", identity, "--action", "s3:GetObject", "--resource", "x", "--context",
      "novalue")
    #expect(badContext.status == 2)
  }
}
