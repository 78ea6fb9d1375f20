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
      "A PostgreSQL database shared by several nodes, postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=..., instead of the data directory. A password given here is visible to other users in `ps`: prefer $FERRY_DATABASE_URL or --database-url-file."
  )
  var databaseURL: String?

  @Option(
    name: .customLong("database-url-file"),
    help:
      "A file holding the PostgreSQL URL (keep it mode 0600), so the password stays off the command line."
  )
  var databaseURLFile: String?

  /// Which store to use: flags beat the environment, so an explicit --data-dir wins over
  /// FERRY_DATABASE_URL. When the environment chose the store, or a flag overrode it, a
  /// note on standard error names the store (the database URL without its password).
  private func choose() throws(CLIError) -> (url: String?, directory: String) {
    let environment = ProcessInfo.processInfo.environment
    let given = [dataDirectory, databaseURL, databaseURLFile].compactMap { $0 }.count
    if given > 1 {
      throw .usage(
        "give one of --data-dir (SQLite), --database-url or --database-url-file (PostgreSQL), not both"
      )
    }
    if let file = databaseURLFile {
      guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
        throw .usage(
          "--database-url-file: cannot read \(file); give a readable file holding the URL")
      }
      let url = text.trimmingCharacters(in: .whitespacesAndNewlines)
      guard !url.isEmpty else {
        throw .usage("--database-url-file: \(file) is empty; put the postgres:// URL in it")
      }
      return (url, "")
    }
    if let dataDirectory {
      guard !dataDirectory.trimmingCharacters(in: .whitespaces).isEmpty else {
        throw .usage(
          "--data-dir: the path is empty; give a directory, e.g. --data-dir ./data (Ferry creates it)"
        )
      }
      if environment["FERRY_DATABASE_URL"].map({ !$0.isEmpty }) == true {
        Terminal.note(
          "using the SQLite store in \(Self.absolute(dataDirectory)) (--data-dir wins over FERRY_DATABASE_URL)"
        )
      }
      return (nil, dataDirectory)
    }
    if let databaseURL { return (databaseURL, "") }
    if let url = environment["FERRY_DATABASE_URL"], !url.isEmpty {
      Terminal.note("using the PostgreSQL store at \(Self.redacted(url)) (FERRY_DATABASE_URL)")
      return (url, "")
    }
    if let directory = environment["FERRY_DATA_DIR"] {
      guard !directory.trimmingCharacters(in: .whitespaces).isEmpty else {
        throw .usage(
          "FERRY_DATA_DIR is set but empty; set it to a directory, or unset it to use ./data")
      }
      Terminal.note("using the SQLite store in \(Self.absolute(directory)) (FERRY_DATA_DIR)")
      return (nil, directory)
    }
    return (nil, "data")
  }

  /// Opens the store, bringing its schema up to date. With `existing`, a SQLite store that
  /// is not there is an error rather than a new, empty one (for commands that only read).
  private func open(existing: Bool = false) async throws(CLIError) -> any Store {
    let (url, directory) = try choose()
    let file = URL(fileURLWithPath: directory).appendingPathComponent("ferry.sqlite").path
    if existing, url == nil, !FileManager.default.fileExists(atPath: file),
      Self.nearestExistingIsDirectory(directory)
    {
      throw .store(
        .unavailable(
          "no Ferry store at \(Self.absolute(directory)) (no ferry.sqlite there); give the data directory of a Ferry that has run with --data-dir, a PostgreSQL store with --database-url, or ask a running server with --api"
        ))
    }
    do {
      if let url {
        return try await PostgresStore(url: url, logger: CLILog.quiet("ferry.store.postgres"))
      }
      return try SQLiteStore(
        path: URL(fileURLWithPath: directory).appendingPathComponent("ferry.sqlite").path)
    } catch let error as StoreError {
      throw .store(error)
    } catch {
      throw .store(.unavailable("\(error)"))
    }
  }

  /// Whether the path, or its nearest ancestor that exists, is a directory (a file in the
  /// way is left to the store's own, more precise message).
  static func nearestExistingIsDirectory(_ path: String) -> Bool {
    var url = URL(fileURLWithPath: path).standardizedFileURL
    var isDirectory: ObjCBool = false
    while !FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory),
      url.path != "/"
    {
      url.deleteLastPathComponent()
    }
    return isDirectory.boolValue
  }

  static func absolute(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.path
  }

  /// A database URL without its password, to name the store in messages.
  static func redacted(_ url: String) -> String {
    guard var components = URLComponents(string: url) else { return "(the given URL)" }
    if components.password != nil { components.password = "***" }
    components.query = nil
    return components.string ?? "(the given URL)"
  }
}

extension StoreOptions {
  /// Opens the store, runs `body` on it, and closes it; a store failure becomes a one-line
  /// CLI error. Commands that only read pass `existing`, so that they never create a store.
  func use<T>(existing: Bool = false, _ body: (any Store) async throws -> T) async throws(CLIError)
    -> T
  {
    let store = try await open(existing: existing)
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
