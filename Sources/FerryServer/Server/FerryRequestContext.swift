import FerryCore
import Hummingbird

/// The context of one request: Hummingbird's core, and who is calling once the token was
/// checked.
public struct FerryRequestContext: RequestContext {
  public var coreContext: CoreRequestContextStorage
  /// The authenticated caller; nil before authentication and on public routes.
  public var caller: Caller?
  /// The web UI's session secret when the caller signed in through a browser (the CSRF
  /// token derives from it); nil for API tokens.
  var sessionSecret: String?
  /// A notice the web UI shows once on the next page.
  var notice: String?
  /// The client's address as the socket sees it (a proxy's, behind one).
  let remoteAddress: String
  /// Whether the web UI's cookies are marked `Secure`: true or false as the operator said
  /// (`--secure-cookies`), nil to follow the request (TLS, or a proxy that says https).
  var secureCookies: Bool?

  public init(source: ApplicationRequestContextSource) {
    coreContext = .init(source: source)
    remoteAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
  }

  /// Request bodies larger than this answer 413.
  public var maxUploadSize: Int { 1 << 20 }

  /// The caller, or 401 where a route needs one.
  func requireCaller() throws -> Caller {
    guard let caller else { throw APIProblem.unauthenticated() }
    return caller
  }
}

/// Who sent a request: a token of one account, with its role; or, in the web UI, a user
/// who signed in with a password (then `token` describes the user: the user's ID, email
/// and role, never an operator).
public struct Caller: Sendable {
  public var token: APIToken
  public var account: Account
  /// The user, when a user signed in with a password.
  public var user: User?

  init(token: APIToken, account: Account) {
    self.token = token
    self.account = account
  }

  init(user: User, account: Account) {
    self.token = APIToken(
      id: user.id, accountID: user.accountID, name: user.email, role: user.role,
      isOperator: false, createdAt: user.createdAt)
    self.account = account
    self.user = user
  }

  init(_ principal: SessionPrincipal, account: Account) {
    switch principal {
    case .token(let token): self.init(token: token, account: account)
    case .user(let user): self.init(user: user, account: account)
    }
  }

  /// How the audit log names the caller.
  public var actor: String {
    if let user { return "user \(user.email) (\(user.id))" }
    return "token \(token.name) (\(token.id))"
  }
  public var isAdmin: Bool { token.role == .admin }
  public var isOperator: Bool { token.isOperator }

  /// Admins alone change configuration.
  func requireAdmin() throws {
    guard isAdmin else {
      throw APIProblem.forbidden("only an admin of the account may change its configuration")
    }
  }

  func requireOperator() throws {
    guard isOperator else { throw APIProblem.forbidden("only an operator may manage accounts") }
  }
}
