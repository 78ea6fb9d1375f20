import FerryCore
import Foundation
import GRDB

/// Migrations to the generated external ID: the switch of a role's connections in one
/// transaction, its undo, and the record of it.
extension SQLiteStore {
  public func accountsUsingRole(_ roleARN: String) async throws -> Int {
    try await read { db in
      try Int.fetchOne(
        db, sql: "SELECT COUNT(DISTINCT account_id) FROM connections WHERE role_arn = ?",
        arguments: [roleARN]) ?? 0
    }
  }

  public func recordMigration(_ migration: Migration, of account: AccountID, actor: String)
    async throws -> Bool
  {
    if let problem = StoreRules.problem(with: migration) { throw problem }
    let m = StoreRules.placed(migration, in: account)
    return try await write { db in
      guard
        let owner = try Row.fetchOne(
          db, sql: "SELECT * FROM accounts WHERE id = ?", arguments: [account.rawValue]
        ).map(Self.account)
      else { throw StoreRules.noSuchAccount(account) }
      guard try Self.rewrite(db, m, .apply, owner: owner, actor: actor) else { return false }
      try db.execute(
        sql:
          "INSERT INTO migrations (id, account_id, role_arn, switched_at, body) VALUES (?, ?, ?, ?, ?)",
        arguments: [
          m.id, account.rawValue, m.roleARN, m.switchedAt.micros, StoreJSON.encode(m),
        ])
      try Self.audit(
        db,
        AuditEntry(
          accountID: account, actor: actor, action: "migration.apply", target: m.id,
          after: StoreJSON.audit(m)))
      return true
    }
  }

  public func revertMigration(_ id: String, of account: AccountID, actor: String) async throws
    -> Bool
  {
    try await write { db in
      guard let m = try Self.migration(db, id, of: account),
        let owner = try Row.fetchOne(
          db, sql: "SELECT * FROM accounts WHERE id = ?", arguments: [account.rawValue]
        ).map(Self.account)
      else { return false }
      guard try Self.rewrite(db, m, .revert, owner: owner, actor: actor) else { return false }
      try db.execute(
        sql: "DELETE FROM migrations WHERE id = ? AND account_id = ?",
        arguments: [id, account.rawValue])
      try Self.audit(
        db,
        AuditEntry(
          accountID: account, actor: actor, action: "migration.revert", target: id,
          before: StoreJSON.audit(m)))
      return true
    }
  }

  public func migrations(of account: AccountID) async throws -> [Migration] {
    try await read { db in
      try String.fetchAll(
        db,
        sql: "SELECT body FROM migrations WHERE account_id = ? ORDER BY switched_at DESC, id DESC",
        arguments: [account.rawValue]
      ).map { try StoreJSON.decode(Migration.self, $0, table: "migrations") }
    }
  }

  public func finishMigration(_ id: String, of account: AccountID, at: Date, actor: String)
    async throws -> Bool
  {
    try await write { db in
      guard var m = try Self.migration(db, id, of: account) else { return false }
      let before = m
      m.state = .finished
      m.finishedAt = at
      try db.execute(
        sql: "UPDATE migrations SET body = ? WHERE id = ? AND account_id = ?",
        arguments: [StoreJSON.encode(m), id, account.rawValue])
      try Self.audit(
        db,
        AuditEntry(
          accountID: account, actor: actor, action: "migration.finish", target: id,
          before: StoreJSON.audit(before), after: StoreJSON.audit(m)))
      return true
    }
  }

  static func migration(_ db: Database, _ id: String, of account: AccountID) throws -> Migration? {
    try String.fetchOne(
      db, sql: "SELECT body FROM migrations WHERE id = ? AND account_id = ?",
      arguments: [id, account.rawValue]
    ).map { try StoreJSON.decode(Migration.self, $0, table: "migrations") }
  }

  /// Rewrites a migration's connections one way (see ``StoreRules/rewrites(of:_:current:in:)``),
  /// each audited; false, changing nothing, when one is not as the migration expects.
  static func rewrite(
    _ db: Database, _ m: Migration, _ direction: StoreRules.MigrationDirection, owner: Account,
    actor: String
  ) throws -> Bool {
    let current = try m.switches.compactMap { try connection(db, $0.connectionID, of: owner.id) }
    guard let pairs = StoreRules.rewrites(of: m, direction, current: current, in: owner) else {
      return false
    }
    for (before, after) in pairs {
      try save(db, after)
      try audit(
        db,
        AuditEntry(
          accountID: owner.id, actor: actor, action: direction.auditAction, target: after.id,
          before: StoreJSON.audit(before), after: StoreJSON.audit(after)))
    }
    return true
  }

  /// Writes a connection's role and external ID (all a migration changes) and forgets its
  /// last check, which was of the old ones.
  static func save(_ db: Database, _ c: Connection) throws {
    try db.execute(sql: "DELETE FROM connection_checks WHERE connection_id = ?", arguments: [c.id])
    try db.execute(
      sql:
        "UPDATE connections SET role_arn = ?, external_id = ?, legacy = ? WHERE id = ? AND account_id = ?",
      arguments: [c.roleARN, c.externalID, c.usesLegacyExternalID, c.id, c.accountID.rawValue])
  }
}
