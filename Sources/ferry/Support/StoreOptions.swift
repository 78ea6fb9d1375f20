import ArgumentParser
import FerryCore
import FerryStore
import Foundation
import Logging

/// Where Ferry keeps its data: one SQLite file in the data directory (the default), or a
/// PostgreSQL database that several Ferry nodes share.
struct StoreOptions: ParsableArguments {
  @Option(
    name: .customLong("data-dir"),
    help:
      "The data directory; Ferry keeps ferry.sqlite there. Default: $FERRY_DATA_DIR, else ./data.")
  var dataDirectory: String?

  @Option(
    name: .customLong("database-url"),
    help:
      "A PostgreSQL database shared by several nodes, postgres://USER:PASSWORD@HOST:PORT/DB, instead of the data directory. Default: $FERRY_DATABASE_URL."
  )
  var databaseURL: String?

  /// Opens the store, bringing its schema up to date.
  private func open() async throws(CLIError) -> any Store {
    let environment = ProcessInfo.processInfo.environment
    let url = databaseURL ?? environment["FERRY_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    if databaseURL != nil && dataDirectory != nil {
      throw .usage(
        "give either --data-dir (SQLite) or --database-url (PostgreSQL), not both")
    }
    do {
      if let url {
        return try await PostgresStore(url: url, logger: CLILog.quiet("ferry.store.postgres"))
      }
      let directory = dataDirectory ?? environment["FERRY_DATA_DIR"] ?? "data"
      return try SQLiteStore(
        path: URL(fileURLWithPath: directory).appendingPathComponent("ferry.sqlite").path)
    } catch let error as StoreError {
      throw .store(error)
    } catch {
      throw .store(.unavailable("\(error)"))
    }
  }
}

extension StoreOptions {
  /// Opens the store, runs `body` on it, and closes it; a store failure becomes a one-line
  /// CLI error.
  func use<T>(_ body: (any Store) async throws -> T) async throws(CLIError) -> T {
    let store = try await open()
    defer { (store as? PostgresStore)?.close() }
    do {
      return try await body(store)
    } catch let error as StoreError {
      throw .store(error)
    } catch {
      throw .store(.unavailable("\(error)"))
    }
  }
}

/// Who a change made from the command line is audited as: the operating-system user.
enum CLIActor {
  static var current: String { "cli:\(NSUserName())" }
}

/// Loggers for the command line: its output is for people, so libraries only speak up on
/// errors (on standard error).
enum CLILog {
  static func quiet(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .error
    return logger
  }
}
