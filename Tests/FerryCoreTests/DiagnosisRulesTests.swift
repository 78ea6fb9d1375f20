import FerryCore
import Foundation
import Synchronization
import Testing

/// The verifier and its diagnoses against AWS's documented answers, for what the emulator
/// does not enforce (a role that does not exist, MFA, the bucket's region and owner, KMS,
/// the s3:prefix condition of a listing, AWS's reasons in AccessDenied messages). AWS is
/// scripted here, not run: a real AWS account cannot be reached from this machine. The
/// answers are AWS's published ones (codes, statuses, message wording of "Troubleshoot
/// access denied error messages" in the IAM User Guide, S3's 301 PermanentRedirect with
/// x-amz-bucket-region).
@Suite("Connection verification and diagnosis (AWS's documented answers)")
struct DiagnosisRulesTests {
  static let platform = PlatformIdentity(
    accountID: "111122223333", principalARN: "arn:aws:iam::111122223333:role/ferry")
  static let account = Account(
    id: AccountID(rawValue: "acct_acme"), name: "Acme Corp",
    externalID: "ferry:aws:extid:q8w2n5x7c4v1b9m3k6j0h2t5yr", retentionDays: 30,
    createdAt: Date())

  static func connection(
    purpose: ConnectionPurpose = .fetcher, prefix: String = "AWSLogs/", legacy: Bool = false,
    owner: String = "", key: String? = nil
  ) -> Connection {
    Connection(
      accountID: account.id, purpose: purpose, bucket: "acme-logs", region: "eu-west-1",
      prefix: prefix, roleARN: "arn:aws:iam::444455556666:role/ferry-s3-fetcher",
      externalID: legacy ? "acme-2019" : account.externalID, usesLegacyExternalID: legacy,
      bucketOwner: owner, kmsKeyARN: key)
  }

  static func denied(_ operation: String, _ message: String, code: String = "AccessDenied")
    -> AWSFailure
  {
    AWSFailure(
      kind: .service, operation: operation, code: code, message: message, requestID: "REQ123",
      statusCode: 403)
  }

  func verify(_ aws: ScriptedAWS, _ connection: Connection = connection()) async -> ConnectionCheck
  {
    await ConnectionVerifier(aws: aws, platform: Self.platform).verify(
      connection, account: Self.account)
  }

  @Test func aWorkingRoleIsProvedStepByStepWithTheAccountsIDAndTheBucketOwner() async {
    let aws = ScriptedAWS()
    let check = await verify(aws)
    #expect(check.succeeded)
    #expect(
      check.steps.map(\.name) == [
        .validateRole, .assumeRole, .externalIDRequired, .list, .read, .decrypt,
      ])
    #expect(check.steps.first { $0.name == .decrypt }?.status == .skipped)
    let calls = aws.assumed
    // First with the account's own ID; then a wrong one, which must be refused.
    #expect(calls.first?.externalID == Self.account.externalID)
    #expect(calls.count == 2 && calls[1].externalID != Self.account.externalID)
    // The session names the tenant; the bucket must belong to the role's account.
    #expect(calls.first?.sessionName == "ferry-Acme-Corp")
    #expect(calls.first?.owner == "444455556666")
  }

  @Test func aGivenBucketOwnerIsTheOneRequired() async {
    let aws = ScriptedAWS()
    _ = await verify(aws, Self.connection(owner: "777788889999"))
    #expect(aws.assumed.first?.owner == "777788889999")
  }

  @Test func aRoleThatDoesNotExistOrNeedsMFAIsNamedAmongTheTrustCauses() async throws {
    // AWS answers the same AccessDenied whether the trust policy names someone else, the
    // external ID differs, MFA is required, or the role does not exist.
    let aws = ScriptedAWS()
    aws.assume = .failure(
      Self.denied(
        "STS.AssumeRole",
        "User: arn:aws:sts::111122223333:assumed-role/ferry/i-1 is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::444455556666:role/ferry-s3-fetcher"
      ))
    let check = await verify(aws)
    let diagnosis = try #require(check.diagnosis)
    #expect(diagnosis.code == "assume-role-denied")
    #expect(diagnosis.step == .assumeRole)
    #expect(diagnosis.awsError?.requestID == "REQ123")
    let others = diagnosis.otherCauses.joined(separator: "\n")
    #expect(others.contains("does not exist"))
    #expect(others.contains("MFA"))
    #expect(others.contains("another account or principal"))
    #expect(diagnosis.fix.contains(Self.account.externalID))
    #expect(diagnosis.fix.contains("arn:aws:iam::111122223333:role/ferry"))
    #expect(
      check.steps.filter { $0.status == .skipped }.map(\.name) == [
        .externalIDRequired, .list, .read, .decrypt,
      ])
  }

  @Test func aLegacyIDTheRoleNoLongerAcceptsPointsToMigration() async {
    let aws = ScriptedAWS()
    aws.assume = .failure(
      Self.denied("STS.AssumeRole", "not authorized to perform: sts:AssumeRole"))
    let check = await verify(aws, Self.connection(legacy: true))
    #expect(check.diagnosis?.code == "legacy-external-id-refused")
    #expect(check.diagnosis?.cause.contains("acme-2019") == true)
    #expect(check.diagnosis?.fix.contains("ferry migrate") == true)
    #expect(aws.assumed.first?.externalID == "acme-2019")
  }

  @Test func aTrustPolicyWithoutTheExternalIDConditionIsCaught() async {
    let aws = ScriptedAWS()
    aws.acceptsAnyExternalID = true
    let check = await verify(aws)
    #expect(check.diagnosis?.code == "external-id-not-required")
    #expect(
      check.diagnosis?.fix.contains("\"sts:ExternalId\": \"\(Self.account.externalID)\"") == true)
  }

  @Test func aBucketInAnotherRegionIsNamed() async {
    let aws = ScriptedAWS()
    aws.list = .failure(
      AWSFailure(
        kind: .service, operation: "S3.ListObjectsV2", code: "PermanentRedirect",
        message:
          "The bucket you are attempting to access must be addressed using the specified endpoint.",
        statusCode: 301, bucketRegion: "ap-southeast-2"))
    let check = await verify(aws)
    #expect(check.diagnosis?.code == "bucket-in-other-region")
    #expect(check.diagnosis?.cause.contains("ap-southeast-2") == true)
    #expect(check.diagnosis?.fix == "Set the connection's region to ap-southeast-2.")
  }

  /// The bucket's region is asked first (HeadBucket, which names it even to a role that
  /// may not use the bucket): a bucket elsewhere is named as such before any listing, which
  /// in the wrong region can fail as if a permission were missing.
  @Test func aBucketInAnotherRegionIsFoundBeforeTheListing() async {
    let aws = ScriptedAWS()
    aws.region = "ap-southeast-2"
    aws.list = .failure(Self.denied("S3.ListObjectsV2", "Access Denied"))
    let check = await verify(aws)
    #expect(check.diagnosis?.code == "bucket-in-other-region")
    #expect(check.diagnosis?.step == .list)
    #expect(check.diagnosis?.fix == "Set the connection's region to ap-southeast-2.")
    // In the connection's region, the check goes on to the listing.
    let same = ScriptedAWS()
    same.region = "eu-west-1"
    #expect(await verify(same).succeeded)
  }

  @Test func aMissingListGrantGetsTheStatementToAddScopedToThePrefix() async throws {
    let aws = ScriptedAWS()
    aws.list = .failure(
      Self.denied(
        "S3.ListObjectsV2",
        "User: arn:aws:sts::444455556666:assumed-role/ferry-s3-fetcher/ferry-Acme-Corp is not authorized to perform: s3:ListBucket on resource: \"arn:aws:s3:::acme-logs\" because no identity-based policy allows the s3:ListBucket action"
      ))
    let check = await verify(aws)
    let diagnosis = try #require(check.diagnosis)
    #expect(diagnosis.code == "list-not-granted")
    let statement = try #require(diagnosis.statementToAdd)
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data(statement.utf8)) as? [String: Any])
    #expect((json["Action"] as? [String]) == ["s3:ListBucket"])
    #expect((json["Resource"] as? [String]) == ["arn:aws:s3:::acme-logs"])
    let condition = json["Condition"] as? [String: [String: [String]]]
    #expect(condition?["StringLike"]?["s3:prefix"] == ["AWSLogs/*"])
    #expect(diagnosis.otherCauses.contains { $0.contains("does not cover AWSLogs/") })
  }

  @Test func aBucketPolicyDenyIsToldApartWhenAWSSaysSo() async {
    let aws = ScriptedAWS()
    aws.list = .failure(
      Self.denied(
        "S3.ListObjectsV2",
        "User: arn:aws:sts::444455556666:assumed-role/ferry-s3-fetcher/x is not authorized to perform: s3:ListBucket on resource: \"arn:aws:s3:::acme-logs\" with an explicit deny in a resource-based policy"
      ))
    #expect(await verify(aws).diagnosis?.code == "bucket-policy-deny")
  }

  /// A Deny (or a missing Allow) in a policy the role's own Allow cannot override, named as
  /// AWS's message names it: that policy is the cause, and "add this statement" is not the
  /// fix. The messages are the forms the IAM User Guide documents.
  @Test(arguments: [
    (
      "with an explicit deny in a permissions boundary", "denied-by-permissions-boundary",
      "Role.PermissionsBoundary"
    ),
    (
      "because no permissions boundary allows the s3:ListBucket action",
      "not-allowed-by-permissions-boundary", "Role.PermissionsBoundary"
    ),
    (
      "with an explicit deny in a service control policy", "denied-by-service-control-policy",
      "management account"
    ),
    (
      "because no service control policy allows the s3:ListBucket action",
      "not-allowed-by-service-control-policy", "management account"
    ),
    (
      "with an explicit deny in a resource control policy", "denied-by-resource-control-policy",
      "management account"
    ),
    (
      "with an explicit deny in a VPC endpoint policy", "denied-by-vpc-endpoint-policy",
      "describe-vpc-endpoints"
    ),
    ("with an explicit deny in a session policy", "denied-by-session-policy", "session policy"),
  ])
  func aDenialByAPolicyAnAllowCannotOverrideNamesThatPolicy(
    reason: String, code: String, whereToLook: String
  ) async {
    let message =
      "User: arn:aws:sts::444455556666:assumed-role/ferry-s3-fetcher/x is not authorized to perform: s3:ListBucket on resource: \"arn:aws:s3:::acme-logs\" \(reason)"
    let aws = ScriptedAWS()
    aws.list = .failure(Self.denied("S3.ListObjectsV2", message))
    let diagnosis = await verify(aws).diagnosis
    #expect(diagnosis?.code == code, "\(String(describing: diagnosis))")
    #expect(diagnosis?.statementToAdd == nil, "no Allow to add: it would not help")
    #expect(diagnosis?.fix.contains(whereToLook) == true, "\(diagnosis?.fix ?? "")")
    #expect(diagnosis?.fix.contains("Add this statement") == false)
    // The same for reading an object.
    let reading = ScriptedAWS()
    reading.read = .failure(
      Self.denied(
        "S3.GetObject",
        message.replacingOccurrences(of: "s3:ListBucket", with: "s3:GetObject")))
    #expect(await verify(reading).diagnosis?.code == code)
  }

  @Test func aBareDenialListsTheOwnerAndBucketPolicyAmongTheCauses() async {
    // S3 answers a bucket of another owner (x-amz-expected-bucket-owner) with a bare 403.
    let aws = ScriptedAWS()
    aws.list = .failure(Self.denied("S3.ListObjectsV2", "Access Denied"))
    let check = await verify(aws, Self.connection(owner: "777788889999"))
    #expect(check.diagnosis?.code == "list-denied")
    let others = check.diagnosis?.otherCauses.joined(separator: "\n") ?? ""
    #expect(others.contains("owned by another account than 777788889999"))
    #expect(others.contains("bucket policy"))
    #expect(others.contains("ferry policy check"))
  }

  @Test func objectsUnderAKeyTheRoleMayNotUseAreAKMSDiagnosis() async throws {
    let key = "arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    let aws = ScriptedAWS()
    aws.read = .failure(
      Self.denied(
        "S3.GetObject",
        "User: arn:aws:sts::444455556666:assumed-role/ferry-s3-fetcher/x is not authorized to perform: kms:Decrypt on resource: \(key) because no identity-based policy allows the kms:Decrypt action"
      ))
    let check = await verify(aws, Self.connection(key: key))
    let diagnosis = try #require(check.diagnosis)
    #expect(diagnosis.code == "kms-decrypt-denied")
    #expect(diagnosis.step == .decrypt)
    // The key policy must allow the role or delegate to the account: an identity policy
    // alone is never enough for KMS.
    #expect(diagnosis.fix.contains("key policy"))
    #expect(diagnosis.fix.contains("arn:aws:iam::444455556666:root"))
    #expect(diagnosis.statementToAdd?.contains("kms:Decrypt") == true)
    #expect(diagnosis.statementToAdd?.contains(key) == true)
  }

  @Test func anSSEKMSObjectThatReadsProvesDecryption() async {
    let aws = ScriptedAWS()
    aws.read = .success(
      ObjectRead(bytes: Array("x".utf8), serverSideEncryption: "aws:kms", kmsKeyID: "k-1"))
    let check = await verify(aws)
    #expect(check.succeeded)
    #expect(check.steps.first { $0.name == .decrypt }?.status == .passed)
  }

  @Test func anEmptyPrefixPassesWithTheReadSkipped() async {
    let aws = ScriptedAWS()
    aws.objects = []
    let check = await verify(aws)
    #expect(check.succeeded)
    #expect(check.steps.first { $0.name == .read }?.status == .skipped)
    #expect(check.steps.first { $0.name == .read }?.detail.contains("no object") == true)
  }

  @Test func archivesAreProvedByWritingReadingBackAndDeletingAProbe() async {
    let aws = ScriptedAWS()
    let check = await verify(aws, Self.connection(purpose: .archive, prefix: "archive/"))
    #expect(check.succeeded)
    #expect(aws.written.first?.key == "archive/.ferry-connect-check")
    #expect(aws.deleted == ["archive/.ferry-connect-check"])
    #expect(check.steps.suffix(3).map(\.status) == [.passed, .passed, .passed])
  }

  @Test func anArchiveRoleThatMayNotWriteGetsThePutStatement() async {
    let aws = ScriptedAWS()
    aws.put = .failure(Self.denied("S3.PutObject", "Access Denied"))
    let check = await verify(aws, Self.connection(purpose: .archive, prefix: "archive/"))
    #expect(check.diagnosis?.code == "write-denied")
    #expect(check.diagnosis?.statementToAdd?.contains("s3:PutObject") == true)
    #expect(check.diagnosis?.statementToAdd?.contains("arn:aws:s3:::acme-logs/archive/*") == true)
  }

  @Test func anUnreachableAWSSaysSoAndIsNotBlamedOnTheRole() async {
    let aws = ScriptedAWS()
    aws.assume = .failure(
      AWSFailure(kind: .unreachable, operation: "STS.AssumeRole", message: "connection refused"))
    #expect(await verify(aws).diagnosis?.code == "aws-unreachable")
  }

  // AWS answers these with 403 too, but they are about the request, not the permissions:
  // S3's and STS's documented codes (S3 "Error responses", STS "Common errors").
  @Test(
    arguments: [
      (
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        "request-signature-mismatch", "proxy"
      ),
      (
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large.",
        "request-clock-skew", "clock"
      ),
      (
        "SignatureDoesNotMatch",
        "Signature expired: 20261206T000000Z is now earlier than 20261206T001500Z",
        "request-clock-skew", "clock"
      ),
      (
        "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.",
        "platform-key-unknown", "credentials"
      ),
      ("ExpiredToken", "The provided token has expired.", "session-expired", "new credentials"),
    ] as [(String, String, String, String)])
  func aRequestAWSCouldNotAuthenticateIsNotBlamedOnTheRole(
    _ code: String, _ message: String, _ diagnosis: String, _ fixWords: String
  ) async throws {
    for step in ["assume", "list", "read"] {
      let aws = ScriptedAWS()
      let failure = Self.denied(
        step == "assume" ? "STS.AssumeRole" : "S3.ListObjectsV2", message, code: code)
      switch step {
      case "assume": aws.assume = .failure(failure)
      case "list": aws.list = .failure(failure)
      default: aws.read = .failure(failure)
      }
      let found = try #require(await verify(aws).diagnosis, "\(code) at \(step)")
      #expect(found.code == diagnosis, "\(code) at \(step): \(found.code)")
      #expect(found.fix.contains(fixWords), "\(found.fix)")
      #expect(found.fix.contains("Nothing in your role or bucket needs to change"))
      #expect(found.statementToAdd == nil, "no statement to add for \(code)")
      #expect(!failure.isDenied && !failure.customerMustFix)
    }
  }

  @Test func anAWSServerErrorIsAWSsSideAndTransient() async throws {
    let aws = ScriptedAWS()
    let failure = AWSFailure(
      kind: .service, operation: "S3.ListObjectsV2", code: nil, message: "<html>bad gateway",
      statusCode: 502)
    aws.list = .failure(failure)
    let found = try #require(await verify(aws).diagnosis)
    #expect(found.code == "aws-side-failure")
    #expect(found.cause.contains("usually transient") && !found.fix.contains("administrator"))
    #expect(!failure.customerMustFix)
    #expect(Self.denied("S3.ListObjectsV2", "no identity-based policy allows").customerMustFix)
  }

  @Test func aRoleInThePlatformsAccountIsRefusedBeforeAnyCall() async {
    let aws = ScriptedAWS()
    var connection = Self.connection()
    connection.roleARN = "arn:aws:iam::111122223333:role/admin"
    let check = await verify(aws, connection)
    #expect(check.diagnosis?.code == "role-in-platform-account")
    #expect(aws.assumed.isEmpty)
  }
}

/// AWS's answers, scripted: a mock, because a real AWS account cannot be reached here.
final class ScriptedAWS: RoleAssumer, BucketSession, @unchecked Sendable {
  struct Assumed: Sendable {
    var roleARN: String
    var externalID: String
    var sessionName: String
    var owner: String
  }
  private let lock = NSLock()
  var assume: Result<Void, AWSFailure> = .success(())
  /// A trust policy without the external-ID condition lets any ID in.
  var acceptsAnyExternalID = false
  var list: Result<Void, AWSFailure> = .success(())
  var objects = [ObjectSample(key: "AWSLogs/a.log.gz", size: 100)]
  var read: Result<ObjectRead, AWSFailure> = .success(ObjectRead(bytes: Array("log".utf8)))
  var put: Result<Void, AWSFailure> = .success(())
  /// What HeadBucket's `x-amz-bucket-region` says (nil: S3 does not say).
  var region: String?
  private var stored: [String: [UInt8]] = [:]
  private(set) var assumed: [Assumed] = []
  private(set) var written: [(key: String, body: [UInt8])] = []
  private(set) var deleted: [String] = []

  func assumeRole(
    roleARN: String, externalID: String, sessionName: String, region: String,
    expectedBucketOwner: String
  ) async throws(AWSFailure) -> any BucketSession {
    let first = lock.withLock {
      assumed.append(
        Assumed(
          roleARN: roleARN, externalID: externalID, sessionName: sessionName,
          owner: expectedBucketOwner))
      return assumed.count == 1
    }
    if case .failure(let error) = assume { throw error }
    if !first && !acceptsAnyExternalID {
      throw AWSFailure(
        kind: .service, operation: "STS.AssumeRole", code: "AccessDenied",
        message: "not authorized", statusCode: 403)
    }
    return self
  }

  func listObjects(bucket: String, prefix: String, maxKeys: Int) async throws(AWSFailure)
    -> [ObjectSample]
  {
    if case .failure(let error) = list { throw error }
    return objects
  }

  func readObject(bucket: String, key: String, maxBytes: Int) async throws(AWSFailure) -> ObjectRead
  {
    if let body = lock.withLock({ stored[key] }) { return ObjectRead(bytes: body) }
    return try read.get()
  }

  func putObject(bucket: String, key: String, body: [UInt8], kmsKeyARN: String?)
    async throws(AWSFailure)
  {
    if case .failure(let error) = put { throw error }
    lock.withLock {
      written.append((key, body))
      stored[key] = body
    }
  }

  func bucketRegion(bucket: String) async -> String? { lock.withLock { region } }

  func deleteObject(bucket: String, key: String) async throws(AWSFailure) {
    lock.withLock {
      deleted.append(key)
      stored[key] = nil
    }
  }
}
