import Foundation

/// Everything Ferry keeps, behind one interface with two backends (SQLite, the embedded
/// default, and PostgreSQL, shared by several nodes). Every call about tenant data names
/// the account, and a record passed in is stored under that account whatever account it
/// names itself: there is no way to read or write across tenants.
public protocol Store: Sendable {
  /// The schema version the store is at.
  func schemaVersion() async throws -> Int

  // MARK: Accounts
  /// Creates a tenant with a newly generated external ID (audited as the account's first
  /// entry).
  func createAccount(name: String, externalIDPrefix: String, retentionDays: Int, actor: String)
    async throws -> Account
  func account(_ id: AccountID) async throws -> Account?
  /// Every account, oldest first: for operators and schedulers. Tenant data stays behind
  /// calls that name one account.
  func accounts() async throws -> [Account]

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
  /// Adds a connection to `account` (whatever account the record names). Unless it is a
  /// legacy import, it uses the account's generated external ID, whatever the record says.
  func addConnection(_ connection: Connection, of account: AccountID, actor: String) async throws
  func connections(of account: AccountID) async throws -> [Connection]
  func removeConnection(_ id: String, of account: AccountID, actor: String) async throws -> Bool

  // MARK: Fetchers; configuration changes are audited in the same transaction
  /// Adds a fetcher on one of the account's fetcher connections.
  func addFetcher(_ fetcher: Fetcher, of account: AccountID, actor: String) async throws
  func fetchers(of account: AccountID) async throws -> [Fetcher]
  /// Replaces a fetcher's configuration, keeping its status; false if there is no such
  /// fetcher in the account.
  func updateFetcher(_ fetcher: Fetcher, of account: AccountID, actor: String) async throws
    -> Bool
  /// Removes a fetcher and its ledger (its events stay until retention removes them).
  func removeFetcher(_ id: String, of account: AccountID, actor: String) async throws -> Bool
  /// Records how a run went: the scheduler's bookkeeping, not audited.
  func recordFetcherRun(_ id: String, of account: AccountID, status: FetcherStatus) async throws
    -> Bool

  // MARK: Archives and restore jobs
  /// Adds an archive on one of the account's archive connections.
  func addArchive(_ archive: Archive, of account: AccountID, actor: String) async throws
  func archives(of account: AccountID) async throws -> [Archive]
  /// Removes an archive and the history of its finished restore jobs; refused while a
  /// restore from it is queued or running.
  func removeArchive(_ id: String, of account: AccountID, actor: String) async throws -> Bool
  /// Moves the archive's watermark forward (never back); false if there is no such archive.
  func advanceArchive(_ id: String, of account: AccountID, through: Date) async throws -> Bool
  /// Queues a restore of one of the account's archives (audited).
  func createRestoreJob(_ job: RestoreJob, of account: AccountID, actor: String) async throws
  /// The account's restore jobs, newest first.
  func restoreJobs(of account: AccountID) async throws -> [RestoreJob]
  func restoreJob(_ id: String, of account: AccountID) async throws -> RestoreJob?
  /// Saves a job's progress; false if it does not exist or has already finished (a
  /// cancelled job stays cancelled).
  func updateRestoreJob(_ job: RestoreJob, of account: AccountID) async throws -> Bool
  /// Cancels a queued or running job (audited); false if there is none to cancel.
  func cancelRestoreJob(_ id: String, of account: AccountID, actor: String) async throws -> Bool

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

/// The rules a store enforces on fetchers, archives and restore jobs, shared by both
/// backends so that both refuse the same things with the same words.
public enum StoreRules {
  /// Why an account cannot be created so (nil: it can).
  public static func accountProblem(name: String, externalIDPrefix: String, retentionDays: Int)
    -> StoreError?
  {
    if let problem = nameProblem(name, kind: "account") { return problem }
    let allowed = externalIDPrefix.unicodeScalars.allSatisfy {
      ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
        || $0 == "-" || $0 == "_" || $0 == "."
    }
    if externalIDPrefix.isEmpty || externalIDPrefix.count > 32 || !allowed {
      return .rejected(
        "the external ID prefix \"\(externalIDPrefix)\" must be 1 to 32 letters, digits, '-', '_' or '.' (for example ferry)"
      )
    }
    if !(1...3650).contains(retentionDays) {
      return .rejected("the retention is \(retentionDays) days; use 1 to 3650 days")
    }
    return nil
  }

  /// Why a retention batch size cannot be used (nil: it can).
  public static func batchProblem(_ batchSize: Int) -> StoreError? {
    batchSize >= 1
      ? nil : .rejected("the batch size is \(batchSize); delete at least 1 event per batch")
  }

  /// An event as both backends store it: NUL characters, which PostgreSQL's text cannot
  /// hold, become U+FFFD in the message, the fields and the source key, on SQLite too, so
  /// that the same object commits, and reads back, the same on either backend.
  public static func storable(_ event: Event) -> Event {
    func clean(_ text: String) -> String {
      text.utf8.contains(0) ? String(text.map { $0 == "\u{0}" ? "\u{FFFD}" : $0 }) : text
    }
    var out = event
    out.message = clean(event.message)
    out.sourceKey = clean(event.sourceKey)
    out.logType = clean(event.logType)
    out.fetcherID = clean(event.fetcherID)
    if event.fields.contains(where: { $0.key.utf8.contains(0) || $0.value.utf8.contains(0) }) {
      out.fields = Dictionary(
        event.fields.map { (clean($0.key), clean($0.value)) }, uniquingKeysWith: { a, _ in a })
    }
    return out
  }

  /// The account a call names does not exist.
  public static func noSuchAccount(_ account: AccountID) -> StoreError {
    .rejected("there is no account \(account.rawValue); list them with: ferry account list")
  }

  /// A connection as it is stored in `account`: in that account, and, unless it is a
  /// legacy import, with the account's own generated external ID, whatever the caller put.
  public static func placed(_ connection: Connection, in account: Account) -> Connection {
    var placed = connection.scoped(to: account.id)
    if !placed.usesLegacyExternalID { placed.externalID = account.externalID }
    return placed
  }

  /// Why a fetcher cannot be saved on `connection` (nil: it can).
  public static func problem(with fetcher: Fetcher, on connection: Connection?) -> StoreError? {
    if let problem = nameProblem(fetcher.name, kind: "fetcher") { return problem }
    if fetcher.logType.trimmingCharacters(in: .whitespaces).isEmpty {
      return .rejected("a fetcher needs a log type (for example alb, cloudtrail or vpcflow)")
    }
    if !(10...86_400).contains(fetcher.pollInterval) {
      return .rejected(
        "the poll interval is \(fetcher.pollInterval) seconds; use 10 to 86400 seconds")
    }
    return connectionProblem(connection, id: fetcher.connectionID, wanted: .fetcher)
  }

  /// Why an archive cannot be saved on `connection` (nil: it can).
  public static func problem(with archive: Archive, on connection: Connection?) -> StoreError? {
    if let problem = nameProblem(archive.name, kind: "archive") { return problem }
    return connectionProblem(connection, id: archive.connectionID, wanted: .archive)
  }

  /// Why a restore job cannot be queued (nil: it can).
  public static func problem(with job: RestoreJob, archiveExists: Bool) -> StoreError? {
    guard archiveExists else {
      return .rejected(
        "there is no archive \(job.archiveID) in this account; restore from one of the account's archives"
      )
    }
    guard job.from < job.to else {
      return .rejected("the restore range is empty: its start must be before its end")
    }
    return nil
  }

  public static func duplicateName(_ name: String, kind: String) -> StoreError {
    .rejected("a \(kind) named \"\(name)\" already exists in this account; choose another name")
  }

  /// Why a connection cannot be removed while these use it.
  public static func connectionInUse(_ id: String, by users: [String]) -> StoreError {
    .rejected(
      "connection \(id) is used by \(users.joined(separator: ", ")); remove those first, or move them to another connection"
    )
  }

  public static func archiveBusy(_ id: String) -> StoreError {
    .rejected(
      "archive \(id) has a restore queued or running; cancel it or wait for it to finish, then retry"
    )
  }

  private static func nameProblem(_ name: String, kind: String) -> StoreError? {
    let article = kind.first.map { "aeiou".contains($0) } == true ? "an" : "a"
    // Names are shown in tables, terminals and pages: a control character (a newline, an
    // escape sequence) could fake rows or drive a terminal, and U+FFFD marks bytes that
    // were not valid UTF-8.
    for scalar in name.unicodeScalars {
      let v = scalar.value
      if v < 0x20 || (0x7F...0x9F).contains(v) || (0x202A...0x202E).contains(v)
        || (0x2066...0x2069).contains(v)
      {
        return .rejected(
          "\(article) \(kind) name must not contain control characters (found U+\(String(format: "%04X", v))); use letters, digits, spaces and punctuation"
        )
      }
      if v == 0xFFFD {
        return .rejected(
          "the \(kind) name is not valid UTF-8 text (or contains U+FFFD); type it again in a UTF-8 terminal"
        )
      }
    }
    let trimmed = name.trimmingCharacters(in: .whitespaces)
    if trimmed.isEmpty || trimmed.count > 100 || trimmed != name {
      return .rejected(
        "\(article) \(kind) name must be 1 to 100 characters without leading or trailing spaces")
    }
    return nil
  }

  /// Why an account cannot take `name` when these names exist already (nil: it can).
  /// Names are unique without regard to case, so "Acme" and "ACME" are not two tenants.
  public static func duplicateAccountName(_ name: String, existing: [String]) -> StoreError? {
    let key = name.lowercased()
    guard let taken = existing.first(where: { $0.lowercased() == key }) else { return nil }
    return .rejected(
      "an account named \"\(taken)\" exists already (names are unique regardless of case); choose another name, or use that account (ferry account list)"
    )
  }

  private static func connectionProblem(
    _ connection: Connection?, id: String, wanted: ConnectionPurpose
  ) -> StoreError? {
    guard let connection else {
      return .rejected(
        "there is no connection \(id) in this account; connect the bucket first and use that connection's ID"
      )
    }
    guard connection.purpose == wanted else {
      return .rejected(
        "connection \(id) was made for \(connection.purpose.rawValue == "archive" ? "archives" : "fetchers"); a \(wanted.rawValue) needs a connection made for \(wanted == .archive ? "archives" : "fetchers") (its role's permissions differ)"
      )
    }
    return nil
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

/// A record that belongs to one account. The store places it in the account a call names
/// (``scoped(to:)``), so a record built for one tenant can never be written into another.
public protocol AccountScoped {
  var accountID: AccountID { get set }
}

extension AccountScoped {
  /// This record, placed in `account`.
  public func scoped(to account: AccountID) -> Self {
    var copy = self
    copy.accountID = account
    return copy
  }
}

extension Connection: AccountScoped {}
extension Fetcher: AccountScoped {}
extension Archive: AccountScoped {}
extension RestoreJob: AccountScoped {}
