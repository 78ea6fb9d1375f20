import Foundation

/// Everything Ferry keeps, behind one interface with two backends (SQLite, the embedded
/// default, and PostgreSQL, shared by several nodes). Every call about tenant data names
/// the account: there is no way to read across tenants.
public protocol Store: Sendable {
  /// The schema version the store is at.
  func schemaVersion() async throws -> Int

  // MARK: Accounts
  func createAccount(name: String, externalIDPrefix: String, retentionDays: Int) async throws
    -> Account
  func account(_ id: AccountID) async throws -> Account?

  // MARK: Users and API tokens; each change is audited in the same transaction
  func addUser(_ user: User, actor: String) async throws
  func users(of account: AccountID) async throws -> [User]
  /// Issues a token; the store keeps only the secret's hash.
  func issueToken(name: String, role: Role, of account: AccountID, actor: String) async throws
    -> IssuedToken
  /// The token a secret belongs to, if any.
  func authenticate(tokenSecret: String) async throws -> APIToken?
  func tokens(of account: AccountID) async throws -> [APIToken]
  func revokeToken(_ id: String, of account: AccountID, actor: String) async throws -> Bool

  // MARK: Connections (role bindings); each change is audited in the same transaction
  func addConnection(_ connection: Connection, actor: String) async throws
  func connections(of account: AccountID) async throws -> [Connection]
  func removeConnection(_ id: String, of account: AccountID, actor: String) async throws -> Bool

  // MARK: Ledger and events
  func ledgerEntry(of account: AccountID, fetcherID: String, key: String, eTag: String) async throws
    -> LedgerEntry?
  /// Records an object and its events in one transaction: both or neither.
  func commitObject(_ entry: LedgerEntry, events: [Event], of account: AccountID) async throws
  func search(_ query: EventQuery, of account: AccountID) async throws -> EventPage
  func eventCount(of account: AccountID) async throws -> Int
  /// Deletes events older than `cutoff`, `batchSize` rows per transaction; returns how many.
  func deleteEvents(of account: AccountID, olderThan cutoff: Date, batchSize: Int) async throws
    -> Int

  // MARK: Audit
  func auditLog(of account: AccountID, limit: Int) async throws -> [AuditEntry]

  // MARK: Leases
  /// Takes the lease if it is free, expired, or already ours; nil if another holder has it.
  func acquireLease(_ name: String, holder: String, ttl: TimeInterval) async throws -> Lease?
  /// Extends a lease we hold (compare-and-set on its version); nil if it was lost.
  func renewLease(_ lease: Lease, ttl: TimeInterval) async throws -> Lease?
  func releaseLease(_ lease: Lease) async throws -> Bool
}

/// Why the store could not do what was asked, in words an operator can act on.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The database was written by a newer Ferry.
  case schemaTooNew(found: Int, supported: Int)
  /// The database file is damaged or not a database.
  case corrupt(String)
  /// The database cannot be reached or is busy (locked, down, disk full).
  case unavailable(String)
  /// A value the store refuses (a duplicate, a missing account).
  case rejected(String)

  public var description: String {
    switch self {
    case .schemaTooNew(let found, let supported):
      "the database schema is at version \(found), but this Ferry knows versions up to \(supported): upgrade Ferry (never run an older binary against a newer database)"
    case .corrupt(let detail): "the database is damaged: \(detail). Restore it from a backup"
    case .unavailable(let detail): "the database is unavailable: \(detail)"
    case .rejected(let detail): detail
    }
  }
}

/// Full-text search in both backends works on the same normalized text: lowercase letters
/// and digits, every other character a separator. Both backends tokenize that text alike,
/// so they return the same results.
public enum SearchText {
  public static func normalize(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    var pendingSpace = false
    for scalar in text.lowercased().unicodeScalars {
      if CharacterSet.alphanumerics.contains(scalar) {
        if pendingSpace && !out.isEmpty { out.append(" ") }
        pendingSpace = false
        out.unicodeScalars.append(scalar)
      } else {
        pendingSpace = true
      }
    }
    return out
  }

  /// The words of a query, normalized.
  public static func words(_ query: String) -> [String] {
    normalize(query).split(separator: " ").map(String.init)
  }
}

/// Page cursors: the (time, id) of the last event returned, opaque to callers.
public enum EventCursor {
  public static func encode(timeMicros: Int64, id: Int64) -> String {
    Data("\(timeMicros):\(id)".utf8).base64EncodedString()
  }

  public static func decode(_ cursor: String) throws(StoreError) -> (timeMicros: Int64, id: Int64) {
    guard let data = Data(base64Encoded: cursor), let text = String(data: data, encoding: .utf8)
    else {
      throw .rejected("the cursor is not one Ferry issued: start again without a cursor")
    }
    let parts = text.split(separator: ":")
    guard parts.count == 2, let t = Int64(parts[0]), let id = Int64(parts[1]) else {
      throw .rejected("the cursor is not one Ferry issued: start again without a cursor")
    }
    return (t, id)
  }
}

extension Date {
  /// Microseconds since 1970, as both backends store times.
  public var micros: Int64 { Int64((timeIntervalSince1970 * 1_000_000).rounded()) }
  public init(micros: Int64) { self.init(timeIntervalSince1970: Double(micros) / 1_000_000) }
}
