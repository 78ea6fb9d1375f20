import FerryCore
import Foundation
import GRDB

/// Accounts (tenants), their users and API tokens.
extension SQLiteStore {
  // MARK: Accounts

  public func createAccount(
    name: String, externalIDPrefix: String, retentionDays: Int, actor: String
  ) async throws -> Account {
    let account = try StoreRules.newAccount(
      name: name, externalIDPrefix: externalIDPrefix, retentionDays: retentionDays)
    try await write { db in
      // The write transaction serializes writers, so this check cannot race.
      let names = try String.fetchAll(db, sql: "SELECT name FROM accounts")
      if let problem = StoreRules.duplicateAccountName(name, existing: names) { throw problem }
      try db.execute(
        sql:
          "INSERT INTO accounts (id, name, external_id, retention_days, created_at) VALUES (?, ?, ?, ?, ?)",
        arguments: [
          account.id.rawValue, account.name, account.externalID, account.retentionDays,
          account.createdAt.micros,
        ])
      try Self.audit(
        db,
        AuditEntry(
          accountID: account.id, actor: actor, action: "account.create",
          target: account.id.rawValue, after: StoreJSON.audit(account)))
    }
    return account
  }

  public func account(_ id: AccountID) async throws -> Account? {
    try await read { db in
      try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE id = ?", arguments: [id.rawValue])
        .map(
          Self.account)
    }
  }

  public func accounts() async throws -> [Account] {
    try await read { db in
      try Row.fetchAll(db, sql: "SELECT * FROM accounts ORDER BY created_at, id").map(Self.account)
    }
  }

  static func account(_ row: Row) -> Account {
    Account(
      id: AccountID(rawValue: row["id"]), name: row["name"], externalID: row["external_id"],
      retentionDays: row["retention_days"], createdAt: Date(micros: row["created_at"]))
  }

  // MARK: Users and tokens

  public func addUser(_ user: User, actor: String) async throws {
    try await write { db in
      try db.execute(
        sql: "INSERT INTO users (id, account_id, email, role, created_at) VALUES (?, ?, ?, ?, ?)",
        arguments: [
          user.id, user.accountID.rawValue, user.email, user.role.rawValue, user.createdAt.micros,
        ])
      try Self.audit(
        db,
        AuditEntry(
          accountID: user.accountID, actor: actor, action: "user.add", target: user.id,
          after: StoreJSON.audit(user)))
    }
  }

  public func users(of account: AccountID) async throws -> [User] {
    try await read { db in
      try Row.fetchAll(
        db, sql: "SELECT * FROM users WHERE account_id = ? ORDER BY created_at, id",
        arguments: [account.rawValue]
      ).map(Self.user)
    }
  }

  public func issueToken(
    name: String, role: Role, isOperator: Bool, of account: AccountID, actor: String
  ) async throws -> IssuedToken {
    let (token, secret) = StoreRules.newToken(
      name: name, role: role, isOperator: isOperator, of: account)
    try await write { db in
      try db.execute(
        sql:
          "INSERT INTO api_tokens (id, account_id, name, role, operator, secret_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        arguments: [
          token.id, account.rawValue, name, role.rawValue, isOperator, TokenSecret.hash(secret),
          token.createdAt.micros,
        ])
      try Self.audit(
        db,
        AuditEntry(
          accountID: account, actor: actor, action: "token.issue", target: token.id,
          after: StoreJSON.audit(token)))
    }
    return IssuedToken(token: token, secret: secret)
  }

  public func authenticate(tokenSecret: String) async throws -> APIToken? {
    let hash = TokenSecret.hash(tokenSecret)
    return try await read { db in
      try Row.fetchOne(db, sql: "SELECT * FROM api_tokens WHERE secret_hash = ?", arguments: [hash])
        .map(Self.token)
    }
  }

  public func tokens(of account: AccountID) async throws -> [APIToken] {
    try await read { db in
      try Row.fetchAll(
        db, sql: "SELECT * FROM api_tokens WHERE account_id = ? ORDER BY created_at, id",
        arguments: [account.rawValue]
      ).map(Self.token)
    }
  }

  public func revokeToken(_ id: String, of account: AccountID, actor: String) async throws -> Bool {
    try await write { db in
      guard
        let row = try Row.fetchOne(
          db, sql: "SELECT * FROM api_tokens WHERE id = ? AND account_id = ?",
          arguments: [id, account.rawValue])
      else { return false }
      if Self.token(row).role == .admin {
        if try Self.otherAdminCredentials(db, of: account, exceptToken: id) == 0 {
          throw StoreRules.lastAdminCredential(id)
        }
      }
      try db.execute(
        sql: "DELETE FROM api_tokens WHERE id = ? AND account_id = ?",
        arguments: [id, account.rawValue])
      try Self.audit(
        db,
        AuditEntry(
          accountID: account, actor: actor, action: "token.revoke", target: id,
          before: StoreJSON.audit(Self.token(row))))
      return true
    }
  }

  static func user(_ row: Row) -> User {
    User(
      id: row["id"], accountID: AccountID(rawValue: row["account_id"]), email: row["email"],
      role: Role(rawValue: row["role"]) ?? .member, createdAt: Date(micros: row["created_at"]),
      disabled: (row["disabled"] as Int64?) ?? 0 != 0)
  }

  /// The account's admin credentials other than the user `exceptUser` and the token
  /// `exceptToken`: admin tokens, and enabled admin users with a password.
  static func otherAdminCredentials(
    _ db: Database, of account: AccountID, exceptUser: String = "", exceptToken: String = ""
  ) throws -> Int {
    try Int.fetchOne(
      db,
      sql: """
        SELECT (SELECT COUNT(*) FROM api_tokens WHERE account_id = ? AND role = 'admin' AND id <> ?)
          + (SELECT COUNT(*) FROM users WHERE account_id = ? AND role = 'admin' AND disabled = 0
             AND password_hash IS NOT NULL AND id <> ?)
        """, arguments: [account.rawValue, exceptToken, account.rawValue, exceptUser]) ?? 0
  }

  /// Whether a user is one of the account's admin credentials.
  static func isAdminCredential(_ row: Row) -> Bool {
    (row["role"] as String) == Role.admin.rawValue && (row["password_hash"] as String?) != nil
      && ((row["disabled"] as Int64?) ?? 0) == 0
  }

  public func updateUser(
    _ id: String, of account: AccountID, role: Role?, disabled: Bool?, actor: String
  ) async throws -> User? {
    try await write { db in
      guard
        let row = try Row.fetchOne(
          db, sql: "SELECT * FROM users WHERE id = ? AND account_id = ?",
          arguments: [id, account.rawValue])
      else { return nil }
      let before = Self.user(row)
      var after = before
      if let role { after.role = role }
      if let disabled { after.disabled = disabled }
      let losesAdmin = after.role != .admin || after.disabled
      if Self.isAdminCredential(row), losesAdmin,
        try Self.otherAdminCredentials(db, of: account, exceptUser: id) == 0
      {
        throw StoreRules.lastAdminUser(id)
      }
      try db.execute(
        sql: "UPDATE users SET role = ?, disabled = ? WHERE id = ? AND account_id = ?",
        arguments: [after.role.rawValue, after.disabled ? 1 : 0, id, account.rawValue])
      if after.disabled {
        try db.execute(
          sql:
            "DELETE FROM web_sessions WHERE kind = 'user' AND principal_id = ? AND account_id = ?",
          arguments: [id, account.rawValue])
      }
      try Self.audit(
        db,
        AuditEntry(
          accountID: account, actor: actor, action: "user.update", target: id,
          before: StoreJSON.audit(before), after: StoreJSON.audit(after)))
      return after
    }
  }

  public func removeUser(_ id: String, of account: AccountID, actor: String) async throws -> Bool {
    try await write { db in
      guard
        let row = try Row.fetchOne(
          db, sql: "SELECT * FROM users WHERE id = ? AND account_id = ?",
          arguments: [id, account.rawValue])
      else { return false }
      if Self.isAdminCredential(row),
        try Self.otherAdminCredentials(db, of: account, exceptUser: id) == 0
      {
        throw StoreRules.lastAdminUser(id)
      }
      try db.execute(
        sql: "DELETE FROM web_sessions WHERE kind = 'user' AND principal_id = ? AND account_id = ?",
        arguments: [id, account.rawValue])
      try db.execute(
        sql: "DELETE FROM users WHERE id = ? AND account_id = ?", arguments: [id, account.rawValue])
      try Self.audit(
        db,
        AuditEntry(
          accountID: account, actor: actor, action: "user.remove", target: id,
          before: StoreJSON.audit(Self.user(row))))
      return true
    }
  }

  static func token(_ row: Row) -> APIToken {
    APIToken(
      id: row["id"], accountID: AccountID(rawValue: row["account_id"]), name: row["name"],
      role: Role(rawValue: row["role"]) ?? .member, isOperator: row["operator"],
      createdAt: Date(micros: row["created_at"]))
  }
}
