/// AWS's size limits on policies, counted as IAM counts them: characters other than
/// white space (IAM quotas, "IAM and AWS STS quotas").
extension PolicyLinter {
  /// A managed (customer) policy: 6,144 characters.
  public static let managedPolicyLimit = 6_144
  /// A role's trust policy: 2,048 characters by default (a quota that can be raised to 4,096).
  public static let trustPolicyLimit = 2_048
  /// Inline policies, all of one role together: 10,240; of one user: 2,048; of one group: 5,120.
  public static let inlineRoleLimit = 10_240
  public static let inlineUserLimit = 2_048
  public static let inlineGroupLimit = 5_120

  /// The size IAM counts: every character but white space.
  public static func countedSize(_ document: PolicyDocument) -> Int {
    document.json(pretty: false).unicodeScalars.filter {
      !($0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t")
    }.count
  }

  static func sizeFindings(_ document: PolicyDocument) -> [LintFinding] {
    let size = countedSize(document)
    let isTrust = document.statements.contains { statement in
      statement.principal != nil
        && (statement.action?.values ?? []).contains { $0.lowercased().hasPrefix("sts:") }
    }
    let isResource = document.statements.contains { $0.principal != nil || $0.notPrincipal != nil }
    if isTrust {
      guard size > trustPolicyLimit else { return [] }
      return [
        LintFinding(
          severity: size > 4_096 ? .error : .warning, rule: "policy-too-large", statement: nil,
          message:
            "the trust policy has \(size) characters (white space aside); AWS accepts \(trustPolicyLimit) by default\(size > 4_096 ? " and at most 4,096 with a raised quota" : ", more only after a quota increase to at most 4,096") (LimitExceeded).",
          fix: "Shorten it: combine statements and principals, drop unused conditions.")
      ]
    }
    guard !isResource, size > managedPolicyLimit else { return [] }
    let inline =
      size <= inlineRoleLimit
      ? " As an inline policy of a role (at most \(inlineRoleLimit) characters for all of them) it fits; a user's inline policies allow \(inlineUserLimit), a group's \(inlineGroupLimit)."
      : " That is over the inline limit of a role too (\(inlineRoleLimit))."
    return [
      LintFinding(
        severity: .error, rule: "policy-too-large", statement: nil,
        message:
          "the policy has \(size) characters (white space aside); AWS refuses a managed policy over \(managedPolicyLimit) (LimitExceeded).\(inline)",
        fix:
          "Shorten it: use wildcards for action families, merge statements, or split it into two policies."
      )
    ]
  }
}
