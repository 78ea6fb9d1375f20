import FerryAWSSigning
import FerryCore
import FerryPolicy
import FerryTesting
import Foundation
import Testing

@testable import FerryAWS

/// The AWS layer against moto with its IAM enforcement switched on (its own emulator, so
/// the other suites keep an open one): signatures, identity policies and trust policies
/// are checked. moto does not enforce a missing external ID (AWS denies it): that case is
/// covered by the evaluator's tests against AWS's documented rules.
@Suite("AWS layer against the emulator with IAM enforcement", .serialized)
struct EnforcedIAMTests {
  @Test func theRoleIsAssumedOnlyWithItsExternalID() async throws {
    let emulator = try await OffPool.run { try AWSEmulator.start() }
    defer { emulator.stop() }
    // Before enforcement: the platform user, its key, a policy that lets it assume roles,
    // and the customer's role that trusts exactly that user with one external ID.
    let created = try await emulator.awsOffPool([
      "iam", "create-user", "--user-name", "ferry-platform",
    ])
    try #require(created.status == 0, "\(created.stderr)")
    let key = try await emulator.awsOffPool([
      "iam", "create-access-key", "--user-name", "ferry-platform", "--output", "json",
    ])
    let keyJSON = try #require(
      try JSONSerialization.jsonObject(with: Data(key.stdout.utf8)) as? [String: Any])
    let accessKey = try #require(keyJSON["AccessKey"] as? [String: Any])
    let keyID = try #require(accessKey["AccessKeyId"] as? String)
    let secret = try #require(accessKey["SecretAccessKey"] as? String)
    let allow =
      #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#
    #expect(
      try await emulator.awsOffPool([
        "iam", "put-user-policy", "--user-name", "ferry-platform", "--policy-name", "assume",
        "--policy-document", allow,
      ]).status == 0)
    let externalID = "ferry:aws:extid:q8w2n5x7c4v1b9m3k6j0h2t5yr"
    let userARN = "arn:aws:iam::123456789012:user/ferry-platform"
    let trust = try PolicyGenerator.trustPolicy(platformPrincipal: userARN, externalID: externalID)
    #expect(
      try await emulator.awsOffPool([
        "iam", "create-role", "--role-name", "customer-logs", "--assume-role-policy-document",
        trust.json(pretty: false),
      ]).status == 0)
    // Enforcement on.
    let reset = try await Subprocess.runOffPool(
      "curl",
      [
        "-sf", "-X", "POST", "-H", "Content-Type: text/plain", "--data", "0",
        emulator.url.absoluteString + "/moto-api/reset-auth",
      ])
    try #require(reset.status == 0, "reset-auth: \(reset.stderr)")

    let client = AWSClient(configuration: .init(endpoint: .custom(emulator.url), retry: .none))
    let sts = STSClient(
      client: client,
      credentials: StaticCredentialProvider(.init(accessKeyID: keyID, secretAccessKey: secret)))
    let roleARN = "arn:aws:iam::123456789012:role/customer-logs"
    let assumed = try await sts.assumeRole(
      roleARN: roleARN, sessionName: "ferry-tenant-acme", externalID: externalID)
    #expect(!assumed.credentials.accessKeyID.isEmpty)
    await #expect {
      try await sts.assumeRole(
        roleARN: roleARN, sessionName: "ferry-tenant-acme",
        externalID: "ferry:aws:extid:someone-elses-id")
    } throws: { error in
      (error as? AWSError)?.code == "AccessDenied"
    }
    // A caller with a wrong secret is refused by its signature.
    let forged = STSClient(
      client: client,
      credentials: StaticCredentialProvider(
        .init(accessKeyID: keyID, secretAccessKey: "not-the-secret")))
    await #expect(throws: AWSError.self) {
      try await forged.assumeRole(
        roleARN: roleARN, sessionName: "ferry-tenant-acme", externalID: externalID)
    }
  }
}
