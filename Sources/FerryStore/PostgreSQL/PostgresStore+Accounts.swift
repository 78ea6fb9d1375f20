import FerryCore
import Foundation
import Logging
import PostgresNIO

/// Accounts (tenants), their users and API tokens.
extension PostgresStore {
  // MARK: Accounts

  public func createAccount(
    name: String, externalIDPrefix: String, retentionDays: Int, actor: String
  ) async throws -> Account {
    let account = try StoreRules.newAccount(
      name: name, externalIDPrefix: externalIDPrefix, retentionDays: retentionDays)
    let logger = self.logger
    try await transaction { tx in
      // One account creation at a time, so the duplicate-name check cannot race.
      _ = try await tx.query("SELECT pg_advisory_xact_lock(70112027)", logger: logger)
      var names: [String] = []
      for try await name in try await tx.query("SELECT name FROM accounts", logger: logger)
        .decode(String.self)
      {
        names.append(name)
      }
      if let problem = StoreRules.duplicateAccountName(name, existing: names) { throw problem }
      _ = try await Self.execute(
        tx,
        "INSERT INTO accounts (id, name, external_id, retention_days, created_at) VALUES ($1, $2, $3, $4, $5)",
        [
          account.id.rawValue, account.name, account.externalID, account.retentionDays,
          account.createdAt.micros,
        ], logger: logger)
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: account.id, actor: actor, action: "account.create",
          target: account.id.rawValue, after: StoreJSON.audit(account)), logger: logger)
    }
    return account
  }

  public func account(_ id: AccountID) async throws -> Account? {
    guard
      let row = try await query("SELECT * FROM accounts WHERE id = $1", Self.binds([id.rawValue]))
        .first
    else { return nil }
    return try account(row)
  }

  public func accounts() async throws -> [Account] {
    try await query("SELECT * FROM accounts ORDER BY created_at, id").map(account)
  }

  func account(_ row: PostgresRandomAccessRow) throws -> Account {
    do {
      return Account(
        id: AccountID(rawValue: try row["id"].decode(String.self)),
        name: try row["name"].decode(String.self),
        externalID: try row["external_id"].decode(String.self),
        retentionDays: try row["retention_days"].decode(Int.self),
        createdAt: Date(micros: try row["created_at"].decode(Int64.self)))
    } catch {
      throw map(error)
    }
  }

  // MARK: Users and tokens

  public func addUser(_ user: User, actor: String) async throws {
    let logger = self.logger
    try await transaction { tx in
      _ = try await Self.execute(
        tx,
        "INSERT INTO users (id, account_id, email, role, created_at) VALUES ($1, $2, $3, $4, $5)",
        [user.id, user.accountID.rawValue, user.email, user.role.rawValue, user.createdAt.micros],
        logger: logger)
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: user.accountID, actor: actor, action: "user.add", target: user.id,
          after: StoreJSON.audit(user)), logger: logger)
    }
  }

  public func users(of account: AccountID) async throws -> [User] {
    let rows = try await query(
      "SELECT * FROM users WHERE account_id = $1 ORDER BY created_at, id",
      Self.binds([account.rawValue]))
    return try rows.map(user)
  }

  public func issueToken(
    name: String, role: Role, isOperator: Bool, of account: AccountID, actor: String
  ) async throws -> IssuedToken {
    let (token, secret) = StoreRules.newToken(
      name: name, role: role, isOperator: isOperator, of: account)
    let logger = self.logger
    try await transaction { tx in
      _ = try await Self.execute(
        tx,
        "INSERT INTO api_tokens (id, account_id, name, role, operator, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [
          token.id, account.rawValue, name, role.rawValue, isOperator, TokenSecret.hash(secret),
          token.createdAt.micros,
        ], logger: logger)
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: account, actor: actor, action: "token.issue", target: token.id,
          after: StoreJSON.audit(token)), logger: logger)
    }
    return IssuedToken(token: token, secret: secret)
  }

  public func authenticate(tokenSecret: String) async throws -> APIToken? {
    let rows = try await query(
      "SELECT * FROM api_tokens WHERE secret_hash = $1", Self.binds([TokenSecret.hash(tokenSecret)])
    )
    return try rows.first.map(token)
  }

  public func tokens(of account: AccountID) async throws -> [APIToken] {
    try await query(
      "SELECT * FROM api_tokens WHERE account_id = $1 ORDER BY created_at, id",
      Self.binds([account.rawValue])
    ).map(token)
  }

  public func revokeToken(_ id: String, of account: AccountID, actor: String) async throws -> Bool {
    let logger = self.logger
    let store = self
    return try await transaction { tx in
      let rows = try await Self.execute(
        tx, "DELETE FROM api_tokens WHERE id = $1 AND account_id = $2 RETURNING *",
        [id, account.rawValue], logger: logger)
      guard let row = rows.first else { return false }
      let revoked = try store.token(row)
      if revoked.role == .admin,
        try await Self.otherAdminCredentials(tx, of: account, exceptToken: id, logger: logger) == 0
      {
        throw StoreRules.lastAdminCredential(id)
      }
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: account, actor: actor, action: "token.revoke", target: id,
          before: StoreJSON.audit(revoked)),
        logger: logger)
      return true
    }
  }

  func user(_ row: PostgresRandomAccessRow) throws -> User {
    do {
      return User(
        id: try row["id"].decode(String.self),
        accountID: AccountID(rawValue: try row["account_id"].decode(String.self)),
        email: try row["email"].decode(String.self),
        role: Role(rawValue: try row["role"].decode(String.self)) ?? .member,
        createdAt: Date(micros: try row["created_at"].decode(Int64.self)),
        disabled: try row["disabled"].decode(Bool?.self) ?? false)
    } catch {
      throw map(error)
    }
  }

  /// The account's admin credentials other than the user `exceptUser` and the token
  /// `exceptToken`: admin tokens, and enabled admin users with a password. The account's
  /// row is locked first, so that two changes cannot each leave the other as the last.
  static func otherAdminCredentials(
    _ tx: PostgresConnection, of account: AccountID, exceptUser: String = "",
    exceptToken: String = "", logger: Logger
  ) async throws -> Int64 {
    _ = try await execute(
      tx, "SELECT id FROM accounts WHERE id = $1 FOR UPDATE", [account.rawValue], logger: logger)
    let rows = try await execute(
      tx,
      """
      SELECT (SELECT COUNT(*) FROM api_tokens WHERE account_id = $1 AND role = 'admin' AND id <> $2)
        + (SELECT COUNT(*) FROM users WHERE account_id = $1 AND role = 'admin' AND NOT disabled
           AND password_hash IS NOT NULL AND id <> $3) AS n
      """, [account.rawValue, exceptToken, exceptUser], logger: logger)
    return try rows.first.map { try $0["n"].decode(Int64.self) } ?? 0
  }

  static func isAdminCredential(_ row: PostgresRandomAccessRow) throws -> Bool {
    try row["role"].decode(String.self) == Role.admin.rawValue
      && row["password_hash"].decode(String?.self) != nil
      && !(row["disabled"].decode(Bool?.self) ?? false)
  }

  public func updateUser(
    _ id: String, of account: AccountID, role: Role?, disabled: Bool?, actor: String
  ) async throws -> User? {
    let logger = self.logger
    let store = self
    return try await transaction { tx -> User? in
      let rows = try await Self.execute(
        tx, "SELECT * FROM users WHERE id = $1 AND account_id = $2 FOR UPDATE",
        [id, account.rawValue], logger: logger)
      guard let row = rows.first else { return nil }
      let before = try store.user(row)
      var after = before
      if let role { after.role = role }
      if let disabled { after.disabled = disabled }
      if try Self.isAdminCredential(row), after.role != .admin || after.disabled,
        try await Self.otherAdminCredentials(tx, of: account, exceptUser: id, logger: logger) == 0
      {
        throw StoreRules.lastAdminUser(id)
      }
      _ = try await Self.execute(
        tx, "UPDATE users SET role = $1, disabled = $2 WHERE id = $3 AND account_id = $4",
        [after.role.rawValue, after.disabled, id, account.rawValue], logger: logger)
      if after.disabled {
        _ = try await Self.execute(
          tx,
          "DELETE FROM web_sessions WHERE kind = 'user' AND principal_id = $1 AND account_id = $2",
          [id, account.rawValue], logger: logger)
      }
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: account, actor: actor, action: "user.update", target: id,
          before: StoreJSON.audit(before), after: StoreJSON.audit(after)), logger: logger)
      return after
    }
  }

  public func removeUser(_ id: String, of account: AccountID, actor: String) async throws -> Bool {
    let logger = self.logger
    let store = self
    return try await transaction { tx -> Bool in
      let rows = try await Self.execute(
        tx, "SELECT * FROM users WHERE id = $1 AND account_id = $2 FOR UPDATE",
        [id, account.rawValue], logger: logger)
      guard let row = rows.first else { return false }
      if try Self.isAdminCredential(row),
        try await Self.otherAdminCredentials(tx, of: account, exceptUser: id, logger: logger) == 0
      {
        throw StoreRules.lastAdminUser(id)
      }
      _ = try await Self.execute(
        tx,
        "DELETE FROM web_sessions WHERE kind = 'user' AND principal_id = $1 AND account_id = $2",
        [id, account.rawValue], logger: logger)
      _ = try await Self.execute(
        tx, "DELETE FROM users WHERE id = $1 AND account_id = $2", [id, account.rawValue],
        logger: logger)
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: account, actor: actor, action: "user.remove", target: id,
          before: StoreJSON.audit(try store.user(row))), logger: logger)
      return true
    }
  }

  func token(_ row: PostgresRandomAccessRow) throws -> APIToken {
    do {
      return APIToken(
        id: try row["id"].decode(String.self),
        accountID: AccountID(rawValue: try row["account_id"].decode(String.self)),
        name: try row["name"].decode(String.self),
        role: Role(rawValue: try row["role"].decode(String.self)) ?? .member,
        isOperator: try row["operator"].decode(Bool.self),
        createdAt: Date(micros: try row["created_at"].decode(Int64.self)))
    } catch {
      throw map(error)
    }
  }
}
