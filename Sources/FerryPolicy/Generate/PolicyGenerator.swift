/// Writes the least-privilege policies a customer attaches to the role Ferry assumes.
public enum PolicyGenerator {
  /// The permissions policy for a scope. For an S3 fetcher of a whole bucket without a KMS
  /// key it is exactly the policy of the public guide.
  public static func permissionsPolicy(for scope: AccessScope) -> PolicyDocument {
    if scope.purpose == .metrics {
      return PolicyDocument(
        statements: MetricShipping.grants.map { grant in
          Statement(
            sid: grant.sid, effect: .allow, action: StringList(grant.actions),
            resource: StringList(grant.resources), condition: grant.condition)
        })
    }
    return permissionsPolicy(for: [scope])
  }

  /// One permissions policy for several bucket scopes (a role that serves a fetcher and an
  /// archive): every permission each needs, once.
  public static func permissionsPolicy(for scopes: [AccessScope]) -> PolicyDocument {
    var seen: Set<RequiredPermission> = []
    let permissions = scopes.filter { $0.purpose != .metrics }.flatMap(\.requiredPermissions)
      .filter { seen.insert($0).inserted }
    // One statement per resource: actions on the same resource share a statement.
    var statements: [Statement] = []
    for permission in permissions {
      if let i = statements.firstIndex(where: {
        $0.resource?.values == [permission.resource] && $0.condition == permission.condition
      }) {
        statements[i].action?.values.append(permission.action)
      } else {
        statements.append(permission.grantingStatement)
      }
    }
    return PolicyDocument(statements: statements)
  }

  /// The trust policy of the role: the platform principal may assume it only with the
  /// account's external ID. `platformPrincipal` is the platform's 12-digit account ID
  /// (written as `arn:aws:iam::ACCOUNT:root`) or the exact role or user ARN Ferry runs as.
  public static func trustPolicy(platformPrincipal: String, externalID: String) throws(InputError)
    -> PolicyDocument
  {
    try trustPolicy(
      principal: PlatformPrincipal(inferring: platformPrincipal), externalID: externalID)
  }

  /// The trust policy of the role for an explicit kind of platform principal; errors name
  /// the option the principal came from (`account-id` or `principal-arn`).
  public static func trustPolicy(principal: PlatformPrincipal, externalID: String)
    throws(InputError) -> PolicyDocument
  {
    try trustPolicy(principal: principal, acceptingAnyOf: [externalID])
  }

  /// A trust policy that accepts any of `externalIDs` (`StringEquals` matches when the
  /// request's value equals one of the listed values): the transition policy of a
  /// migration, accepting the legacy and the generated ID while configurations move.
  public static func trustPolicy(principal: PlatformPrincipal, acceptingAnyOf externalIDs: [String])
    throws(InputError) -> PolicyDocument
  {
    guard !externalIDs.isEmpty else {
      throw InputError(
        field: "external-id", problem: "a trust policy needs an external ID",
        fix: "Give the account's external ID.")
    }
    for id in externalIDs { try ExternalID.validate(id, field: "external-id") }
    let arn = try principal.arn()
    return PolicyDocument(statements: [
      Statement(
        effect: .allow, principal: .aws(StringList([arn], isSingle: true)),
        action: "sts:AssumeRole",
        condition: ConditionBlock([
          .init(
            .stringEquals, "sts:ExternalId", externalIDs.map(ConditionValue.string),
            isSingle: externalIDs.count == 1)
        ]))
    ])
  }
}

/// Who the trust policy lets assume the role: the platform's whole AWS account, or the
/// exact role or user ARN Ferry runs as (narrower).
public enum PlatformPrincipal: Sendable, Hashable {
  case account(String)
  case arn(String)

  /// An ARN when the text starts with `arn:`, else an account ID.
  public init(inferring text: String) {
    self = text.hasPrefix("arn:") ? .arn(text) : .account(text)
  }

  /// The principal's ARN, validated: `arn:aws:iam::ACCOUNT:root` for an account.
  public func arn() throws(InputError) -> String {
    switch self {
    case .account(let text):
      let account = try AWSAccountID.parse(text, field: "account-id")
      return "arn:aws:iam::\(account):root"
    case .arn(let text):
      let example = "arn:aws:iam::123456789012:role/ferry"
      let arn = try ARN.parse(text, field: "principal-arn", example: example)
      guard arn.service == "iam" || arn.service == "sts", !arn.account.isEmpty else {
        throw InputError(
          field: "principal-arn", problem: "\"\(text)\" is not an IAM principal",
          fix: "Use the ARN of the role or user Ferry runs as, e.g. \(example).")
      }
      return text
    }
  }
}
