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

    public init(status: Int32, stdout: String, stderr: String) {
      self.status = status
      self.stdout = stdout
      self.stderr = stderr
    }
  }

  /// Runs `executable` (a path, or a name looked up on PATH) to completion. The child
  /// starts with a clean signal mask (``ChildProcess``).
  public static func run(
    _ executable: String, _ arguments: [String], stdin: String? = nil,
    environment: [String: String] = [:], directory: URL? = nil
  ) throws -> Output {
    guard let path = executable.contains("/") ? executable : which(executable) else {
      throw TestSetupError("\(executable) is not installed (not found on PATH)")
    }
    ChildProcess.spawnLock.lock()
    let inPipe: (read: Int32, write: Int32)
    let outPipe: (read: Int32, write: Int32)
    let errPipe: (read: Int32, write: Int32)
    let pid: pid_t
    do {
      inPipe = try ChildProcess.makePipe()
      outPipe = try ChildProcess.makePipe()
      errPipe = try ChildProcess.makePipe()
      pid = try ChildProcess.spawn(
        path, arguments,
        environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
        directory: directory?.path, stdin: inPipe.read, stdout: outPipe.write,
        stderr: errPipe.write)
    } catch {
      ChildProcess.spawnLock.unlock()
      throw error
    }
    close(inPipe.read)
    close(outPipe.write)
    close(errPipe.write)
    ChildProcess.spawnLock.unlock()
    let outFDs = [outPipe.read]
    let errFDs = [errPipe.read]
    let inFDs = [0, inPipe.write]
    // Read both pipes concurrently so a chatty program cannot fill one and block.
    let outReader = FileHandle(fileDescriptor: outFDs[0], closeOnDealloc: true)
    let errReader = FileHandle(fileDescriptor: errFDs[0], closeOnDealloc: true)
    let group = DispatchGroup()
    nonisolated(unsafe) var outData = Data()
    nonisolated(unsafe) var errData = Data()
    group.enter()
    DispatchQueue.global().async {
      outData = outReader.readDataToEndOfFile()
      group.leave()
    }
    group.enter()
    DispatchQueue.global().async {
      errData = errReader.readDataToEndOfFile()
      group.leave()
    }
    let writer = FileHandle(fileDescriptor: inFDs[1], closeOnDealloc: true)
    if let stdin { try? writer.write(contentsOf: Data(stdin.utf8)) }
    try? writer.close()
    group.wait()
    return Output(
      status: ChildProcess.wait(pid), stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
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

  /// A new empty temporary folder, removed when the test process exits.
  public static func temporaryDirectory(_ label: String = "ferry-test") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "\(label)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    ChildProcess.removeAtExit(url)
    return url
  }
}

/// Bytes gzip'd by the gzip program: an encoder independent of Ferry's.
public enum TestGzip {
  public static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
    let directory = try TestPaths.temporaryDirectory("ferry-gzip")
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent("body")
    try Data(bytes).write(to: file)
    let output = try Subprocess.run("gzip", ["-f", file.path])
    guard output.status == 0 else { throw TestSetupError("gzip failed: \(output.stderr)") }
    return [UInt8](try Data(contentsOf: directory.appendingPathComponent("body.gz")))
  }
}
