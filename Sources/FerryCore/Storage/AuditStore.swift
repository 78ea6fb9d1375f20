import Foundation

/// The audit log: who changed what, when, before and after.
public protocol AuditStore: Sendable {
  // MARK: Audit
  func auditLog(of account: AccountID, limit: Int) async throws -> [AuditEntry]
  /// Records what is no change of configuration but must be on the record (a failed
  /// sign-in), in the entry's account.
  func recordAudit(_ entry: AuditEntry) async throws
}
