import FerryCore
import Foundation
import Synchronization

/// moto's server on a free loopback port, started by `scripts/aws-emulator`. It stops when
/// the test process exits (the script watches this process) or on ``stop()``.
public final class AWSEmulator: Sendable {
  public let url: URL
  let pid: String

  /// Starts a new emulator.
  public static func start() throws -> AWSEmulator {
    let script = TestPaths.packageRoot.appendingPathComponent("scripts/aws-emulator").path
    let out = try Subprocess.run(
      script, ["start", "--watch", String(ProcessInfo.processInfo.processIdentifier)])
    let parts = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
    guard out.status == 0, parts.count == 2, let url = URL(string: String(parts[0])),
      let pid = Int32(parts[1])
    else {
      throw TestSetupError("could not start the AWS emulator: \(out.stderr)")
    }
    ChildProcess.adopt(pid)
    return AWSEmulator(url: url, pid: String(parts[1]))
  }

  init(url: URL, pid: String) {
    self.url = url
    self.pid = pid
  }

  /// One emulator shared by the tests of a process (each test uses its own names).
  public static func shared() throws -> AWSEmulator {
    try sharedEmulator.withLock { emulator in
      if let emulator { return emulator }
      let started = try AWSEmulator.start()
      emulator = started
      return started
    }
  }

  public func stop() {
    if let pid = Int32(pid) { ChildProcess.stop(pid) }
  }

  /// The request lines moto's server has logged (`"GET /bucket?list-type=2&… HTTP/1.1" 200`),
  /// from `scripts/aws-emulator`'s log of this server: to count the calls a client made.
  public func requestLines() -> [String] {
    let directory = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
    let path = "\(directory)/ferry-moto-\(url.port ?? 0).log"
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    return text.split(separator: "\n").map(String.init).filter { $0.contains("HTTP/1.1\"") }
  }

  /// Environment for the AWS CLI and boto3 pointed at this emulator.
  public func cliEnvironment(
    accessKey: String = "AKIAFERRYTEST0000001", secret: String = "ferry-test-secret"
  )
    -> [String: String]
  {
    [
      "AWS_ENDPOINT_URL": url.absoluteString, "AWS_ACCESS_KEY_ID": accessKey,
      "AWS_SECRET_ACCESS_KEY": secret, "AWS_DEFAULT_REGION": "us-east-1", "AWS_SESSION_TOKEN": "",
      "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    ]
  }

  /// Runs the AWS CLI against the emulator.
  public func aws(_ arguments: [String], environment: [String: String] = [:]) throws
    -> Subprocess.Output
  {
    try Subprocess.run("aws", arguments, environment: cliEnvironment().merging(environment) { $1 })
  }

  /// ``aws(_:environment:)`` off the cooperative threads, for async tests.
  public func awsOffPool(_ arguments: [String], environment: [String: String] = [:])
    async throws -> Subprocess.Output
  {
    try await OffPool.run { try self.aws(arguments, environment: environment) }
  }
}

private let sharedEmulator = Mutex<AWSEmulator?>(nil)

/// A test could not set up what it needs.
public struct TestSetupError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// A small helper server of the test suite (a Python script) on a free loopback port: it
/// prints its port on its first line of output and stops with the test process.
public final class HelperServer: @unchecked Sendable {
  public let port: Int
  let pid: pid_t
  private let stopped = Mutex(false)

  public var url: String { "http://127.0.0.1:\(port)" }

  /// Starts `python3 script arguments…` and waits for its port line, off the cooperative
  /// threads (the wait blocks).
  public static func start(script: String, arguments: [String] = []) async throws
    -> HelperServer
  {
    try await OffPool.run { try HelperServer(script: script, arguments: arguments) }
  }

  /// Starts `python3 script arguments…` and waits for the port line. Blocks: async code
  /// calls ``start(script:arguments:)``.
  public init(script: String, arguments: [String] = []) throws {
    guard let python = Subprocess.which("python3") else {
      throw TestSetupError("python3 is not installed")
    }
    let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
    defer { close(devNull) }
    ChildProcess.spawnLock.lock()
    let out: (read: Int32, write: Int32)
    let pid: pid_t
    do {
      out = try ChildProcess.makePipe()
      pid = try ChildProcess.spawn(
        python, [script] + arguments, environment: ProcessInfo.processInfo.environment,
        stdin: devNull, stdout: out.write, stderr: devNull)
    } catch {
      ChildProcess.spawnLock.unlock()
      throw error
    }
    close(out.write)
    ChildProcess.spawnLock.unlock()
    let handle = FileHandle(fileDescriptor: out.read, closeOnDealloc: true)
    var line = Data()
    while !line.contains(0x0A) {
      let chunk = handle.availableData
      if chunk.isEmpty { break }
      line.append(chunk)
    }
    guard let text = String(data: line, encoding: .utf8)?.split(separator: "\n").first,
      let port = Int(text)
    else {
      ChildProcess.stop(pid)
      throw TestSetupError("helper server \(script) did not report its port")
    }
    self.port = port
    self.pid = pid
  }

  public func stop() {
    let first = stopped.withLock { done -> Bool in
      defer { done = true }
      return !done
    }
    if first { ChildProcess.stop(pid) }
  }

  deinit { stop() }
}
