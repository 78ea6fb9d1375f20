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

  public init(source: ApplicationRequestContextSource) {
    coreContext = .init(source: source)
  }

  /// Request bodies larger than this answer 413.
  public var maxUploadSize: Int { 1 << 20 }

  /// The caller, or 401 where a route needs one.
  func requireCaller() throws -> Caller {
    guard let caller else { throw APIProblem.unauthenticated() }
    return caller
  }
}

/// Who sent a request: a token of one account, with its role.
public struct Caller: Sendable {
  public var token: APIToken
  public var account: Account

  /// How the audit log names the caller.
  public var actor: String { "token \(token.name) (\(token.id))" }
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
