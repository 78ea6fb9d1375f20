import FerryTesting
import Foundation
import Testing

/// Roles built wrong on purpose, each in its own way, in the customer's account of the
/// emulator (IAM enforcement on): connecting answers 422 with the step that failed and the
/// diagnosis, and saves nothing. What moto does not enforce (a missing external-ID
/// condition lets AssumeRole through, KMS, the bucket's region, the role's existence) is
/// covered where noted: the missing condition is caught by Ferry's own wrong-ID probe
/// here; the others by `DiagnosisRulesTests` against AWS's documented answers.
@Suite("ferry serve: diagnosis of a broken role (emulator with IAM enforcement)", .serialized)
struct DiagnosisAgainstEmulatorTests {
  struct BrokenRole: Sendable, CustomTestStringConvertible {
    var name: String
    /// The trust principal; nil: Ferry's own user.
    var principal: String?
    /// The external ID the trust policy requires: "" for none (no condition), nil for the
    /// account's own.
    var externalID: String?
    /// The permissions policy; `BUCKET` stands for the bucket's name.
    var permissions: String
    /// Which bucket the connection names (the "-deny" one has a bucket policy Deny).
    var bucketSuffix = ""
    var expectedStep: String
    var expectedCodes: Set<String>
    /// Words the diagnosis must contain (cause, fix, statement or other causes).
    var mentions: [String]

    var testDescription: String { name }
  }

  static let goodPermissions = """
    {"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::BUCKET"},
      {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::BUCKET/*"}]}
    """

  static let cases: [BrokenRole] = [
    BrokenRole(
      name: "trust-other-account", principal: "arn:aws:iam::999988887777:root",
      permissions: goodPermissions, expectedStep: "assume-role",
      expectedCodes: ["assume-role-denied"], mentions: ["trust policy", "sts:ExternalId", "MFA"]),
    BrokenRole(
      name: "trust-other-external-id",
      externalID: "ferry:aws:extid:someoneelses0000000000000000", permissions: goodPermissions,
      expectedStep: "assume-role", expectedCodes: ["assume-role-denied"],
      mentions: ["sts:ExternalId", "update-assume-role-policy"]),
    BrokenRole(
      name: "trust-without-external-id", externalID: "", permissions: goodPermissions,
      expectedStep: "external-id-required", expectedCodes: ["external-id-not-required"],
      mentions: ["confused deputy", "sts:ExternalId"]),
    BrokenRole(
      name: "no-list-bucket",
      permissions: """
        {"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::BUCKET/*"}]}
        """, expectedStep: "list", expectedCodes: ["list-denied", "list-not-granted"],
      mentions: ["s3:ListBucket", "arn:aws:s3:::BUCKET"]),
    BrokenRole(
      name: "list-bucket-on-object-arn",
      permissions: """
        {"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Action":["s3:ListBucket","s3:GetObject"],"Resource":"arn:aws:s3:::BUCKET/*"}]}
        """, expectedStep: "list", expectedCodes: ["list-denied", "list-not-granted"],
      mentions: ["objects' ARN", "s3:ListBucket"]),
    BrokenRole(
      name: "get-object-on-bucket-arn",
      permissions: """
        {"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Action":["s3:ListBucket","s3:GetObject"],"Resource":"arn:aws:s3:::BUCKET"}]}
        """, expectedStep: "read", expectedCodes: ["read-denied"],
      mentions: ["without /*", "s3:GetObject", "arn:aws:s3:::BUCKET/app*"]),
    BrokenRole(
      name: "prefix-not-covered",
      permissions: """
        {"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::BUCKET",
           "Condition":{"StringLike":{"s3:prefix":["other*"]}}},
          {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::BUCKET/other*"}]}
        """,
      // moto does not evaluate s3:prefix on a listing (AWS does: DiagnosisRulesTests), so
      // here the uncovered prefix shows at the read.
      expectedStep: "read", expectedCodes: ["read-denied"],
      mentions: ["does not cover app", "arn:aws:s3:::BUCKET/app*"]),
    BrokenRole(
      // moto applies the bucket policy's Deny to reads, not to listings (AWS to both).
      name: "bucket-policy-deny", permissions: goodPermissions, bucketSuffix: "-deny",
      expectedStep: "read", expectedCodes: ["read-denied", "bucket-policy-deny"],
      mentions: ["bucket policy", "Deny"]),
  ]

  @Test(arguments: cases)
  func aBrokenRoleIsDiagnosedAtItsStep(_ broken: BrokenRole) async throws {
    let world = try await ConnectFlowTests.world.get()
    let api = API(world.server.url)
    let token = try #require(world.server.firstToken)
    let info = try await api.get("/api/v1/connection-info", token: token)
    let accountExternalID = try #require(info.json["externalId"] as? String)
    let bucket = world.bucket + broken.bucketSuffix
    let roleName = "broken-\(broken.name)"
    let roleARN = "arn:aws:iam::\(world.aws.customerAccount):role/\(roleName)"
    var statement: [String: Any] = [
      "Effect": "Allow", "Action": "sts:AssumeRole",
      "Principal": ["AWS": broken.principal ?? world.aws.platformUserARN],
    ]
    let required = broken.externalID ?? accountExternalID
    if !required.isEmpty {
      statement["Condition"] = ["StringEquals": ["sts:ExternalId": required]]
    }
    let trust = try JSONSerialization.data(
      withJSONObject: ["Version": "2012-10-17", "Statement": [statement]])
    let madeRole = try await world.aws.customerOffPool([
      "iam", "create-role", "--role-name", roleName, "--assume-role-policy-document",
      String(decoding: trust, as: UTF8.self),
    ])
    try #require(madeRole.status == 0, "\(madeRole.stderr)")
    let attached = try await world.aws.customerOffPool([
      "iam", "put-role-policy", "--role-name", roleName, "--policy-name", "read",
      "--policy-document", broken.permissions.replacingOccurrences(of: "BUCKET", with: bucket),
    ])
    try #require(attached.status == 0, "\(attached.stderr)")
    if broken.bucketSuffix == "-deny" {
      let deny = """
        {"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"\(roleARN)"},
         "Action":"s3:*","Resource":["arn:aws:s3:::\(bucket)","arn:aws:s3:::\(bucket)/*"]}]}
        """
      let put = try await world.aws.customerOffPool([
        "s3api", "put-bucket-policy", "--bucket", bucket, "--policy", deny,
      ])
      try #require(put.status == 0, "\(put.stderr)")
    }

    let answer = try await api.post(
      "/api/v1/connections", token: token,
      [
        "purpose": "fetcher", "bucket": bucket, "region": "us-east-1", "prefix": world.prefix,
        "roleArn": roleARN,
        // The shared world may hold a working connection for the same place.
        "allowDuplicate": true,
      ])
    #expect(answer.status == 422, "\(answer.text)")
    #expect(answer.header("Content-Type") == "application/problem+json")
    let check = try #require(answer.json["check"] as? [String: Any], "\(answer.text)")
    let diagnosis = try #require(check["diagnosis"] as? [String: Any])
    #expect(diagnosis["step"] as? String == broken.expectedStep, "\(answer.text)")
    #expect(broken.expectedCodes.contains(diagnosis["code"] as? String ?? ""), "\(answer.text)")
    let text = answer.text.replacingOccurrences(of: "\\/", with: "/")
    for word in broken.mentions {
      #expect(
        text.contains(word.replacingOccurrences(of: "BUCKET", with: bucket)),
        "the diagnosis should mention \(word): \(answer.text)")
    }
    if broken.expectedStep != "external-id-required" {
      let aws = try #require(diagnosis["awsError"] as? [String: Any], "AWS's answer is kept")
      #expect(aws["code"] as? String != nil)
    }
    // A step failed, and nothing was saved (other tests add connections meanwhile: look
    // for this role's).
    let steps = try #require(check["steps"] as? [[String: Any]])
    #expect(steps.contains { $0["status"] as? String == "failed" })
    let after = try await api.get("/api/v1/connections", token: token)
    let roles = (after.json["connections"] as? [[String: Any]])?.compactMap {
      $0["roleArn"] as? String
    }
    #expect(roles?.contains(roleARN) == false)
  }

  @Test func aRoleInFerrysOwnAccountOrAMalformedARNIsRefusedBeforeAnyAWSCall() async throws {
    let world = try await ConnectFlowTests.world.get()
    let api = API(world.server.url)
    let token = try #require(world.server.firstToken)
    for (arn, words) in [
      (
        "arn:aws:iam::\(world.aws.platformAccountID):role/ferry-s3-fetcher",
        "Ferry's own AWS account"
      ),
      ("arn:aws:iam::12345:role/x", "12 digits"),
      ("arn:aws:s3:::my-bucket", "not an IAM role ARN"),
      ("not-an-arn", "is not an ARN"),
    ] {
      let answer = try await api.post(
        "/api/v1/connections", token: token,
        ["bucket": world.bucket, "region": "us-east-1", "roleArn": arn])
      #expect(answer.status == 400, "\(arn): \(answer.text)")
      #expect(answer.json["field"] as? String == "roleArn", "\(answer.text)")
      #expect((answer.json["detail"] as? String)?.contains(words) == true, "\(answer.text)")
      #expect(answer.json["fix"] is String)
    }
  }
}
