import FerryCore
import Foundation
import GRDB

/// Leases for scheduling across processes.
extension SQLiteStore {
  // MARK: Leases

  public func acquireLease(_ name: String, holder: String, ttl: TimeInterval) async throws -> Lease?
  {
    let now = Date().micros
    let expires = now + Int64(ttl * 1_000_000)
    // A write transaction holds SQLite's single writer lock: read-then-write is atomic.
    return try await write { db in
      guard
        let row = try Row.fetchOne(
          db, sql: "SELECT * FROM leases WHERE name = ?", arguments: [name])
      else {
        try db.execute(
          sql: "INSERT INTO leases (name, holder, expires_at, version) VALUES (?, ?, ?, 1)",
          arguments: [name, holder, expires])
        return Lease(name: name, holder: holder, expiresAt: Date(micros: expires), version: 1)
      }
      let current = Self.lease(row)
      guard current.expiresAt.micros <= now || current.holder == holder else { return nil }
      try db.execute(
        sql: "UPDATE leases SET holder = ?, expires_at = ?, version = version + 1 WHERE name = ?",
        arguments: [holder, expires, name])
      return Lease(
        name: name, holder: holder, expiresAt: Date(micros: expires), version: current.version + 1)
    }
  }

  public func renewLease(_ lease: Lease, ttl: TimeInterval) async throws -> Lease? {
    let expires = Date().micros + Int64(ttl * 1_000_000)
    return try await write { db in
      try db.execute(
        sql: "UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? AND version = ?",
        arguments: [expires, lease.name, lease.holder, lease.version])
      guard db.changesCount == 1 else { return nil }
      return Lease(
        name: lease.name, holder: lease.holder, expiresAt: Date(micros: expires),
        version: lease.version)
    }
  }

  public func releaseLease(_ lease: Lease) async throws -> Bool {
    try await write { db in
      try db.execute(
        sql: "DELETE FROM leases WHERE name = ? AND holder = ? AND version = ?",
        arguments: [lease.name, lease.holder, lease.version])
      return db.changesCount == 1
    }
  }

  static func lease(_ row: Row) -> Lease {
    Lease(
      name: row["name"], holder: row["holder"], expiresAt: Date(micros: row["expires_at"]),
      version: row["version"])
  }
}
