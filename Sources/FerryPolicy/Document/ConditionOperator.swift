/// A condition operator such as `StringEquals`, `ForAllValues:StringLike` or
/// `ArnLikeIfExists`: a base comparison, an optional set qualifier for multi-valued keys,
/// and an optional `IfExists` suffix.
public struct ConditionOperator: Sendable, Hashable, CustomStringConvertible {
  /// The comparison itself.
  public enum Base: String, Sendable, Hashable, CaseIterable {
    case stringEquals = "StringEquals"
    case stringNotEquals = "StringNotEquals"
    case stringEqualsIgnoreCase = "StringEqualsIgnoreCase"
    case stringNotEqualsIgnoreCase = "StringNotEqualsIgnoreCase"
    case stringLike = "StringLike"
    case stringNotLike = "StringNotLike"
    case numericEquals = "NumericEquals"
    case numericNotEquals = "NumericNotEquals"
    case numericLessThan = "NumericLessThan"
    case numericLessThanEquals = "NumericLessThanEquals"
    case numericGreaterThan = "NumericGreaterThan"
    case numericGreaterThanEquals = "NumericGreaterThanEquals"
    case dateEquals = "DateEquals"
    case dateNotEquals = "DateNotEquals"
    case dateLessThan = "DateLessThan"
    case dateLessThanEquals = "DateLessThanEquals"
    case dateGreaterThan = "DateGreaterThan"
    case dateGreaterThanEquals = "DateGreaterThanEquals"
    case bool = "Bool"
    case binaryEquals = "BinaryEquals"
    case ipAddress = "IpAddress"
    case notIpAddress = "NotIpAddress"
    case arnEquals = "ArnEquals"
    case arnLike = "ArnLike"
    case arnNotEquals = "ArnNotEquals"
    case arnNotLike = "ArnNotLike"
    case null = "Null"

    /// Negated operators are true when no value matches, including when the key is absent.
    public var isNegated: Bool {
      switch self {
      case .stringNotEquals, .stringNotEqualsIgnoreCase, .stringNotLike, .numericNotEquals,
        .dateNotEquals, .notIpAddress, .arnNotEquals, .arnNotLike:
        return true
      default: return false
      }
    }
  }

  /// How a multi-valued request key is compared.
  public enum SetQualifier: String, Sendable, Hashable {
    /// At least one request value must match.
    case forAnyValue = "ForAnyValue"
    /// Every request value must match; true for an empty or missing key.
    case forAllValues = "ForAllValues"
  }

  public var base: Base
  public var qualifier: SetQualifier?
  public var ifExists: Bool

  public init(_ base: Base, qualifier: SetQualifier? = nil, ifExists: Bool = false) {
    self.base = base
    self.qualifier = qualifier
    self.ifExists = ifExists
  }

  /// The operator as written in a policy.
  public var name: String {
    (qualifier.map { $0.rawValue + ":" } ?? "") + base.rawValue + (ifExists ? "IfExists" : "")
  }
  public var description: String { name }

  /// Parses an operator name; nil when it is not one AWS knows.
  public init?(name: String) {
    var rest = Substring(name)
    var qualifier: SetQualifier?
    if let colon = rest.firstIndex(of: ":") {
      guard let q = SetQualifier(rawValue: String(rest[..<colon])) else { return nil }
      qualifier = q
      rest = rest[rest.index(after: colon)...]
    }
    var ifExists = false
    if rest.hasSuffix("IfExists") {
      ifExists = true
      rest = rest.dropLast("IfExists".count)
    }
    guard let base = Base(rawValue: String(rest)) else { return nil }
    // AWS rejects `NullIfExists`: Null already tests for existence.
    if base == .null && (ifExists || qualifier != nil) { return nil }
    self.init(base, qualifier: qualifier, ifExists: ifExists)
  }

  public static let stringEquals = ConditionOperator(.stringEquals)
  public static let stringLike = ConditionOperator(.stringLike)
  public static let bool = ConditionOperator(.bool)

  /// Every base operator name, for suggestions.
  static var knownNames: [String] { Base.allCases.map(\.rawValue) }
}
