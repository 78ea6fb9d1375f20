import FerryCore
import Foundation
import Logging
import PostgresNIO

/// The audit log.
extension PostgresStore {
  // MARK: Audit

  static func audit(_ tx: PostgresConnection, _ entry: AuditEntry, logger: Logger) async throws {
    _ = try await execute(
      tx,
      "INSERT INTO audit_log (account_id, actor, action, target, before, after, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      [
        entry.accountID.rawValue, entry.actor, entry.action, entry.target, entry.before,
        entry.after, entry.at.micros,
      ], logger: logger)
  }

  public func recordAudit(_ entry: AuditEntry) async throws {
    let logger = self.logger
    try await transaction { tx in try await Self.audit(tx, entry, logger: logger) }
  }

  public func auditLog(of account: AccountID, limit: Int) async throws -> [AuditEntry] {
    let rows = try await query(
      "SELECT * FROM audit_log WHERE account_id = $1 ORDER BY id DESC LIMIT $2",
      Self.binds([account.rawValue, limit]))
    do {
      return try rows.map { row in
        AuditEntry(
          id: try row["id"].decode(Int64.self),
          accountID: AccountID(rawValue: try row["account_id"].decode(String.self)),
          actor: try row["actor"].decode(String.self),
          action: try row["action"].decode(String.self),
          target: try row["target"].decode(String.self),
          before: try row["before"].decode(String?.self),
          after: try row["after"].decode(String?.self),
          at: Date(micros: try row["at"].decode(Int64.self)))
      }
    } catch {
      throw map(error)
    }
  }
}
