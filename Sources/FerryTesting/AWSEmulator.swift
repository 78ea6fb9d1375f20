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
    guard out.status == 0, parts.count == 2, let url = URL(string: String(parts[0])) else {
      throw TestSetupError("could not start the AWS emulator: \(out.stderr)")
    }
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
    _ = try? Subprocess.run("kill", [pid])
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
  let process: Process

  public var url: String { "http://127.0.0.1:\(port)" }

  /// Starts `python3 script arguments…` and waits for the port line.
  public init(script: String, arguments: [String] = []) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script] + arguments
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    var line = Data()
    let handle = out.fileHandleForReading
    while !line.contains(0x0A) {
      let chunk = handle.availableData
      if chunk.isEmpty { break }
      line.append(chunk)
    }
    guard let text = String(data: line, encoding: .utf8)?.split(separator: "\n").first,
      let port = Int(text)
    else {
      process.terminate()
      throw TestSetupError("helper server \(script) did not report its port")
    }
    self.port = port
    self.process = process
  }

  public func stop() {
    if process.isRunning { process.terminate() }
  }

  deinit { stop() }
}
