import Foundation

/// The audit log: who changed what, when, before and after.
public protocol AuditStore: Sendable {
  // MARK: Audit
  func auditLog(of account: AccountID, limit: Int) async throws -> [AuditEntry]
}
