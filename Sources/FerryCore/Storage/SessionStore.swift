import Foundation

/// Signing in to the web UI. A session acts as the API token or the user it was started
/// for (its account and role): revoking the token ends its sessions. A user signs in with
/// a password, set through a one-time invitation an admin hands over. The store keeps only
/// hashes: of session secrets, of invitations, and scrypt hashes of passwords.
public protocol SessionStore: Sendable {
  /// Starts a session until `expiresAt` (audited as `session.start`); removes expired
  /// sessions on the way.
  func startSession(as principal: SessionPrincipal, expiresAt: Date, actor: String)
    async throws -> WebSession
  /// Who a live session acts as: nil for an unknown, expired or revoked one.
  func session(secret: String, at now: Date) async throws -> SessionPrincipal?
  /// Ends a session (sign out); nothing happens for an unknown secret.
  func endSession(secret: String) async throws

  /// A one-time invitation for a user of `account` to choose a password (audited as
  /// `user.invite`); replaces an earlier one. Nil if the account has no such user.
  func inviteUser(_ userID: String, of account: AccountID, expiresAt: Date, actor: String)
    async throws -> Secret?
  /// Sets the password of the invitation's user and uses the invitation up (audited as
  /// `user.set-password`). Nil for an unknown, used or expired invitation.
  func acceptInvitation(secret: String, passwordHash: String, at now: Date) async throws
    -> User?
  /// The users with this email (any case) who have a password, with its stored hash.
  func passwordUsers(email: String) async throws -> [(user: User, passwordHash: String)]
}

/// A session just started: the only moment its secret exists outside the browser.
public struct WebSession: Sendable {
  public var principal: SessionPrincipal
  public var expiresAt: Date
  /// `frs_` and 40 random letters and digits: the cookie's value.
  public var secret: Secret

  public init(principal: SessionPrincipal, expiresAt: Date, secret: String) {
    self.principal = principal
    self.expiresAt = expiresAt
    self.secret = Secret(secret)
  }

  public static func generateSecret() -> String { "frs_" + RandomText.alphanumeric(40) }
  /// An invitation's secret: `fri_` and 40 random letters and digits.
  public static func generateInvitation() -> String { "fri_" + RandomText.alphanumeric(40) }
}
