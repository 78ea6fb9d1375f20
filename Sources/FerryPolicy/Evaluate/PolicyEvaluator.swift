/// A policy with a name to report decisions by.
public struct NamedPolicy: Sendable, Equatable {
  public var name: String
  public var document: PolicyDocument

  public init(_ name: String, _ document: PolicyDocument) {
    self.name = name
    self.document = document
  }
}

/// Points at one statement of one policy.
public struct StatementReference: Sendable, Hashable, CustomStringConvertible {
  public var policy: String
  public var index: Int
  public var sid: String?

  public var description: String {
    "\(policy) statement \(sid.map { "\"\($0)\"" } ?? "#\(index)")"
  }
}

/// The outcome of an authorization request.
public enum Decision: String, Sendable, Hashable {
  /// An Allow statement applies and no Deny does.
  case allow = "Allow"
  /// A Deny statement applies: nothing can override it.
  case explicitDeny = "ExplicitDeny"
  /// No statement applies: denied by default.
  case implicitDeny = "ImplicitDeny"
}

/// A decision and the statements that made it.
public struct EvaluationResult: Sendable, Equatable {
  public var decision: Decision
  /// For `.allow`, the Allow statements that applied; for `.explicitDeny`, the Deny
  /// statements; empty for `.implicitDeny`.
  public var decidingStatements: [StatementReference]
}

/// Evaluates IAM policies by AWS's evaluation logic, within one account: an explicit Deny
/// in any policy wins; otherwise an Allow in an identity policy or in the resource policy
/// allows; otherwise the request is implicitly denied.
public enum PolicyEvaluator {
  /// Evaluates identity policies and an optional resource policy (bucket policy, key policy,
  /// or a role's trust policy) for one request.
  public static func evaluate(
    identityPolicies: [NamedPolicy], resourcePolicy: NamedPolicy? = nil,
    request: AuthorizationRequest
  ) -> EvaluationResult {
    var allows: [StatementReference] = []
    var denies: [StatementReference] = []
    let sets = identityPolicies.map { ($0, false) } + (resourcePolicy.map { [($0, true)] } ?? [])
    for (policy, isResourcePolicy) in sets {
      for (index, statement) in policy.document.statements.enumerated()
      where applies(
        statement, version: policy.document.version, isResourcePolicy: isResourcePolicy,
        request: request)
      {
        let ref = StatementReference(policy: policy.name, index: index, sid: statement.sid)
        if statement.effect == .deny { denies.append(ref) } else { allows.append(ref) }
      }
    }
    if !denies.isEmpty {
      return EvaluationResult(decision: .explicitDeny, decidingStatements: denies)
    }
    if !allows.isEmpty { return EvaluationResult(decision: .allow, decidingStatements: allows) }
    return EvaluationResult(decision: .implicitDeny, decidingStatements: [])
  }

  /// Evaluates one identity policy.
  public static func evaluate(_ policy: PolicyDocument, request: AuthorizationRequest)
    -> EvaluationResult
  {
    evaluate(identityPolicies: [NamedPolicy("policy", policy)], request: request)
  }

  /// Whether a role's trust policy lets `caller` assume the role with `externalID`
  /// (`sts:AssumeRole`, with `sts:ExternalId` in the context when one is presented).
  public static func evaluateTrust(
    _ trustPolicy: PolicyDocument, roleARN: String, caller: String, externalID: String?,
    context: RequestContext = RequestContext()
  ) -> EvaluationResult {
    var context = context
    if let externalID { context.set("sts:ExternalId", [externalID]) }
    let request = AuthorizationRequest(
      action: "sts:AssumeRole", resource: roleARN, principal: caller, context: context)
    return evaluate(
      identityPolicies: [], resourcePolicy: NamedPolicy("trust policy", trustPolicy),
      request: request)
  }

  /// Whether a statement applies to a request: principal, action, resource and condition.
  static func applies(
    _ statement: Statement, version: String?, isResourcePolicy: Bool, request: AuthorizationRequest
  ) -> Bool {
    // Policy variables exist only in version 2012-10-17; before it `${…}` is literal text.
    let variables = version == PolicyDocument.currentVersion ? request.context : nil
    if isResourcePolicy {
      if let principal = statement.principal {
        guard let caller = request.principal, principal.matches(caller) else { return false }
      } else if let notPrincipal = statement.notPrincipal {
        if let caller = request.principal, notPrincipal.matches(caller) { return false }
      } else {
        return false
      }
    }
    if let actions = statement.action {
      guard
        actions.values.contains(where: { wildcardMatch($0, request.action, caseInsensitive: true) })
      else { return false }
    } else if let notActions = statement.notAction {
      if notActions.values.contains(where: {
        wildcardMatch($0, request.action, caseInsensitive: true)
      }) {
        return false
      }
    }
    if let resources = statement.resource {
      guard
        resources.values.contains(where: {
          wildcardMatch($0, request.resource, variables: variables)
        })
      else { return false }
    } else if let notResources = statement.notResource {
      if notResources.values.contains(where: {
        wildcardMatch($0, request.resource, variables: variables)
      }) {
        return false
      }
    } else if !isResourcePolicy {
      // An identity policy statement without a resource is invalid and never applies.
      return false
    }
    if let condition = statement.condition {
      return ConditionEvaluator.holds(condition, context: request.context, variables: variables)
    }
    return true
  }
}

extension Principal {
  /// Whether this principal element names `caller`, by AWS's rules: `"*"` names everyone;
  /// an account ID or `arn:aws:iam::ACCOUNT:root` names every principal of that account; a
  /// role ARN names the role and its sessions; anything else must be equal.
  public func matches(_ caller: String) -> Bool {
    switch self {
    case .everyone: return true
    case .specific(let map):
      for (type, list) in map {
        for value in list.values {
          if value == "*" || value == caller { return true }
          if type == .aws, Self.awsValue(value, names: caller) { return true }
        }
      }
      return false
    }
  }

  private static func awsValue(_ value: String, names caller: String) -> Bool {
    let callerAccount = AuthorizationRequest.account(of: caller)
    if value.count == 12, value.allSatisfy(\.isNumber) { return callerAccount == value }
    guard let arn = try? ARN.parse(value) else { return false }
    if arn.service == "iam", arn.resource == "root" { return callerAccount == arn.account }
    // A role ARN names the sessions of that role: arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION.
    if arn.service == "iam", arn.resource.hasPrefix("role/"),
      let session = try? ARN.parse(caller), session.service == "sts",
      session.account == arn.account, session.resource.hasPrefix("assumed-role/")
    {
      let roleName = arn.resource.split(separator: "/").last
      let sessionRole = session.resource.split(separator: "/").dropFirst().first
      return roleName != nil && roleName == sessionRole
    }
    return false
  }
}
