import FerryCore
import Foundation
import GRDB

/// Browser sessions (a row per session, keyed by the hash of its secret), users'
/// invitations and password hashes.
extension SQLiteStore {
  public func startSession(as principal: SessionPrincipal, expiresAt: Date, actor: String)
    async throws -> WebSession
  {
    let secret = WebSession.generateSecret()
    let now = Date()
    try await write { db in
      try db.execute(
        sql: "DELETE FROM web_sessions WHERE expires_at <= ?", arguments: [now.micros])
      try db.execute(
        sql:
          "INSERT INTO web_sessions (secret_hash, kind, principal_id, account_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        arguments: [
          TokenSecret.hash(secret), principal.kind, principal.id, principal.accountID.rawValue,
          now.micros, expiresAt.micros,
        ])
      try Self.audit(db, StoreRules.sessionAudit(principal, actor: actor))
    }
    return WebSession(principal: principal, expiresAt: expiresAt, secret: secret)
  }

  public func session(secret: String, at now: Date) async throws -> SessionPrincipal? {
    try await read { db in
      guard
        let row = try Row.fetchOne(
          db,
          sql:
            "SELECT kind, principal_id, account_id FROM web_sessions WHERE secret_hash = ? AND expires_at > ?",
          arguments: [TokenSecret.hash(secret), now.micros])
      else { return nil }
      let id: String = row["principal_id"]
      let account: String = row["account_id"]
      switch row["kind"] as String {
      case "token":
        return try Row.fetchOne(
          db, sql: "SELECT * FROM api_tokens WHERE id = ? AND account_id = ?",
          arguments: [id, account]
        ).map { .token(Self.token($0)) }
      case "user":
        return try Row.fetchOne(
          db, sql: "SELECT * FROM users WHERE id = ? AND account_id = ? AND disabled = 0",
          arguments: [id, account]
        ).map { .user(Self.user($0)) }
      default: return nil
      }
    }
  }

  public func endSession(secret: String) async throws {
    try await write { db in
      try db.execute(
        sql: "DELETE FROM web_sessions WHERE secret_hash = ?",
        arguments: [TokenSecret.hash(secret)])
    }
  }

  public func inviteUser(_ userID: String, of account: AccountID, expiresAt: Date, actor: String)
    async throws -> Secret?
  {
    let secret = WebSession.generateInvitation()
    return try await write { db -> Secret? in
      try db.execute(
        sql:
          "UPDATE users SET invite_hash = ?, invite_expires_at = ? WHERE id = ? AND account_id = ?",
        arguments: [TokenSecret.hash(secret), expiresAt.micros, userID, account.rawValue])
      guard db.changesCount == 1 else { return nil }
      try Self.audit(
        db, AuditEntry(accountID: account, actor: actor, action: "user.invite", target: userID))
      return Secret(secret)
    }
  }

  public func acceptInvitation(secret: String, passwordHash: String, at now: Date) async throws
    -> User?
  {
    try await write { db -> User? in
      guard
        let row = try Row.fetchOne(
          db,
          sql:
            "SELECT * FROM users WHERE invite_hash = ? AND invite_expires_at > ? AND disabled = 0",
          arguments: [TokenSecret.hash(secret), now.micros])
      else { return nil }
      let user = Self.user(row)
      try db.execute(
        sql:
          "UPDATE users SET password_hash = ?, invite_hash = NULL, invite_expires_at = NULL WHERE id = ?",
        arguments: [passwordHash, user.id])
      try Self.audit(
        db,
        AuditEntry(
          accountID: user.accountID, actor: "user \(user.email) (\(user.id))",
          action: "user.set-password", target: user.id))
      return user
    }
  }

  public func passwordUsers(email: String) async throws -> [(user: User, passwordHash: String)] {
    try await read { db in
      try Row.fetchAll(
        db,
        sql:
          "SELECT * FROM users WHERE lower(email) = lower(?) AND password_hash IS NOT NULL AND disabled = 0 ORDER BY created_at",
        arguments: [email]
      ).map { (Self.user($0), $0["password_hash"]) }
    }
  }
}
