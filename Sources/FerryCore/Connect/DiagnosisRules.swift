import FerryPolicy
import Foundation

/// Turns what AWS answered at a step into the likely cause and the exact fix, following
/// AWS's documented errors: `AccessDenied` from STS for a trust policy that does not let
/// the caller in (AWS gives the same answer for a role that does not exist, so both are
/// named), S3's `AccessDenied` with its reason ("no identity-based policy allows", "explicit
/// deny in a resource-based policy") where AWS says it, a `301 PermanentRedirect` with
/// `x-amz-bucket-region` for a bucket in another region, and KMS denials inside S3's answer.
struct DiagnosisRules {
  let connection: Connection
  let platform: PlatformIdentity

  var roleAccount: String {
    (try? ARN.parseRole(connection.roleARN).account) ?? ""
  }
  var roleName: String { connection.roleName }
  var scope: AccessScope? { connection.accessScope }
  var location: String { "s3://\(connection.bucket)/\(connection.prefix)" }
  var trustPolicyJSON: String {
    (try? PolicyGenerator.trustPolicy(
      platformPrincipal: platform.principalARN, externalID: connection.externalID))?.json() ?? ""
  }

  func statement(_ action: String) -> String? {
    guard let permission = scope?.requiredPermissions.first(where: { $0.action == action }) else {
      return nil
    }
    return permission.grantingStatement.json.serialized(pretty: true)
  }

  func invalidRole(_ problem: InputError) -> Diagnosis {
    Diagnosis(
      code: problem.problem.contains("Ferry's own AWS account")
        ? "role-in-platform-account" : "role-arn-invalid",
      step: .validateRole, cause: problem.problem, fix: problem.fix)
  }

  func unreachable(_ error: AWSFailure, step: CheckStepName) -> Diagnosis {
    if let signing = error.signingProblem { return signingFailed(error, signing, step: step) }
    if error.isAWSSideFailure {
      return Diagnosis(
        code: "aws-side-failure", step: step, awsError: error,
        cause:
          "AWS's side failed (\(error.statusCode.map { "HTTP \($0)" } ?? "an answer Ferry cannot read")): this is usually transient and nothing in your role or bucket causes it",
        fix:
          "Re-check the connection in a few minutes; if AWS keeps failing, look at the AWS Health Dashboard for \(connection.region)."
      )
    }
    switch error.kind {
    case .credentials:
      return Diagnosis(
        code: "platform-credentials", step: step, awsError: error,
        cause: "Ferry's own AWS credentials are missing or were refused",
        fix:
          "The operator must give Ferry AWS credentials (environment, profile or instance role); see the server's log."
      )
    case .unreachable:
      return Diagnosis(
        code: "aws-unreachable", step: step, awsError: error,
        cause: "AWS could not be reached or did not answer in time",
        fix: "Check the network from Ferry to AWS, then re-check the connection.")
    default:
      return Diagnosis(
        code: "aws-error", step: step, awsError: error,
        cause: "AWS answered \(error.code ?? "an error"): \(error.message)",
        fix:
          "Re-check the connection; if it keeps failing, give this answer and its request ID to your AWS administrator."
      )
    }
  }

  /// AWS could not authenticate Ferry's request: the clock, the keys, the session or a
  /// proxy; never a statement to add to the customer's role.
  func signingFailed(_ error: AWSFailure, _ problem: AWSFailure.SigningProblem, step: CheckStepName)
    -> Diagnosis
  {
    let nothingToChange = "Nothing in your role or bucket needs to change."
    switch problem {
    case .clock:
      return Diagnosis(
        code: "request-clock-skew", step: step, awsError: error,
        cause:
          "AWS refused the request's time: the clock of the machine Ferry runs on is more than 15 minutes away from AWS's",
        fix:
          "The operator must set the clock of Ferry's host right (NTP, e.g. chrony or systemd-timesyncd), then re-check. \(nothingToChange)"
      )
    case .signature:
      return Diagnosis(
        code: "request-signature-mismatch", step: step, awsError: error,
        cause:
          "AWS could not verify the signature of Ferry's request (\(error.code ?? "SignatureDoesNotMatch")): Ferry's secret key does not belong to its access key, or a proxy between Ferry and AWS changed the request",
        fix:
          "The operator must check Ferry's AWS credentials (the secret key that goes with the access key) and any HTTP proxy between Ferry and AWS, then re-check. \(nothingToChange)",
        otherCauses: [
          "the clock of Ferry's host is far off (AWS sometimes says so only in this message): check it with NTP"
        ])
    case .unknownKey:
      return Diagnosis(
        code: "platform-key-unknown", step: step, awsError: error,
        cause:
          "AWS does not know the access key Ferry signed with (deleted, deactivated, or from another partition)",
        fix:
          "The operator must give Ferry valid AWS credentials (environment, profile or instance role), then re-check. \(nothingToChange)"
      )
    case .expired:
      return Diagnosis(
        code: "session-expired", step: step, awsError: error,
        cause: "the temporary credentials Ferry used had expired",
        fix:
          "Re-check: Ferry gets new credentials for each check. If it keeps happening, the operator should look at Ferry's credential source and the host's clock. \(nothingToChange)"
      )
    }
  }

  // MARK: Assume role

  func assumeFailed(_ error: AWSFailure) -> Diagnosis {
    if error.kind == .invalidInput || error.code == "ValidationError" {
      return Diagnosis(
        code: "role-arn-invalid", step: .assumeRole, awsError: error,
        cause: "AWS refused the role ARN \(connection.roleARN): \(error.message)",
        fix: "Paste the role's ARN from its IAM summary page: arn:aws:iam::ACCOUNT:role/NAME.")
    }
    if error.code == "RegionDisabledException" {
      return Diagnosis(
        code: "sts-region-disabled", step: .assumeRole, awsError: error,
        cause: "STS is not activated in \(connection.region) for the role's account",
        fix: "Activate STS for the region in IAM → Account settings of account \(roleAccount).")
    }
    guard error.isDenied else { return unreachable(error, step: .assumeRole) }
    let howToLook =
      "aws iam get-role --role-name \(roleName) --query Role.AssumeRolePolicyDocument (in account \(roleAccount))"
    if connection.usesLegacyExternalID {
      return Diagnosis(
        code: "legacy-external-id-refused", step: .assumeRole, awsError: error,
        cause:
          "the role no longer accepts this configuration's legacy external ID \(connection.externalID): its trust policy was most likely changed to the account's generated ID (the guide's warning: other configurations that use the role stop working)",
        fix:
          "Migrate this configuration to the generated external ID (ferry migrate plan), or, until then, let the trust policy accept both IDs.",
        otherCauses: [
          "the role was deleted or renamed: \(howToLook) answers NoSuchEntity",
          "the trust policy no longer names Ferry (\(platform.principalARN)): look at Principal in \(howToLook)",
        ])
    }
    return Diagnosis(
      code: "assume-role-denied", step: .assumeRole, awsError: error,
      cause:
        "AWS refused to let Ferry (\(platform.principalARN)) assume \(connection.roleARN) with your external ID",
      fix:
        "Set the role's trust policy to exactly this (aws iam update-assume-role-policy --role-name \(roleName) --policy-document file://trust.json):\n\(trustPolicyJSON)",
      otherCauses: [
        "the trust policy names another account or principal than \(platform.principalARN): compare Principal in \(howToLook)",
        "the sts:ExternalId condition requires another value than \(connection.externalID): compare Condition in the same document",
        "the trust policy requires MFA (aws:MultiFactorAuthPresent or aws:MultiFactorAuthAge), which a service like Ferry can never present: remove that condition",
        "the role does not exist (AWS answers the same AccessDenied): \(howToLook) answers NoSuchEntity",
      ])
  }

  func externalIDNotRequired() -> Diagnosis {
    Diagnosis(
      code: "external-id-not-required", step: .externalIDRequired,
      cause:
        "the role let Ferry in with an external ID that is not yours, so its trust policy does not require your external ID: any other tenant of Ferry who learns the role's ARN could reach your bucket (the confused deputy problem)",
      fix:
        "Add the sts:ExternalId condition: set the role's trust policy to exactly this (aws iam update-assume-role-policy --role-name \(roleName) --policy-document file://trust.json):\n\(trustPolicyJSON)"
    )
  }

  // MARK: S3

  /// S3's reasons in its AccessDenied message, where AWS gives one.
  enum DenialReason: Equatable {
    case noIdentityPolicy
    case explicitDenyInResourcePolicy
    case explicitDenyInIdentityPolicy
    /// A policy type an Allow in the role's own policies cannot override: a permissions
    /// boundary, an Organizations SCP or RCP, a session policy, a VPC endpoint policy
    /// (denied explicitly, or not allowed by it).
    case limitedBy(PolicyLimit)
    case kms
    case unknown
  }

  /// A policy that limits what the role may do whatever its own policies allow, as AWS's
  /// AccessDenied message names it (IAM User Guide, "Troubleshoot access denied error
  /// messages").
  struct PolicyLimit: Sendable, Equatable {
    /// How AWS's message names the policy type ("permissions boundary").
    var policy: String
    /// True for "with an explicit deny in a …", false for "because no … allows".
    var explicitDeny: Bool
    /// Where the customer looks at it, and who can change it.
    var whereToLook: String
  }

  /// The policy types AWS's messages name that no Allow in the role's policies can win over.
  func policyLimit(_ message: String) -> PolicyLimit? {
    let limits: [(String, String)] = [
      (
        "permissions boundary",
        "the role's permissions boundary: aws iam get-role --role-name \(roleName) --query Role.PermissionsBoundary names it; an IAM administrator of account \(roleAccount) can change or remove it"
      ),
      (
        "service control policy",
        "an AWS Organizations service control policy (SCP) on account \(roleAccount) or its organizational unit: only the organization's management account can change it (aws organizations list-policies-for-target)"
      ),
      (
        "resource control policy",
        "an AWS Organizations resource control policy (RCP) on the bucket's account: only the organization's management account can change it"
      ),
      (
        "session policy",
        "a session policy passed when the role was assumed: Ferry passes none, so a policy set up around the session (a proxy or an STS broker) limits it"
      ),
      (
        "vpc endpoint policy",
        "the policy of the VPC endpoint the request went through: aws ec2 describe-vpc-endpoints shows it"
      ),
    ]
    for (policy, whereToLook) in limits {
      if message.contains("explicit deny in a \(policy)") {
        return PolicyLimit(policy: policy, explicitDeny: true, whereToLook: whereToLook)
      }
      if message.contains("no \(policy) allows") {
        return PolicyLimit(policy: policy, explicitDeny: false, whereToLook: whereToLook)
      }
    }
    return nil
  }

  /// A refusal by a policy the role's own Allow cannot override: that policy is the cause,
  /// and adding a statement to the role is not the fix.
  func limited(_ error: AWSFailure, _ limit: PolicyLimit, step: CheckStepName, action: String)
    -> Diagnosis
  {
    Diagnosis(
      code: limit.explicitDeny
        ? "denied-by-\(Self.slug(limit.policy))" : "not-allowed-by-\(Self.slug(limit.policy))",
      step: step, awsError: error,
      cause: limit.explicitDeny
        ? "a \(limit.policy) explicitly denies \(action) to the role, as AWS's message says; an Allow in the role's own policies cannot override an explicit Deny"
        : "a \(limit.policy) does not allow \(action), as AWS's message says; the role's own policies may allow it, but the \(limit.policy) caps what they can grant",
      fix:
        "Change \(limit.whereToLook), so that it \(limit.explicitDeny ? "no longer denies" : "allows") \(action) for \(connection.roleARN)."
    )
  }

  static func slug(_ policy: String) -> String {
    policy.replacingOccurrences(of: " ", with: "-")
  }

  func reason(_ error: AWSFailure) -> DenialReason {
    let message = error.message.lowercased()
    if message.contains("kms") || (error.code ?? "").hasPrefix("KMS.") { return .kms }
    if message.contains("explicit deny in a resource-based policy") {
      return .explicitDenyInResourcePolicy
    }
    if message.contains("explicit deny in an identity-based policy") {
      return .explicitDenyInIdentityPolicy
    }
    if let limit = policyLimit(message) { return .limitedBy(limit) }
    if message.contains("no identity-based policy allows") { return .noIdentityPolicy }
    return .unknown
  }

  /// S3 says the bucket lives in another region than the connection's.
  func otherRegion(_ actual: String) -> Diagnosis {
    Diagnosis(
      code: "bucket-in-other-region", step: .list,
      cause:
        "the bucket \(connection.bucket) is in \(actual), not in \(connection.region) (S3's HeadBucket answer names its region)",
      fix: "Set the connection's region to \(actual).")
  }

  /// Failures every S3 step shares: the bucket's region, a missing bucket.
  func bucketProblem(_ error: AWSFailure, step: CheckStepName) -> Diagnosis? {
    let redirected =
      error.code == "PermanentRedirect" || error.code == "AuthorizationHeaderMalformed"
      || error.statusCode == 301
    if let actual = error.bucketRegion, actual != connection.region, redirected || error.isDenied {
      return Diagnosis(
        code: "bucket-in-other-region", step: step, awsError: error,
        cause: "the bucket \(connection.bucket) is in \(actual), not in \(connection.region)",
        fix: "Set the connection's region to \(actual).")
    }
    if redirected {
      return Diagnosis(
        code: "bucket-in-other-region", step: step, awsError: error,
        cause: "the bucket \(connection.bucket) is not in \(connection.region)",
        fix:
          "Set the connection's region to the bucket's (aws s3api get-bucket-location --bucket \(connection.bucket))."
      )
    }
    if error.code == "NoSuchBucket" {
      return Diagnosis(
        code: "no-such-bucket", step: step, awsError: error,
        cause: "there is no bucket named \(connection.bucket)",
        fix: "Check the bucket's name (aws s3 ls) and correct the connection.")
    }
    return nil
  }

  var ownerCause: String {
    let owner = connection.bucketOwner.isEmpty ? roleAccount : connection.bucketOwner
    return
      "the bucket is owned by another account than \(owner): Ferry sends x-amz-expected-bucket-owner: \(owner) with every call, and S3 refuses a bucket of another owner with the same AccessDenied (aws s3api get-bucket-acl --bucket \(connection.bucket) --query Owner shows the owner); if the bucket belongs to another account on purpose, give that account as bucketOwner"
  }

  /// AWS said a bucket policy's Deny refused the role.
  func bucketPolicyDeny(_ error: AWSFailure, step: CheckStepName, what: String) -> Diagnosis {
    Diagnosis(
      code: "bucket-policy-deny", step: step, awsError: error,
      cause: "the bucket policy of \(connection.bucket) explicitly denies the role \(what)",
      fix:
        "Remove or narrow the Deny statement that covers \(connection.roleARN) in the bucket policy (aws s3api get-bucket-policy --bucket \(connection.bucket))."
    )
  }

  var bucketPolicyCause: String {
    "the bucket policy has an explicit Deny that covers the role: aws s3api get-bucket-policy --bucket \(connection.bucket) shows it"
  }

  func policyCheckHint(_ purpose: String) -> String {
    "aws iam get-role-policy --role-name \(roleName) --policy-name POLICY > policy.json, then ferry policy check policy.json --purpose \(purpose) --bucket \(connection.bucket)\(connection.prefix.isEmpty ? "" : " --prefix \(connection.prefix)") names the missing or misplaced grant"
  }

  func listFailed(_ error: AWSFailure) -> Diagnosis {
    if let problem = bucketProblem(error, step: .list) { return problem }
    guard error.isDenied else { return unreachable(error, step: .list) }
    let prefixNote =
      connection.prefix.isEmpty
      ? "" : ", with an s3:prefix condition that covers \(connection.prefix)"
    let base = Diagnosis(
      code: "list-denied", step: .list, awsError: error,
      cause:
        "the role may not list \(location): its permissions must allow s3:ListBucket on the bucket ARN arn:aws:s3:::\(connection.bucket)\(prefixNote)",
      fix: "Add this statement to the role's permissions policy.",
      statementToAdd: statement("s3:ListBucket"),
      otherCauses: [
        "s3:ListBucket is granted on the objects' ARN (arn:aws:s3:::\(connection.bucket)/*) instead of the bucket's ARN: ListBucket acts on the bucket, so that grants nothing",
        connection.prefix.isEmpty
          ? "an s3:prefix condition limits the listing to another prefix"
          : "the s3:prefix condition does not cover \(connection.prefix)",
        bucketPolicyCause,
        ownerCause,
        "to tell them apart: \(policyCheckHint(connection.purpose.rawValue))",
      ])
    switch reason(error) {
    case .explicitDenyInResourcePolicy:
      return bucketPolicyDeny(error, step: .list, what: "listing the bucket")
    case .explicitDenyInIdentityPolicy:
      return Diagnosis(
        code: "identity-policy-deny", step: .list, awsError: error,
        cause: "a policy of the role explicitly denies s3:ListBucket on \(connection.bucket)",
        fix:
          "Remove the Deny statement from the role's policies (\(policyCheckHint(connection.purpose.rawValue)))."
      )
    case .limitedBy(let limit):
      return limited(error, limit, step: .list, action: "s3:ListBucket on \(connection.bucket)")
    case .noIdentityPolicy:
      var known = base
      known.code = "list-not-granted"
      known.otherCauses = Array(base.otherCauses.prefix(2)) + [base.otherCauses[4]]
      return known
    case .kms, .unknown:
      return base
    }
  }

  func readFailed(_ error: AWSFailure, key: String, step: CheckStepName = .read) -> Diagnosis {
    if let problem = bucketProblem(error, step: step) { return problem }
    if error.code == "InvalidObjectState" {
      return Diagnosis(
        code: "object-archived", step: step, awsError: error,
        cause:
          "\(key) is in an archive storage class (Glacier) and must be restored before it can be read",
        fix: "Nothing is wrong with the role; Ferry skips archived objects.")
    }
    guard error.isDenied || (error.code ?? "").hasPrefix("KMS.") else {
      return unreachable(error, step: step)
    }
    if reason(error) == .kms {
      let key = connection.kmsKeyARN ?? "the bucket's KMS key"
      return Diagnosis(
        code: "kms-decrypt-denied", step: .decrypt, awsError: error,
        cause:
          "the object is encrypted with a KMS key (SSE-KMS) that the role may not use to decrypt",
        fix:
          "Allow kms:Decrypt on \(key) in the role's permissions policy, AND in the key's own key policy: either a statement that allows the role (\(connection.roleARN)) kms:Decrypt, or the default statement that delegates to the account's IAM (Principal arn:aws:iam::\(roleAccount):root, Action kms:*). An identity policy alone is never enough for KMS.",
        statementToAdd: statement("kms:Decrypt") ?? kmsStatement(),
        otherCauses: [
          "the key is disabled or scheduled for deletion: aws kms describe-key --key-id KEY shows KeyState"
        ])
    }
    switch reason(error) {
    case .explicitDenyInResourcePolicy:
      return bucketPolicyDeny(error, step: step, what: "reading \(key)")
    case .limitedBy(let limit):
      return limited(error, limit, step: step, action: "s3:GetObject on \(key)")
    default: break
    }
    return Diagnosis(
      code: "read-denied", step: step, awsError: error,
      cause:
        "the role may list the bucket but not read \(key): its permissions must allow s3:GetObject on the objects' ARN arn:aws:s3:::\(connection.bucket)/\(connection.prefix)*",
      fix: "Add this statement to the role's permissions policy.",
      statementToAdd: statement("s3:GetObject"),
      otherCauses: [
        "s3:GetObject is granted on the bucket's ARN (arn:aws:s3:::\(connection.bucket)) without /*: GetObject acts on objects, so that grants nothing",
        "the granted object ARN has a prefix that does not cover \(connection.prefix.isEmpty ? "the whole bucket" : connection.prefix)",
        bucketPolicyCause,
        "the object is encrypted with a KMS key the role may not use (AWS then names kms:Decrypt in its message)",
        "to tell them apart: \(policyCheckHint(connection.purpose.rawValue))",
      ])
  }

  func kmsStatement() -> String {
    Statement(
      effect: .allow, action: "kms:Decrypt",
      resource: StringList([connection.kmsKeyARN ?? "arn:aws:kms:REGION:ACCOUNT:key/KEY-ID"])
    ).json.serialized(pretty: true)
  }

  func writeFailed(_ error: AWSFailure, key: String) -> Diagnosis {
    if let problem = bucketProblem(error, step: .write) { return problem }
    guard error.isDenied || (error.code ?? "").hasPrefix("KMS.") else {
      return unreachable(error, step: .write)
    }
    if reason(error) == .kms {
      return Diagnosis(
        code: "kms-encrypt-denied", step: .write, awsError: error,
        cause: "the role may not use the KMS key to encrypt archives (kms:GenerateDataKey)",
        fix:
          "Allow kms:GenerateDataKey on the key in the role's permissions policy and in the key's own key policy.",
        statementToAdd: statement("kms:GenerateDataKey"))
    }
    switch reason(error) {
    case .explicitDenyInResourcePolicy:
      return bucketPolicyDeny(error, step: .write, what: "writing \(key)")
    case .limitedBy(let limit):
      return limited(error, limit, step: .write, action: "s3:PutObject on \(key)")
    default: break
    }
    return Diagnosis(
      code: "write-denied", step: .write, awsError: error,
      cause:
        "the role may not write \(key): its permissions must allow s3:PutObject on arn:aws:s3:::\(connection.bucket)/\(connection.prefix)*",
      fix: "Add this statement to the role's permissions policy.",
      statementToAdd: statement("s3:PutObject"),
      otherCauses: [
        "s3:PutObject is granted on the bucket's ARN without /*", bucketPolicyCause,
        "to tell them apart: \(policyCheckHint("archive"))",
      ])
  }

  func readBackMismatch(key: String) -> Diagnosis {
    Diagnosis(
      code: "read-back-mismatch", step: .readBack,
      cause: "\(key) did not read back as Ferry wrote it: something rewrites objects in the bucket",
      fix: "Look for a Lambda or replication rule that changes objects under \(location).")
  }
}
