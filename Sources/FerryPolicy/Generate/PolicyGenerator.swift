/// Writes the least-privilege policies a customer attaches to the role Ferry assumes.
public enum PolicyGenerator {
  /// The permissions policy for a scope. For an S3 fetcher of a whole bucket without a KMS
  /// key it is exactly the policy of the public guide.
  public static func permissionsPolicy(for scope: AccessScope) -> PolicyDocument {
    if scope.purpose == .metrics {
      return PolicyDocument(
        statements: MetricShipping.permissionsByService.map { sid, actions in
          Statement(sid: sid, effect: .allow, action: StringList(actions), resource: ["*"])
        })
    }
    // One statement per resource: actions on the same resource share a statement.
    var statements: [Statement] = []
    for permission in scope.requiredPermissions {
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
    try ExternalID.validate(externalID, field: "external-id")
    let principal: String
    if platformPrincipal.hasPrefix("arn:") {
      let arn = try ARN.parse(platformPrincipal, field: "principal-arn")
      guard arn.service == "iam" || arn.service == "sts", !arn.account.isEmpty else {
        throw InputError(
          field: "principal-arn", problem: "\"\(platformPrincipal)\" is not an IAM principal",
          fix:
            "Use the ARN of the role or user Ferry runs as, e.g. arn:aws:iam::123456789012:role/ferry."
        )
      }
      principal = platformPrincipal
    } else {
      let account = try AWSAccountID.parse(platformPrincipal, field: "account-id")
      principal = "arn:aws:iam::\(account):root"
    }
    return PolicyDocument(statements: [
      Statement(
        effect: .allow, principal: .aws(StringList([principal], isSingle: true)),
        action: "sts:AssumeRole",
        condition: ConditionBlock([
          .init(.stringEquals, "sts:ExternalId", [.string(externalID)], isSingle: true)
        ]))
    ])
  }
}
