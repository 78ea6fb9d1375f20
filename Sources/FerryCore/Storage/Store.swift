import Foundation

/// Everything Ferry keeps, behind one interface with two backends (SQLite, the embedded
/// default, and PostgreSQL, shared by several nodes): the composition of one protocol per
/// concern, so a fake or a new backend can implement only what it needs. Every call about
/// tenant data names the account, and a record passed in is stored under that account
/// whatever account it names itself: there is no way to read or write across tenants.
public typealias Store = StoreSchema & AccountStore & ConfigurationStore & ConnectionCheckStore
  & EventStore & ArchiveProgressStore & RestoreProgressStore & MigrationStore
  & AuditStore & LeaseStore & SessionStore & MetricStore

/// The store's schema version.
public protocol StoreSchema: Sendable {
  /// The schema version the store is at.
  func schemaVersion() async throws -> Int
}

/// Why the store could not do what was asked, in words an operator can act on.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The database was written by a newer Ferry.
  case schemaTooNew(found: Int, supported: Int)
  /// The database file is damaged or not a database.
  case corrupt(String)
  /// The database cannot be reached or is busy (locked, down, disk full).
  case unavailable(String)
  /// A change the store refuses for what is stored already (a duplicate, a missing
  /// account, a record in use): a conflict.
  case rejected(String)
  /// A value that is not valid whatever is stored (a name with control characters, a
  /// retention out of range): bad input.
  case invalid(String)

  public var description: String {
    switch self {
    case .schemaTooNew(let found, let supported):
      "the database schema is at version \(found), but this Ferry knows versions up to \(supported): upgrade Ferry (never run an older binary against a newer database)"
    case .corrupt(let detail): "the database is damaged: \(detail). Restore it from a backup"
    case .unavailable(let detail): "the database is unavailable: \(detail)"
    case .rejected(let detail): detail
    case .invalid(let detail): detail
    }
  }
}
