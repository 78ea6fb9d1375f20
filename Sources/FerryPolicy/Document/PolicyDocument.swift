/// An IAM policy document: an identity policy, a resource policy (such as a bucket policy)
/// or a role's trust policy. Parse one with ``PolicyDocument/parse(_:)-(String)``; write one with
/// ``PolicyDocument/json(pretty:)``.
public struct PolicyDocument: Sendable, Equatable {
  /// The policy language version. AWS knows `2012-10-17` (current) and `2008-10-17`.
  public var version: String?
  public var id: String?
  public var statements: [Statement]
  /// Whether `Statement` was written as an array (it may be a single object).
  public var statementIsArray: Bool

  public init(
    version: String? = PolicyDocument.currentVersion, id: String? = nil,
    statements: [Statement], statementIsArray: Bool = true
  ) {
    self.version = version
    self.id = id
    self.statements = statements
    self.statementIsArray = statementIsArray
  }

  /// The current policy language version; the only one with policy variables.
  public static let currentVersion = "2012-10-17"
  /// The older policy language version, still accepted by AWS.
  public static let legacyVersion = "2008-10-17"
}

/// Whether a statement allows or denies.
public enum Effect: String, Sendable, Hashable, CaseIterable {
  case allow = "Allow"
  case deny = "Deny"
}

/// One statement of a policy.
public struct Statement: Sendable, Equatable {
  public var sid: String?
  public var effect: Effect
  public var principal: Principal?
  public var notPrincipal: Principal?
  public var action: StringList?
  public var notAction: StringList?
  public var resource: StringList?
  public var notResource: StringList?
  public var condition: ConditionBlock?

  public init(
    sid: String? = nil, effect: Effect, principal: Principal? = nil,
    notPrincipal: Principal? = nil, action: StringList? = nil, notAction: StringList? = nil,
    resource: StringList? = nil, notResource: StringList? = nil, condition: ConditionBlock? = nil
  ) {
    self.sid = sid
    self.effect = effect
    self.principal = principal
    self.notPrincipal = notPrincipal
    self.action = action
    self.notAction = notAction
    self.resource = resource
    self.notResource = notResource
    self.condition = condition
  }
}

/// A JSON field that holds one string or an array of strings. Remembers which, so that a
/// parsed document writes back the way it was read.
public struct StringList: Sendable, Hashable, ExpressibleByArrayLiteral,
  ExpressibleByStringLiteral
{
  public var values: [String]
  /// Written as a bare string rather than an array (only when there is one value).
  public var isSingle: Bool

  public init(_ values: [String], isSingle: Bool = false) {
    self.values = values
    self.isSingle = isSingle && values.count == 1
  }
  public init(arrayLiteral elements: String...) { self.init(elements) }
  public init(stringLiteral value: String) { self.init([value], isSingle: true) }

  var json: JSONValue {
    isSingle ? .string(values[0]) : .array(values.map(JSONValue.string))
  }
}

/// The `Principal` or `NotPrincipal` of a statement.
public enum Principal: Sendable, Equatable {
  /// `"*"`: everyone, including anonymous callers.
  case everyone
  /// Principals by type, for example `{"AWS": ["arn:aws:iam::111122223333:root"]}`.
  case specific([PrincipalType: StringList])

  /// An AWS principal: an account ID, an account root ARN, or a role or user ARN.
  public static func aws(_ values: StringList) -> Principal { .specific([.aws: values]) }
  /// A service principal such as `cloudtrail.amazonaws.com`.
  public static func service(_ values: StringList) -> Principal { .specific([.service: values]) }

  /// Every value of the given type (`"*"` counts for each type).
  public func values(of type: PrincipalType) -> [String] {
    switch self {
    case .everyone: return ["*"]
    case .specific(let map): return map[type]?.values ?? []
    }
  }

  var json: JSONValue {
    switch self {
    case .everyone: return .string("*")
    case .specific(let map):
      return .object(
        PrincipalType.allCases.compactMap { type in map[type].map { (type.rawValue, $0.json) } })
    }
  }
}

/// The kinds of principal a policy can name.
public enum PrincipalType: String, Sendable, Hashable, CaseIterable {
  case aws = "AWS"
  case service = "Service"
  case federated = "Federated"
  case canonicalUser = "CanonicalUser"
}

/// A condition value. IAM compares them as strings, but the JSON type is kept so that a
/// document round-trips.
public enum ConditionValue: Sendable, Hashable, ExpressibleByStringLiteral,
  ExpressibleByIntegerLiteral
{
  case string(String)
  case number(Double)
  case bool(Bool)

  public init(stringLiteral value: String) { self = .string(value) }
  public init(integerLiteral value: Int) { self = .number(Double(value)) }

  /// The value as IAM sees it.
  public var text: String {
    switch self {
    case .string(let s): return s
    case .bool(let b): return b ? "true" : "false"
    case .number(let n):
      return n.rounded() == n && abs(n) < 1e15 ? String(Int64(n)) : "\(n)"
    }
  }

  var json: JSONValue {
    switch self {
    case .string(let s): .string(s)
    case .number(let n): .number(n)
    case .bool(let b): .bool(b)
    }
  }
}

/// A statement's `Condition` element: operator → condition key → one or more values.
/// All entries must hold (AND); a key's values are alternatives (OR).
public struct ConditionBlock: Sendable, Equatable {
  public struct Entry: Sendable, Equatable {
    public var op: ConditionOperator
    public var key: String
    public var values: [ConditionValue]
    /// Written as a bare value rather than an array.
    public var isSingle: Bool

    public init(
      _ op: ConditionOperator, _ key: String, _ values: [ConditionValue], isSingle: Bool = false
    ) {
      self.op = op
      self.key = key
      self.values = values
      self.isSingle = isSingle && values.count == 1
    }
  }

  public var entries: [Entry]

  public init(_ entries: [Entry]) { self.entries = entries }

  var json: JSONValue {
    var byOperator: [(key: String, value: JSONValue)] = []
    for entry in entries {
      let value: JSONValue =
        entry.isSingle ? entry.values[0].json : .array(entry.values.map(\.json))
      if let i = byOperator.firstIndex(where: { $0.key == entry.op.name }),
        case .object(var keys) = byOperator[i].value
      {
        keys.append((entry.key, value))
        byOperator[i].value = .object(keys)
      } else {
        byOperator.append((entry.op.name, .object([(entry.key, value)])))
      }
    }
    return .object(byOperator)
  }
}

// MARK: - Writing

extension Statement {
  /// The statement as JSON, keys in the order AWS prints them.
  public var json: JSONValue {
    var pairs: [(key: String, value: JSONValue)] = []
    if let sid { pairs.append(("Sid", .string(sid))) }
    pairs.append(("Effect", .string(effect.rawValue)))
    if let principal { pairs.append(("Principal", principal.json)) }
    if let notPrincipal { pairs.append(("NotPrincipal", notPrincipal.json)) }
    if let action { pairs.append(("Action", action.json)) }
    if let notAction { pairs.append(("NotAction", notAction.json)) }
    if let resource { pairs.append(("Resource", resource.json)) }
    if let notResource { pairs.append(("NotResource", notResource.json)) }
    if let condition { pairs.append(("Condition", condition.json)) }
    return .object(pairs)
  }
}

extension PolicyDocument {
  /// The document as a JSON value, keys in the order AWS prints them.
  public var jsonValue: JSONValue {
    var pairs: [(key: String, value: JSONValue)] = []
    if let version { pairs.append(("Version", .string(version))) }
    if let id { pairs.append(("Id", .string(id))) }
    let statementJSON: JSONValue =
      statementIsArray || statements.count != 1
      ? .array(statements.map(\.json)) : statements[0].json
    pairs.append(("Statement", statementJSON))
    return .object(pairs)
  }

  /// The document as JSON text.
  public func json(pretty: Bool = true) -> String { jsonValue.serialized(pretty: pretty) }
}
