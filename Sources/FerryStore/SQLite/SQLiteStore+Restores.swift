import FerryCore
import Foundation
import GRDB

/// Restore progress in SQLite: `restore_objects` (one row per archive object of a job) and
/// restored blocks in `event_blocks` (marked by `restore_job_id`, leaving at `expires_at`).
extension SQLiteStore {
  static func saveJob(_ db: Database, _ job: RestoreJob) throws {
    try db.execute(
      sql: "UPDATE restore_jobs SET state = ?, body = ? WHERE id = ?",
      arguments: [job.state.rawValue, StoreJSON.encode(job), job.id])
  }

  public func planRestore(jobID: String, objects: [RestoreObject], of account: AccountID)
    async throws -> Bool
  {
    try await write { db in
      guard let job = try Self.record(db, RestoreJob.self, jobID, of: account),
        job.state == .queued || job.state == .running,
        try Bool.fetchOne(
          db, sql: "SELECT EXISTS (SELECT 1 FROM restore_objects WHERE job_id = ?)",
          arguments: [jobID]) == false, job.objectsTotal == nil
      else { return false }
      for object in objects {
        try db.execute(
          sql:
            "INSERT INTO restore_objects (job_id, key, state, body) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
          arguments: [jobID, object.key, object.state.rawValue, StoreJSON.encode(object)])
      }
      try Self.saveJob(db, StoreRules.planned(job, objects: objects))
      return true
    }
  }

  public func restoreObjects(
    jobID: String, state: RestoreObjectState?, afterKey: String?, limit: Int,
    of account: AccountID
  ) async throws -> [RestoreObject] {
    if let problem = StoreRules.restoreLimitProblem(limit) { throw problem }
    return try await read { db in
      guard try Self.record(db, RestoreJob.self, jobID, of: account) != nil else { return [] }
      return try String.fetchAll(
        db,
        sql: """
          SELECT body FROM restore_objects WHERE job_id = ? AND key > ? AND (? IS NULL OR state = ?)
          ORDER BY key LIMIT ?
          """,
        arguments: [jobID, afterKey ?? "", state?.rawValue, state?.rawValue, limit]
      ).map { try StoreJSON.decode(RestoreObject.self, $0, table: "restore_objects") }
    }
  }

  public func commitRestored(_ events: [SourcedEvent], jobID: String, of account: AccountID)
    async throws -> Int
  {
    try await write { db in
      let job = try Self.record(db, RestoreJob.self, jobID, of: account)
      if let problem = RestoreRows.problem(job: job, id: jobID) { throw problem }
      guard var job else { return 0 }
      var blocks: [RestoredSource: [[UInt8]]] = [:]
      for source in RestoredSource.of(events) {
        blocks[source] = try Data.fetchAll(
          db,
          sql: """
            SELECT d.data FROM event_blocks b JOIN event_block_data d ON d.block_id = b.id
            WHERE b.account_id = ? AND b.fetcher_id = ? AND b.source_key = ? AND b.source_etag = ?
            """, arguments: [account.rawValue, source.fetcherID, source.key, source.eTag]
        ).map { [UInt8]($0) }
      }
      let rows = try RestoreRows.make(events, storedBlocks: blocks)
      var stored = 0
      let mark = RestoredMark(jobID: jobID, expiresAt: job.expiresAt)
      for (eTag, row) in rows
      where try SQLiteBlocks.insert(db, row, eTag: eTag, account: account, restored: mark) != nil {
        stored += row.block.eventCount
      }
      job.eventsRestored += stored
      job.updatedAt = Date()
      try Self.saveJob(db, job)
      return stored
    }
  }

  public func finishRestoreObject(
    jobID: String, key: String, outcome: RestoreObjectOutcome, of account: AccountID
  ) async throws -> Bool {
    try await write { db in
      guard let job = try Self.record(db, RestoreJob.self, jobID, of: account),
        !job.state.isFinal,
        let body = try String.fetchOne(
          db, sql: "SELECT body FROM restore_objects WHERE job_id = ? AND key = ?",
          arguments: [jobID, key])
      else { return false }
      let object = try StoreJSON.decode(RestoreObject.self, body, table: "restore_objects")
      guard StoreRules.isRecordable(object.state) else { return false }
      let after = StoreRules.recorded(outcome, object: object)
      try db.execute(
        sql: "UPDATE restore_objects SET state = ?, body = ? WHERE job_id = ? AND key = ?",
        arguments: [after.state.rawValue, StoreJSON.encode(after), jobID, key])
      try Self.saveJob(db, StoreRules.recorded(outcome, previous: object.state, in: job))
      return true
    }
  }

  public func finishRestore(jobID: String, error: String?, of account: AccountID) async throws
    -> Bool
  {
    try await write { db in
      guard let job = try Self.record(db, RestoreJob.self, jobID, of: account),
        job.state == .running
      else { return false }
      try Self.saveJob(db, StoreRules.finished(job, error: error))
      return true
    }
  }

  public func setRestorePaused(
    _ paused: Bool, jobID: String, of account: AccountID, actor: String
  ) async throws -> Bool {
    try await write { db in
      guard let before = try Self.record(db, RestoreJob.self, jobID, of: account),
        let after = StoreRules.pausing(before, paused: paused)
      else { return false }
      try Self.saveJob(db, after)
      try Self.audit(
        db,
        AuditEntry(
          accountID: account, actor: actor, action: paused ? "restore.pause" : "restore.resume",
          target: jobID, before: StoreJSON.audit(before), after: StoreJSON.audit(after)))
      return true
    }
  }

  public func setRestoreExpiry(
    _ expiresAt: Date?, jobID: String, of account: AccountID, actor: String
  ) async throws -> Bool {
    try await write { db in
      guard let before = try Self.record(db, RestoreJob.self, jobID, of: account) else {
        return false
      }
      var after = before
      after.expiresAt = expiresAt
      after.updatedAt = Date()
      try Self.saveJob(db, after)
      try db.execute(
        sql: "UPDATE event_blocks SET expires_at = ? WHERE account_id = ? AND restore_job_id = ?",
        arguments: [expiresAt?.micros, account.rawValue, jobID])
      try Self.audit(
        db,
        AuditEntry(
          accountID: account, actor: actor, action: "restore.expiry", target: jobID,
          before: StoreJSON.audit(before), after: StoreJSON.audit(after)))
      return true
    }
  }

  public func deleteExpiredRestores(of account: AccountID, now: Date) async throws -> Int {
    // Most sweeps find nothing: a read, not a write transaction, says so.
    let any = try await read { db in
      try Bool.fetchOne(
        db,
        sql: """
          SELECT EXISTS (SELECT 1 FROM event_blocks
            WHERE account_id = ? AND expires_at IS NOT NULL AND expires_at < ?)
          """, arguments: [account.rawValue, now.micros]) ?? false
    }
    guard any else { return 0 }
    var total = 0
    while true {
      let removed = try await write { db -> Int in
        let rows = try Row.fetchAll(
          db,
          sql: """
            SELECT id, event_count FROM event_blocks
            WHERE account_id = ? AND expires_at IS NOT NULL AND expires_at < ? LIMIT 64
            """, arguments: [account.rawValue, now.micros])
        var removed = 0
        for row in rows {
          try SQLiteBlocks.delete(db, row["id"])
          removed += row["event_count"] as Int
        }
        return rows.isEmpty ? -1 : removed
      }
      if removed < 0 { return total }
      total += removed
    }
  }
}
