import FerryCore
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The shared store for several Ferry nodes: PostgreSQL through PostgresNIO's pooled client.
public final class PostgresStore: Store {
  /// How the connection is protected (`sslmode`).
  public let tlsMode: PostgresTLS.Mode
  let client: PostgresClient
  let runner: Task<Void, Never>
  let logger: Logger
  let place: String
  let callTimeout: Duration

  /// Connects to `postgres://user[:password]@host:port/database` and brings the schema up
  /// to date (one node at a time, under an advisory lock).
  /// - Parameter callTimeout: the longest a call waits, including for a connection, before
  ///   it fails with ``StoreError/unavailable(_:)``.
  public init(
    url: String, callTimeout: Duration = .seconds(15),
    logger: Logger = Logger(label: "ferry.store.postgres")
  ) async throws {
    guard let components = URLComponents(string: url),
      components.scheme?.hasPrefix("postgres") == true,
      let host = components.host
    else {
      throw StoreError.rejected(
        "the database URL is not a PostgreSQL URL; use postgres://USER:PASSWORD@HOST:PORT/DATABASE")
    }
    let port = components.port ?? 5432
    place = "\(host):\(port)"
    let database = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
    let tls = try PostgresTLS(components)
    var configuration = PostgresClient.Configuration(
      host: host, port: port, username: components.user ?? "postgres",
      password: components.password,
      database: database.isEmpty ? nil : database, tls: try tls.configuration())
    tlsMode = tls.mode
    configuration.options.connectTimeout = .seconds(5)
    // Reconnection attempts are routine while the server is away: log them only as warnings.
    var background = logger
    background.logLevel = .warning
    let client = PostgresClient(configuration: configuration, backgroundLogger: background)
    self.client = client
    self.logger = logger
    self.callTimeout = callTimeout
    runner = Task { await client.run() }
    do {
      // Give the pool's run loop a moment to start: leasing before it runs works, but
      // PostgresNIO warns about it in the operator's log.
      try await Task.sleep(for: .milliseconds(20))
      // One direct connection first: a server that is down, refuses TLS or shows an
      // untrusted certificate is reported at once, with its cause (the pool would retry it
      // until the deadline and say only that).
      var direct = PostgresConnection.Configuration(
        host: host, port: port, username: components.user ?? "postgres",
        password: components.password, database: database.isEmpty ? nil : database,
        tls: try tls.connectionTLS())
      direct.options.connectTimeout = .seconds(5)
      do {
        let probe = try await PostgresConnection.connect(
          configuration: direct, id: 0, logger: background)
        try await probe.close()
      } catch {
        throw map(error)
      }
      // Reach the pool within the call deadline: migrations themselves are not time-limited.
      _ = try await query("SELECT 1")
      try await migrate()
    } catch {
      runner.cancel()
      throw error
    }
  }

  /// Closes the connection pool.
  public func close() {
    runner.cancel()
  }

  deinit { runner.cancel() }

  func map(_ error: any Error) -> StoreError {
    if let error = error as? StoreError { return error }
    if let error = error as? PostgresTransactionError {
      if let cause = error.closureError ?? error.beginError ?? error.commitError {
        return map(cause)
      }
    }
    if let error = error as? PSQLError {
      if let state = error.serverInfo?[.sqlState] {
        let message = error.serverInfo?[.message] ?? "error \(state)"
        switch state {
        case "23505", "23503", "23514":
          return .rejected("the change conflicts with existing data (\(message))")
        case "53100":
          return .unavailable("PostgreSQL's disk is full (\(message)); nothing was half-written")
        case "57P01", "57P02", "57P03":
          return .unavailable(
            "PostgreSQL at \(place) is shutting down or restarting; retry shortly")
        default:
          return .unavailable("PostgreSQL at \(place) refused the query: \(message) (\(state))")
        }
      }
      if let underlying = error.underlying, "\(type(of: underlying))".contains("SSL") {
        return .unavailable(
          "cannot make a TLS connection to PostgreSQL at \(place) (sslmode=\(tlsMode.rawValue)): \(underlying). If the server's certificate is signed by your own authority, give sslrootcert=PATH in the URL; if the server has no TLS, use sslmode=disable only on a trusted network"
        )
      }
      if error.code == .sslUnsupported {
        return .unavailable(
          "PostgreSQL at \(place) does not offer TLS, but sslmode=\(tlsMode.rawValue) requires it; turn on ssl in the server, or use sslmode=disable only on a trusted network"
        )
      }
      return .unavailable(
        "cannot reach PostgreSQL at \(place) (\(error.code)); check that it is running and the URL is right. An unfinished transaction is rolled back by the server"
      )
    }
    // The pool's own error type is not public API; it means no connection could be had.
    if String(describing: type(of: error)) == "ConnectionPoolError" {
      return .unavailable(
        "cannot get a connection to PostgreSQL at \(place); check that it is running and the URL is right. Nothing was sent"
      )
    }
    // Not the error's full text: it can quote queries and their values.
    return .unavailable("PostgreSQL at \(place) failed: \(type(of: error)). Check the server's log")
  }

  func query(_ sql: String, _ binds: PostgresBindings = PostgresBindings()) async throws
    -> [PostgresRandomAccessRow]
  {
    let client = self.client
    let logger = self.logger
    return try await withDeadline {
      var rows: [PostgresRandomAccessRow] = []
      for try await row in try await client.query(
        PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
      {
        rows.append(row.makeRandomAccess())
      }
      return rows
    }
  }

  func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T)
    async throws -> T
  {
    let client = self.client
    let logger = self.logger
    return try await withDeadline {
      try await client.withTransaction(logger: logger) { connection in try await body(connection) }
    }
  }

  /// Runs `body`, failing with `.unavailable` if it takes longer than the call timeout (a
  /// transaction cut short this way is rolled back by the server). The caller gets its
  /// answer at the deadline even if `body` does not notice its cancellation (a COPY into a
  /// connection the server has just closed can wait forever): `body` is cancelled and left
  /// to finish on its own.
  private func withDeadline<T: Sendable>(_ body: @escaping @Sendable () async throws -> T)
    async throws -> T
  {
    let timeout = callTimeout
    let place = self.place
    let work = Task { try await body() }
    let outcome = Outcome<T>()
    do {
      return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
          outcome.start(continuation)
          let timer = Task {
            try await Task.sleep(for: timeout)
            // The deadline's answer first: the cancelled work may fail with its own error.
            outcome.finish(
              .failure(
                StoreError.unavailable(
                  "no answer from PostgreSQL at \(place) within \(timeout); check that it is running. The change may or may not have been committed: repeating it is safe (events are stored once by their natural key, configuration changes are checked again)"
                )))
            work.cancel()
          }
          Task {
            let result = await work.result
            timer.cancel()
            outcome.finish(result)
          }
        }
      } onCancel: {
        work.cancel()
      }
    } catch {
      throw map(error)
    }
  }

  static func binds(_ values: [any PGBindable]) -> PostgresBindings {
    var binds = PostgresBindings()
    for value in values { value.bind(into: &binds) }
    return binds
  }

  static func execute(
    _ connection: PostgresConnection, _ sql: String, _ values: [any PGBindable], logger: Logger
  )
    async throws -> [PostgresRandomAccessRow]
  {
    var rows: [PostgresRandomAccessRow] = []
    for try await row in try await connection.query(
      PostgresQuery(unsafeSQL: sql, binds: binds(values)), logger: logger)
    {
      rows.append(row.makeRandomAccess())
    }
    return rows
  }

  // MARK: Schema

  private func migrate() async throws {
    do {
      try await client.withConnection { connection in
        _ = try await connection.query("SELECT pg_advisory_lock(70112026)", logger: self.logger)
        do {
          _ = try await connection.query(
            "CREATE TABLE IF NOT EXISTS ferry_schema (version INT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
            logger: self.logger)
          var current = 0
          for try await version in try await connection.query(
            "SELECT coalesce(max(version), 0) FROM ferry_schema", logger: self.logger
          )
          .decode(Int.self) {
            current = version
          }
          if current > PostgresSchema.migrations.count {
            throw StoreError.schemaTooNew(
              found: current, supported: PostgresSchema.migrations.count)
          }
          for (index, migration) in PostgresSchema.migrations.enumerated() where index + 1 > current
          {
            try await connection.withTransaction(logger: self.logger) { tx in
              for sql in migration.statements {
                _ = try await tx.query(PostgresQuery(unsafeSQL: sql), logger: self.logger)
              }
              _ = try await tx.query(
                PostgresQuery(
                  unsafeSQL: "INSERT INTO ferry_schema (version, name) VALUES ($1, $2)",
                  binds: Self.binds([index + 1, migration.name])),
                logger: self.logger)
            }
          }
        } catch {
          _ = try? await connection.query(
            "SELECT pg_advisory_unlock(70112026)", logger: self.logger)
          throw error
        }
        _ = try await connection.query("SELECT pg_advisory_unlock(70112026)", logger: self.logger)
      }
    } catch {
      throw map(error)
    }
  }

  public func schemaVersion() async throws -> Int {
    try await query("SELECT coalesce(max(version), 0) AS v FROM ferry_schema").first?["v"].decode(
      Int.self) ?? 0
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
    let logger = self.logger
    try await transaction { tx in
      // One account creation at a time, so the duplicate-name check cannot race.
      _ = try await tx.query("SELECT pg_advisory_xact_lock(70112027)", logger: logger)
      var names: [String] = []
      for try await name in try await tx.query("SELECT name FROM accounts", logger: logger)
        .decode(String.self)
      {
        names.append(name)
      }
      if let problem = StoreRules.duplicateAccountName(name, existing: names) { throw problem }
      _ = try await Self.execute(
        tx,
        "INSERT INTO accounts (id, name, external_id, retention_days, created_at) VALUES ($1, $2, $3, $4, $5)",
        [
          account.id.rawValue, account.name, account.externalID, account.retentionDays,
          account.createdAt.micros,
        ], logger: logger)
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: account.id, actor: actor, action: "account.create",
          target: account.id.rawValue, after: StoreJSON.encode(account)), logger: logger)
    }
    return account
  }

  public func account(_ id: AccountID) async throws -> Account? {
    guard
      let row = try await query("SELECT * FROM accounts WHERE id = $1", Self.binds([id.rawValue]))
        .first
    else { return nil }
    return try account(row)
  }

  public func accounts() async throws -> [Account] {
    try await query("SELECT * FROM accounts ORDER BY created_at, id").map(account)
  }

  func account(_ row: PostgresRandomAccessRow) throws -> Account {
    do {
      return Account(
        id: AccountID(rawValue: try row["id"].decode(String.self)),
        name: try row["name"].decode(String.self),
        externalID: try row["external_id"].decode(String.self),
        retentionDays: try row["retention_days"].decode(Int.self),
        createdAt: Date(micros: try row["created_at"].decode(Int64.self)))
    } catch {
      throw map(error)
    }
  }

  // MARK: Users and tokens

  public func addUser(_ user: User, actor: String) async throws {
    let logger = self.logger
    try await transaction { tx in
      _ = try await Self.execute(
        tx,
        "INSERT INTO users (id, account_id, email, role, created_at) VALUES ($1, $2, $3, $4, $5)",
        [user.id, user.accountID.rawValue, user.email, user.role.rawValue, user.createdAt.micros],
        logger: logger)
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: user.accountID, actor: actor, action: "user.add", target: user.id,
          after: StoreJSON.encode(user)), logger: logger)
    }
  }

  public func users(of account: AccountID) async throws -> [User] {
    let rows = try await query(
      "SELECT * FROM users WHERE account_id = $1 ORDER BY created_at, id",
      Self.binds([account.rawValue]))
    do {
      return try rows.map { row in
        User(
          id: try row["id"].decode(String.self),
          accountID: AccountID(rawValue: try row["account_id"].decode(String.self)),
          email: try row["email"].decode(String.self),
          role: Role(rawValue: try row["role"].decode(String.self)) ?? .viewer,
          createdAt: Date(micros: try row["created_at"].decode(Int64.self)))
      }
    } catch {
      throw map(error)
    }
  }

  public func issueToken(name: String, role: Role, of account: AccountID, actor: String)
    async throws -> IssuedToken
  {
    let secret = TokenSecret.generate()
    let token = APIToken(
      id: "tok_" + String(TokenSecret.generate().dropFirst(4).prefix(16)), accountID: account,
      name: name, role: role, createdAt: Date())
    let logger = self.logger
    try await transaction { tx in
      _ = try await Self.execute(
        tx,
        "INSERT INTO api_tokens (id, account_id, name, role, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        [
          token.id, account.rawValue, name, role.rawValue, TokenSecret.hash(secret),
          token.createdAt.micros,
        ], logger: logger)
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: account, actor: actor, action: "token.issue", target: token.id,
          after: StoreJSON.encode(token)), logger: logger)
    }
    return IssuedToken(token: token, secret: secret)
  }

  public func authenticate(tokenSecret: String) async throws -> APIToken? {
    let rows = try await query(
      "SELECT * FROM api_tokens WHERE secret_hash = $1", Self.binds([TokenSecret.hash(tokenSecret)])
    )
    return try rows.first.map(token)
  }

  public func tokens(of account: AccountID) async throws -> [APIToken] {
    try await query(
      "SELECT * FROM api_tokens WHERE account_id = $1 ORDER BY created_at, id",
      Self.binds([account.rawValue])
    ).map(token)
  }

  public func revokeToken(_ id: String, of account: AccountID, actor: String) async throws -> Bool {
    let logger = self.logger
    let store = self
    return try await transaction { tx in
      let rows = try await Self.execute(
        tx, "DELETE FROM api_tokens WHERE id = $1 AND account_id = $2 RETURNING *",
        [id, account.rawValue], logger: logger)
      guard let row = rows.first else { return false }
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: account, actor: actor, action: "token.revoke", target: id,
          before: StoreJSON.encode(try store.token(row))),
        logger: logger)
      return true
    }
  }

  func token(_ row: PostgresRandomAccessRow) throws -> APIToken {
    do {
      return APIToken(
        id: try row["id"].decode(String.self),
        accountID: AccountID(rawValue: try row["account_id"].decode(String.self)),
        name: try row["name"].decode(String.self),
        role: Role(rawValue: try row["role"].decode(String.self)) ?? .viewer,
        createdAt: Date(micros: try row["created_at"].decode(Int64.self)))
    } catch {
      throw map(error)
    }
  }

  // MARK: Connections

  public func addConnection(_ connection: Connection, of account: AccountID, actor: String)
    async throws
  {
    let logger = self.logger
    try await transaction { tx in
      guard
        let owner = try await Self.execute(
          tx, "SELECT * FROM accounts WHERE id = $1", [account.rawValue], logger: logger
        ).first.map({ try self.account($0) })
      else { throw StoreRules.noSuchAccount(account) }
      let c = StoreRules.placed(connection, in: owner)
      _ = try await Self.execute(
        tx,
        "INSERT INTO connections (id, account_id, purpose, bucket, region, prefix, role_arn, external_id, legacy, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        [
          c.id, c.accountID.rawValue, c.purpose.rawValue, c.bucket, c.region, c.prefix, c.roleARN,
          c.externalID,
          c.usesLegacyExternalID, c.createdAt.micros,
        ], logger: logger)
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: c.accountID, actor: actor, action: "connection.add", target: c.id,
          after: StoreJSON.encode(c)), logger: logger)
    }
  }

  public func connections(of account: AccountID) async throws -> [Connection] {
    let rows = try await query(
      "SELECT * FROM connections WHERE account_id = $1 ORDER BY created_at, id",
      Self.binds([account.rawValue]))
    do { return try rows.map(Self.connection) } catch { throw map(error) }
  }

  public func removeConnection(_ id: String, of account: AccountID, actor: String) async throws
    -> Bool
  {
    let logger = self.logger
    return try await transaction { tx in
      // Another tenant's connection does not exist for this account: check ownership
      // before anything that could name that tenant's fetchers.
      guard try await Self.connection(tx, id, of: account, logger: logger) != nil else {
        return false
      }
      let users = try await Self.execute(
        tx,
        """
        SELECT 'fetcher "' || name || '"' AS user FROM fetchers WHERE connection_id = $1 AND account_id = $2
        UNION ALL SELECT 'archive "' || name || '"' FROM archives WHERE connection_id = $1 AND account_id = $2
        """, [id, account.rawValue], logger: logger
      ).map { try $0["user"].decode(String.self) }
      if !users.isEmpty { throw StoreRules.connectionInUse(id, by: users) }
      let rows = try await Self.execute(
        tx, "DELETE FROM connections WHERE id = $1 AND account_id = $2 RETURNING *",
        [id, account.rawValue], logger: logger)
      guard let row = rows.first else { return false }
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: account, actor: actor, action: "connection.remove", target: id,
          before: StoreJSON.encode(try Self.connection(row))),
        logger: logger)
      return true
    }
  }

  /// One of the account's connections, inside a transaction.
  static func connection(
    _ tx: PostgresConnection, _ id: String, of account: AccountID, logger: Logger
  ) async throws -> Connection? {
    try await execute(
      tx, "SELECT * FROM connections WHERE id = $1 AND account_id = $2", [id, account.rawValue],
      logger: logger
    ).first.map(connection)
  }

  static func connection(_ row: PostgresRandomAccessRow) throws -> Connection {
    Connection(
      id: try row["id"].decode(String.self),
      accountID: AccountID(rawValue: try row["account_id"].decode(String.self)),
      purpose: ConnectionPurpose(rawValue: try row["purpose"].decode(String.self)) ?? .fetcher,
      bucket: try row["bucket"].decode(String.self), region: try row["region"].decode(String.self),
      prefix: try row["prefix"].decode(String.self),
      roleARN: try row["role_arn"].decode(String.self),
      externalID: try row["external_id"].decode(String.self),
      usesLegacyExternalID: try row["legacy"].decode(Bool.self),
      createdAt: Date(micros: try row["created_at"].decode(Int64.self)))
  }

  // MARK: Ledger and events

  public func ledgerEntry(of account: AccountID, fetcherID: String, key: String, eTag: String)
    async throws -> LedgerEntry?
  {
    guard
      let row = try await query(
        "SELECT * FROM ledger WHERE account_id = $1 AND fetcher_id = $2 AND key = $3 AND etag = $4",
        Self.binds([account.rawValue, fetcherID, key, eTag])
      ).first
    else { return nil }
    do {
      return LedgerEntry(
        fetcherID: try row["fetcher_id"].decode(String.self),
        key: try row["key"].decode(String.self),
        eTag: try row["etag"].decode(String.self),
        versionID: try row["version_id"].decode(String?.self),
        size: try row["size"].decode(Int64.self),
        state: LedgerState(rawValue: try row["state"].decode(String.self)) ?? .pending,
        events: try row["events"].decode(Int.self),
        offset: try row["byte_offset"].decode(Int64.self),
        error: try row["error"].decode(String?.self),
        attempts: try row["attempts"].decode(Int.self),
        updatedAt: Date(micros: try row["updated_at"].decode(Int64.self)))
    } catch {
      throw map(error)
    }
  }

  public func commitObject(_ entry: LedgerEntry, events: [Event], of account: AccountID)
    async throws
  {
    let logger = self.logger
    try await transaction { tx in
      _ = try await Self.execute(
        tx,
        """
        INSERT INTO ledger (account_id, fetcher_id, key, etag, version_id, size, state, events, byte_offset, error, attempts, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        ON CONFLICT (account_id, fetcher_id, key, etag) DO UPDATE SET
          version_id = excluded.version_id, size = excluded.size, state = excluded.state, events = excluded.events,
          byte_offset = excluded.byte_offset, error = excluded.error, attempts = excluded.attempts, updated_at = excluded.updated_at
        """,
        [
          account.rawValue, entry.fetcherID, entry.key, entry.eTag, entry.versionID, entry.size,
          entry.state.rawValue,
          entry.events, entry.offset, entry.error, entry.attempts, entry.updatedAt.micros,
        ], logger: logger)
      // COPY streams the rows in the text format: the fastest way into PostgreSQL, and
      // still inside this transaction with the ledger row. They go into a temporary table
      // first, then into events skipping rows whose natural key (fetcher, object version,
      // offset) is stored already: a commit repeated after a lost answer adds nothing.
      if !events.isEmpty {
        _ = try await tx.query(
          """
          CREATE TEMP TABLE IF NOT EXISTS events_incoming (account_id TEXT, fetcher_id TEXT, log_type TEXT,
            time BIGINT, source_key TEXT, source_etag TEXT, source_offset BIGINT, message TEXT, fields JSONB,
            search TSVECTOR) ON COMMIT DELETE ROWS
          """, logger: logger)
        try await tx.copyFrom(
          table: "events_incoming",
          columns: [
            "account_id", "fetcher_id", "log_type", "time", "source_key", "source_etag",
            "source_offset", "message", "fields", "search",
          ], logger: logger
        ) { writer in
          var buffer = ByteBuffer()
          buffer.reserveCapacity(1 << 20)
          for original in events {
            CopyText.appendRow(
              StoreRules.storable(original), eTag: entry.eTag, account: account, to: &buffer)
            if buffer.readableBytes >= 1 << 20 {
              try await writer.write(buffer)
              buffer.clear()
            }
          }
          if buffer.readableBytes > 0 { try await writer.write(buffer) }
        }
        _ = try await tx.query(
          """
          INSERT INTO events (account_id, fetcher_id, log_type, time, source_key, source_etag, source_offset, message, fields, search)
          SELECT account_id, fetcher_id, log_type, time, source_key, source_etag, source_offset, message, fields, search
          FROM events_incoming ON CONFLICT (account_id, fetcher_id, source_key, source_etag, source_offset) DO NOTHING
          """, logger: logger)
        _ = try await tx.query("TRUNCATE events_incoming", logger: logger)
      }
    }
  }

  public func search(_ query: EventQuery, of account: AccountID) async throws -> EventPage {
    let cursor = try query.cursor.map { cursor throws(StoreError) in try EventCursor.decode(cursor)
    }
    let limit = max(1, min(query.limit, 1000))
    var sql = "SELECT * FROM events WHERE account_id = $1 AND time >= $2 AND time < $3"
    var values: [any PGBindable] = [account.rawValue, query.from.micros, query.to.micros]
    let words = SearchText.words(query.text)
    if !words.isEmpty {
      values.append(CopyText.tsquery(words))
      sql += " AND search @@ $\(values.count)::tsquery"
    }
    for (key, value) in query.fields.sorted(by: { $0.key < $1.key }) {
      values.append(key)
      values.append(value)
      sql += " AND fields->>$\(values.count - 1) = $\(values.count)"
    }
    if let cursor {
      values.append(cursor.timeMicros)
      values.append(cursor.id)
      sql +=
        " AND (time < $\(values.count - 1) OR (time = $\(values.count - 1) AND id < $\(values.count)))"
    }
    values.append(limit + 1)
    sql += " ORDER BY time DESC, id DESC LIMIT $\(values.count)"
    let rows = try await self.query(
      sql.replacingOccurrences(of: "SELECT *", with: "SELECT *, fields::text AS fields_text"),
      Self.binds(values))
    do {
      let events = try rows.prefix(limit).map(Self.event)
      let next =
        rows.count > limit
        ? events.last.map { EventCursor.encode(timeMicros: $0.time.micros, id: $0.id ?? 0) } : nil
      return EventPage(events: events, nextCursor: next)
    } catch {
      throw map(error)
    }
  }

  static func event(_ row: PostgresRandomAccessRow) throws -> Event {
    Event(
      id: try row["id"].decode(Int64.self),
      accountID: AccountID(rawValue: try row["account_id"].decode(String.self)),
      fetcherID: try row["fetcher_id"].decode(String.self),
      logType: try row["log_type"].decode(String.self),
      time: Date(micros: try row["time"].decode(Int64.self)),
      sourceKey: try row["source_key"].decode(String.self),
      sourceOffset: try row["source_offset"].decode(Int64.self),
      message: try row["message"].decode(String.self),
      fields: StoreJSON.decodeFields(try row["fields_text"].decode(String.self)))
  }

  public func eventCount(of account: AccountID) async throws -> Int {
    try await query(
      "SELECT count(*) AS n FROM events WHERE account_id = $1", Self.binds([account.rawValue])
    ).first?["n"].decode(Int.self) ?? 0
  }

  public func deleteEvents(of account: AccountID, olderThan cutoff: Date, batchSize: Int)
    async throws -> Int
  {
    if let problem = StoreRules.batchProblem(batchSize) { throw problem }
    var total = 0
    while true {
      let rows = try await query(
        "WITH doomed AS (SELECT id FROM events WHERE account_id = $1 AND time < $2 LIMIT $3) DELETE FROM events WHERE id IN (SELECT id FROM doomed) RETURNING id",
        Self.binds([account.rawValue, cutoff.micros, batchSize]))
      total += rows.count
      if rows.count < batchSize { return total }
    }
  }

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

  // MARK: Leases

  /// The database server's clock in microseconds: every node of a cluster judges leases
  /// by this one clock, so a node whose own clock runs fast cannot take a live lease.
  static let databaseNow = "(extract(epoch from clock_timestamp()) * 1000000)::bigint"

  public func acquireLease(_ name: String, holder: String, ttl: TimeInterval) async throws -> Lease?
  {
    let rows = try await query(
      """
      INSERT INTO leases AS l (name, holder, expires_at, version) VALUES ($1, $2, \(Self.databaseNow) + $3, 1)
      ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, version = l.version + 1
      WHERE l.expires_at <= \(Self.databaseNow) OR l.holder = excluded.holder
      RETURNING name, holder, expires_at, version
      """, Self.binds([name, holder, Int64(ttl * 1_000_000)]))
    return try rows.first.map(lease)
  }

  public func renewLease(_ lease: Lease, ttl: TimeInterval) async throws -> Lease? {
    let rows = try await query(
      "UPDATE leases SET expires_at = \(Self.databaseNow) + $1 WHERE name = $2 AND holder = $3 AND version = $4 RETURNING name, holder, expires_at, version",
      Self.binds([Int64(ttl * 1_000_000), lease.name, lease.holder, lease.version]))
    return try rows.first.map(self.lease)
  }

  public func releaseLease(_ lease: Lease) async throws -> Bool {
    let rows = try await query(
      "DELETE FROM leases WHERE name = $1 AND holder = $2 AND version = $3 RETURNING name",
      Self.binds([lease.name, lease.holder, lease.version]))
    return rows.count == 1
  }

  func lease(_ row: PostgresRandomAccessRow) throws -> Lease {
    do {
      return Lease(
        name: try row["name"].decode(String.self), holder: try row["holder"].decode(String.self),
        expiresAt: Date(micros: try row["expires_at"].decode(Int64.self)),
        version: try row["version"].decode(Int64.self))
    } catch {
      throw map(error)
    }
  }
}

/// The PostgreSQL schema, one migration per version, in order; recorded in `ferry_schema`.
enum PostgresSchema {
  /// Each migration is a list of statements, run in order in one transaction (the
  /// extended protocol takes one statement per query; statements are listed, never split
  /// from a text, so a `;` inside one is safe).
  static let migrations: [(name: String, statements: [String])] = [
    (
      "v1-initial",
      [
        """
        CREATE TABLE accounts (id TEXT PRIMARY KEY, name TEXT NOT NULL, external_id TEXT NOT NULL UNIQUE,
        retention_days INT NOT NULL, created_at BIGINT NOT NULL)
        """,
        """
        CREATE TABLE connections (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
        purpose TEXT NOT NULL, bucket TEXT NOT NULL, region TEXT NOT NULL, prefix TEXT NOT NULL, role_arn TEXT NOT NULL,
        external_id TEXT NOT NULL, legacy BOOLEAN NOT NULL, created_at BIGINT NOT NULL)
        """,
        """
        CREATE INDEX connections_account ON connections(account_id)
        """,
        """
        CREATE TABLE ledger (account_id TEXT NOT NULL, fetcher_id TEXT NOT NULL, key TEXT NOT NULL, etag TEXT NOT NULL,
        version_id TEXT, size BIGINT NOT NULL, state TEXT NOT NULL, events INT NOT NULL, byte_offset BIGINT NOT NULL,
        error TEXT, attempts INT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (account_id, fetcher_id, key, etag))
        """,
        """
        CREATE TABLE events (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, account_id TEXT NOT NULL,
        fetcher_id TEXT NOT NULL, log_type TEXT NOT NULL CHECK (log_type <> ''), time BIGINT NOT NULL, source_key TEXT NOT NULL,
        source_offset BIGINT NOT NULL, message TEXT NOT NULL, fields JSONB NOT NULL, search TSVECTOR NOT NULL)
        """,
        """
        CREATE INDEX events_account_time ON events(account_id, time DESC, id DESC)
        """,
        """
        CREATE INDEX events_search ON events USING GIN (search)
        """,
        """
        CREATE TABLE audit_log (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, account_id TEXT NOT NULL,
        actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, before TEXT, after TEXT, at BIGINT NOT NULL)
        """,
        """
        CREATE INDEX audit_account ON audit_log(account_id, id)
        """,
        """
        CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at BIGINT NOT NULL, version BIGINT NOT NULL)
        """,
      ]
    ),
    (
      "v2-users-and-tokens",
      [
        """
        CREATE TABLE users (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id), email TEXT NOT NULL,
        role TEXT NOT NULL, created_at BIGINT NOT NULL, UNIQUE (account_id, email))
        """,
        """
        CREATE TABLE api_tokens (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id), name TEXT NOT NULL,
        role TEXT NOT NULL, secret_hash TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL)
        """,
      ]
    ),
    (
      "v3-fetchers-archives-restores",
      [
        """
        CREATE TABLE fetchers (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
        connection_id TEXT NOT NULL REFERENCES connections(id), name TEXT NOT NULL, body TEXT NOT NULL,
        created_at BIGINT NOT NULL, UNIQUE (account_id, name))
        """,
        """
        CREATE INDEX fetchers_connection ON fetchers(connection_id)
        """,
        """
        CREATE TABLE archives (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
        connection_id TEXT NOT NULL REFERENCES connections(id), name TEXT NOT NULL, body TEXT NOT NULL,
        created_at BIGINT NOT NULL, UNIQUE (account_id, name))
        """,
        """
        CREATE INDEX archives_connection ON archives(connection_id)
        """,
        """
        CREATE TABLE restore_jobs (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
        archive_id TEXT NOT NULL REFERENCES archives(id), state TEXT NOT NULL, body TEXT NOT NULL,
        created_at BIGINT NOT NULL)
        """,
        """
        CREATE INDEX restore_jobs_account ON restore_jobs(account_id, created_at DESC, id DESC)
        """,
        """
        CREATE INDEX restore_jobs_archive ON restore_jobs(archive_id, state)
        """,
      ]
    ),
    (
      "v4-events-natural-key",
      [
        """
        ALTER TABLE events ADD COLUMN source_etag TEXT NOT NULL DEFAULT ''
        """,
        """
        UPDATE events SET source_etag = 'before-v4-' || id
        """,
        """
        CREATE UNIQUE INDEX events_natural_key ON events(account_id, fetcher_id, source_key, source_etag, source_offset)
        """,
      ]
    ),
  ]
}

/// A value that can be bound to a query parameter (optionals bind as NULL).
protocol PGBindable: Sendable {
  func bind(into binds: inout PostgresBindings)
}

extension String: PGBindable {
  func bind(into binds: inout PostgresBindings) { binds.append(self) }
}
extension Int: PGBindable {
  func bind(into binds: inout PostgresBindings) { binds.append(self) }
}
extension Int64: PGBindable {
  func bind(into binds: inout PostgresBindings) { binds.append(self) }
}
extension Bool: PGBindable {
  func bind(into binds: inout PostgresBindings) { binds.append(self) }
}
extension Optional: PGBindable where Wrapped == String {
  func bind(into binds: inout PostgresBindings) {
    if let value = self { binds.append(value) } else { binds.appendNull() }
  }
}

/// Rows of `events` in COPY's text format, and the full-text forms both sides of a search
/// use. Ferry tokenizes (``SearchText``), not PostgreSQL's parser, so that PostgreSQL and
/// SQLite index and match the same words: the `search` column is a tsvector literal of the
/// normalized words, and a query is the same words joined by `&`.
enum CopyText {
  /// PostgreSQL refuses lexemes longer than this (in bytes).
  static let longestLexeme = 2047
  /// A tsvector must stay under 1 MiB: words past this many bytes are not indexed.
  static let indexedBytes = 512 * 1024

  static func appendRow(
    _ event: Event, eTag: String, account: AccountID, to buffer: inout ByteBuffer
  ) {
    appendField(account.rawValue, to: &buffer)
    buffer.writeInteger(UInt8(ascii: "\t"))
    appendField(event.fetcherID, to: &buffer)
    buffer.writeInteger(UInt8(ascii: "\t"))
    appendField(event.logType, to: &buffer)
    buffer.writeInteger(UInt8(ascii: "\t"))
    buffer.writeString(String(event.time.micros))
    buffer.writeInteger(UInt8(ascii: "\t"))
    appendField(event.sourceKey, to: &buffer)
    buffer.writeInteger(UInt8(ascii: "\t"))
    appendField(eTag, to: &buffer)
    buffer.writeInteger(UInt8(ascii: "\t"))
    buffer.writeString(String(event.sourceOffset))
    buffer.writeInteger(UInt8(ascii: "\t"))
    appendField(event.message, to: &buffer)
    buffer.writeInteger(UInt8(ascii: "\t"))
    appendField(StoreJSON.encode(event.fields), to: &buffer)
    buffer.writeInteger(UInt8(ascii: "\t"))
    appendField(tsvector(SearchText.normalize(event.message)), to: &buffer)
    buffer.writeInteger(UInt8(ascii: "\n"))
  }

  /// A tsvector literal: each word quoted (they hold only letters and digits).
  static func tsvector(_ normalized: String) -> String {
    var out = ""
    out.reserveCapacity(normalized.utf8.count + 32)
    var bytes = 0
    for word in normalized.split(separator: " ") where word.utf8.count <= longestLexeme {
      bytes += word.utf8.count + 3
      if bytes > indexedBytes { break }
      if !out.isEmpty { out.append(" ") }
      out.append("'")
      out.append(contentsOf: word)
      out.append("'")
    }
    return out
  }

  /// A tsquery that matches events holding every word.
  static func tsquery(_ words: [String]) -> String {
    words.map { "'\($0.utf8.count <= longestLexeme ? $0 : String($0.prefix(longestLexeme)))'" }
      .joined(separator: " & ")
  }

  /// One column's value, with COPY's text-format escapes.
  static func appendField(_ text: String, to buffer: inout ByteBuffer) {
    var text = text
    text.withUTF8 { bytes in
      var start = 0
      for (i, b) in bytes.enumerated() {
        let escape: UInt8
        switch b {
        case 0x5C: escape = 0x5C  // backslash
        case 0x09: escape = UInt8(ascii: "t")
        case 0x0A: escape = UInt8(ascii: "n")
        case 0x0D: escape = UInt8(ascii: "r")
        default: continue
        }
        buffer.writeBytes(
          UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<i]))
        buffer.writeInteger(UInt8(0x5C))
        buffer.writeInteger(escape)
        start = i + 1
      }
      buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start...]))
    }
  }
}

/// The first result of a race between a call and its deadline; later ones are dropped.
private final class Outcome<T: Sendable>: Sendable {
  private struct State {
    var continuation: CheckedContinuation<T, any Error>?
    var early: Result<T, any Error>?
    var done = false
  }
  private let state = Mutex(State())

  func start(_ continuation: CheckedContinuation<T, any Error>) {
    let early: Result<T, any Error>? = state.withLock { state in
      if let early = state.early { return early }
      state.continuation = continuation
      return nil
    }
    if let early { continuation.resume(with: early) }
  }

  func finish(_ result: Result<T, any Error>) {
    let continuation: CheckedContinuation<T, any Error>? = state.withLock { state in
      guard !state.done else { return nil }
      state.done = true
      if let continuation = state.continuation { return continuation }
      state.early = result
      return nil
    }
    continuation?.resume(with: result)
  }
}
