import FerryCore
import Foundation
import Logging
import PostgresNIO

/// The ledger of objects and their events.
extension PostgresStore {
  // MARK: Ledger and events

  public func ledgerEntry(of account: AccountID, fetcherID: String, key: String, eTag: String)
    async throws -> LedgerEntry?
  {
    guard
      let row = try await query(
        "SELECT * FROM ledger WHERE account_id = $1 AND fetcher_id = $2 AND key = $3 AND etag = $4",
        Self.binds([account.rawValue, fetcherID, key, eTag])
      ).first
    else { return nil }
    do {
      return try Self.ledgerEntry(row)
    } catch {
      throw map(error)
    }
  }

  static func ledgerEntry(_ row: PostgresRandomAccessRow) throws -> LedgerEntry {
    LedgerEntry(
      fetcherID: try row["fetcher_id"].decode(String.self),
      key: try row["key"].decode(String.self),
      eTag: try row["etag"].decode(String.self),
      versionID: try row["version_id"].decode(String?.self),
      size: try row["size"].decode(Int64.self),
      state: LedgerState(rawValue: try row["state"].decode(String.self)) ?? .pending,
      events: try row["events"].decode(Int.self),
      offset: try row["byte_offset"].decode(Int64.self),
      error: try row["error"].decode(String?.self),
      attempts: try row["attempts"].decode(Int.self),
      updatedAt: Date(micros: try row["updated_at"].decode(Int64.self)))
  }

  public func ledger(
    of account: AccountID, fetcherID: String, state: LedgerState?, afterKey: String?, limit: Int
  ) async throws -> [LedgerEntry] {
    if let problem = StoreRules.ledgerLimitProblem(limit) { throw problem }
    let rows = try await query(
      """
      SELECT * FROM ledger WHERE account_id = $1 AND fetcher_id = $2 AND key COLLATE "C" > $3
        AND ($4::text IS NULL OR state = $4) ORDER BY key COLLATE "C", etag COLLATE "C" LIMIT $5
      """,
      Self.binds([account.rawValue, fetcherID, afterKey ?? "", state?.rawValue, limit]))
    do {
      return try rows.map(Self.ledgerEntry)
    } catch {
      throw map(error)
    }
  }

  public func ledgerSummary(of account: AccountID, fetcherID: String) async throws
    -> LedgerSummary
  {
    let rows = try await query(
      """
      SELECT state, count(*)::BIGINT AS n, coalesce(sum(events), 0)::BIGINT AS events,
        coalesce(sum(octet_length(key) + octet_length(etag) + coalesce(octet_length(error), 0)), 0)::BIGINT AS bytes
      FROM ledger WHERE account_id = $1 AND fetcher_id = $2 GROUP BY state
      """, Self.binds([account.rawValue, fetcherID]))
    var summary = LedgerSummary()
    do {
      for row in rows {
        let n = try row["n"].decode(Int.self)
        if let state = LedgerState(rawValue: try row["state"].decode(String.self)) {
          summary.objects[state] = n
        }
        summary.events += try row["events"].decode(Int.self)
        summary.rows += n
        summary.bytes += try row["bytes"].decode(Int.self) + n * LedgerSummary.fixedRowBytes
      }
    } catch {
      throw map(error)
    }
    return summary
  }

  public func reprocess(
    fetcherID: String, keys: ClosedRange<String>, of account: AccountID, actor: String
  ) async throws -> Int? {
    let logger = self.logger
    return try await transaction { tx in
      guard
        try await PostgresStore.record(tx, Fetcher.self, fetcherID, of: account, logger: logger)
          != nil
      else { return nil }
      let rows =
        try await Self.execute(
          tx,
          """
          SELECT count(*) AS n FROM ledger WHERE account_id = $1 AND fetcher_id = $2
            AND key COLLATE "C" >= $3 AND key COLLATE "C" <= $4
          """, [account.rawValue, fetcherID, keys.lowerBound, keys.upperBound], logger: logger
        ).first?["n"].decode(Int.self) ?? 0
      _ = try await Self.execute(
        tx,
        """
        INSERT INTO reprocess_requests (account_id, fetcher_id, from_key, to_key, requested_at)
        VALUES ($1, $2, $3, $4, $5)
        """,
        [account.rawValue, fetcherID, keys.lowerBound, keys.upperBound, Date().micros],
        logger: logger)
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: account, actor: actor, action: "fetcher.reprocess", target: fetcherID,
          before: nil, after: StoreRules.reprocessAudit(keys, objects: rows)),
        logger: logger)
      return rows
    }
  }

  public func applyReprocessRequests(fetcherID: String, of account: AccountID) async throws
    -> FetcherStatus?
  {
    let logger = self.logger
    return try await transaction { tx in
      let requests = try await Self.execute(
        tx,
        """
        SELECT id, from_key, to_key FROM reprocess_requests WHERE account_id = $1 AND fetcher_id = $2
        ORDER BY id FOR UPDATE
        """, [account.rawValue, fetcherID], logger: logger)
      guard !requests.isEmpty,
        var fetcher = try await PostgresStore.record(
          tx, Fetcher.self, fetcherID, of: account, logger: logger)
      else { return nil }
      let now = Date()
      for request in requests {
        let id = try request["id"].decode(Int64.self)
        let from = try request["from_key"].decode(String.self)
        let to = try request["to_key"].decode(String.self)
        let range: [any PGBindable] = [account.rawValue, fetcherID, from, to]
        let rows = try await Self.execute(
          tx,
          """
          SELECT * FROM ledger WHERE account_id = $1 AND fetcher_id = $2
            AND key COLLATE "C" >= $3 AND key COLLATE "C" <= $4 FOR UPDATE
          """, range, logger: logger)
        let entries = try rows.map(Self.ledgerEntry)
        try await Self.keepArchivedSpans(tx, range, logger: logger)
        fetcher = StoreRules.uncompacted(
          fetcher, by: try await Self.compactedObjects(tx, range, rows: entries, logger: logger))
        for entry in entries.map({ StoreRules.reprocessed($0, now: now) }) {
          _ = try await Self.execute(
            tx,
            """
            UPDATE ledger SET state = $1, byte_offset = $2, events = $3, attempts = $4, error = NULL,
              updated_at = $5 WHERE account_id = $6 AND fetcher_id = $7 AND key = $8 AND etag = $9
            """,
            [
              entry.state.rawValue, entry.offset, entry.events, entry.attempts,
              entry.updatedAt.micros, account.rawValue, fetcherID, entry.key, entry.eTag,
            ], logger: logger)
        }
        // The objects' events go with their rows' progress: read again, each is stored once.
        let blocks = """
          SELECT id FROM event_blocks WHERE account_id = $1 AND fetcher_id = $2
            AND source_key COLLATE "C" >= $3 AND source_key COLLATE "C" <= $4
            AND restore_job_id IS NULL
          """
        for table in ["archived_blocks", "event_block_data", "event_block_filters"] {
          _ = try await Self.execute(
            tx, "DELETE FROM \(table) WHERE block_id IN (\(blocks))", range, logger: logger)
        }
        _ = try await Self.execute(
          tx, "DELETE FROM event_blocks WHERE id IN (\(blocks))", range, logger: logger)
        fetcher = StoreRules.reprocessing(fetcher, keys: from...max(from, to))
        _ = try await Self.execute(
          tx, "DELETE FROM reprocess_requests WHERE id = $1", [id], logger: logger)
      }
      _ = try await Self.execute(
        tx, "UPDATE fetchers SET body = $1 WHERE id = $2",
        [StoreJSON.encode(fetcher), fetcherID], logger: logger)
      return fetcher.status
    }
  }

  /// Before a reprocess deletes the blocks of `range` (account, fetcher, first and last
  /// key): what each archive holds of them, as spans of offsets (as in SQLite).
  static func keepArchivedSpans(
    _ tx: PostgresConnection, _ range: [any PGBindable], logger: Logger
  ) async throws {
    _ = try await execute(
      tx,
      """
      INSERT INTO archived_spans
        (archive_id, account_id, fetcher_id, source_key, source_etag, from_offset, to_offset)
      SELECT a.archive_id, b.account_id, b.fetcher_id, b.source_key, b.source_etag, b.first_offset,
        COALESCE(
          (SELECT MIN(n.first_offset) FROM event_blocks n WHERE n.account_id = b.account_id
            AND n.fetcher_id = b.fetcher_id AND n.source_key = b.source_key
            AND n.source_etag = b.source_etag AND n.first_offset > b.first_offset
            AND n.restore_job_id IS NULL),
          (SELECT l.byte_offset FROM ledger l WHERE l.account_id = b.account_id
            AND l.fetcher_id = b.fetcher_id AND l.key = b.source_key AND l.etag = b.source_etag
            AND l.byte_offset > b.first_offset),
          9223372036854775807)
      FROM event_blocks b JOIN archived_blocks a ON a.block_id = b.id
      WHERE b.account_id = $1 AND b.fetcher_id = $2
        AND b.source_key COLLATE "C" >= $3 AND b.source_key COLLATE "C" <= $4
        AND b.restore_job_id IS NULL
      ON CONFLICT DO NOTHING
      """, range, logger: logger)
  }

  /// The object versions of `range` whose blocks a reprocess deletes and whose ledger rows
  /// compaction removed (they are not in `rows`), with their events.
  static func compactedObjects(
    _ tx: PostgresConnection, _ range: [any PGBindable], rows: [LedgerEntry], logger: Logger
  ) async throws -> LedgerCompaction {
    let inLedger = Set(rows.map { $0.key + "\u{0}" + $0.eTag })
    var out = LedgerCompaction()
    for row in try await execute(
      tx,
      """
      SELECT source_key, source_etag, SUM(event_count)::bigint AS events FROM event_blocks
      WHERE account_id = $1 AND fetcher_id = $2
        AND source_key COLLATE "C" >= $3 AND source_key COLLATE "C" <= $4
        AND restore_job_id IS NULL
      GROUP BY source_key, source_etag
      """, range, logger: logger)
    {
      let name =
        try row["source_key"].decode(String.self) + "\u{0}"
        + (try row["source_etag"].decode(String.self))
      if inLedger.contains(name) { continue }
      out.objects += 1
      out.events += Int(try row["events"].decode(Int64.self))
    }
    return out
  }

  public func compactLedger(
    of account: AccountID, fetcherID: String, throughKey: String?, updatedBefore: Date,
    limit: Int
  ) async throws -> LedgerCompaction {
    let logger = self.logger
    return try await transaction { tx in
      guard
        let fetcher = try await PostgresStore.record(
          tx, Fetcher.self, fetcherID, of: account, logger: logger)
      else { return LedgerCompaction() }
      // Keys compare as bytes (COLLATE "C"), as S3 sorts them.
      let rows = try await Self.execute(
        tx,
        """
        DELETE FROM ledger WHERE (account_id, fetcher_id, key, etag) IN (
          SELECT account_id, fetcher_id, key, etag FROM ledger
          WHERE account_id = $1 AND fetcher_id = $2 AND state = 'ingested' AND updated_at < $3
            AND ($4::text IS NULL OR key COLLATE "C" <= $4::text COLLATE "C")
          ORDER BY key COLLATE "C", etag COLLATE "C" LIMIT $5 FOR UPDATE)
        RETURNING events
        """,
        [account.rawValue, fetcherID, updatedBefore.micros, throughKey, max(0, limit)],
        logger: logger)
      var removed = LedgerCompaction()
      for row in rows {
        removed.objects += 1
        removed.events += try row["events"].decode(Int.self)
      }
      if removed.objects > 0 {
        _ = try await Self.execute(
          tx, "UPDATE fetchers SET body = $1 WHERE id = $2",
          [StoreJSON.encode(StoreRules.compacted(fetcher, by: removed)), fetcherID],
          logger: logger)
      }
      return removed
    }
  }

  @discardableResult
  public func commitObject(_ entry: LedgerEntry, events: [Event], of account: AccountID)
    async throws -> LedgerEntry
  {
    let logger = self.logger
    // Compressing happens before the transaction, which then stays short; only a commit
    // that repeats stored events (a retry) compresses again inside it.
    let rows = try BlockRows.make(events)
    return try await transaction { tx in
      let stored = try await Self.execute(
        tx,
        """
        SELECT * FROM ledger WHERE account_id = $1 AND fetcher_id = $2 AND key = $3 AND etag = $4
          FOR UPDATE
        """, [account.rawValue, entry.fetcherID, entry.key, entry.eTag], logger: logger
      ).first.map(Self.ledgerEntry)
      let unstored = LedgerCommit.unstored(events, after: stored)
      var inserted = 0
      for row in unstored.count == events.count ? rows : try BlockRows.make(unstored) {
        if try await PostgresBlocks.insert(
          tx, row, eTag: entry.eTag, account: account, logger: logger)
          != nil
        {
          inserted += row.block.eventCount
        }
      }
      let merged = LedgerCommit.merged(
        entry, onto: stored, committed: unstored, inserted: inserted)
      _ = try await Self.execute(
        tx,
        """
        INSERT INTO ledger (account_id, fetcher_id, key, etag, version_id, size, state, events, byte_offset, error, attempts, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        ON CONFLICT (account_id, fetcher_id, key, etag) DO UPDATE SET
          version_id = excluded.version_id, size = excluded.size, state = excluded.state, events = excluded.events,
          byte_offset = excluded.byte_offset, error = excluded.error, attempts = excluded.attempts, updated_at = excluded.updated_at
        """,
        [
          account.rawValue, merged.fetcherID, merged.key, merged.eTag, merged.versionID,
          merged.size, merged.state.rawValue, merged.events, merged.offset, merged.error,
          merged.attempts, merged.updatedAt.micros,
        ], logger: logger)
      return merged
    }
  }

  public func search(_ query: EventQuery, of account: AccountID) async throws -> EventPage {
    try await searchBlocks(query, of: account)
  }

  public func histogram(_ query: EventQuery, of account: AccountID, bucketSeconds: Int)
    async throws -> [HistogramBucket]
  {
    try await histogramOfBlocks(query, of: account, bucketSeconds: bucketSeconds)
  }

  /// The index rows of the blocks whose time range meets the search's, newest first.
  func blockCandidates(_ search: BlockSearch) async throws -> [BlockCandidate] {
    let rows = try await self.query(
      """
      SELECT id, fetcher_id, min_time, max_time, restore_job_id FROM event_blocks
      WHERE account_id = $1 AND max_time >= $2 AND min_time < $3
      ORDER BY max_time DESC, id DESC
      """,
      Self.binds([search.account.rawValue, search.query.from.micros, search.upperMicros]))
    do {
      return try rows.map { row in
        BlockCandidate(
          id: try row["id"].decode(Int64.self),
          fetcherID: try row["fetcher_id"].decode(String.self),
          minTime: try row["min_time"].decode(Int64.self),
          maxTime: try row["max_time"].decode(Int64.self),
          restoreJobID: try row["restore_job_id"].decode(String?.self))
      }
    } catch {
      throw map(error)
    }
  }

  func blockFilters(_ ids: [Int64]) async throws -> [Int64: [UInt8]] {
    try await blockBytes("event_block_filters", "filter", ids)
  }

  func blockData(_ ids: [Int64]) async throws -> [Int64: [UInt8]] {
    try await blockBytes("event_block_data", "data", ids)
  }

  /// One byte column of some blocks, by block ID.
  private func blockBytes(_ table: String, _ column: String, _ ids: [Int64]) async throws
    -> [Int64: [UInt8]]
  {
    var binds = PostgresBindings()
    binds.append(ids)
    let rows = try await self.query(
      "SELECT block_id, \(column) AS bytes FROM \(table) WHERE block_id = ANY($1)", binds)
    var out: [Int64: [UInt8]] = [:]
    do {
      for row in rows {
        out[try row["block_id"].decode(Int64.self)] = Array(
          buffer: try row["bytes"].decode(ByteBuffer.self))
      }
    } catch {
      throw map(error)
    }
    return out
  }

  public func eventCount(of account: AccountID) async throws -> Int {
    try await query(
      "SELECT coalesce(sum(event_count), 0)::BIGINT AS n FROM event_blocks WHERE account_id = $1",
      Self.binds([account.rawValue])
    ).first?["n"].decode(Int.self) ?? 0
  }

  /// Removes whole blocks whose events are all older than `cutoff`, `batchSize` events (at
  /// least one block) per transaction; a block with older and newer events is rewritten
  /// with the newer ones.
  public func deleteEvents(of account: AccountID, olderThan cutoff: Date, batchSize: Int)
    async throws -> Int
  {
    if let problem = StoreRules.batchProblem(batchSize) { throw problem }
    let logger = self.logger
    var total = 0
    while true {
      let deleted = try await transaction { tx -> Int in
        let rows = try await Self.execute(
          tx,
          """
          SELECT id, fetcher_id, source_etag, event_count, max_time FROM event_blocks
          WHERE account_id = $1 AND min_time < $2 AND restore_job_id IS NULL
          ORDER BY min_time LIMIT 64 FOR UPDATE
          """, [account.rawValue, cutoff.micros], logger: logger)
        var removed = 0
        for row in rows {
          let count = try row["event_count"].decode(Int.self)
          if removed > 0 && removed + count > batchSize { break }
          let id = try row["id"].decode(Int64.self)
          if try row["max_time"].decode(Int64.self) < cutoff.micros {
            removed += count
            try await PostgresBlocks.delete(tx, id, logger: logger)
            continue
          }
          let data =
            try await Self.execute(
              tx, "SELECT data FROM event_block_data WHERE block_id = $1", [id], logger: logger
            ).first.map { Array(buffer: try $0["data"].decode(ByteBuffer.self)) } ?? []
          let (kept, gone) = try BlockRows.keep(
            data, account: account, fetcherID: try row["fetcher_id"].decode(String.self),
            from: cutoff.micros)
          // The kept events were archived wherever the block was: the new blocks say so.
          let archives = try await Self.execute(
            tx, "SELECT archive_id FROM archived_blocks WHERE block_id = $1", [id], logger: logger
          ).map { try $0["archive_id"].decode(String.self) }
          try await PostgresBlocks.delete(tx, id, logger: logger)
          let eTag = try row["source_etag"].decode(String.self)
          for block in try BlockRows.make(kept) {
            guard
              let new = try await PostgresBlocks.insert(
                tx, block, eTag: eTag, account: account, logger: logger)
            else { continue }
            for archive in archives {
              _ = try await Self.execute(
                tx, "INSERT INTO archived_blocks (archive_id, block_id) VALUES ($1, $2)",
                [archive, new], logger: logger)
            }
          }
          removed += gone
        }
        return removed
      }
      total += deleted
      if deleted == 0 { return total }
    }
  }
}

extension PostgresStore {
  public func upgradeBlocks(after: Int64, limit: Int) async throws -> [Int64] {
    let logger = self.logger
    return try await transaction { tx -> [Int64] in
      let rows = try await Self.execute(
        tx,
        """
        SELECT f.block_id, d.data FROM event_block_filters f
        JOIN event_block_data d ON d.block_id = f.block_id
        WHERE f.block_id > $1 AND octet_length(f.filter) \(BlockRows.olderFilterCondition)
        ORDER BY f.block_id LIMIT $2 FOR UPDATE
        """, [after, max(1, limit)], logger: logger)
      var ids: [Int64] = []
      for row in rows {
        let id = try row["block_id"].decode(Int64.self)
        ids.append(id)
        // A damaged block stays as it is (searches name it in their problems).
        guard
          let block = try? BlockRows.upgraded(
            Array(buffer: try row["data"].decode(ByteBuffer.self)))
        else { continue }
        _ = try await Self.execute(
          tx, "UPDATE event_block_data SET data = $1 WHERE block_id = $2",
          [ByteBuffer(bytes: block.data), id], logger: logger)
        _ = try await Self.execute(
          tx, "UPDATE event_block_filters SET filter = $1 WHERE block_id = $2",
          [ByteBuffer(bytes: block.filter), id], logger: logger)
        _ = try await Self.execute(
          tx, "UPDATE event_blocks SET raw_bytes = $1 WHERE id = $2", [block.rawBytes, id],
          logger: logger)
      }
      return ids
    }
  }
}

extension PostgresStore: BlockReading {}

/// Block rows in PostgreSQL (`bytea` for filters and data).
enum PostgresBlocks {
  /// Inserts a block unless its natural key is taken; returns its ID if it is new.
  @discardableResult
  static func insert(
    _ tx: PostgresConnection, _ row: BlockRow, eTag: String, account: AccountID,
    restored: RestoredMark? = nil, logger: Logger
  ) async throws -> Int64? {
    let block = row.block
    var binds = PostgresBindings()
    for value: any PGBindable in [
      account.rawValue, row.fetcherID, row.sourceKey, eTag, block.firstOffset,
      block.minTime.micros, block.maxTime.micros, block.eventCount, block.rawBytes,
    ] {
      value.bind(into: &binds)
    }
    binds.append(ByteBuffer(bytes: block.filter))
    binds.append(ByteBuffer(bytes: block.data))
    // Only restored blocks name the columns of schema v9: the v6 conversion runs before.
    var restoreColumns = ""
    if let restored {
      restoreColumns = ", restore_job_id, expires_at"
      binds.append(restored.jobID)
      if let expiry = restored.expiresAt?.micros {
        binds.append(expiry)
      } else {
        binds.appendNull()
      }
    }
    // One statement: the index row, then its filter and data, only if the row is new.
    let rows = try await tx.query(
      PostgresQuery(
        unsafeSQL: """
          WITH new AS (
            INSERT INTO event_blocks (account_id, fetcher_id, source_key, source_etag, first_offset, min_time, max_time,
              event_count, raw_bytes\(restoreColumns))
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9\(restoreColumns.isEmpty ? "" : ", $12, $13"))
            ON CONFLICT (account_id, fetcher_id, source_key, source_etag, first_offset) DO NOTHING RETURNING id
          ), filter AS (
            INSERT INTO event_block_filters (block_id, filter) SELECT id, $10 FROM new
          )
          INSERT INTO event_block_data (block_id, data) SELECT id, $11 FROM new RETURNING block_id
          """, binds: binds), logger: logger)
    for try await row in rows {
      return try row.decode(Int64.self)
    }
    return nil
  }

  static func delete(_ tx: PostgresConnection, _ id: Int64, logger: Logger) async throws {
    for table in ["archived_blocks", "event_block_data", "event_block_filters"] {
      _ = try await PostgresStore.execute(
        tx, "DELETE FROM \(table) WHERE block_id = $1", [id], logger: logger)
    }
    _ = try await PostgresStore.execute(
      tx, "DELETE FROM event_blocks WHERE id = $1", [id], logger: logger)
  }

  /// Schema v6: the row-per-event table and its full-text index become blocks.
  static func convertEventRows(_ tx: PostgresConnection, logger: Logger) async throws {
    var group: [Event] = []
    var groupKey = ""
    var groupETag = ""
    func flush() async throws {
      guard let first = group.first else { return }
      for row in try BlockRows.make(group) {
        try await insert(tx, row, eTag: groupETag, account: first.accountID, logger: logger)
      }
      group.removeAll(keepingCapacity: true)
    }
    let rows = try await tx.query(
      """
      SELECT account_id, fetcher_id, log_type, time, source_key, source_etag, source_offset, message, fields::text AS fields_text
      FROM events ORDER BY account_id, fetcher_id, source_key, source_etag, source_offset
      """, logger: logger)
    for try await row in rows {
      let r = row.makeRandomAccess()
      let event = Event(
        accountID: AccountID(rawValue: try r["account_id"].decode(String.self)),
        fetcherID: try r["fetcher_id"].decode(String.self),
        logType: try r["log_type"].decode(String.self),
        time: Date(micros: try r["time"].decode(Int64.self)),
        sourceKey: try r["source_key"].decode(String.self),
        sourceOffset: try r["source_offset"].decode(Int64.self),
        message: try r["message"].decode(String.self),
        fields: StoreJSON.decodeFields(try r["fields_text"].decode(String.self)))
      let eTag = try r["source_etag"].decode(String.self)
      let key =
        event.accountID.rawValue + "\u{0}" + event.fetcherID + "\u{0}" + event.sourceKey + "\u{0}"
        + eTag
      if key != groupKey || group.count >= 50_000 {
        try await flush()
        groupKey = key
        groupETag = eTag
      }
      group.append(event)
    }
    try await flush()
    _ = try await tx.query("DROP TABLE events", logger: logger)
  }
}
