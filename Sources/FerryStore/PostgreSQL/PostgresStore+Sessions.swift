import FerryCore
import Foundation
import PostgresNIO

/// Browser sessions: a row per session, keyed by the hash of its secret.
extension PostgresStore {
  public func startSession(as token: APIToken, expiresAt: Date, actor: String) async throws
    -> WebSession
  {
    let secret = WebSession.generateSecret()
    let now = Date()
    let logger = self.logger
    try await transaction { tx in
      _ = try await Self.execute(
        tx, "DELETE FROM web_sessions WHERE expires_at <= $1", [now.micros], logger: logger)
      _ = try await Self.execute(
        tx,
        "INSERT INTO web_sessions (secret_hash, token_id, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        [
          TokenSecret.hash(secret), token.id, token.accountID.rawValue, now.micros,
          expiresAt.micros,
        ], logger: logger)
      try await Self.audit(tx, StoreRules.sessionAudit(token: token, actor: actor), logger: logger)
    }
    return WebSession(tokenID: token.id, expiresAt: expiresAt, secret: secret)
  }

  public func session(secret: String, at now: Date) async throws -> APIToken? {
    let rows = try await query(
      """
      SELECT t.* FROM web_sessions s JOIN api_tokens t ON t.id = s.token_id AND t.account_id = s.account_id
      WHERE s.secret_hash = $1 AND s.expires_at > $2
      """, Self.binds([TokenSecret.hash(secret), now.micros]))
    return try rows.first.map(token)
  }

  public func endSession(secret: String) async throws {
    _ = try await query(
      "DELETE FROM web_sessions WHERE secret_hash = $1", Self.binds([TokenSecret.hash(secret)]))
  }
}
