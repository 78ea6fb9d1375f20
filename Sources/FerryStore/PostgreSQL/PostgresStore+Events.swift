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
      return LedgerEntry(
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
    } catch {
      throw map(error)
    }
  }

  public func commitObject(_ entry: LedgerEntry, events: [Event], of account: AccountID)
    async throws
  {
    let logger = self.logger
    try await transaction { tx in
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
          account.rawValue, entry.fetcherID, entry.key, entry.eTag, entry.versionID, entry.size,
          entry.state.rawValue,
          entry.events, entry.offset, entry.error, entry.attempts, entry.updatedAt.micros,
        ], logger: logger)
      // COPY streams the rows in the text format: the fastest way into PostgreSQL, and
      // still inside this transaction with the ledger row. They go into a temporary table
      // first, then into events skipping rows whose natural key (fetcher, object version,
      // offset) is stored already: a commit repeated after a lost answer adds nothing.
      if !events.isEmpty {
        _ = try await tx.query(
          """
          CREATE TEMP TABLE IF NOT EXISTS events_incoming (account_id TEXT, fetcher_id TEXT, log_type TEXT,
            time BIGINT, source_key TEXT, source_etag TEXT, source_offset BIGINT, message TEXT, fields JSONB,
            search TSVECTOR) ON COMMIT DELETE ROWS
          """, logger: logger)
        try await tx.copyFrom(
          table: "events_incoming",
          columns: [
            "account_id", "fetcher_id", "log_type", "time", "source_key", "source_etag",
            "source_offset", "message", "fields", "search",
          ], logger: logger
        ) { writer in
          var buffer = ByteBuffer()
          buffer.reserveCapacity(1 << 20)
          for original in events {
            CopyText.appendRow(
              StoreRules.storable(original), eTag: entry.eTag, account: account, to: &buffer)
            if buffer.readableBytes >= 1 << 20 {
              try await writer.write(buffer)
              buffer.clear()
            }
          }
          if buffer.readableBytes > 0 { try await writer.write(buffer) }
        }
        _ = try await tx.query(
          """
          INSERT INTO events (account_id, fetcher_id, log_type, time, source_key, source_etag, source_offset, message, fields, search)
          SELECT account_id, fetcher_id, log_type, time, source_key, source_etag, source_offset, message, fields, search
          FROM events_incoming ON CONFLICT (account_id, fetcher_id, source_key, source_etag, source_offset) DO NOTHING
          """, logger: logger)
        _ = try await tx.query("TRUNCATE events_incoming", logger: logger)
      }
    }
  }

  public func search(_ query: EventQuery, of account: AccountID) async throws -> EventPage {
    let cursor = try query.cursor.map { cursor throws(StoreError) in try EventCursor.decode(cursor)
    }
    let limit = max(1, min(query.limit, 1000))
    var sql = "SELECT * FROM events WHERE account_id = $1 AND time >= $2 AND time < $3"
    var values: [any PGBindable] = [account.rawValue, query.from.micros, query.to.micros]
    let words = SearchText.words(query.text)
    if !words.isEmpty {
      values.append(CopyText.tsquery(words))
      sql += " AND search @@ $\(values.count)::tsquery"
    }
    for (key, value) in query.fields.sorted(by: { $0.key < $1.key }) {
      values.append(key)
      values.append(value)
      sql += " AND fields->>$\(values.count - 1) = $\(values.count)"
    }
    if let cursor {
      values.append(cursor.timeMicros)
      values.append(cursor.id)
      sql +=
        " AND (time < $\(values.count - 1) OR (time = $\(values.count - 1) AND id < $\(values.count)))"
    }
    values.append(limit + 1)
    sql += " ORDER BY time DESC, id DESC LIMIT $\(values.count)"
    let rows = try await self.query(
      sql.replacingOccurrences(of: "SELECT *", with: "SELECT *, fields::text AS fields_text"),
      Self.binds(values))
    do {
      let events = try rows.prefix(limit).map(Self.event)
      let next =
        rows.count > limit
        ? events.last.map { EventCursor.encode(timeMicros: $0.time.micros, id: $0.id ?? 0) } : nil
      return EventPage(events: events, nextCursor: next)
    } catch {
      throw map(error)
    }
  }

  static func event(_ row: PostgresRandomAccessRow) throws -> Event {
    Event(
      id: try row["id"].decode(Int64.self),
      accountID: AccountID(rawValue: try row["account_id"].decode(String.self)),
      fetcherID: try row["fetcher_id"].decode(String.self),
      logType: try row["log_type"].decode(String.self),
      time: Date(micros: try row["time"].decode(Int64.self)),
      sourceKey: try row["source_key"].decode(String.self),
      sourceOffset: try row["source_offset"].decode(Int64.self),
      message: try row["message"].decode(String.self),
      fields: StoreJSON.decodeFields(try row["fields_text"].decode(String.self)))
  }

  public func eventCount(of account: AccountID) async throws -> Int {
    try await query(
      "SELECT count(*) AS n FROM events WHERE account_id = $1", Self.binds([account.rawValue])
    ).first?["n"].decode(Int.self) ?? 0
  }

  public func deleteEvents(of account: AccountID, olderThan cutoff: Date, batchSize: Int)
    async throws -> Int
  {
    if let problem = StoreRules.batchProblem(batchSize) { throw problem }
    var total = 0
    while true {
      let rows = try await query(
        "WITH doomed AS (SELECT id FROM events WHERE account_id = $1 AND time < $2 LIMIT $3) DELETE FROM events WHERE id IN (SELECT id FROM doomed) RETURNING id",
        Self.binds([account.rawValue, cutoff.micros, batchSize]))
      total += rows.count
      if rows.count < batchSize { return total }
    }
  }
}
