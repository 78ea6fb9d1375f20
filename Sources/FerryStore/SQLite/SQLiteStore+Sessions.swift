import FerryCore
import Foundation
import GRDB

/// Browser sessions: a row per session, keyed by the hash of its secret.
extension SQLiteStore {
  public func startSession(as token: APIToken, expiresAt: Date, actor: String) async throws
    -> WebSession
  {
    let secret = WebSession.generateSecret()
    let now = Date()
    try await write { db in
      try db.execute(
        sql: "DELETE FROM web_sessions WHERE expires_at <= ?", arguments: [now.micros])
      try db.execute(
        sql:
          "INSERT INTO web_sessions (secret_hash, token_id, account_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        arguments: [
          TokenSecret.hash(secret), token.id, token.accountID.rawValue, now.micros,
          expiresAt.micros,
        ])
      try Self.audit(db, StoreRules.sessionAudit(token: token, actor: actor))
    }
    return WebSession(tokenID: token.id, expiresAt: expiresAt, secret: secret)
  }

  public func session(secret: String, at now: Date) async throws -> APIToken? {
    try await read { db in
      try Row.fetchOne(
        db,
        sql: """
          SELECT t.* FROM web_sessions s JOIN api_tokens t ON t.id = s.token_id AND t.account_id = s.account_id
          WHERE s.secret_hash = ? AND s.expires_at > ?
          """,
        arguments: [TokenSecret.hash(secret), now.micros]
      ).map(Self.token)
    }
  }

  public func endSession(secret: String) async throws {
    try await write { db in
      try db.execute(
        sql: "DELETE FROM web_sessions WHERE secret_hash = ?",
        arguments: [TokenSecret.hash(secret)])
    }
  }
}
