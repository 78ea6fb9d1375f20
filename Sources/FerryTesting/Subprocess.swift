import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Runs programs for tests: the `ferry` binary, the AWS CLI, cfn-lint, shellcheck.
public enum Subprocess {
  /// What a finished program left behind.
  public struct Output: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
  }

  /// Runs `executable` (a path, or a name looked up on PATH) to completion.
  public static func run(
    _ executable: String, _ arguments: [String], stdin: String? = nil,
    environment: [String: String] = [:], directory: URL? = nil
  ) throws -> Output {
    let process = Process()
    if executable.contains("/") {
      process.executableURL = URL(fileURLWithPath: executable)
      process.arguments = arguments
    } else {
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = [executable] + arguments
    }
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    if let directory { process.currentDirectoryURL = directory }
    let outPipe = Pipe()
    let errPipe = Pipe()
    let inPipe = Pipe()
    process.standardOutput = outPipe
    process.standardError = errPipe
    process.standardInput = inPipe
    try process.run()
    // Read both pipes concurrently so a chatty program cannot fill one and block.
    let group = DispatchGroup()
    nonisolated(unsafe) var outData = Data()
    nonisolated(unsafe) var errData = Data()
    group.enter()
    DispatchQueue.global().async {
      outData = outPipe.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    group.enter()
    DispatchQueue.global().async {
      errData = errPipe.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    if let stdin { inPipe.fileHandleForWriting.write(Data(stdin.utf8)) }
    try? inPipe.fileHandleForWriting.close()
    group.wait()
    return Output(
      status: reap(process), stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }

  /// Waits for the process to end and returns its exit status. Foundation's own wait can
  /// miss the exit of a child that leaves background processes behind (seen with
  /// scripts/aws-emulator), so the child is reaped here directly.
  private static func reap(_ process: Process) -> Int32 {
    #if canImport(Glibc)
      var status: Int32 = 0
      let pid = process.processIdentifier
      while true {
        let result = waitpid(pid, &status, 0)
        if result == pid {
          // WIFEXITED / WEXITSTATUS, and 128 + signal otherwise.
          return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        }
        if result == -1 && errno == EINTR { continue }
        break  // Foundation reaped it first: its status is valid.
      }
    #endif
    process.waitUntilExit()
    return process.terminationStatus
  }

  /// The full path of a program on PATH, or nil.
  public static func which(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for dir in path.split(separator: ":") {
      let candidate = "\(dir)/\(name)"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }
}

/// Where things are, for tests.
public enum TestPaths {
  /// The package's root folder.
  public static var packageRoot: URL {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url
  }

  /// `../shared/testdata` beside the package, if present.
  public static var sharedTestData: URL? {
    let url = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/testdata")
    return FileManager.default.fileExists(atPath: url.path) ? url : nil
  }

  /// The `ferry` executable built beside the test bundle (or `FERRY_BIN`).
  public static var ferryExecutable: String {
    if let override = ProcessInfo.processInfo.environment["FERRY_BIN"] { return override }
    let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var dir = runner.deletingLastPathComponent()
    // The runner is …/debug/FerryPackageTests.xctest (a file on Linux, a bundle on macOS).
    for _ in 0..<4 {
      let candidate = dir.appendingPathComponent("ferry").path
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
      dir.deleteLastPathComponent()
    }
    return packageRoot.appendingPathComponent(".build/debug/ferry").path
  }

  /// A new empty temporary folder.
  public static func temporaryDirectory(_ label: String = "ferry-test") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "\(label)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}
