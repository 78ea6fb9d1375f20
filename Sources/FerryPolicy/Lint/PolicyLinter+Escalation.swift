/// Privilege escalation: IAM actions that let whoever holds them grant themselves more.
///
/// Creating or changing roles, policies, users and their keys, or passing a role to a
/// service, on every resource lets the holder mint an identity with any permission. Such
/// actions must be scoped to names the holder owns (`role/ferry-metrics-*`), and
/// `iam:PassRole` to the services that need the role (`iam:PassedToService`).
extension PolicyLinter {
  /// IAM actions that can raise the holder's own privileges when not scoped (lowercased).
  public static let escalationActions: Set<String> = [
    "iam:passrole", "iam:createrole", "iam:attachrolepolicy", "iam:putrolepolicy",
    "iam:updateassumerolepolicy", "iam:createpolicy", "iam:createpolicyversion",
    "iam:setdefaultpolicyversion", "iam:attachuserpolicy", "iam:putuserpolicy",
    "iam:attachgrouppolicy", "iam:putgrouppolicy", "iam:addusertogroup", "iam:createuser",
    "iam:createaccesskey", "iam:createloginprofile", "iam:updateloginprofile",
    "iam:putrolepermissionsboundary", "iam:deleterolepermissionsboundary",
  ]

  static func lintEscalation(_ statement: Statement, add: Add) {
    guard statement.effect == .allow, statement.principal == nil else { return }
    let granted = escalationActionsGranted(by: statement)
    guard !granted.isEmpty else { return }
    let resources = statement.resource?.values ?? []
    let unscoped =
      statement.notResource != nil || resources.contains(where: coversEveryIAMName)
    if unscoped {
      add(
        .error, "privilege-escalation",
        "\(granted.joined(separator: ", ")) on every resource lets the holder create or change roles, policies or users and so grant itself any permission.",
        "Scope the Resource to names the holder owns, e.g. \"arn:aws:iam::ACCOUNT:role/ferry-metrics-*\" and \"arn:aws:iam::ACCOUNT:policy/ferry-metrics-*\"."
      )
    }
    let passesRole = granted.contains { $0.lowercased() == "iam:passrole" }
    let hasServiceCondition =
      statement.condition?.entries.contains {
        $0.key.lowercased() == "iam:passedtoservice" && !$0.op.base.isNegated && !$0.op.ifExists
      } ?? false
    if passesRole && !hasServiceCondition {
      add(
        unscoped ? .error : .warning, "passrole-without-service",
        "iam:PassRole without an iam:PassedToService condition lets the holder hand the role to any AWS service.",
        "Add \"Condition\": {\"StringEquals\": {\"iam:PassedToService\": [\"lambda.amazonaws.com\"]}} naming the services that need the role."
      )
    }
  }

  /// The escalation actions a statement's `Action` grants, by their canonical names.
  private static func escalationActionsGranted(by statement: Statement) -> [String] {
    if statement.notAction != nil {
      // NotAction grants everything not listed: IAM actions are among them unless excluded.
      return escalationActions.sorted().filter { action in
        !(statement.notAction?.values ?? []).contains {
          wildcardMatch($0, action, caseInsensitive: true)
        }
      }
    }
    var out: [String] = []
    for pattern in statement.action?.values ?? [] {
      for action in escalationActions.sorted()
      where wildcardMatch(pattern, action, caseInsensitive: true) && !out.contains(action) {
        out.append(action)
      }
    }
    return out.map { name in
      if case .known(let canonical) = ActionCatalog.lookup(name), let first = canonical.first {
        return first
      }
      return name
    }
  }

  /// Whether a resource pattern covers every role, policy or user of an account.
  private static func coversEveryIAMName(_ resource: String) -> Bool {
    if resource == "*" { return true }
    let parts = resource.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
    guard parts.count == 6 else { return false }
    if parts[2] == "*" { return true }
    guard parts[2] == "iam" else { return false }
    let path = parts[5]
    // role/*, policy/*, user/*, * — anything whose name part begins with a wildcard.
    guard let slash = path.firstIndex(of: "/") else { return path.hasPrefix("*") }
    return path[path.index(after: slash)...].hasPrefix("*")
  }
}
