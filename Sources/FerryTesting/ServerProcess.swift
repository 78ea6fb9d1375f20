import FerryCore
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// `ferry serve` as a process, for tests that drive the server over real HTTP: started on a
/// free port, its standard output and log kept in files (so a test can search them for
/// secrets), stopped with SIGTERM.
public final class ServerProcess: @unchecked Sendable {
  public let url: String
  /// The first admin's token, when this start created the first account.
  public let firstToken: String?
  public let pid: pid_t
  let stdoutPath: String
  let stderrPath: String
  private var exited = false

  /// Starts `ferry serve --port 0 ARGUMENTS` and waits (up to 60 s) until it listens.
  public init(arguments: [String], environment: [String: String]) throws {
    let directory = try TestPaths.temporaryDirectory("ferry-serve")
    stdoutPath = directory.appendingPathComponent("stdout.txt").path
    stderrPath = directory.appendingPathComponent("stderr.txt").path
    let out = open(stdoutPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    let err = open(stderrPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
    defer {
      close(out)
      close(err)
      close(devNull)
    }
    pid = try ChildProcess.withSpawnLock {
      try ChildProcess.spawn(
        TestPaths.ferryExecutable, ["serve", "--port", "0"] + arguments,
        environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
        stdin: devNull, stdout: out, stderr: err)
    }
    let deadline = Date().addingTimeInterval(60)
    var banner = ""
    while Date() < deadline {
      banner = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
      if banner.contains("Ferry is listening at"), banner.contains("\n") { break }
      var status: Int32 = 0
      if waitpid(pid, &status, WNOHANG) == pid {
        let log = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        throw TestSetupError("ferry serve exited at start: \(log.suffix(2000))")
      }
      usleep(50_000)
    }
    // A first start prints the token a moment after the URL line.
    usleep(200_000)
    banner = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
    guard let line = banner.split(separator: "\n").first(where: { $0.contains("listening at") }),
      let address = line.split(separator: " ").last
    else {
      ChildProcess.stop(pid)
      throw TestSetupError("ferry serve did not start listening within 60 s: \(banner)")
    }
    url = String(address)
    firstToken = banner.split(whereSeparator: { $0 == " " || $0 == "\n" })
      .first { $0.hasPrefix("fry_") }.map(String.init)
  }

  /// What the server printed on standard output.
  public var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
  /// The server's log (standard error).
  public var log: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

  /// Sends SIGTERM and waits for the exit status.
  @discardableResult
  public func stop(grace: Double = 10) -> Int32 {
    kill(pid, SIGTERM)
    let deadline = Date().addingTimeInterval(grace)
    var status: Int32 = 0
    while Date() < deadline {
      if waitpid(pid, &status, WNOHANG) == pid {
        exited = true
        return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
      }
      usleep(20_000)
    }
    ChildProcess.stop(pid)
    exited = true
    return -1
  }

  /// Kills the server with SIGKILL (a crash: nothing is flushed or finished) and waits.
  public func crash() {
    kill(pid, SIGKILL)
    _ = ChildProcess.wait(pid)
    exited = true
  }

  deinit { if !exited { ChildProcess.stop(pid, grace: 1) } }
}

extension ServerProcess {
  /// Starts the server off the cooperative threads, for async tests.
  public static func start(arguments: [String], environment: [String: String]) async throws
    -> ServerProcess
  {
    try await OffPool.run { try ServerProcess(arguments: arguments, environment: environment) }
  }
}

extension Subprocess {
  /// ``run(_:_:stdin:environment:directory:)`` off the cooperative threads, for async tests.
  public static func runOffPool(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:]
  ) async throws -> Output {
    try await OffPool.run { try run(executable, arguments, environment: environment) }
  }
}
