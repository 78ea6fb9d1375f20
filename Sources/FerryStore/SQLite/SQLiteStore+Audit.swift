import FerryCore
import Foundation
import GRDB

/// The audit log.
extension SQLiteStore {
  // MARK: Audit

  static func audit(_ db: Database, _ entry: AuditEntry) throws {
    try db.execute(
      sql:
        "INSERT INTO audit_log (account_id, actor, action, target, before, after, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      arguments: [
        entry.accountID.rawValue, entry.actor, entry.action, entry.target, entry.before,
        entry.after, entry.at.micros,
      ])
  }

  public func recordAudit(_ entry: AuditEntry) async throws {
    try await write { db in try Self.audit(db, entry) }
  }

  public func auditLog(of account: AccountID, limit: Int) async throws -> [AuditEntry] {
    try await read { db in
      try Row.fetchAll(
        db, sql: "SELECT * FROM audit_log WHERE account_id = ? ORDER BY id DESC LIMIT ?",
        arguments: [account.rawValue, limit]
      )
      .map { row in
        AuditEntry(
          id: row["id"], accountID: AccountID(rawValue: row["account_id"]), actor: row["actor"],
          action: row["action"],
          target: row["target"], before: row["before"], after: row["after"],
          at: Date(micros: row["at"]))
      }
    }
  }
}
