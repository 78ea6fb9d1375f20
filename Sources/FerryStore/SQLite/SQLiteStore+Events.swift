import FerryCore
import Foundation
import GRDB

/// The ledger of objects and their events.
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
      ).map { row in
        LedgerEntry(
          fetcherID: row["fetcher_id"], key: row["key"], eTag: row["etag"],
          versionID: row["version_id"], size: row["size"],
          state: LedgerState(rawValue: row["state"]) ?? .pending, events: row["events"],
          offset: row["byte_offset"],
          error: row["error"], attempts: row["attempts"], updatedAt: Date(micros: row["updated_at"])
        )
      }
    }
  }

  public func commitObject(_ entry: LedgerEntry, events: [Event], of account: AccountID)
    async throws
  {
    try await write { db in
      try db.execute(
        sql: """
          INSERT INTO ledger (account_id, fetcher_id, key, etag, version_id, size, state, events, byte_offset, error, attempts, updated_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (account_id, fetcher_id, key, etag) DO UPDATE SET
            version_id = excluded.version_id, size = excluded.size, state = excluded.state, events = excluded.events,
            byte_offset = excluded.byte_offset, error = excluded.error, attempts = excluded.attempts, updated_at = excluded.updated_at
          """,
        arguments: [
          account.rawValue, entry.fetcherID, entry.key, entry.eTag, entry.versionID, entry.size,
          entry.state.rawValue,
          entry.events, entry.offset, entry.error, entry.attempts, entry.updatedAt.micros,
        ])
      // The natural key (fetcher, object version, offset) is unique: a commit repeated
      // after a lost answer stores nothing twice.
      let statement = try db.cachedStatement(
        sql: """
          INSERT INTO events (account_id, fetcher_id, log_type, time, source_key, source_etag, source_offset, message, fields, search_text)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (account_id, fetcher_id, source_key, source_etag, source_offset) DO NOTHING
          """)
      for original in events {
        let event = StoreRules.storable(original)
        try statement.execute(arguments: [
          account.rawValue, event.fetcherID, event.logType, event.time.micros, event.sourceKey,
          entry.eTag, event.sourceOffset,
          event.message, StoreJSON.encode(event.fields), SearchText.normalize(event.message),
        ])
      }
    }
  }

  public func search(_ query: EventQuery, of account: AccountID) async throws -> EventPage {
    let cursor = try query.cursor.map { cursor throws(StoreError) in try EventCursor.decode(cursor)
    }
    let limit = max(1, min(query.limit, 1000))
    return try await read { db in
      var sql = "SELECT e.* FROM events e"
      var arguments: [(any DatabaseValueConvertible)?] = []
      let words = SearchText.words(query.text)
      if !words.isEmpty {
        sql += " JOIN events_fts f ON f.rowid = e.id AND events_fts MATCH ?"
        arguments.append(words.map { "\"\($0)\"" }.joined(separator: " "))
      }
      sql += " WHERE e.account_id = ? AND e.time >= ? AND e.time < ?"
      arguments += [account.rawValue, query.from.micros, query.to.micros]
      for (key, value) in query.fields.sorted(by: { $0.key < $1.key }) {
        // The key is compared as it is, whatever characters it holds (no JSON path).
        sql += " AND EXISTS (SELECT 1 FROM json_each(e.fields) j WHERE j.key = ? AND j.value = ?)"
        arguments += [key, value]
      }
      if let cursor {
        sql += " AND (e.time < ? OR (e.time = ? AND e.id < ?))"
        arguments += [cursor.timeMicros, cursor.timeMicros, cursor.id]
      }
      sql += " ORDER BY e.time DESC, e.id DESC LIMIT ?"
      arguments.append(limit + 1)
      let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments))
      let events = rows.prefix(limit).map(Self.event)
      let next =
        rows.count > limit
        ? events.last.map { EventCursor.encode(timeMicros: $0.time.micros, id: $0.id ?? 0) } : nil
      return EventPage(events: Array(events), nextCursor: next)
    }
  }

  static func event(_ row: Row) -> Event {
    Event(
      id: row["id"], accountID: AccountID(rawValue: row["account_id"]),
      fetcherID: row["fetcher_id"], logType: row["log_type"],
      time: Date(micros: row["time"]), sourceKey: row["source_key"],
      sourceOffset: row["source_offset"],
      message: row["message"], fields: StoreJSON.decodeFields(row["fields"]))
  }

  public func eventCount(of account: AccountID) async throws -> Int {
    try await read { db in
      try Int.fetchOne(
        db, sql: "SELECT count(*) FROM events WHERE account_id = ?", arguments: [account.rawValue])
        ?? 0
    }
  }

  public func deleteEvents(of account: AccountID, olderThan cutoff: Date, batchSize: Int)
    async throws -> Int
  {
    if let problem = StoreRules.batchProblem(batchSize) { throw problem }
    var total = 0
    while true {
      let deleted = try await write { db in
        try db.execute(
          sql:
            "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE account_id = ? AND time < ? LIMIT ?)",
          arguments: [account.rawValue, cutoff.micros, batchSize])
        return db.changesCount
      }
      total += deleted
      if deleted < batchSize { return total }
    }
  }
}
