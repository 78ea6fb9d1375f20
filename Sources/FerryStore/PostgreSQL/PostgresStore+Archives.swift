import FerryBlocks
import FerryCore
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Archive progress in PostgreSQL, as in SQLite: `archive_batches`, `archived_blocks`,
/// `archive_runs`. "Not yet archived" is a set difference, not a position, so blocks that
/// several nodes commit out of their ID order are never skipped.
extension PostgresStore {
  static let blockColumns =
    "b.id, b.fetcher_id, b.source_key, b.source_etag, b.min_time, b.max_time, b.event_count, b.raw_bytes"

  static func block(_ row: PostgresRandomAccessRow) throws -> ArchivableBlock {
    ArchivableBlock(
      id: try row["id"].decode(Int64.self), fetcherID: try row["fetcher_id"].decode(String.self),
      sourceKey: try row["source_key"].decode(String.self),
      eTag: try row["source_etag"].decode(String.self),
      minTime: Date(micros: try row["min_time"].decode(Int64.self)),
      maxTime: Date(micros: try row["max_time"].decode(Int64.self)),
      eventCount: try row["event_count"].decode(Int.self),
      rawBytes: try row["raw_bytes"].decode(Int.self))
  }

  func decoding<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch { throw map(error) }
  }

  public func unarchivedBlocks(
    archiveID: String, fetcherIDs: [String], of account: AccountID, limit: Int
  ) async throws -> [ArchivableBlock] {
    if let problem = ArchiveRows.limitProblem(limit) { throw problem }
    var binds = PostgresBindings()
    binds.append(account.rawValue)
    binds.append(fetcherIDs)
    binds.append(archiveID)
    binds.append(limit)
    let rows = try await query(
      """
      SELECT \(Self.blockColumns) FROM event_blocks b
      WHERE b.account_id = $1 AND b.restore_job_id IS NULL
        AND (cardinality($2::text[]) = 0 OR b.fetcher_id = ANY($2))
        AND NOT EXISTS (SELECT 1 FROM archived_blocks a WHERE a.archive_id = $3 AND a.block_id = b.id)
      ORDER BY b.id LIMIT $4
      """, binds)
    return try decoding { try rows.map(Self.block) }
  }

  public func oldestUnarchivedTime(
    archiveID: String, fetcherIDs: [String], of account: AccountID
  ) async throws -> Date? {
    var binds = PostgresBindings()
    binds.append(account.rawValue)
    binds.append(fetcherIDs)
    binds.append(archiveID)
    let rows = try await query(
      """
      SELECT MIN(b.min_time) AS oldest FROM event_blocks b
      WHERE b.account_id = $1 AND b.restore_job_id IS NULL
        AND (cardinality($2::text[]) = 0 OR b.fetcher_id = ANY($2))
        AND NOT EXISTS (SELECT 1 FROM archived_blocks a WHERE a.archive_id = $3 AND a.block_id = b.id)
      """, binds)
    return try decoding {
      try rows.first.flatMap { try $0["oldest"].decode(Int64?.self) }.map { Date(micros: $0) }
    }
  }

  public func archivedSpans(archiveID: String, keys: [String], of account: AccountID)
    async throws -> [ArchivedSpan]
  {
    guard !keys.isEmpty else { return [] }
    var binds = PostgresBindings()
    binds.append(archiveID)
    binds.append(account.rawValue)
    binds.append(keys)
    let rows = try await query(
      """
      SELECT fetcher_id, source_key, source_etag, from_offset, to_offset FROM archived_spans
      WHERE archive_id = $1 AND account_id = $2 AND source_key = ANY($3)
      """, binds)
    return try decoding {
      try rows.map { row in
        let from = try row["from_offset"].decode(Int64.self)
        let to = try row["to_offset"].decode(Int64.self)
        return ArchivedSpan(
          fetcherID: try row["fetcher_id"].decode(String.self),
          sourceKey: try row["source_key"].decode(String.self),
          eTag: try row["source_etag"].decode(String.self), offsets: from..<max(from, to))
      }
    }
  }

  public func blocks(_ ids: [Int64], of account: AccountID) async throws -> [ArchivableBlock] {
    guard !ids.isEmpty else { return [] }
    var binds = PostgresBindings()
    binds.append(account.rawValue)
    binds.append(ids)
    let rows = try await query(
      "SELECT \(Self.blockColumns) FROM event_blocks b WHERE b.account_id = $1 AND b.id = ANY($2) ORDER BY b.id",
      binds)
    return try decoding { try rows.map(Self.block) }
  }

  public func blockEvents(_ blockID: Int64, of account: AccountID) async throws -> [Event]? {
    let rows = try await query(
      """
      SELECT b.fetcher_id, d.data FROM event_blocks b JOIN event_block_data d ON d.block_id = b.id
      WHERE b.id = $1 AND b.account_id = $2
      """, Self.binds([blockID, account.rawValue]))
    guard let row = rows.first else { return nil }
    let (fetcherID, data) = try decoding {
      (
        try row["fetcher_id"].decode(String.self),
        Array(buffer: try row["data"].decode(ByteBuffer.self))
      )
    }
    return try BlockCodec.decode(data, accountID: account, fetcherID: fetcherID)
  }

  public func storedBlock(_ blockID: Int64, of account: AccountID) async throws -> [UInt8]? {
    let rows = try await query(
      """
      SELECT d.data FROM event_blocks b JOIN event_block_data d ON d.block_id = b.id
      WHERE b.id = $1 AND b.account_id = $2
      """, Self.binds([blockID, account.rawValue]))
    guard let row = rows.first else { return nil }
    return try decoding { Array(buffer: try row["data"].decode(ByteBuffer.self)) }
  }

  static func openBatch(_ tx: PostgresConnection, _ archiveID: String, logger: Logger)
    async throws -> ArchiveBatch?
  {
    guard
      let row = try await execute(
        tx,
        "SELECT sequence, block_ids, started_at FROM archive_batches WHERE archive_id = $1 AND state = 'open'",
        [archiveID], logger: logger
      ).first
    else { return nil }
    return ArchiveBatch(
      archiveID: archiveID, sequence: try row["sequence"].decode(Int.self),
      blockIDs: ArchiveRows.decode(try row["block_ids"].decode(String.self)),
      startedAt: Date(micros: try row["started_at"].decode(Int64.self)))
  }

  public func openArchiveBatch(archiveID: String, of account: AccountID) async throws
    -> ArchiveBatch?
  {
    let logger = self.logger
    return try await transaction { tx in
      guard
        try await Self.record(tx, Archive.self, archiveID, of: account, logger: logger) != nil
      else { return nil }
      return try await Self.openBatch(tx, archiveID, logger: logger)
    }
  }

  public func startArchiveBatch(archiveID: String, blockIDs: [Int64], of account: AccountID)
    async throws -> ArchiveBatch
  {
    let logger = self.logger
    return try await transaction { tx in
      // The archive's row is locked (FOR UPDATE): two writers cannot both open a batch.
      guard
        try await Self.record(tx, Archive.self, archiveID, of: account, logger: logger) != nil
      else { throw ArchiveRows.noSuchArchive(archiveID) }
      if let open = try await Self.openBatch(tx, archiveID, logger: logger) {
        throw ArchiveRows.batchOpen(open.sequence, archive: archiveID)
      }
      let last =
        try await Self.execute(
          tx,
          "SELECT COALESCE(MAX(sequence), 0) AS last FROM archive_batches WHERE archive_id = $1",
          [archiveID], logger: logger
        ).first?["last"].decode(Int.self) ?? 0
      let batch = ArchiveBatch(
        archiveID: archiveID, sequence: last + 1, blockIDs: blockIDs,
        startedAt: Date(micros: Date().micros))
      _ = try await Self.execute(
        tx,
        """
        INSERT INTO archive_batches (archive_id, sequence, account_id, state, block_ids, started_at)
        VALUES ($1, $2, $3, 'open', $4, $5)
        """,
        [
          archiveID, batch.sequence, account.rawValue, ArchiveRows.encode(blockIDs),
          batch.startedAt.micros,
        ], logger: logger)
      return batch
    }
  }

  public func finishArchiveBatch(
    _ batch: ArchiveBatch, objects: Int, events: Int, bytes: Int64, through: Date?,
    of account: AccountID
  ) async throws -> Bool {
    let logger = self.logger
    return try await transaction { tx in
      guard
        var archive = try await Self.record(
          tx, Archive.self, batch.archiveID, of: account, logger: logger),
        let open = try await Self.openBatch(tx, batch.archiveID, logger: logger),
        open.sequence == batch.sequence
      else { return false }
      var binds = PostgresBindings()
      binds.append(batch.archiveID)
      binds.append(open.blockIDs)
      binds.append(account.rawValue)
      _ = try await tx.query(
        PostgresQuery(
          unsafeSQL: """
            INSERT INTO archived_blocks (archive_id, block_id)
            SELECT $1, id FROM event_blocks WHERE id = ANY($2) AND account_id = $3
            ON CONFLICT DO NOTHING
            """, binds: binds), logger: logger)
      _ = try await Self.execute(
        tx,
        """
        UPDATE archive_batches SET state = 'done', objects = $1, events = $2, bytes = $3, finished_at = $4
        WHERE archive_id = $5 AND sequence = $6
        """, [objects, events, bytes, Date().micros, batch.archiveID, batch.sequence],
        logger: logger)
      if let through, archive.archivedThrough.map({ $0 < through }) ?? true {
        archive.archivedThrough = through
        _ = try await Self.execute(
          tx, "UPDATE archives SET body = $1 WHERE id = $2",
          [StoreJSON.encode(archive), archive.id], logger: logger)
      }
      return true
    }
  }

  public func archiveWaiting(
    archiveID: String, waiting: Bool, now: Date, of account: AccountID
  ) async throws -> Date? {
    let logger = self.logger
    return try await transaction { tx -> Date? in
      guard
        try await Self.record(tx, Archive.self, archiveID, of: account, logger: logger) != nil
      else { return nil }
      guard waiting else {
        _ = try await Self.execute(
          tx, "DELETE FROM archive_waiting WHERE archive_id = $1", [archiveID], logger: logger)
        return nil
      }
      _ = try await Self.execute(
        tx,
        "INSERT INTO archive_waiting (archive_id, since) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [archiveID, now.micros], logger: logger)
      let rows = try await Self.execute(
        tx, "SELECT since FROM archive_waiting WHERE archive_id = $1", [archiveID], logger: logger)
      guard let row = rows.first else { return nil }
      return Date(micros: try row["since"].decode(Int64.self))
    }
  }

  public func recordArchiveRun(
    archiveID: String, error: String?, at: Date, of account: AccountID
  ) async throws {
    let logger = self.logger
    try await transaction { tx in
      guard
        try await Self.record(tx, Archive.self, archiveID, of: account, logger: logger) != nil
      else { return }
      _ = try await Self.execute(
        tx,
        """
        INSERT INTO archive_runs (archive_id, last_error, last_run_at) VALUES ($1, $2, $3)
        ON CONFLICT (archive_id) DO UPDATE SET last_error = excluded.last_error, last_run_at = excluded.last_run_at
        """, [archiveID, error, at.micros], logger: logger)
    }
  }

  public func archiveProgress(archiveID: String, fetcherIDs: [String], of account: AccountID)
    async throws -> ArchiveProgress
  {
    var progress = ArchiveProgress()
    guard try await records(Archive.self, of: account, id: archiveID).first != nil else {
      return progress
    }
    let done = try await query(
      """
      SELECT COUNT(*)::bigint AS batches, COALESCE(SUM(objects), 0)::bigint AS objects,
        COALESCE(SUM(events), 0)::bigint AS events, COALESCE(SUM(bytes), 0)::bigint AS bytes,
        MAX(finished_at) AS last
      FROM archive_batches WHERE archive_id = $1 AND state = 'done'
      """, Self.binds([archiveID]))
    var binds = PostgresBindings()
    binds.append(account.rawValue)
    binds.append(fetcherIDs)
    binds.append(archiveID)
    let pending = try await query(
      """
      SELECT COUNT(*)::bigint AS blocks, COALESCE(SUM(b.event_count), 0)::bigint AS events,
        COALESCE(SUM(b.raw_bytes), 0)::bigint AS bytes
      FROM event_blocks b
      WHERE b.account_id = $1 AND b.restore_job_id IS NULL
        AND (cardinality($2::text[]) = 0 OR b.fetcher_id = ANY($2))
        AND NOT EXISTS (SELECT 1 FROM archived_blocks a WHERE a.archive_id = $3 AND a.block_id = b.id)
      """, binds)
    let open = try await query(
      "SELECT sequence FROM archive_batches WHERE archive_id = $1 AND state = 'open'",
      Self.binds([archiveID]))
    let run = try await query(
      "SELECT last_error, last_run_at FROM archive_runs WHERE archive_id = $1",
      Self.binds([archiveID]))
    let waiting = try await query(
      "SELECT since FROM archive_waiting WHERE archive_id = $1", Self.binds([archiveID]))
    try decoding {
      if let row = done.first {
        progress.batches = Int(try row["batches"].decode(Int64.self))
        progress.objects = Int(try row["objects"].decode(Int64.self))
        progress.events = Int(try row["events"].decode(Int64.self))
        progress.bytes = try row["bytes"].decode(Int64.self)
        progress.lastFlushAt = try row["last"].decode(Int64?.self).map { Date(micros: $0) }
      }
      if let row = pending.first {
        progress.pendingBlocks = Int(try row["blocks"].decode(Int64.self))
        progress.pendingEvents = Int(try row["events"].decode(Int64.self))
        progress.pendingBytes = try row["bytes"].decode(Int64.self)
      }
      if let row = waiting.first {
        progress.waitingSince = Date(micros: try row["since"].decode(Int64.self))
      }
      progress.openBatch = try open.first?["sequence"].decode(Int.self)
      if let row = run.first {
        progress.lastError = try row["last_error"].decode(String?.self)
        progress.lastRunAt = Date(micros: try row["last_run_at"].decode(Int64.self))
      }
    }
    return progress
  }
}
