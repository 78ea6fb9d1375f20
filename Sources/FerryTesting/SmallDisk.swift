import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A tiny filesystem (tmpfs of a few MiB) for tests of a full disk. Mounting needs root
/// (CAP_SYS_ADMIN): where it is not allowed, `isAvailable` is false and the tests that need
/// it say so in their skip reason.
public final class SmallDisk: Sendable {
  public let path: String

  /// Whether this machine lets the tests mount a tmpfs (checked once, by mounting one).
  public static let isAvailable: Bool = {
    guard let disk = try? SmallDisk(megabytes: 1) else { return false }
    disk.unmount()
    return true
  }()

  public init(megabytes: Int) throws {
    let dir = try TestPaths.temporaryDirectory("ferry-small-disk")
    let out = try Subprocess.run(
      "mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m,mode=0777", "tmpfs", dir.path])
    guard out.status == 0 else {
      throw TestSetupError("cannot mount a \(megabytes) MiB tmpfs: \(out.stderr)")
    }
    path = dir.path
  }

  /// Makes room, as an operator freeing space would.
  public func grow(toMegabytes megabytes: Int) throws {
    let out = try Subprocess.run("mount", ["-o", "remount,size=\(megabytes)m", path])
    guard out.status == 0 else { throw TestSetupError("cannot grow \(path): \(out.stderr)") }
  }

  /// Unmounts (lazily, so that files still open do not keep it busy) and removes the folder.
  public func unmount() {
    _ = try? Subprocess.run("umount", ["-l", path])
    try? FileManager.default.removeItem(atPath: path)
  }
}

/// A program the test keeps running in the background (a lock holder, say), started once
/// it has printed `readyLine`; stopped by `stop()` or when released.
public final class BackgroundProgram: @unchecked Sendable {
  let process: Process

  public init(_ executable: String, _ arguments: [String], readyLine: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    var seen = Data()
    let handle = out.fileHandleForReading
    while !String(decoding: seen, as: UTF8.self).contains(readyLine) {
      let chunk = handle.availableData
      if chunk.isEmpty {
        throw TestSetupError("\(executable) ended before printing \"\(readyLine)\"")
      }
      seen.append(chunk)
    }
    self.process = process
  }

  /// Kills the program and reaps it (Foundation's own wait can hang here; see Subprocess).
  public func stop() {
    guard process.isRunning else { return }
    #if canImport(Glibc)
      let pid = process.processIdentifier
      kill(pid, SIGKILL)
      var status: Int32 = 0
      while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    #else
      process.terminate()
      process.waitUntilExit()
    #endif
  }

  deinit { stop() }
}
