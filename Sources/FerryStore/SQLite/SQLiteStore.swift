import FerryCore
import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// The embedded store: one SQLite file (WAL mode) under the data directory.
public final class SQLiteStore: Store {
  /// Reads go through a read-only pool, so they never wait for another process's write.
  let readers: DatabasePool
  /// Writes go through a read-write pool, opened on the first write (opening one may have
  /// to write, which would wait for another process's lock).
  private let writers: Mutex<DatabasePool?>
  private let configuration: Configuration
  public let path: String

  /// Whether this store was opened read-only (its directory or file is not writable):
  /// reads work, every write fails with a clear error.
  public let isReadOnly: Bool

  /// Opens (or creates) the database and brings its schema up to date.
  ///
  /// Several processes may open a fresh database at once: one of them creates the schema
  /// while the others wait on a lock file beside it (`ferry.sqlite.migrate-lock`), then
  /// find the schema in place. Opening an up-to-date database takes no write lock, so it
  /// works while another process writes, and on a read-only directory or mount (the store
  /// then opens read-only).
  /// - Parameter busyTimeout: how long a write waits for another process's lock before it
  ///   fails with ``StoreError/unavailable(_:)``.
  /// - Throws: ``StoreError/schemaTooNew(found:supported:)`` when a newer Ferry wrote it,
  ///   ``StoreError/corrupt(_:)`` when the file is not a healthy database,
  ///   ``StoreError/unavailable(_:)`` when the data directory cannot be used.
  public init(path: String, busyTimeout: TimeInterval = 5) throws {
    self.path = path
    let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
    try DataDirectory.prepare(directory)
    let fileExists = FileManager.default.fileExists(atPath: path)
    let readOnly =
      !FileManager.default.isWritableFile(atPath: directory)
      || (fileExists && !FileManager.default.isWritableFile(atPath: path))
    if readOnly && !fileExists {
      throw StoreError.unavailable(
        "the data directory \(directory) is not writable, so Ferry cannot create its database there; choose a directory you can write (--data-dir) or fix its permissions"
      )
    }
    isReadOnly = readOnly
    var config = Configuration()
    config.busyMode = .timeout(busyTimeout)
    config.foreignKeysEnabled = true
    // Keep the -wal and -shm files when the last connection closes, so the database can
    // still be opened for reading on a read-only directory or mount.
    config.prepareDatabase { db in
      var persist: Int32 = 1
      _ = sqlite3_file_control(db.sqliteConnection, nil, SQLITE_FCNTL_PERSIST_WAL, &persist)
    }
    configuration = config
    var readOnlyConfig = config
    readOnlyConfig.readonly = true
    do {
      if fileExists {
        let reader = try DatabasePool(path: path, configuration: readOnlyConfig)
        let state = try reader.read { db in try SQLiteSchema.state(db) }
        try Self.check(state, readOnly: readOnly, path: path)
        if state == .current {
          readers = reader
          writers = Mutex(nil)
          return
        }
      }
      // A new or older database: one process at a time creates or upgrades the schema.
      let lock = try MigrationLock(path: path + ".migrate-lock", timeout: busyTimeout * 6)
      defer { lock.release() }
      let writer = try DatabasePool(path: path, configuration: config)
      let state = try writer.read { db in try SQLiteSchema.state(db) }
      try Self.check(state, readOnly: false, path: path)
      if state != .current { try SQLiteSchema.migrator.migrate(writer) }
      readers = try DatabasePool(path: path, configuration: readOnlyConfig)
      writers = Mutex(writer)
    } catch let error as StoreError {
      throw error
    } catch {
      throw Self.map(error, path: path)
    }
  }

  /// The read-write pool, opened on first use.
  func writerPool() throws -> DatabasePool {
    if isReadOnly {
      throw StoreError.unavailable(
        "\(path) is read-only (its file or directory is not writable), so Ferry can read but not change it; fix the permissions to make changes"
      )
    }
    let configuration = self.configuration
    let path = self.path
    return try writers.withLock { pool in
      if let pool { return pool }
      let opened = try DatabasePool(path: path, configuration: configuration)
      pool = opened
      return opened
    }
  }

  private static func check(_ state: SQLiteSchema.State, readOnly: Bool, path: String) throws {
    switch state {
    case .tooNew(let applied):
      throw StoreError.schemaTooNew(found: applied, supported: SQLiteSchema.versions)
    case .behind where readOnly:
      throw StoreError.unavailable(
        "\(path) needs a schema upgrade, but it is read-only; open it once with write access")
    case .behind, .current: break
    }
  }

  static func map(_ error: any Error, path: String) -> StoreError {
    if let error = error as? StoreError { return error }
    guard let db = error as? DatabaseError else { return .unavailable("\(error)") }
    switch db.resultCode {
    case .SQLITE_NOTADB, .SQLITE_CORRUPT:
      return .corrupt("\(path) is not a healthy SQLite database (\(db.message ?? "corrupt"))")
    case .SQLITE_BUSY, .SQLITE_LOCKED:
      return .unavailable("\(path) is locked by another process; stop it or wait, then retry")
    case .SQLITE_FULL:
      return .unavailable(
        "the disk holding \(path) is full; free space, then retry (nothing was half-written)")
    case .SQLITE_READONLY:
      return .unavailable(
        "\(path) is read-only (its file or directory is not writable), so Ferry can read but not change it; fix the permissions to make changes"
      )
    case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_IOERR:
      return .unavailable(
        "cannot write \(path) (\(db.message ?? "I/O error")); check the data directory's permissions and disk"
      )
    case .SQLITE_CONSTRAINT:
      return .rejected("the change conflicts with existing data (\(db.message ?? "constraint"))")
    default:
      return .unavailable("\(db.message ?? "\(db)")")
    }
  }

  func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws
    -> T
  {
    do { return try await readers.read(body) } catch { throw Self.map(error, path: path) }
  }

  func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws
    -> T
  {
    do { return try await writerPool().write(body) } catch { throw Self.map(error, path: path) }
  }

  public func schemaVersion() async throws -> Int {
    try await read { db in try SQLiteSchema.migrator.appliedIdentifiers(db).count }
  }

  // MARK: Accounts

  public func createAccount(
    name: String, externalIDPrefix: String, retentionDays: Int, actor: String
  ) async throws -> Account {
    if let problem = StoreRules.accountProblem(
      name: name, externalIDPrefix: externalIDPrefix, retentionDays: retentionDays)
    {
      throw problem
    }
    let account = Account(
      id: .generate(), name: name,
      externalID: ExternalIDGenerator.generate(prefix: externalIDPrefix),
      retentionDays: retentionDays, createdAt: Date())
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
          target: account.id.rawValue, after: StoreJSON.encode(account)))
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
          after: StoreJSON.encode(user)))
    }
  }

  public func users(of account: AccountID) async throws -> [User] {
    try await read { db in
      try Row.fetchAll(
        db, sql: "SELECT * FROM users WHERE account_id = ? ORDER BY created_at, id",
        arguments: [account.rawValue]
      ).map { row in
        User(
          id: row["id"], accountID: AccountID(rawValue: row["account_id"]), email: row["email"],
          role: Role(rawValue: row["role"]) ?? .viewer, createdAt: Date(micros: row["created_at"]))
      }
    }
  }

  public func issueToken(name: String, role: Role, of account: AccountID, actor: String)
    async throws -> IssuedToken
  {
    let secret = TokenSecret.generate()
    let token = APIToken(
      id: "tok_" + String(TokenSecret.generate().dropFirst(4).prefix(16)), accountID: account,
      name: name, role: role, createdAt: Date())
    try await write { db in
      try db.execute(
        sql:
          "INSERT INTO api_tokens (id, account_id, name, role, secret_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        arguments: [
          token.id, account.rawValue, name, role.rawValue, TokenSecret.hash(secret),
          token.createdAt.micros,
        ])
      try Self.audit(
        db,
        AuditEntry(
          accountID: account, actor: actor, action: "token.issue", target: token.id,
          after: StoreJSON.encode(token)))
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
      try db.execute(
        sql: "DELETE FROM api_tokens WHERE id = ? AND account_id = ?",
        arguments: [id, account.rawValue])
      try Self.audit(
        db,
        AuditEntry(
          accountID: account, actor: actor, action: "token.revoke", target: id,
          before: StoreJSON.encode(Self.token(row))))
      return true
    }
  }

  static func token(_ row: Row) -> APIToken {
    APIToken(
      id: row["id"], accountID: AccountID(rawValue: row["account_id"]), name: row["name"],
      role: Role(rawValue: row["role"]) ?? .viewer, createdAt: Date(micros: row["created_at"]))
  }

  // MARK: Connections

  public func addConnection(_ connection: Connection, of account: AccountID, actor: String)
    async throws
  {
    try await write { db in
      guard
        let owner = try Row.fetchOne(
          db, sql: "SELECT * FROM accounts WHERE id = ?", arguments: [account.rawValue]
        ).map(Self.account)
      else { throw StoreRules.noSuchAccount(account) }
      let c = StoreRules.placed(connection, in: owner)
      try db.execute(
        sql: """
          INSERT INTO connections (id, account_id, purpose, bucket, region, prefix, role_arn, external_id, legacy, created_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          c.id, c.accountID.rawValue, c.purpose.rawValue, c.bucket, c.region, c.prefix, c.roleARN,
          c.externalID,
          c.usesLegacyExternalID, c.createdAt.micros,
        ])
      try Self.audit(
        db,
        AuditEntry(
          accountID: c.accountID, actor: actor, action: "connection.add", target: c.id,
          after: StoreJSON.encode(c)))
    }
  }

  public func connections(of account: AccountID) async throws -> [Connection] {
    try await read { db in
      try Row.fetchAll(
        db, sql: "SELECT * FROM connections WHERE account_id = ? ORDER BY created_at, id",
        arguments: [account.rawValue]
      )
      .map(Self.connection)
    }
  }

  public func removeConnection(_ id: String, of account: AccountID, actor: String) async throws
    -> Bool
  {
    try await write { db in
      guard
        let row = try Row.fetchOne(
          db, sql: "SELECT * FROM connections WHERE id = ? AND account_id = ?",
          arguments: [id, account.rawValue])
      else { return false }
      let users = try String.fetchAll(
        db,
        sql: """
          SELECT 'fetcher "' || name || '"' FROM fetchers WHERE connection_id = ?
          UNION ALL SELECT 'archive "' || name || '"' FROM archives WHERE connection_id = ?
          """, arguments: [id, id])
      if !users.isEmpty { throw StoreRules.connectionInUse(id, by: users) }
      try db.execute(
        sql: "DELETE FROM connections WHERE id = ? AND account_id = ?",
        arguments: [id, account.rawValue])
      try Self.audit(
        db,
        AuditEntry(
          accountID: account, actor: actor, action: "connection.remove", target: id,
          before: StoreJSON.encode(Self.connection(row))))
      return true
    }
  }

  /// One of the account's connections, inside a transaction.
  static func connection(_ db: Database, _ id: String, of account: AccountID) throws -> Connection?
  {
    try Row.fetchOne(
      db, sql: "SELECT * FROM connections WHERE id = ? AND account_id = ?",
      arguments: [id, account.rawValue]
    ).map(connection)
  }

  static func connection(_ row: Row) -> Connection {
    Connection(
      id: row["id"], accountID: AccountID(rawValue: row["account_id"]),
      purpose: ConnectionPurpose(rawValue: row["purpose"]) ?? .fetcher, bucket: row["bucket"],
      region: row["region"],
      prefix: row["prefix"], roleARN: row["role_arn"], externalID: row["external_id"],
      usesLegacyExternalID: row["legacy"], createdAt: Date(micros: row["created_at"]))
  }

  // MARK: Ledger and events

  public func ledgerEntry(of account: AccountID, fetcherID: String, key: String, eTag: String)
    async throws -> LedgerEntry?
  {
    try await read { db in
      try Row.fetchOne(
        db,
        sql:
          "SELECT * FROM ledger WHERE account_id = ? AND fetcher_id = ? AND key = ? AND etag = ?",
        arguments: [account.rawValue, fetcherID, key, eTag]
      ).map { row in
        LedgerEntry(
          fetcherID: row["fetcher_id"], key: row["key"], eTag: row["etag"],
          versionID: row["version_id"], size: row["size"],
          state: LedgerState(rawValue: row["state"]) ?? .pending, events: row["events"],
          offset: row["byte_offset"],
          error: row["error"], attempts: row["attempts"], updatedAt: Date(micros: row["updated_at"])
        )
      }
    }
  }

  public func commitObject(_ entry: LedgerEntry, events: [Event], of account: AccountID)
    async throws
  {
    try await write { db in
      try db.execute(
        sql: """
          INSERT INTO ledger (account_id, fetcher_id, key, etag, version_id, size, state, events, byte_offset, error, attempts, updated_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (account_id, fetcher_id, key, etag) DO UPDATE SET
            version_id = excluded.version_id, size = excluded.size, state = excluded.state, events = excluded.events,
            byte_offset = excluded.byte_offset, error = excluded.error, attempts = excluded.attempts, updated_at = excluded.updated_at
          """,
        arguments: [
          account.rawValue, entry.fetcherID, entry.key, entry.eTag, entry.versionID, entry.size,
          entry.state.rawValue,
          entry.events, entry.offset, entry.error, entry.attempts, entry.updatedAt.micros,
        ])
      // The natural key (fetcher, object version, offset) is unique: a commit repeated
      // after a lost answer stores nothing twice.
      let statement = try db.cachedStatement(
        sql: """
          INSERT INTO events (account_id, fetcher_id, log_type, time, source_key, source_etag, source_offset, message, fields, search_text)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (account_id, fetcher_id, source_key, source_etag, source_offset) DO NOTHING
          """)
      for original in events {
        let event = StoreRules.storable(original)
        try statement.execute(arguments: [
          account.rawValue, event.fetcherID, event.logType, event.time.micros, event.sourceKey,
          entry.eTag, event.sourceOffset,
          event.message, StoreJSON.encode(event.fields), SearchText.normalize(event.message),
        ])
      }
    }
  }

  public func search(_ query: EventQuery, of account: AccountID) async throws -> EventPage {
    let cursor = try query.cursor.map { cursor throws(StoreError) in try EventCursor.decode(cursor)
    }
    let limit = max(1, min(query.limit, 1000))
    return try await read { db in
      var sql = "SELECT e.* FROM events e"
      var arguments: [(any DatabaseValueConvertible)?] = []
      let words = SearchText.words(query.text)
      if !words.isEmpty {
        sql += " JOIN events_fts f ON f.rowid = e.id AND events_fts MATCH ?"
        arguments.append(words.map { "\"\($0)\"" }.joined(separator: " "))
      }
      sql += " WHERE e.account_id = ? AND e.time >= ? AND e.time < ?"
      arguments += [account.rawValue, query.from.micros, query.to.micros]
      for (key, value) in query.fields.sorted(by: { $0.key < $1.key }) {
        // The key is compared as it is, whatever characters it holds (no JSON path).
        sql += " AND EXISTS (SELECT 1 FROM json_each(e.fields) j WHERE j.key = ? AND j.value = ?)"
        arguments += [key, value]
      }
      if let cursor {
        sql += " AND (e.time < ? OR (e.time = ? AND e.id < ?))"
        arguments += [cursor.timeMicros, cursor.timeMicros, cursor.id]
      }
      sql += " ORDER BY e.time DESC, e.id DESC LIMIT ?"
      arguments.append(limit + 1)
      let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments))
      let events = rows.prefix(limit).map(Self.event)
      let next =
        rows.count > limit
        ? events.last.map { EventCursor.encode(timeMicros: $0.time.micros, id: $0.id ?? 0) } : nil
      return EventPage(events: Array(events), nextCursor: next)
    }
  }

  static func event(_ row: Row) -> Event {
    Event(
      id: row["id"], accountID: AccountID(rawValue: row["account_id"]),
      fetcherID: row["fetcher_id"], logType: row["log_type"],
      time: Date(micros: row["time"]), sourceKey: row["source_key"],
      sourceOffset: row["source_offset"],
      message: row["message"], fields: StoreJSON.decodeFields(row["fields"]))
  }

  public func eventCount(of account: AccountID) async throws -> Int {
    try await read { db in
      try Int.fetchOne(
        db, sql: "SELECT count(*) FROM events WHERE account_id = ?", arguments: [account.rawValue])
        ?? 0
    }
  }

  public func deleteEvents(of account: AccountID, olderThan cutoff: Date, batchSize: Int)
    async throws -> Int
  {
    if let problem = StoreRules.batchProblem(batchSize) { throw problem }
    var total = 0
    while true {
      let deleted = try await write { db in
        try db.execute(
          sql:
            "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE account_id = ? AND time < ? LIMIT ?)",
          arguments: [account.rawValue, cutoff.micros, batchSize])
        return db.changesCount
      }
      total += deleted
      if deleted < batchSize { return total }
    }
  }

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

  // MARK: Leases

  public func acquireLease(_ name: String, holder: String, ttl: TimeInterval) async throws -> Lease?
  {
    let now = Date().micros
    let expires = now + Int64(ttl * 1_000_000)
    // A write transaction holds SQLite's single writer lock: read-then-write is atomic.
    return try await write { db in
      guard
        let row = try Row.fetchOne(
          db, sql: "SELECT * FROM leases WHERE name = ?", arguments: [name])
      else {
        try db.execute(
          sql: "INSERT INTO leases (name, holder, expires_at, version) VALUES (?, ?, ?, 1)",
          arguments: [name, holder, expires])
        return Lease(name: name, holder: holder, expiresAt: Date(micros: expires), version: 1)
      }
      let current = Self.lease(row)
      guard current.expiresAt.micros <= now || current.holder == holder else { return nil }
      try db.execute(
        sql: "UPDATE leases SET holder = ?, expires_at = ?, version = version + 1 WHERE name = ?",
        arguments: [holder, expires, name])
      return Lease(
        name: name, holder: holder, expiresAt: Date(micros: expires), version: current.version + 1)
    }
  }

  public func renewLease(_ lease: Lease, ttl: TimeInterval) async throws -> Lease? {
    let expires = Date().micros + Int64(ttl * 1_000_000)
    return try await write { db in
      try db.execute(
        sql: "UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? AND version = ?",
        arguments: [expires, lease.name, lease.holder, lease.version])
      guard db.changesCount == 1 else { return nil }
      return Lease(
        name: lease.name, holder: lease.holder, expiresAt: Date(micros: expires),
        version: lease.version)
    }
  }

  public func releaseLease(_ lease: Lease) async throws -> Bool {
    try await write { db in
      try db.execute(
        sql: "DELETE FROM leases WHERE name = ? AND holder = ? AND version = ?",
        arguments: [lease.name, lease.holder, lease.version])
      return db.changesCount == 1
    }
  }

  static func lease(_ row: Row) -> Lease {
    Lease(
      name: row["name"], holder: row["holder"], expiresAt: Date(micros: row["expires_at"]),
      version: row["version"])
  }
}

/// The SQLite schema, one named migration per version, in order.
enum SQLiteSchema {
  static var versions: Int { migrations.count }

  static let migrations: [(String, String)] = [
    (
      "v1-initial",
      """
      CREATE TABLE accounts (id TEXT PRIMARY KEY, name TEXT NOT NULL, external_id TEXT NOT NULL UNIQUE,
        retention_days INTEGER NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE connections (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
        purpose TEXT NOT NULL, bucket TEXT NOT NULL, region TEXT NOT NULL, prefix TEXT NOT NULL, role_arn TEXT NOT NULL,
        external_id TEXT NOT NULL, legacy INTEGER NOT NULL, created_at INTEGER NOT NULL);
      CREATE INDEX connections_account ON connections(account_id);
      CREATE TABLE ledger (account_id TEXT NOT NULL, fetcher_id TEXT NOT NULL, key TEXT NOT NULL, etag TEXT NOT NULL,
        version_id TEXT, size INTEGER NOT NULL, state TEXT NOT NULL, events INTEGER NOT NULL, byte_offset INTEGER NOT NULL,
        error TEXT, attempts INTEGER NOT NULL, updated_at INTEGER NOT NULL,
        PRIMARY KEY (account_id, fetcher_id, key, etag));
      CREATE TABLE events (id INTEGER PRIMARY KEY, account_id TEXT NOT NULL, fetcher_id TEXT NOT NULL,
        log_type TEXT NOT NULL CHECK (log_type <> ''), time INTEGER NOT NULL, source_key TEXT NOT NULL,
        source_offset INTEGER NOT NULL,
        message TEXT NOT NULL, fields TEXT NOT NULL, search_text TEXT NOT NULL);
      CREATE INDEX events_account_time ON events(account_id, time DESC, id DESC);
      CREATE VIRTUAL TABLE events_fts USING fts5(search_text, content='events', content_rowid='id',
        tokenize='unicode61 remove_diacritics 0');
      CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN
        INSERT INTO events_fts(rowid, search_text) VALUES (new.id, new.search_text);
      END;
      CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
        INSERT INTO events_fts(events_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
      END;
      CREATE TABLE audit_log (id INTEGER PRIMARY KEY, account_id TEXT NOT NULL, actor TEXT NOT NULL,
        action TEXT NOT NULL, target TEXT NOT NULL, before TEXT, after TEXT, at INTEGER NOT NULL);
      CREATE INDEX audit_account ON audit_log(account_id, id);
      CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL, version INTEGER NOT NULL);
      """
    ),
    (
      "v2-users-and-tokens",
      """
      CREATE TABLE users (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id), email TEXT NOT NULL,
        role TEXT NOT NULL, created_at INTEGER NOT NULL, UNIQUE (account_id, email));
      CREATE TABLE api_tokens (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id), name TEXT NOT NULL,
        role TEXT NOT NULL, secret_hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL);
      """
    ),
    (
      "v3-fetchers-archives-restores",
      """
      CREATE TABLE fetchers (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
        connection_id TEXT NOT NULL REFERENCES connections(id), name TEXT NOT NULL, body TEXT NOT NULL,
        created_at INTEGER NOT NULL, UNIQUE (account_id, name));
      CREATE INDEX fetchers_connection ON fetchers(connection_id);
      CREATE TABLE archives (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
        connection_id TEXT NOT NULL REFERENCES connections(id), name TEXT NOT NULL, body TEXT NOT NULL,
        created_at INTEGER NOT NULL, UNIQUE (account_id, name));
      CREATE INDEX archives_connection ON archives(connection_id);
      CREATE TABLE restore_jobs (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
        archive_id TEXT NOT NULL REFERENCES archives(id), state TEXT NOT NULL, body TEXT NOT NULL,
        created_at INTEGER NOT NULL);
      CREATE INDEX restore_jobs_account ON restore_jobs(account_id, created_at DESC, id DESC);
      CREATE INDEX restore_jobs_archive ON restore_jobs(archive_id, state);
      """
    ),
    (
      "v4-events-natural-key",
      """
      ALTER TABLE events ADD COLUMN source_etag TEXT NOT NULL DEFAULT '';
      UPDATE events SET source_etag = 'before-v4-' || id;
      CREATE UNIQUE INDEX events_natural_key ON events(account_id, fetcher_id, source_key, source_etag, source_offset);
      """
    ),
  ]

  /// Where a database's schema stands against this Ferry's migrations.
  enum State: Equatable {
    case current
    case behind
    case tooNew(applied: Int)
  }

  /// Reads the schema's state without writing (works on a read-only database).
  static func state(_ db: Database) throws -> State {
    guard try db.tableExists("grdb_migrations") else { return .behind }
    let migrator = self.migrator
    if try migrator.hasBeenSuperseded(db) {
      return .tooNew(applied: try migrator.appliedIdentifiers(db).count)
    }
    return try migrator.hasCompletedMigrations(db) ? .current : .behind
  }

  static var migrator: DatabaseMigrator {
    var migrator = DatabaseMigrator()
    for (name, sql) in migrations {
      migrator.registerMigration(name) { db in try db.execute(sql: sql) }
    }
    return migrator
  }
}

/// JSON for audit snapshots and event fields.
enum StoreJSON {
  static func encode<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
  }

  /// A stored record; a body that does not decode is reported as damage, with the table.
  static func decode<T: Decodable>(_ type: T.Type, _ text: String, table: String) throws -> T {
    do {
      return try decoder.decode(type, from: Data(text.utf8))
    } catch {
      throw StoreError.corrupt("a row of \(table) could not be read back (\(error))")
    }
  }

  private static let decoder = JSONDecoder()

  static func decodeFields(_ text: String) -> [String: String] {
    (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:]
  }
}
