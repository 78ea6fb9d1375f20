import FerryBlocks
import FerryCore
import Foundation
import GRDB

/// Archive progress in SQLite: `archive_batches` (one row per flush, open until its objects
/// are durable), `archived_blocks` (which blocks each archive holds), `archive_runs`.
extension SQLiteStore {
  static func block(_ row: Row) -> ArchivableBlock {
    ArchivableBlock(
      id: row["id"], fetcherID: row["fetcher_id"], sourceKey: row["source_key"],
      eTag: row["source_etag"], minTime: Date(micros: row["min_time"]),
      maxTime: Date(micros: row["max_time"]), eventCount: row["event_count"],
      rawBytes: row["raw_bytes"])
  }

  static let blockColumns =
    "b.id, b.fetcher_id, b.source_key, b.source_etag, b.min_time, b.max_time, b.event_count, b.raw_bytes"

  /// `AND b.fetcher_id IN (?, …)` for a non-empty list, with its arguments.
  /// The blocks an archive takes: its fetchers' (all when `ids` is empty), never restored
  /// ones (they came from an archive).
  static func archivableFilter(_ ids: [String]) -> (sql: String, arguments: StatementArguments) {
    let restored = " AND b.restore_job_id IS NULL"
    guard !ids.isEmpty else { return (restored, []) }
    return (
      restored + " AND b.fetcher_id IN (" + ids.map { _ in "?" }.joined(separator: ", ") + ")",
      StatementArguments(ids)
    )
  }

  public func unarchivedBlocks(
    archiveID: String, fetcherIDs: [String], of account: AccountID, limit: Int
  ) async throws -> [ArchivableBlock] {
    if let problem = ArchiveRows.limitProblem(limit) { throw problem }
    let filter = Self.archivableFilter(fetcherIDs)
    return try await read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT \(Self.blockColumns) FROM event_blocks b
          WHERE b.account_id = ?\(filter.sql)
            AND NOT EXISTS (SELECT 1 FROM archived_blocks a WHERE a.archive_id = ? AND a.block_id = b.id)
          ORDER BY b.id LIMIT ?
          """,
        arguments: [account.rawValue] + filter.arguments + [archiveID, limit]
      ).map(Self.block)
    }
  }

  public func oldestUnarchivedTime(
    archiveID: String, fetcherIDs: [String], of account: AccountID
  ) async throws -> Date? {
    let filter = Self.archivableFilter(fetcherIDs)
    return try await read { db in
      try Int64.fetchOne(
        db,
        sql: """
          SELECT MIN(b.min_time) FROM event_blocks b
          WHERE b.account_id = ?\(filter.sql)
            AND NOT EXISTS (SELECT 1 FROM archived_blocks a WHERE a.archive_id = ? AND a.block_id = b.id)
          """,
        arguments: [account.rawValue] + filter.arguments + [archiveID]
      ).map { Date(micros: $0) }
    }
  }

  public func archivedSpans(archiveID: String, keys: [String], of account: AccountID)
    async throws -> [ArchivedSpan]
  {
    guard !keys.isEmpty else { return [] }
    return try await read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT fetcher_id, source_key, source_etag, from_offset, to_offset FROM archived_spans
          WHERE archive_id = ? AND account_id = ?
            AND source_key IN (\(keys.map { _ in "?" }.joined(separator: ", ")))
          """,
        arguments: [archiveID, account.rawValue] + StatementArguments(keys)
      ).map { row in
        let from: Int64 = row["from_offset"]
        let to: Int64 = row["to_offset"]
        return ArchivedSpan(
          fetcherID: row["fetcher_id"], sourceKey: row["source_key"], eTag: row["source_etag"],
          offsets: from..<max(from, to))
      }
    }
  }

  public func blocks(_ ids: [Int64], of account: AccountID) async throws -> [ArchivableBlock] {
    guard !ids.isEmpty else { return [] }
    return try await read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT \(Self.blockColumns) FROM event_blocks b
          WHERE b.account_id = ? AND b.id IN (\(ids.map { _ in "?" }.joined(separator: ", ")))
          ORDER BY b.id
          """,
        arguments: [account.rawValue] + StatementArguments(ids)
      ).map(Self.block)
    }
  }

  public func blockEvents(_ blockID: Int64, of account: AccountID) async throws -> [Event]? {
    let found = try await read { db -> (String, Data)? in
      guard
        let row = try Row.fetchOne(
          db,
          sql: """
            SELECT b.fetcher_id, d.data FROM event_blocks b JOIN event_block_data d ON d.block_id = b.id
            WHERE b.id = ? AND b.account_id = ?
            """, arguments: [blockID, account.rawValue])
      else { return nil }
      return (row["fetcher_id"], row["data"])
    }
    guard let (fetcherID, data) = found else { return nil }
    return try BlockCodec.decode([UInt8](data), accountID: account, fetcherID: fetcherID)
  }

  public func storedBlock(_ blockID: Int64, of account: AccountID) async throws -> [UInt8]? {
    try await read { db -> [UInt8]? in
      try Data.fetchOne(
        db,
        sql: """
          SELECT d.data FROM event_blocks b JOIN event_block_data d ON d.block_id = b.id
          WHERE b.id = ? AND b.account_id = ?
          """, arguments: [blockID, account.rawValue]
      ).map { [UInt8]($0) }
    }
  }

  static func openBatch(_ db: Database, _ archiveID: String) throws -> ArchiveBatch? {
    try Row.fetchOne(
      db,
      sql:
        "SELECT sequence, block_ids, started_at FROM archive_batches WHERE archive_id = ? AND state = 'open'",
      arguments: [archiveID]
    ).map {
      ArchiveBatch(
        archiveID: archiveID, sequence: $0["sequence"],
        blockIDs: ArchiveRows.decode($0["block_ids"]),
        startedAt: Date(micros: $0["started_at"]))
    }
  }

  public func openArchiveBatch(archiveID: String, of account: AccountID) async throws
    -> ArchiveBatch?
  {
    try await read { db in
      guard try Self.record(db, Archive.self, archiveID, of: account) != nil else { return nil }
      return try Self.openBatch(db, archiveID)
    }
  }

  public func startArchiveBatch(archiveID: String, blockIDs: [Int64], of account: AccountID)
    async throws -> ArchiveBatch
  {
    try await write { db in
      guard try Self.record(db, Archive.self, archiveID, of: account) != nil else {
        throw ArchiveRows.noSuchArchive(archiveID)
      }
      if let open = try Self.openBatch(db, archiveID) {
        throw ArchiveRows.batchOpen(open.sequence, archive: archiveID)
      }
      let last =
        try Int.fetchOne(
          db, sql: "SELECT MAX(sequence) FROM archive_batches WHERE archive_id = ?",
          arguments: [archiveID]) ?? 0
      let batch = ArchiveBatch(
        archiveID: archiveID, sequence: last + 1, blockIDs: blockIDs,
        startedAt: Date(micros: Date().micros))
      try db.execute(
        sql: """
          INSERT INTO archive_batches (archive_id, sequence, account_id, state, block_ids, started_at)
          VALUES (?, ?, ?, 'open', ?, ?)
          """,
        arguments: [
          archiveID, batch.sequence, account.rawValue, ArchiveRows.encode(blockIDs),
          batch.startedAt.micros,
        ])
      return batch
    }
  }

  public func finishArchiveBatch(
    _ batch: ArchiveBatch, objects: Int, events: Int, bytes: Int64, through: Date?,
    of account: AccountID
  ) async throws -> Bool {
    try await write { db in
      guard var archive = try Self.record(db, Archive.self, batch.archiveID, of: account),
        let open = try Self.openBatch(db, batch.archiveID), open.sequence == batch.sequence
      else { return false }
      for id in open.blockIDs {
        try db.execute(
          sql: """
            INSERT INTO archived_blocks (archive_id, block_id)
            SELECT ?, id FROM event_blocks WHERE id = ? AND account_id = ?
            ON CONFLICT DO NOTHING
            """, arguments: [batch.archiveID, id, account.rawValue])
      }
      try db.execute(
        sql: """
          UPDATE archive_batches SET state = 'done', objects = ?, events = ?, bytes = ?, finished_at = ?
          WHERE archive_id = ? AND sequence = ?
          """,
        arguments: [objects, events, bytes, Date().micros, batch.archiveID, batch.sequence])
      if let through, archive.archivedThrough.map({ $0 < through }) ?? true {
        archive.archivedThrough = through
        try db.execute(
          sql: "UPDATE archives SET body = ? WHERE id = ?",
          arguments: [StoreJSON.encode(archive), archive.id])
      }
      return true
    }
  }

  public func archiveWaiting(
    archiveID: String, waiting: Bool, now: Date, of account: AccountID
  ) async throws -> Date? {
    try await write { db in
      guard try Self.record(db, Archive.self, archiveID, of: account) != nil else { return nil }
      guard waiting else {
        try db.execute(
          sql: "DELETE FROM archive_waiting WHERE archive_id = ?", arguments: [archiveID])
        return nil
      }
      try db.execute(
        sql: "INSERT INTO archive_waiting (archive_id, since) VALUES (?, ?) ON CONFLICT DO NOTHING",
        arguments: [archiveID, now.micros])
      return try Int64.fetchOne(
        db, sql: "SELECT since FROM archive_waiting WHERE archive_id = ?", arguments: [archiveID]
      ).map { Date(micros: $0) }
    }
  }

  public func recordArchiveRun(
    archiveID: String, error: String?, at: Date, of account: AccountID
  ) async throws {
    try await write { db in
      guard try Self.record(db, Archive.self, archiveID, of: account) != nil else { return }
      try db.execute(
        sql: """
          INSERT INTO archive_runs (archive_id, last_error, last_run_at) VALUES (?, ?, ?)
          ON CONFLICT (archive_id) DO UPDATE SET last_error = excluded.last_error, last_run_at = excluded.last_run_at
          """, arguments: [archiveID, error, at.micros])
    }
  }

  public func archiveProgress(archiveID: String, fetcherIDs: [String], of account: AccountID)
    async throws -> ArchiveProgress
  {
    let filter = Self.archivableFilter(fetcherIDs)
    return try await read { db in
      var progress = ArchiveProgress()
      guard try Self.record(db, Archive.self, archiveID, of: account) != nil else {
        return progress
      }
      if let row = try Row.fetchOne(
        db,
        sql: """
          SELECT COUNT(*) AS batches, COALESCE(SUM(objects), 0) AS objects, COALESCE(SUM(events), 0) AS events,
            COALESCE(SUM(bytes), 0) AS bytes, MAX(finished_at) AS last
          FROM archive_batches WHERE archive_id = ? AND state = 'done'
          """, arguments: [archiveID])
      {
        progress.batches = row["batches"]
        progress.objects = row["objects"]
        progress.events = row["events"]
        progress.bytes = row["bytes"]
        progress.lastFlushAt = (row["last"] as Int64?).map { Date(micros: $0) }
      }
      if let row = try Row.fetchOne(
        db,
        sql: """
          SELECT COUNT(*) AS blocks, COALESCE(SUM(b.event_count), 0) AS events,
            COALESCE(SUM(b.raw_bytes), 0) AS bytes FROM event_blocks b
          WHERE b.account_id = ?\(filter.sql)
            AND NOT EXISTS (SELECT 1 FROM archived_blocks a WHERE a.archive_id = ? AND a.block_id = b.id)
          """, arguments: [account.rawValue] + filter.arguments + [archiveID])
      {
        progress.pendingBlocks = row["blocks"]
        progress.pendingEvents = row["events"]
        progress.pendingBytes = row["bytes"]
      }
      progress.waitingSince = try Int64.fetchOne(
        db, sql: "SELECT since FROM archive_waiting WHERE archive_id = ?", arguments: [archiveID]
      ).map { Date(micros: $0) }
      progress.openBatch = try Self.openBatch(db, archiveID)?.sequence
      if let row = try Row.fetchOne(
        db, sql: "SELECT last_error, last_run_at FROM archive_runs WHERE archive_id = ?",
        arguments: [archiveID])
      {
        progress.lastError = row["last_error"]
        progress.lastRunAt = Date(micros: row["last_run_at"])
      }
      return progress
    }
  }
}
