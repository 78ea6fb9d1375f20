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
  /// statements; for `.implicitDeny`, the Allow statements that applied but were not
  /// enough on their own (see ``note``), else empty.
  public var decidingStatements: [StatementReference]
  /// Why the statements that applied did not decide alone: a resource policy that only
  /// delegates to the caller's account, a cross-account request, or a KMS key whose key
  /// policy was not given.
  public var note: String?

  public init(decision: Decision, decidingStatements: [StatementReference], note: String? = nil) {
    self.decision = decision
    self.decidingStatements = decidingStatements
    self.note = note
  }
}

/// How a `Principal` element names a caller.
public enum PrincipalMatch: Sendable, Equatable {
  /// By the caller itself: its ARN, its role (for a role session), or `"*"`.
  case direct
  /// By the caller's whole account (`123456789012` or `arn:aws:iam::123456789012:root`).
  /// AWS reads this as delegation to the account: the caller's own identity policies must
  /// allow the request too.
  case account
}

/// Evaluates IAM policies by AWS's evaluation logic: an explicit Deny in any policy wins.
/// Within one account an Allow in an identity policy, or a resource policy that names the
/// caller itself, allows. A resource policy that names only the caller's account delegates
/// to that account's IAM, so an identity policy must allow as well; so must both sides of a
/// cross-account request. A role's trust policy must always allow `sts:AssumeRole`, and a
/// KMS key's key policy must always allow its use: an identity policy alone is never enough.
public enum PolicyEvaluator {
  /// Evaluates identity policies and an optional resource policy (bucket policy, key policy,
  /// or a role's trust policy) for one request.
  /// - Parameter requireResourcePolicy: whether to apply AWS's rule that STS role
  ///   assumption and KMS need their resource policy (trust or key policy) to allow. Checks
  ///   that ask only "does this identity policy grant it" pass false.
  public static func evaluate(
    identityPolicies: [NamedPolicy], resourcePolicy: NamedPolicy? = nil,
    request: AuthorizationRequest, requireResourcePolicy: Bool = true
  ) -> EvaluationResult {
    var identityAllows: [StatementReference] = []
    var denies: [StatementReference] = []
    var direct: [StatementReference] = []
    var delegated: [StatementReference] = []
    for policy in identityPolicies {
      for (index, statement) in policy.document.statements.enumerated()
      where applies(
        statement, version: policy.document.version, isResourcePolicy: false, request: request)
      {
        let ref = StatementReference(policy: policy.name, index: index, sid: statement.sid)
        if statement.effect == .deny { denies.append(ref) } else { identityAllows.append(ref) }
      }
    }
    if let policy = resourcePolicy {
      for (index, statement) in policy.document.statements.enumerated() {
        guard let match = principalMatch(statement, caller: request.principal),
          applies(
            statement, version: policy.document.version, isResourcePolicy: true, request: request)
        else { continue }
        let ref = StatementReference(policy: policy.name, index: index, sid: statement.sid)
        if statement.effect == .deny {
          denies.append(ref)
        } else if match == .direct {
          direct.append(ref)
        } else {
          delegated.append(ref)
        }
      }
    }
    if !denies.isEmpty {
      return EvaluationResult(decision: .explicitDeny, decidingStatements: denies)
    }
    let service = request.action.split(separator: ":").first.map { $0.lowercased() } ?? ""
    let callerAccount = request.principal.flatMap(AuthorizationRequest.account(of:))
    let resourceAccount = (try? ARN.parse(request.resource)).map(\.account).flatMap {
      $0.isEmpty ? nil : $0
    }
    let crossAccount =
      callerAccount != nil && resourceAccount != nil && callerAccount != resourceAccount
    let resourceMust = requireResourcePolicy && (service == "sts" || service == "kms")
    let resourceAllows = direct + delegated

    if resourceMust && resourceAllows.isEmpty {
      let what = service == "kms" ? "the key's key policy" : "the role's trust policy"
      let note =
        resourcePolicy == nil
        ? "\(request.action) needs \(what) to allow it, and none was given; an identity policy alone is never enough."
        : "\(what.prefix(1).uppercased() + what.dropFirst()) does not allow \(request.action) for this caller; an identity policy alone is never enough."
      return EvaluationResult(
        decision: .implicitDeny, decidingStatements: identityAllows, note: note)
    }
    if crossAccount && resourcePolicy != nil && resourceAllows.isEmpty {
      return EvaluationResult(
        decision: .implicitDeny, decidingStatements: identityAllows,
        note:
          "the caller is in account \(callerAccount ?? "?") and the resource in \(resourceAccount ?? "?"): the resource policy must allow the caller too, and it does not."
      )
    }
    if resourcePolicy == nil || (!resourceMust && resourceAllows.isEmpty) {
      return identityAllows.isEmpty
        ? EvaluationResult(decision: .implicitDeny, decidingStatements: [])
        : EvaluationResult(decision: .allow, decidingStatements: identityAllows)
    }
    // A resource policy allows. Alone it decides only for a same-account caller it names.
    if !direct.isEmpty && !crossAccount {
      return EvaluationResult(decision: .allow, decidingStatements: direct + identityAllows)
    }
    if !identityAllows.isEmpty {
      return EvaluationResult(decision: .allow, decidingStatements: resourceAllows + identityAllows)
    }
    let why =
      crossAccount
      ? "the caller is in account \(callerAccount ?? "?") and the resource in \(resourceAccount ?? "?"), so both sides must allow"
      : "it names the caller's whole account (\(callerAccount ?? "?")), which delegates to that account's IAM"
    return EvaluationResult(
      decision: .implicitDeny, decidingStatements: resourceAllows,
      note:
        "\(resourceAllows.map(\.description).joined(separator: ", ")) allows \(request.action), but \(why): the caller's own identity policies must also allow it."
    )
  }

  /// Evaluates one identity policy.
  public static func evaluate(_ policy: PolicyDocument, request: AuthorizationRequest)
    -> EvaluationResult
  {
    evaluate(identityPolicies: [NamedPolicy("policy", policy)], request: request)
  }

  /// Whether a role's trust policy lets `caller` assume the role with `externalID`
  /// (`sts:AssumeRole`, with `sts:ExternalId` in the context when one is presented). The
  /// caller's identity policies matter when the trust policy names a whole account or the
  /// caller is in another account than the role.
  public static func evaluateTrust(
    _ trustPolicy: PolicyDocument, roleARN: String, caller: String, externalID: String?,
    callerPolicies: [NamedPolicy] = [], context: RequestContext = RequestContext()
  ) -> EvaluationResult {
    var context = context
    if let externalID { context.set("sts:ExternalId", [externalID]) }
    let request = AuthorizationRequest(
      action: "sts:AssumeRole", resource: roleARN, principal: caller, context: context)
    return evaluate(
      identityPolicies: callerPolicies, resourcePolicy: NamedPolicy("trust policy", trustPolicy),
      request: request)
  }

  /// How a resource-policy statement's `Principal` or `NotPrincipal` names the caller; nil
  /// when the statement does not apply to it.
  static func principalMatch(_ statement: Statement, caller: String?) -> PrincipalMatch? {
    if let principal = statement.principal {
      guard let caller else { return nil }
      return principal.match(caller)
    }
    if let notPrincipal = statement.notPrincipal {
      if let caller, notPrincipal.excludes(caller) { return nil }
      return .direct
    }
    return nil
  }

  /// Whether a statement applies to a request: principal, action, resource and condition.
  static func applies(
    _ statement: Statement, version: String?, isResourcePolicy: Bool, request: AuthorizationRequest
  ) -> Bool {
    // Policy variables exist only in version 2012-10-17; before it `${…}` is literal text.
    let variables = version == PolicyDocument.currentVersion ? request.context : nil
    if isResourcePolicy {
      guard principalMatch(statement, caller: request.principal) != nil else { return false }
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
  /// Whether this principal element names `caller` at all (directly or by its account).
  public func matches(_ caller: String) -> Bool { match(caller) != nil }

  /// How this principal element names `caller`, by AWS's rules: `"*"` names everyone; a
  /// role ARN names the role and its sessions; an account ID or
  /// `arn:aws:iam::ACCOUNT:root` names the account (delegation, ``PrincipalMatch/account``);
  /// anything else must be equal, byte for byte.
  public func match(_ caller: String) -> PrincipalMatch? {
    switch self {
    case .everyone: return .direct
    case .specific(let map):
      var found: PrincipalMatch?
      for (type, list) in map {
        for value in list.values {
          if value == "*" || bytesEqual(value, caller) { return .direct }
          guard type == .aws else { continue }
          if Self.namesRole(value, ofSession: caller) { return .direct }
          if let account = Self.accountNamed(by: value),
            account == AuthorizationRequest.account(of: caller)
          {
            found = .account
          }
        }
      }
      return found
    }
  }

  /// Whether a `NotPrincipal` element excludes `caller`. AWS evaluates a request as coming
  /// from each of the caller's identities: a role session is the session, its role and its
  /// account; an IAM user is the user and its account. Only when every one of them is
  /// listed is the caller excluded (AWS's page on NotPrincipal).
  public func excludes(_ caller: String) -> Bool {
    guard case .specific(let map) = self else { return true }
    let listed = map[.aws]?.values ?? []
    let others = map.filter { $0.key != .aws }.flatMap { $0.value.values }
    if others.contains(where: { bytesEqual($0, caller) }) { return true }
    guard let account = AuthorizationRequest.account(of: caller) else {
      return listed.contains { bytesEqual($0, caller) }
    }
    let accountListed = listed.contains { Self.accountNamed(by: $0) == account }
    if caller.utf8.count == 12 && caller.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
      return accountListed
    }
    let selfListed = listed.contains { bytesEqual($0, caller) }
    if let session = try? ARN.parse(caller), session.service == "sts",
      session.resource.hasPrefix("assumed-role/")
    {
      let roleListed = listed.contains { Self.namesRole($0, ofSession: caller) }
      return selfListed && roleListed && accountListed
    }
    return selfListed && accountListed
  }

  /// The account an AWS principal value names as a whole: a 12-digit ID or its root ARN.
  static func accountNamed(by value: String) -> String? {
    if value.utf8.count == 12, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
      return value
    }
    guard let arn = try? ARN.parse(value), arn.service == "iam", arn.resource == "root" else {
      return nil
    }
    return arn.account
  }

  /// Whether a role ARN names the role of an assumed-role session
  /// (`arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`). Role paths are not in session ARNs,
  /// so the role is matched by account and name.
  static func namesRole(_ value: String, ofSession caller: String) -> Bool {
    guard let arn = try? ARN.parse(value), arn.service == "iam", arn.resource.hasPrefix("role/"),
      let session = try? ARN.parse(caller), session.service == "sts",
      session.account == arn.account, session.resource.hasPrefix("assumed-role/")
    else { return false }
    let roleName = arn.resource.split(separator: "/").last
    let sessionRole = session.resource.split(separator: "/").dropFirst().first
    return roleName != nil && roleName == sessionRole
  }
}

/// Equality of the UTF-8 bytes, as AWS compares policy values: no Unicode normalization.
func bytesEqual(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }
