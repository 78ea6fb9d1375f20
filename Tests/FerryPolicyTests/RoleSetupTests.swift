import FerryTesting
import Foundation
import Testing

@testable import FerryPolicy

@Suite("Ready-to-run role set-up")
struct RoleSetupTests {
  static let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

  func setup(_ purpose: Purpose) throws -> RoleSetup {
    try RoleSetup(
      scope: purpose == .metrics
        ? AccessScope(purpose: .metrics, bucket: nil)
        : AccessScope(
          purpose: purpose, bucket: "my-logs", prefix: "odd*/app/", kmsKeyARN: Self.key),
      platformPrincipal: "123456789012", externalID: "ferry:aws:extid:k3j4h5g6")
  }

  @Test(arguments: Purpose.allCases)
  func cloudFormationTemplatePassesCfnLint(purpose: Purpose) async throws {
    guard let cfnLint = Subprocess.which("cfn-lint") else {
      Issue.record(
        "cfn-lint is not installed: run scripts/install-test-tools (pip install cfn-lint)")
      return
    }
    let dir = try TestPaths.temporaryDirectory()
    let file = dir.appendingPathComponent("role.yaml")
    try setup(purpose).cloudFormationTemplate.write(to: file, atomically: true, encoding: .utf8)
    let result = try await Subprocess.runOffPool(cfnLint, [file.path])
    #expect(result.status == 0, "cfn-lint: \(result.stdout)\(result.stderr)")
  }

  @Test func cloudFormationTemplateCarriesBothPoliciesVerbatim() throws {
    let setup = try setup(.archive)
    let template = setup.cloudFormationTemplate
    #expect(template.contains("Type: AWS::IAM::Role"))
    #expect(template.contains("!GetAtt FerryRole.Arn"))
    // The JSON blocks are valid YAML flow mappings; check they are the exact documents.
    let trustStart = try #require(template.range(of: "AssumeRolePolicyDocument:\n"))
    let trustEnd = try #require(template.range(of: "      Policies:"))
    let trustJSON = String(template[trustStart.upperBound..<trustEnd.lowerBound])
    #expect(try PolicyDocument.parse(trustJSON) == setup.trust)
  }

  @Test(arguments: Purpose.allCases)
  func awsCLIScriptIsValidBash(purpose: Purpose) async throws {
    let dir = try TestPaths.temporaryDirectory()
    let file = dir.appendingPathComponent("setup.sh")
    try setup(purpose).awsCLIScript.write(to: file, atomically: true, encoding: .utf8)
    let syntax = try await Subprocess.runOffPool("bash", ["-n", file.path])
    #expect(syntax.status == 0, "bash -n: \(syntax.stderr)")
    let shellcheck = try #require(
      Subprocess.which("shellcheck"),
      "shellcheck is not installed: run scripts/install-test-tools (Debian's shellcheck)")
    let lint = try await Subprocess.runOffPool(shellcheck, [file.path])
    #expect(lint.status == 0, "shellcheck: \(lint.stdout)")
  }

  @Test func awsCLIScriptEmbedsThePoliciesWithoutShellExpansion() throws {
    let setup = try setup(.fetcher)
    let script = setup.awsCLIScript
    // `${*}` in the escaped prefix must reach AWS as written: quoted here-documents.
    #expect(script.contains("<<'FERRY_POLICY'"))
    #expect(script.contains("arn:aws:s3:::my-logs/odd${*}/app/*"))
    for command in [
      "aws iam get-role", "aws iam create-role", "aws iam update-assume-role-policy",
      "aws iam put-role-policy",
    ] {
      #expect(script.contains(command))
    }
  }

  @Test func rejectsABadRoleName() throws {
    #expect(throws: InputError.self) {
      try RoleSetup(
        scope: AccessScope(purpose: .fetcher, bucket: "my-logs"), platformPrincipal: "123456789012",
        externalID: "ferry:aws:extid:k3j4h5g6", roleName: "has space")
    }
  }
}
