import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Starts programs for tests with `posix_spawn`, so that each child begins with an empty
/// signal mask and default signal dispositions (Foundation's `Process` passes on the test
/// runner's mask, in which SIGTERM is blocked: a server started that way ignores `kill`).
/// Every child still running when the test process exits is killed and reaped, and every
/// temporary folder the tests made is removed, even when a test failed.
public enum ChildProcess {
  /// Starts `executable` (a path) with `arguments`, its standard streams connected to the
  /// given descriptors. Returns its process ID.
  public static func spawn(
    _ executable: String, _ arguments: [String], environment: [String: String],
    directory: String? = nil, stdin: Int32, stdout: Int32, stderr: Int32
  ) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, stdin, 0)
    posix_spawn_file_actions_adddup2(&actions, stdout, 1)
    posix_spawn_file_actions_adddup2(&actions, stderr, 2)
    // Close every other descriptor in the child: a pipe another thread opened without
    // close-on-exec (Foundation's Pipe does) must not be kept open by this child, or its
    // reader would wait for this child to exit.
    for fd in openDescriptors() where fd > 2 {
      posix_spawn_file_actions_addclose(&actions, fd)
    }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    var all = sigset_t()
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

    // GNU env's -C changes directory before it runs the program (posix_spawn's own chdir
    // is a GNU extension Swift does not see).
    let program = directory == nil ? executable : "/usr/bin/env"
    let words = directory.map { ["/usr/bin/env", "-C", $0, executable] } ?? [executable]
    let argv = (words + arguments).map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      for p in argv { free(p) }
      for p in envp { free(p) }
    }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, program, &actions, &attributes, argv, envp)
    guard result == 0 else {
      throw TestSetupError(
        "cannot start \(executable): \(String(cString: strerror(result)))")
    }
    track(pid)
    return pid
  }

  /// Held while pipes for a child are made and the child is spawned, so that no other
  /// child started at the same moment inherits this one's pipe ends (which would keep a
  /// pipe open after this child exits).
  static let spawnLock = NSLock()

  /// Runs `body` while no child is being spawned: for writing a program file that a test
  /// then runs (a child spawned meanwhile would inherit the open file, and running it
  /// would fail with "Text file busy").
  public static func withSpawnLock<T>(_ body: () throws -> T) rethrows -> T {
    spawnLock.lock()
    defer { spawnLock.unlock() }
    return try body()
  }

  /// A pipe whose two ends close on exec: (read, write).
  static func makePipe() throws -> (read: Int32, write: Int32) {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else {
      throw TestSetupError("cannot create a pipe: \(String(cString: strerror(errno)))")
    }
    _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
    return (fds[0], fds[1])
  }

  /// This process's open file descriptors, from /proc/self/fd.
  static func openDescriptors() -> [Int32] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return names.compactMap { Int32($0) }.filter { fcntl($0, F_GETFD) != -1 }
  }

  /// Waits for a child and returns its exit status (128 + the signal when killed).
  public static func wait(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while true {
      let result = waitpid(pid, &status, 0)
      if result == pid { break }
      if result == -1 && errno == EINTR { continue }
      untrack(pid)
      return -1
    }
    untrack(pid)
    return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
  }

  /// Stops a child: SIGTERM, then SIGKILL if it has not ended within `grace` seconds.
  public static func stop(_ pid: pid_t, grace: Double = 3) {
    kill(pid, SIGTERM)
    let deadline = Date().addingTimeInterval(grace)
    var status: Int32 = 0
    while Date() < deadline {
      if waitpid(pid, &status, WNOHANG) == pid {
        untrack(pid)
        return
      }
      usleep(20_000)
    }
    kill(pid, SIGKILL)
    waitpid(pid, &status, 0)
    untrack(pid)
  }

  /// A process that is not this process's child (a server a script started in the
  /// background) but must end with the tests.
  public static func adopt(_ pid: pid_t) { track(pid, adopted: true) }

  /// A temporary folder to remove when the test process exits.
  static func removeAtExit(_ url: URL) {
    installExitHandler()
    cleanup.withLock { $0.folders.append(url) }
  }

  // MARK: Clean-up at exit

  private struct Cleanup: ~Copyable {
    var children: Set<pid_t> = []
    var adopted: Set<pid_t> = []
    var folders: [URL] = []
    var installed = false
  }

  private static let cleanup = Mutex(Cleanup())

  private static func track(_ pid: pid_t, adopted: Bool = false) {
    installExitHandler()
    cleanup.withLock {
      if adopted { $0.adopted.insert(pid) } else { $0.children.insert(pid) }
    }
  }

  private static func untrack(_ pid: pid_t) {
    cleanup.withLock {
      $0.children.remove(pid)
      $0.adopted.remove(pid)
    }
  }

  private static func installExitHandler() {
    let first = cleanup.withLock { state -> Bool in
      defer { state.installed = true }
      return !state.installed
    }
    if first { atexit { ChildProcess.cleanUpAtExit() } }
  }

  private static func cleanUpAtExit() {
    let (children, adopted, folders) = cleanup.withLock {
      ($0.children, $0.adopted, $0.folders)
    }
    for pid in children.union(adopted) { kill(pid, SIGTERM) }
    let deadline = Date().addingTimeInterval(3)
    var alive = children
    while !alive.isEmpty && Date() < deadline {
      var status: Int32 = 0
      for pid in alive where waitpid(pid, &status, WNOHANG) == pid { alive.remove(pid) }
      usleep(20_000)
    }
    for pid in alive {
      var status: Int32 = 0
      kill(pid, SIGKILL)
      waitpid(pid, &status, 0)
    }
    for pid in adopted where kill(pid, 0) == 0 {
      usleep(200_000)
      kill(pid, SIGKILL)
    }
    for folder in folders { try? FileManager.default.removeItem(at: folder) }
  }
}
