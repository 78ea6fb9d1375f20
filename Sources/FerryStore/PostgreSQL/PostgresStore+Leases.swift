import FerryCore
import Foundation
import Logging
import PostgresNIO

/// Leases for scheduling across nodes, judged by the database server's clock.
extension PostgresStore {
  // MARK: Leases

  /// The database server's clock in microseconds: every node of a cluster judges leases
  /// by this one clock, so a node whose own clock runs fast cannot take a live lease.
  static let databaseNow = "(extract(epoch from clock_timestamp()) * 1000000)::bigint"

  public func acquireLease(_ name: String, holder: String, ttl: TimeInterval) async throws -> Lease?
  {
    let rows = try await query(
      """
      INSERT INTO leases AS l (name, holder, expires_at, version) VALUES ($1, $2, \(Self.databaseNow) + $3, 1)
      ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, version = l.version + 1
      WHERE l.expires_at <= \(Self.databaseNow) OR l.holder = excluded.holder
      RETURNING name, holder, expires_at, version
      """, Self.binds([name, holder, Int64(ttl * 1_000_000)]))
    return try rows.first.map(lease)
  }

  public func renewLease(_ lease: Lease, ttl: TimeInterval) async throws -> Lease? {
    let rows = try await query(
      "UPDATE leases SET expires_at = \(Self.databaseNow) + $1 WHERE name = $2 AND holder = $3 AND version = $4 RETURNING name, holder, expires_at, version",
      Self.binds([Int64(ttl * 1_000_000), lease.name, lease.holder, lease.version]))
    return try rows.first.map(self.lease)
  }

  public func releaseLease(_ lease: Lease) async throws -> Bool {
    let rows = try await query(
      "DELETE FROM leases WHERE name = $1 AND holder = $2 AND version = $3 RETURNING name",
      Self.binds([lease.name, lease.holder, lease.version]))
    return rows.count == 1
  }

  func lease(_ row: PostgresRandomAccessRow) throws -> Lease {
    do {
      return Lease(
        name: try row["name"].decode(String.self), holder: try row["holder"].decode(String.self),
        expiresAt: Date(micros: try row["expires_at"].decode(Int64.self)),
        version: try row["version"].decode(Int64.self))
    } catch {
      throw map(error)
    }
  }
}
