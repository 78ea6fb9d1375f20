import FerryBlocks
import FerryCore
import Foundation
import GRDB

/// The ledger of objects and their events, which are kept in blocks (`event_blocks` for
/// the index, `event_block_filters`, `event_block_data`), so that a search reads filters
/// without touching data.
extension SQLiteStore {
  // MARK: Ledger and events

  public func ledgerEntry(of account: AccountID, fetcherID: String, key: String, eTag: String)
    async throws -> LedgerEntry?
  {
    try await read { db in
      try Row.fetchOne(
        db,
        sql:
          "SELECT * FROM ledger WHERE account_id = ? AND fetcher_id = ? AND key = ? AND etag = ?",
        arguments: [account.rawValue, fetcherID, key, eTag]
      ).map(Self.ledgerEntry)
    }
  }

  static func ledgerEntry(_ row: Row) -> LedgerEntry {
    LedgerEntry(
      fetcherID: row["fetcher_id"], key: row["key"], eTag: row["etag"],
      versionID: row["version_id"], size: row["size"],
      state: LedgerState(rawValue: row["state"]) ?? .pending, events: row["events"],
      offset: row["byte_offset"], error: row["error"], attempts: row["attempts"],
      updatedAt: Date(micros: row["updated_at"]))
  }

  public func ledger(
    of account: AccountID, fetcherID: String, state: LedgerState?, afterKey: String?, limit: Int
  ) async throws -> [LedgerEntry] {
    if let problem = StoreRules.ledgerLimitProblem(limit) { throw problem }
    return try await read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT * FROM ledger WHERE account_id = ? AND fetcher_id = ? AND key > ?
            AND (? IS NULL OR state = ?)
          ORDER BY key, etag LIMIT ?
          """,
        arguments: [
          account.rawValue, fetcherID, afterKey ?? "", state?.rawValue, state?.rawValue, limit,
        ]
      ).map(Self.ledgerEntry)
    }
  }

  public func ledgerSummary(of account: AccountID, fetcherID: String) async throws
    -> LedgerSummary
  {
    try await read { db in
      var summary = LedgerSummary()
      for row in try Row.fetchAll(
        db,
        sql: """
          SELECT state, count(*) AS n, coalesce(sum(events), 0) AS events,
            coalesce(sum(length(CAST(key AS BLOB)) + length(CAST(etag AS BLOB))
              + coalesce(length(CAST(error AS BLOB)), 0)), 0) AS bytes
          FROM ledger WHERE account_id = ? AND fetcher_id = ? GROUP BY state
          """, arguments: [account.rawValue, fetcherID])
      {
        let n: Int = row["n"]
        if let state = LedgerState(rawValue: row["state"]) { summary.objects[state] = n }
        summary.events += row["events"] as Int
        summary.rows += n
        summary.bytes += (row["bytes"] as Int) + n * LedgerSummary.fixedRowBytes
      }
      return summary
    }
  }

  public func reprocess(
    fetcherID: String, keys: ClosedRange<String>, of account: AccountID, actor: String
  ) async throws -> Int? {
    try await write { db in
      guard try Self.record(db, Fetcher.self, fetcherID, of: account) != nil else { return nil }
      let rows =
        try Int.fetchOne(
          db,
          sql: """
            SELECT count(*) FROM ledger WHERE account_id = ? AND fetcher_id = ? AND key >= ? AND key <= ?
            """,
          arguments: [account.rawValue, fetcherID, keys.lowerBound, keys.upperBound]) ?? 0
      try db.execute(
        sql: """
          INSERT INTO reprocess_requests (account_id, fetcher_id, from_key, to_key, requested_at)
          VALUES (?, ?, ?, ?, ?)
          """,
        arguments: [
          account.rawValue, fetcherID, keys.lowerBound, keys.upperBound, Date().micros,
        ])
      try Self.audit(
        db,
        AuditEntry(
          accountID: account, actor: actor, action: "fetcher.reprocess", target: fetcherID,
          before: nil, after: StoreRules.reprocessAudit(keys, objects: rows)))
      return rows
    }
  }

  public func applyReprocessRequests(fetcherID: String, of account: AccountID) async throws
    -> FetcherStatus?
  {
    try await write { db in
      let requests = try Row.fetchAll(
        db,
        sql: """
          SELECT id, from_key, to_key FROM reprocess_requests WHERE account_id = ? AND fetcher_id = ?
          ORDER BY id
          """, arguments: [account.rawValue, fetcherID])
      guard !requests.isEmpty,
        var fetcher = try Self.record(db, Fetcher.self, fetcherID, of: account)
      else { return nil }
      let now = Date()
      for request in requests {
        let from: String = request["from_key"]
        let to: String = request["to_key"]
        let range: StatementArguments = [account.rawValue, fetcherID, from, to]
        let rows = try Row.fetchAll(
          db,
          sql:
            "SELECT * FROM ledger WHERE account_id = ? AND fetcher_id = ? AND key >= ? AND key <= ?",
          arguments: range)
        let entries = rows.map(Self.ledgerEntry)
        try Self.keepArchivedSpans(db, range)
        fetcher = StoreRules.uncompacted(
          fetcher, by: try Self.compactedObjects(db, range, rows: entries))
        for entry in entries.map({ StoreRules.reprocessed($0, now: now) }) {
          try db.execute(
            sql: """
              UPDATE ledger SET state = ?, byte_offset = ?, events = ?, attempts = ?, error = NULL,
                updated_at = ? WHERE account_id = ? AND fetcher_id = ? AND key = ? AND etag = ?
              """,
            arguments: [
              entry.state.rawValue, entry.offset, entry.events, entry.attempts,
              entry.updatedAt.micros, account.rawValue, fetcherID, entry.key, entry.eTag,
            ])
        }
        // The objects' events go with their rows' progress: read again, each is stored once.
        let blocks = """
          SELECT id FROM event_blocks WHERE account_id = ? AND fetcher_id = ? AND source_key >= ?
            AND source_key <= ? AND restore_job_id IS NULL
          """
        for table in ["archived_blocks", "event_block_data", "event_block_filters"] {
          try db.execute(
            sql: "DELETE FROM \(table) WHERE block_id IN (\(blocks))", arguments: range)
        }
        try db.execute(sql: "DELETE FROM event_blocks WHERE id IN (\(blocks))", arguments: range)
        fetcher = StoreRules.reprocessing(fetcher, keys: from...max(from, to))
        try db.execute(
          sql: "DELETE FROM reprocess_requests WHERE id = ?", arguments: [request["id"] as Int64])
      }
      try db.execute(
        sql: "UPDATE fetchers SET body = ? WHERE id = ?",
        arguments: [StoreJSON.encode(fetcher), fetcherID])
      return fetcher.status
    }
  }

  /// Before a reprocess deletes the blocks of `range` (account, fetcher, first and last
  /// key): what each archive holds of them, as spans of offsets. A block spans from its first
  /// offset to the next block's of the same object version, or to its ledger row's offset.
  static func keepArchivedSpans(_ db: Database, _ range: StatementArguments) throws {
    try db.execute(
      sql: """
        INSERT OR IGNORE INTO archived_spans
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
        WHERE b.account_id = ? AND b.fetcher_id = ? AND b.source_key >= ? AND b.source_key <= ?
          AND b.restore_job_id IS NULL
        """, arguments: range)
  }

  /// The object versions of `range` whose blocks a reprocess deletes and whose ledger rows
  /// compaction removed (they are not in `rows`), with their events.
  static func compactedObjects(_ db: Database, _ range: StatementArguments, rows: [LedgerEntry])
    throws -> LedgerCompaction
  {
    let inLedger = Set(rows.map { $0.key + "\u{0}" + $0.eTag })
    var out = LedgerCompaction()
    for row in try Row.fetchAll(
      db,
      sql: """
        SELECT source_key, source_etag, SUM(event_count) AS events FROM event_blocks
        WHERE account_id = ? AND fetcher_id = ? AND source_key >= ? AND source_key <= ?
          AND restore_job_id IS NULL
        GROUP BY source_key, source_etag
        """, arguments: range)
    where !inLedger.contains(
      (row["source_key"] as String) + "\u{0}" + (row["source_etag"] as String))
    {
      out.objects += 1
      out.events += row["events"] as Int
    }
    return out
  }

  public func compactLedger(
    of account: AccountID, fetcherID: String, throughKey: String?, updatedBefore: Date,
    limit: Int
  ) async throws -> LedgerCompaction {
    try await write { db in
      guard let fetcher = try Self.record(db, Fetcher.self, fetcherID, of: account) else {
        return LedgerCompaction()
      }
      // Keys compare as bytes (SQLite's BINARY collation), as S3 sorts them.
      let rows = try Row.fetchAll(
        db,
        sql: """
          DELETE FROM ledger WHERE rowid IN (
            SELECT rowid FROM ledger WHERE account_id = ? AND fetcher_id = ? AND state = 'ingested'
              AND updated_at < ? AND (? IS NULL OR key <= ?) ORDER BY key, etag LIMIT ?)
          RETURNING events
          """,
        arguments: [
          account.rawValue, fetcherID, updatedBefore.micros, throughKey, throughKey, max(0, limit),
        ])
      let removed = LedgerCompaction(
        objects: rows.count, events: rows.reduce(0) { $0 + ($1["events"] as Int) })
      if removed.objects > 0 {
        try db.execute(
          sql: "UPDATE fetchers SET body = ? WHERE id = ?",
          arguments: [StoreJSON.encode(StoreRules.compacted(fetcher, by: removed)), fetcherID])
      }
      return removed
    }
  }

  @discardableResult
  public func commitObject(_ entry: LedgerEntry, events: [Event], of account: AccountID)
    async throws -> LedgerEntry
  {
    // Compressing happens before the write transaction, which then holds the lock briefly;
    // only a commit that repeats stored events (a retry) compresses again inside it.
    let rows = try BlockRows.make(events)
    return try await write { db in
      let stored = try Row.fetchOne(
        db,
        sql:
          "SELECT * FROM ledger WHERE account_id = ? AND fetcher_id = ? AND key = ? AND etag = ?",
        arguments: [account.rawValue, entry.fetcherID, entry.key, entry.eTag]
      ).map(Self.ledgerEntry)
      let unstored = LedgerCommit.unstored(events, after: stored)
      var inserted = 0
      for row in unstored.count == events.count ? rows : try BlockRows.make(unstored) {
        if try SQLiteBlocks.insert(db, row, eTag: entry.eTag, account: account) != nil {
          inserted += row.block.eventCount
        }
      }
      let merged = LedgerCommit.merged(
        entry, onto: stored, committed: unstored, inserted: inserted)
      try db.execute(
        sql: """
          INSERT INTO ledger (account_id, fetcher_id, key, etag, version_id, size, state, events, byte_offset, error, attempts, updated_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (account_id, fetcher_id, key, etag) DO UPDATE SET
            version_id = excluded.version_id, size = excluded.size, state = excluded.state, events = excluded.events,
            byte_offset = excluded.byte_offset, error = excluded.error, attempts = excluded.attempts, updated_at = excluded.updated_at
          """,
        arguments: [
          account.rawValue, merged.fetcherID, merged.key, merged.eTag, merged.versionID,
          merged.size, merged.state.rawValue, merged.events, merged.offset, merged.error,
          merged.attempts, merged.updatedAt.micros,
        ])
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
    try await read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT id, fetcher_id, min_time, max_time, restore_job_id FROM event_blocks
          WHERE account_id = ? AND max_time >= ? AND min_time < ?
          ORDER BY max_time DESC, id DESC
          """,
        arguments: [search.account.rawValue, search.query.from.micros, search.upperMicros]
      ).map { row in
        BlockCandidate(
          id: row["id"], fetcherID: row["fetcher_id"], minTime: row["min_time"],
          maxTime: row["max_time"], restoreJobID: row["restore_job_id"])
      }
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
    try await read { db in
      var out: [Int64: [UInt8]] = [:]
      let rows = try Row.fetchCursor(
        db,
        sql:
          "SELECT block_id, \(column) FROM \(table) WHERE block_id IN (\(ids.map { _ in "?" }.joined(separator: ",")))",
        arguments: StatementArguments(ids))
      while let row = try rows.next() {
        out[row[0]] = (row[1] as Data?).map { [UInt8]($0) } ?? []
      }
      return out
    }
  }

  public func eventCount(of account: AccountID) async throws -> Int {
    try await read { db in
      try Int.fetchOne(
        db, sql: "SELECT coalesce(sum(event_count), 0) FROM event_blocks WHERE account_id = ?",
        arguments: [account.rawValue]) ?? 0
    }
  }

  /// Removes whole blocks whose events are all older than `cutoff`, `batchSize` events (at
  /// least one block) per transaction; a block with older and newer events is rewritten
  /// with the newer ones.
  public func deleteEvents(of account: AccountID, olderThan cutoff: Date, batchSize: Int)
    async throws -> Int
  {
    if let problem = StoreRules.batchProblem(batchSize) { throw problem }
    var total = 0
    while true {
      let deleted = try await write { db -> Int in
        let rows = try Row.fetchAll(
          db,
          sql: """
            SELECT id, fetcher_id, source_key, source_etag, first_offset, event_count, max_time
            FROM event_blocks WHERE account_id = ? AND min_time < ? AND restore_job_id IS NULL
            ORDER BY min_time LIMIT 64
            """, arguments: [account.rawValue, cutoff.micros])
        var removed = 0
        for row in rows {
          if removed > 0 && removed + (row["event_count"] as Int) > batchSize { break }
          let id: Int64 = row["id"]
          if (row["max_time"] as Int64) < cutoff.micros {
            removed += row["event_count"] as Int
            try SQLiteBlocks.delete(db, id)
            continue
          }
          let data = try Data.fetchOne(
            db, sql: "SELECT data FROM event_block_data WHERE block_id = ?", arguments: [id])
          let (kept, gone) = try BlockRows.keep(
            [UInt8](data ?? Data()), account: account, fetcherID: row["fetcher_id"],
            from: cutoff.micros)
          // The kept events were archived wherever the block was: the new blocks say so.
          let archives = try String.fetchAll(
            db, sql: "SELECT archive_id FROM archived_blocks WHERE block_id = ?", arguments: [id])
          try SQLiteBlocks.delete(db, id)
          for block in try BlockRows.make(kept) {
            guard
              let new = try SQLiteBlocks.insert(
                db, block, eTag: row["source_etag"], account: account)
            else { continue }
            for archive in archives {
              try db.execute(
                sql: "INSERT INTO archived_blocks (archive_id, block_id) VALUES (?, ?)",
                arguments: [archive, new])
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

extension SQLiteStore {
  public func upgradeBlocks(after: Int64, limit: Int) async throws -> [Int64] {
    try await write { db -> [Int64] in
      let ids = try Int64.fetchAll(
        db,
        sql: """
          SELECT block_id FROM event_block_filters
          WHERE block_id > ? AND length(filter) \(BlockRows.olderFilterCondition)
          ORDER BY block_id LIMIT ?
          """, arguments: [after, max(1, limit)])
      for id in ids {
        let data = try Data.fetchOne(
          db, sql: "SELECT data FROM event_block_data WHERE block_id = ?", arguments: [id])
        // A damaged block stays as it is (searches name it in their problems).
        guard let block = try? BlockRows.upgraded([UInt8](data ?? Data())) else { continue }
        try db.execute(
          sql: "UPDATE event_block_data SET data = ? WHERE block_id = ?",
          arguments: [Data(block.data), id])
        try db.execute(
          sql: "UPDATE event_block_filters SET filter = ? WHERE block_id = ?",
          arguments: [Data(block.filter), id])
        try db.execute(
          sql: "UPDATE event_blocks SET raw_bytes = ? WHERE id = ?",
          arguments: [block.rawBytes, id])
      }
      return ids
    }
  }
}

extension SQLiteStore: BlockReading {}

/// Block rows in SQLite.
enum SQLiteBlocks {
  /// Inserts a block unless its natural key is taken; returns its ID if it is new.
  @discardableResult
  static func insert(
    _ db: Database, _ row: BlockRow, eTag: String, account: AccountID,
    restored: RestoredMark? = nil
  ) throws -> Int64? {
    let block = row.block
    // Only restored blocks name the columns of schema v9: the v6 conversion runs before.
    let restoreColumns = restored == nil ? "" : ", restore_job_id, expires_at"
    let restoreValues = restored == nil ? "" : ", ?, ?"
    var arguments: StatementArguments = [
      account.rawValue, row.fetcherID, row.sourceKey, eTag, block.firstOffset,
      block.minTime.micros, block.maxTime.micros, block.eventCount, block.rawBytes,
    ]
    if let restored { arguments += [restored.jobID, restored.expiresAt?.micros] }
    try db.execute(
      sql: """
        INSERT INTO event_blocks (account_id, fetcher_id, source_key, source_etag, first_offset, min_time, max_time,
          event_count, raw_bytes\(restoreColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?\(restoreValues))
        ON CONFLICT (account_id, fetcher_id, source_key, source_etag, first_offset) DO NOTHING
        """,
      arguments: arguments)
    guard db.changesCount > 0 else { return nil }
    let id = db.lastInsertedRowID
    try db.execute(
      sql: "INSERT INTO event_block_filters (block_id, filter) VALUES (?, ?)",
      arguments: [id, Data(block.filter)])
    try db.execute(
      sql: "INSERT INTO event_block_data (block_id, data) VALUES (?, ?)",
      arguments: [id, Data(block.data)])
    return id
  }

  static func delete(_ db: Database, _ id: Int64) throws {
    try db.execute(sql: "DELETE FROM archived_blocks WHERE block_id = ?", arguments: [id])
    try db.execute(sql: "DELETE FROM event_block_data WHERE block_id = ?", arguments: [id])
    try db.execute(sql: "DELETE FROM event_block_filters WHERE block_id = ?", arguments: [id])
    try db.execute(sql: "DELETE FROM event_blocks WHERE id = ?", arguments: [id])
  }

  /// Schema v6: the row-per-event table and its full-text index become blocks.
  @Sendable static func convertEventRows(_ db: Database) throws {
    let cursor = try Row.fetchCursor(
      db,
      sql: """
        SELECT account_id, fetcher_id, log_type, time, source_key, source_etag, source_offset, message, fields
        FROM events ORDER BY account_id, fetcher_id, source_key, source_etag, source_offset
        """)
    var group: [Event] = []
    var groupKey: (String, String) = ("", "")
    func flush() throws {
      guard let first = group.first else { return }
      for row in try BlockRows.make(group) {
        try insert(db, row, eTag: groupKey.1, account: first.accountID)
      }
      group.removeAll(keepingCapacity: true)
    }
    while let row = try cursor.next() {
      let event = Event(
        accountID: AccountID(rawValue: row["account_id"]), fetcherID: row["fetcher_id"],
        logType: row["log_type"], time: Date(micros: row["time"]), sourceKey: row["source_key"],
        sourceOffset: row["source_offset"], message: row["message"],
        fields: StoreJSON.decodeFields(row["fields"]))
      let key = (
        event.accountID.rawValue + "\u{0}" + event.fetcherID + "\u{0}" + event.sourceKey,
        row["source_etag"] as String
      )
      if key != groupKey || group.count >= 50_000 {
        try flush()
        groupKey = key
      }
      group.append(event)
    }
    try flush()
    try db.execute(
      sql: """
        DROP TRIGGER events_fts_insert; DROP TRIGGER events_fts_delete;
        DROP TABLE events_fts; DROP TABLE events;
        """)
  }
}
