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
    // The password is a Secret from here on: it is revealed only to the connection.
    let password = components.password.map { Secret($0) }
    let port = components.port ?? 5432
    place = "\(host):\(port)"
    let database = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
    let tls = try PostgresTLS(components)
    var configuration = PostgresClient.Configuration(
      host: host, port: port, username: components.user ?? "postgres",
      password: password?.revealed,
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
        password: password?.revealed, database: database.isEmpty ? nil : database,
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
  func withDeadline<T: Sendable>(_ body: @escaping @Sendable () async throws -> T)
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
              try await PostgresSchema.convert(migration.name, tx, logger: self.logger)
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
