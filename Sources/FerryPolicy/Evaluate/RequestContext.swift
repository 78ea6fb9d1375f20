/// The condition keys of a request and their values. Keys are case-insensitive, as in IAM;
/// a key may hold several values (multi-valued keys such as `aws:TagKeys`).
public struct RequestContext: Sendable, Equatable {
  private var storage: [String: [String]] = [:]

  public init() {}

  public init(_ values: [String: [String]]) {
    for (key, value) in values { storage[key.lowercased(), default: []].append(contentsOf: value) }
  }

  /// The values of a key, or nil when the request does not carry it.
  public func values(_ key: String) -> [String]? { storage[key.lowercased()] }

  public mutating func set(_ key: String, _ values: [String]) { storage[key.lowercased()] = values }

  public mutating func add(_ key: String, _ value: String) {
    storage[key.lowercased(), default: []].append(value)
  }

  /// Sets a key only if the request does not already carry it.
  mutating func setDefault(_ key: String, _ values: [String]) {
    if storage[key.lowercased()] == nil { storage[key.lowercased()] = values }
  }

  public var keys: [String] { storage.keys.sorted() }
}

/// One request to authorize: who asks to do what to which resource, with which context.
public struct AuthorizationRequest: Sendable, Equatable {
  public var action: String
  public var resource: String
  /// The caller's ARN (an IAM user, a role, an assumed-role session), or an account ID or
  /// service principal. Needed to evaluate resource and trust policies.
  public var principal: String?
  public var context: RequestContext

  public init(
    action: String, resource: String, principal: String? = nil,
    context: RequestContext = RequestContext()
  ) {
    self.action = action
    self.resource = resource
    self.principal = principal
    self.context = context
    if let principal {
      // Keys AWS fills in from the caller, so policies can test them.
      self.context.setDefault("aws:PrincipalArn", [principal])
      if let account = Self.account(of: principal) {
        self.context.setDefault("aws:PrincipalAccount", [account])
      }
      if let arn = try? ARN.parse(principal), arn.service == "iam",
        arn.resource.hasPrefix("user/"), let name = arn.resource.split(separator: "/").last
      {
        self.context.setDefault("aws:username", [String(name)])
      }
    }
  }

  /// The account of a principal ARN or bare account ID.
  static func account(of principal: String) -> String? {
    if principal.count == 12, principal.allSatisfy(\.isNumber) { return principal }
    guard let arn = try? ARN.parse(principal), !arn.account.isEmpty else { return nil }
    return arn.account
  }
}
