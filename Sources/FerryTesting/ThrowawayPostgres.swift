import FerryCore
import Foundation
import Synchronization

/// A PostgreSQL cluster of the test process, started by `scripts/postgres` on a free
/// loopback port; each test takes a database of its own.
public final class ThrowawayPostgres: Sendable {
  /// `postgres://postgres@127.0.0.1:PORT/postgres`.
  public let url: String
  public let dataDirectory: String

  /// Starts a new cluster; with `ssl`, it serves TLS with a self-signed certificate for
  /// localhost and 127.0.0.1 (``certificate``).
  public static func start(ssl: Bool = false) throws -> ThrowawayPostgres {
    let script = TestPaths.packageRoot.appendingPathComponent("scripts/postgres").path
    let out = try Subprocess.run(
      script,
      ["start", "--watch", String(ProcessInfo.processInfo.processIdentifier)]
        + (ssl ? ["--ssl"] : []))
    let parts = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
    guard out.status == 0, parts.count == 2 else {
      throw TestSetupError("could not start PostgreSQL: \(out.stderr)")
    }
    return ThrowawayPostgres(url: String(parts[0]), dataDirectory: String(parts[1]))
  }

  init(url: String, dataDirectory: String) {
    self.url = url
    self.dataDirectory = dataDirectory
  }

  /// The cluster shared by the tests of this process. Starting it takes seconds, and
  /// callers wait for the first start: all of it runs off the cooperative threads, so that
  /// waiting suites never freeze the others (two cores give only two such threads).
  public static func shared() async throws -> ThrowawayPostgres {
    try await OffPool.run { try sharedBlocking() }
  }

  static func sharedBlocking() throws -> ThrowawayPostgres {
    try sharedCluster.withLock { cluster in
      if let cluster { return cluster }
      let started = try ThrowawayPostgres.start()
      cluster = started
      return started
    }
  }

  /// The server's self-signed certificate (PEM), for a cluster started with `ssl`.
  public var certificate: String { dataDirectory + "/server.crt" }

  /// Creates a new empty database (off the cooperative threads); returns its URL.
  public func createDatabase() async throws -> String {
    try await OffPool.run { try self.createDatabaseBlocking() }
  }

  func createDatabaseBlocking() throws -> String {
    let name =
      "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
    let out = try Subprocess.run("psql", [url, "-q", "-c", "CREATE DATABASE \(name)"])
    guard out.status == 0 else { throw TestSetupError("CREATE DATABASE failed: \(out.stderr)") }
    guard let slash = url.lastIndex(of: "/") else { return url }
    return url[..<slash] + "/" + name
  }

  /// Runs SQL with psql.
  public func psql(_ databaseURL: String, _ sql: String) throws -> Subprocess.Output {
    try Subprocess.run("psql", [databaseURL, "-q", "-t", "-A", "-c", sql])
  }

  /// Stops the server at once, as a crash would.
  public func kill() throws {
    let script = TestPaths.packageRoot.appendingPathComponent("scripts/postgres").path
    _ = try Subprocess.run(script, ["kill", dataDirectory])
  }

  /// Starts a killed server again, on the same port.
  public func restart() throws {
    let script = TestPaths.packageRoot.appendingPathComponent("scripts/postgres").path
    let out = try Subprocess.run(script, ["restart", dataDirectory])
    guard out.status == 0 else { throw TestSetupError("restart failed: \(out.stderr)") }
  }

  public func stop() {
    let script = TestPaths.packageRoot.appendingPathComponent("scripts/postgres").path
    _ = try? Subprocess.run(script, ["stop", dataDirectory])
  }
}

private let sharedCluster = Mutex<ThrowawayPostgres?>(nil)
