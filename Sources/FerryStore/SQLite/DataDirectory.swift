import FerryCore
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The data directory that holds the embedded store: made when missing, with errors that
/// say which part of the path is wrong and how to fix it.
enum DataDirectory {
  static func prepare(_ directory: String) throws {
    guard !directory.isEmpty else {
      throw StoreError.unavailable("the data directory is empty; give a directory path")
    }
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
      guard isDirectory.boolValue else {
        throw StoreError.unavailable(
          "the data directory \(directory) is a file, not a directory; give a directory (Ferry creates it if missing) with --data-dir"
        )
      }
      return
    }
    // The nearest existing ancestor says why the directory cannot be made.
    var ancestor = URL(fileURLWithPath: directory).deletingLastPathComponent()
    while !FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isDirectory),
      ancestor.path != "/"
    {
      ancestor.deleteLastPathComponent()
    }
    if !isDirectory.boolValue {
      throw StoreError.unavailable(
        "cannot create the data directory \(directory): \(ancestor.path) is a file, not a directory; choose another path with --data-dir"
      )
    }
    if !FileManager.default.isWritableFile(atPath: ancestor.path) {
      throw StoreError.unavailable(
        "cannot create the data directory \(directory): \(ancestor.path) is not writable; choose a directory you can write with --data-dir, or create it with the right owner first"
      )
    }
    do {
      try FileManager.default.createDirectory(
        atPath: directory, withIntermediateDirectories: true)
      // The store holds token and password hashes and the customers' logs: only Ferry's
      // user may enter the directory, whatever the umask.
      chmod(directory, 0o700)
    } catch {
      throw StoreError.unavailable(
        "cannot create the data directory \(directory) (\((error as NSError).localizedDescription)); choose another path with --data-dir"
      )
    }
  }
}

extension DataDirectory {
  /// The database's files (the database, its -wal and -shm, the migration lock) readable
  /// and writable by Ferry's user alone, whatever the umask. SQLite makes the -wal and
  /// -shm files with the database file's mode, so the database file is created 0600 before
  /// SQLite opens it; files an older Ferry made more open are narrowed (where this user owns
  /// them).
  static func createPrivately(_ path: String) {
    let descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    if descriptor >= 0 { close(descriptor) }
  }

  static func narrow(_ path: String) {
    for file in [path, path + "-wal", path + "-shm", path + ".migrate-lock"] {
      var info = stat()
      guard stat(file, &info) == 0, info.st_uid == geteuid(), info.st_mode & 0o077 != 0 else {
        continue
      }
      chmod(file, 0o600)
    }
  }
}

/// An exclusive lock on a file beside the database, held while one process creates or
/// upgrades the schema; the others wait for it, then find the schema in place. (A lock
/// of its own file: closing a descriptor of the database file would drop SQLite's locks.)
final class MigrationLock {
  private var descriptor: Int32

  init(path: String, timeout: TimeInterval) throws {
    descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else {
      throw StoreError.unavailable(
        "cannot open the lock file \(path): \(String(cString: strerror(errno))); check the data directory's permissions"
      )
    }
    let deadline = Date().addingTimeInterval(timeout)
    while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
      guard errno == EWOULDBLOCK || errno == EINTR, Date() < deadline else {
        close(descriptor)
        descriptor = -1
        throw StoreError.unavailable(
          "another Ferry process has been setting up \(path.dropLast(".migrate-lock".count)) for too long; wait for it to finish, then retry"
        )
      }
      usleep(20_000)
    }
  }

  func release() {
    guard descriptor >= 0 else { return }
    flock(descriptor, LOCK_UN)
    close(descriptor)
    descriptor = -1
  }

  deinit { release() }
}
