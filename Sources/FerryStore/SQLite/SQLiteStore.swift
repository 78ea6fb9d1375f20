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
  let writers: Mutex<DatabasePool?>
  let configuration: Configuration
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
    if !readOnly {
      if !fileExists { DataDirectory.createPrivately(path) }
      DataDirectory.narrow(path)
    }
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

}
