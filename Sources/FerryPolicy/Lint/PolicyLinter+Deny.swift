/// Deny statements that cancel what the policy's own Allows grant, or what Ferry needs.
///
/// Decided by evaluation, not by comparing strings: for each Allow and Deny pair, concrete
/// requests that the Allow grants (its actions, expanded from wildcards through the action
/// catalog; its resources, with wildcards filled in) are evaluated against the Deny, so a
/// Deny of `s3:*` on `*` is found to cancel `s3:GetObject` on `my-logs/*`.
extension PolicyLinter {
  static func denyFindings(_ document: PolicyDocument, scope: AccessScope?) -> [LintFinding] {
    let denies = document.statements.enumerated().filter { $0.element.effect == .deny }
    guard !denies.isEmpty else { return [] }
    var findings: [LintFinding] = []
    for (index, allow) in document.statements.enumerated()
    where allow.effect == .allow && allow.principal == nil && allow.notPrincipal == nil {
      for (denyIndex, deny) in denies where deny.principal == nil && deny.notPrincipal == nil {
        guard let overlap = firstOverlap(allow, deny, version: document.version) else { continue }
        let conditional = deny.condition != nil
        findings.append(
          LintFinding(
            severity: conditional ? .info : .warning, rule: "deny-cancels-allow",
            statement: label(deny, denyIndex),
            message:
              "this Deny cancels\(conditional ? ", when its condition holds," : "") \(overlap.action) on \(overlap.resource), which statement \(label(allow, index)) allows.",
            fix: "Narrow the Deny's Action or Resource, or remove the Allow."))
      }
    }
    if let scope {
      let policy = NamedPolicy("policy", document)
      for permission in scope.requiredPermissions {
        for probe in permission.probes {
          let result = PolicyEvaluator.evaluate(
            identityPolicies: [policy], request: probe, requireResourcePolicy: false)
          guard result.decision == .explicitDeny else { continue }
          findings.append(
            LintFinding(
              severity: .error, rule: "deny-cancels-required",
              statement: result.decidingStatements.map {
                $0.sid.map { "\"\($0)\"" } ?? "#\($0.index)"
              }.joined(separator: ", "),
              message:
                "this Deny cancels \(permission.action) on \(permission.resource), which Ferry needs to \(permission.reason).",
              fix: "Exclude \(permission.resource) from the Deny, or remove it."))
          break
        }
      }
    }
    return findings
  }

  /// A request that `allow` grants and `deny` denies (conditions aside), with the Allow's
  /// action and resource patterns that it stands for; nil when they do not overlap.
  private static func firstOverlap(_ allow: Statement, _ deny: Statement, version: String?)
    -> (action: String, resource: String)?
  {
    let allowActions = allow.action?.values ?? []
    let actionCandidates =
      concreteActions(allowActions) + concreteActions(deny.action?.values ?? [])
    let resourceCandidates =
      samples(allow.resource?.values ?? []) + samples(deny.resource?.values ?? [])
    let bareAllow = Statement(
      effect: .allow, action: allow.action, notAction: allow.notAction, resource: allow.resource,
      notResource: allow.notResource)
    let bareDeny = Statement(
      effect: .deny, action: deny.action, notAction: deny.notAction, resource: deny.resource,
      notResource: deny.notResource)
    for action in actionCandidates {
      for resource in resourceCandidates {
        let request = AuthorizationRequest(action: action, resource: resource)
        guard
          PolicyEvaluator.applies(
            bareAllow, version: version, isResourcePolicy: false, request: request),
          PolicyEvaluator.applies(
            bareDeny, version: version, isResourcePolicy: false, request: request)
        else { continue }
        let actionPattern =
          allowActions.first { wildcardMatch($0, action, caseInsensitive: true) } ?? action
        let resourcePattern =
          (allow.resource?.values ?? []).first { wildcardMatch($0, resource) } ?? resource
        return (actionPattern, resourcePattern)
      }
    }
    return nil
  }

  /// Concrete actions that stand for action patterns: catalog expansions of wildcards
  /// (at most a few per pattern), the pattern itself when it has none.
  private static func concreteActions(_ patterns: [String]) -> [String] {
    var out: [String] = []
    for pattern in patterns {
      guard pattern.contains("*") || pattern.contains("?") else {
        out.append(pattern)
        continue
      }
      if case .known(let actions) = ActionCatalog.lookup(pattern) {
        out += actions.prefix(64)
      } else {
        out.append(fillWildcards(pattern))
      }
    }
    return out
  }

  /// Concrete resources that stand for resource patterns.
  private static func samples(_ patterns: [String]) -> [String] {
    patterns.map(fillWildcards)
  }

  /// A pattern with each wildcard and policy variable replaced by sample text.
  private static func fillWildcards(_ pattern: String) -> String {
    var out = ""
    var rest = Substring(pattern)
    while let c = rest.first {
      if c == "$", rest.dropFirst().first == "{", let close = rest.firstIndex(of: "}") {
        out += "ferry-probe"
        rest = rest[rest.index(after: close)...]
        continue
      }
      switch c {
      case "*": out += "ferry-probe"
      case "?": out += "x"
      default: out.append(c)
      }
      rest = rest.dropFirst()
    }
    return out
  }
}
