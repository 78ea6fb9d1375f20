import Foundation

/// Browser sessions of the web UI. A session acts as the API token it was signed in with
/// (its account and role): revoking the token ends its sessions. The store keeps only the
/// hash of a session's secret; the secret lives in the browser's cookie.
public protocol SessionStore: Sendable {
  /// Starts a session as `token` until `expiresAt` (audited as `session.start`); removes
  /// expired sessions on the way.
  func startSession(as token: APIToken, expiresAt: Date, actor: String) async throws
    -> WebSession
  /// The token a live session acts as: nil for an unknown, expired or revoked one.
  func session(secret: String, at now: Date) async throws -> APIToken?
  /// Ends a session (sign out); nothing happens for an unknown secret.
  func endSession(secret: String) async throws
}

/// A session just started: the only moment its secret exists outside the browser.
public struct WebSession: Sendable {
  public var tokenID: String
  public var expiresAt: Date
  /// `frs_` and 40 random letters and digits: the cookie's value.
  public var secret: Secret

  public init(tokenID: String, expiresAt: Date, secret: String) {
    self.tokenID = tokenID
    self.expiresAt = expiresAt
    self.secret = Secret(secret)
  }

  public static func generateSecret() -> String { "frs_" + RandomText.alphanumeric(40) }
}
