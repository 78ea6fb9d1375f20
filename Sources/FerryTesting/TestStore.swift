import FerryCore
import FerryStore
import Foundation

/// The store a test of a higher layer runs on: Ferry's real embedded store, SQLite in a
/// temporary data directory of its own (no second implementation of the store to drift
/// from the real one and hide its bugs).
public enum TestStore {
  /// A new, empty SQLite store in a fresh temporary directory.
  public static func sqlite() throws -> SQLiteStore {
    let directory = try TestPaths.temporaryDirectory("ferry-store")
    return try SQLiteStore(path: directory.appendingPathComponent("ferry.sqlite").path)
  }
}
