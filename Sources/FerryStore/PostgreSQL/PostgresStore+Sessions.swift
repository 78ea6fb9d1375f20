import FerryCore
import Foundation
import PostgresNIO

/// Browser sessions (a row per session, keyed by the hash of its secret), users'
/// invitations and password hashes.
extension PostgresStore {
  public func startSession(as principal: SessionPrincipal, expiresAt: Date, actor: String)
    async throws -> WebSession
  {
    let secret = WebSession.generateSecret()
    let now = Date()
    let logger = self.logger
    try await transaction { tx in
      _ = try await Self.execute(
        tx, "DELETE FROM web_sessions WHERE expires_at <= $1", [now.micros], logger: logger)
      _ = try await Self.execute(
        tx,
        "INSERT INTO web_sessions (secret_hash, kind, principal_id, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        [
          TokenSecret.hash(secret), principal.kind, principal.id, principal.accountID.rawValue,
          now.micros, expiresAt.micros,
        ], logger: logger)
      try await Self.audit(tx, StoreRules.sessionAudit(principal, actor: actor), logger: logger)
    }
    return WebSession(principal: principal, expiresAt: expiresAt, secret: secret)
  }

  public func session(secret: String, at now: Date) async throws -> SessionPrincipal? {
    let rows = try await query(
      "SELECT kind, principal_id, account_id FROM web_sessions WHERE secret_hash = $1 AND expires_at > $2",
      Self.binds([TokenSecret.hash(secret), now.micros]))
    guard let row = rows.first else { return nil }
    let kind: String
    let id: String
    let account: String
    do {
      kind = try row["kind"].decode(String.self)
      id = try row["principal_id"].decode(String.self)
      account = try row["account_id"].decode(String.self)
    } catch {
      throw map(error)
    }
    switch kind {
    case "token":
      return try await query(
        "SELECT * FROM api_tokens WHERE id = $1 AND account_id = $2", Self.binds([id, account])
      ).first.map { .token(try token($0)) }
    case "user":
      return try await query(
        "SELECT * FROM users WHERE id = $1 AND account_id = $2 AND NOT disabled",
        Self.binds([id, account])
      ).first.map { .user(try user($0)) }
    default: return nil
    }
  }

  public func endSession(secret: String) async throws {
    _ = try await query(
      "DELETE FROM web_sessions WHERE secret_hash = $1", Self.binds([TokenSecret.hash(secret)]))
  }

  public func inviteUser(_ userID: String, of account: AccountID, expiresAt: Date, actor: String)
    async throws -> Secret?
  {
    let secret = WebSession.generateInvitation()
    let logger = self.logger
    let invited = try await transaction { tx -> Bool in
      let rows = try await Self.execute(
        tx,
        "UPDATE users SET invite_hash = $1, invite_expires_at = $2 WHERE id = $3 AND account_id = $4 RETURNING id",
        [TokenSecret.hash(secret), expiresAt.micros, userID, account.rawValue], logger: logger)
      guard !rows.isEmpty else { return false }
      try await Self.audit(
        tx, AuditEntry(accountID: account, actor: actor, action: "user.invite", target: userID),
        logger: logger)
      return true
    }
    return invited ? Secret(secret) : nil
  }

  public func acceptInvitation(secret: String, passwordHash: String, at now: Date) async throws
    -> User?
  {
    let logger = self.logger
    let store = self
    return try await transaction { tx -> User? in
      let rows = try await Self.execute(
        tx,
        "UPDATE users SET password_hash = $1, invite_hash = NULL, invite_expires_at = NULL WHERE invite_hash = $2 AND invite_expires_at > $3 AND NOT disabled RETURNING *",
        [passwordHash, TokenSecret.hash(secret), now.micros], logger: logger)
      guard let row = rows.first else { return nil }
      let user = try store.user(row)
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: user.accountID, actor: "user \(user.email) (\(user.id))",
          action: "user.set-password", target: user.id), logger: logger)
      return user
    }
  }

  public func passwordUsers(email: String) async throws -> [(user: User, passwordHash: String)] {
    let rows = try await query(
      "SELECT * FROM users WHERE lower(email) = lower($1) AND password_hash IS NOT NULL AND NOT disabled ORDER BY created_at",
      Self.binds([email]))
    return try rows.map { row in
      do {
        return (try user(row), try row["password_hash"].decode(String.self))
      } catch {
        throw map(error)
      }
    }
  }
}
