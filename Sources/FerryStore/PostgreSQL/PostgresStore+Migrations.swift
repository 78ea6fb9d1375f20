import FerryCore
import Foundation
import Logging
import PostgresNIO

/// Migrations to the generated external ID: the switch of a role's connections in one
/// transaction, its undo, and the record of it.
extension PostgresStore {
  public func accountsUsingRole(_ roleARN: String) async throws -> Int {
    let rows = try await query(
      "SELECT COUNT(DISTINCT account_id) AS n FROM connections WHERE role_arn = $1",
      Self.binds([roleARN]))
    do { return try rows.first?["n"].decode(Int.self) ?? 0 } catch { throw map(error) }
  }

  public func recordMigration(_ migration: Migration, of account: AccountID, actor: String)
    async throws -> Bool
  {
    if let problem = StoreRules.problem(with: migration) { throw problem }
    let m = StoreRules.placed(migration, in: account)
    let logger = self.logger
    return try await transaction { tx in
      guard
        let owner = try await Self.execute(
          tx, "SELECT * FROM accounts WHERE id = $1 FOR UPDATE", [account.rawValue],
          logger: logger
        ).first.map({ try self.account($0) })
      else { throw StoreRules.noSuchAccount(account) }
      guard try await Self.rewrite(tx, m, .apply, owner: owner, actor: actor, logger) else {
        return false
      }
      _ = try await Self.execute(
        tx,
        "INSERT INTO migrations (id, account_id, role_arn, switched_at, body) VALUES ($1, $2, $3, $4, $5)",
        [m.id, account.rawValue, m.roleARN, m.switchedAt.micros, StoreJSON.encode(m)],
        logger: logger)
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: account, actor: actor, action: "migration.apply", target: m.id,
          after: StoreJSON.audit(m)), logger: logger)
      return true
    }
  }

  public func revertMigration(_ id: String, of account: AccountID, actor: String) async throws
    -> Bool
  {
    let logger = self.logger
    return try await transaction { tx in
      guard let m = try await Self.migration(tx, id, of: account, logger),
        let owner = try await Self.execute(
          tx, "SELECT * FROM accounts WHERE id = $1", [account.rawValue], logger: logger
        ).first.map({ try self.account($0) })
      else { return false }
      guard try await Self.rewrite(tx, m, .revert, owner: owner, actor: actor, logger) else {
        return false
      }
      _ = try await Self.execute(
        tx, "DELETE FROM migrations WHERE id = $1 AND account_id = $2", [id, account.rawValue],
        logger: logger)
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: account, actor: actor, action: "migration.revert", target: id,
          before: StoreJSON.audit(m)), logger: logger)
      return true
    }
  }

  public func migrations(of account: AccountID) async throws -> [Migration] {
    let rows = try await query(
      "SELECT body FROM migrations WHERE account_id = $1 ORDER BY switched_at DESC, id DESC",
      Self.binds([account.rawValue]))
    do {
      return try rows.map {
        try StoreJSON.decode(
          Migration.self, try $0["body"].decode(String.self), table: "migrations")
      }
    } catch let error as StoreError { throw error } catch { throw map(error) }
  }

  public func finishMigration(_ id: String, of account: AccountID, at: Date, actor: String)
    async throws -> Bool
  {
    let logger = self.logger
    return try await transaction { tx in
      guard var m = try await Self.migration(tx, id, of: account, logger) else { return false }
      let before = m
      m.state = .finished
      m.finishedAt = at
      _ = try await Self.execute(
        tx, "UPDATE migrations SET body = $1 WHERE id = $2 AND account_id = $3",
        [StoreJSON.encode(m), id, account.rawValue], logger: logger)
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: account, actor: actor, action: "migration.finish", target: id,
          before: StoreJSON.audit(before), after: StoreJSON.audit(m)), logger: logger)
      return true
    }
  }

  static func migration(
    _ tx: PostgresConnection, _ id: String, of account: AccountID, _ logger: Logger
  ) async throws -> Migration? {
    guard
      let row = try await execute(
        tx, "SELECT body FROM migrations WHERE id = $1 AND account_id = $2 FOR UPDATE",
        [id, account.rawValue], logger: logger
      ).first
    else { return nil }
    return try StoreJSON.decode(
      Migration.self, try row["body"].decode(String.self), table: "migrations")
  }

  /// Rewrites a migration's connections one way (see ``StoreRules/rewrites(of:_:current:in:)``),
  /// each audited; false, changing nothing, when one is not as the migration expects.
  static func rewrite(
    _ tx: PostgresConnection, _ m: Migration, _ direction: StoreRules.MigrationDirection,
    owner: Account, actor: String, _ logger: Logger
  ) async throws -> Bool {
    var current: [Connection] = []
    for change in m.switches {
      if let c = try await lockedConnection(tx, change.connectionID, of: owner.id, logger) {
        current.append(c)
      }
    }
    guard let pairs = StoreRules.rewrites(of: m, direction, current: current, in: owner) else {
      return false
    }
    for (before, after) in pairs {
      try await save(tx, after, logger)
      try await audit(
        tx,
        AuditEntry(
          accountID: owner.id, actor: actor, action: direction.auditAction, target: after.id,
          before: StoreJSON.audit(before), after: StoreJSON.audit(after)), logger: logger)
    }
    return true
  }

  static func lockedConnection(
    _ tx: PostgresConnection, _ id: String, of account: AccountID, _ logger: Logger
  ) async throws -> Connection? {
    try await execute(
      tx, "SELECT * FROM connections WHERE id = $1 AND account_id = $2 FOR UPDATE",
      [id, account.rawValue], logger: logger
    ).first.map(connection)
  }

  /// Writes a connection's role and external ID (all a migration changes) and forgets its
  /// last check, which was of the old ones.
  static func save(_ tx: PostgresConnection, _ c: Connection, _ logger: Logger) async throws {
    _ = try await execute(
      tx,
      "UPDATE connections SET role_arn = $1, external_id = $2, legacy = $3 WHERE id = $4 AND account_id = $5",
      [c.roleARN, c.externalID, c.usesLegacyExternalID, c.id, c.accountID.rawValue],
      logger: logger)
    _ = try await execute(
      tx, "DELETE FROM connection_checks WHERE connection_id = $1", [c.id], logger: logger)
  }
}
