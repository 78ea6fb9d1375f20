import FerryCore
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Restore progress in PostgreSQL, as in SQLite: `restore_objects` and restored blocks in
/// `event_blocks` (marked by `restore_job_id`, leaving at `expires_at`). Every call locks
/// the job's row first, so nodes that share the database never count twice.
extension PostgresStore {
  static func saveJob(_ tx: PostgresConnection, _ job: RestoreJob, logger: Logger) async throws {
    _ = try await execute(
      tx, "UPDATE restore_jobs SET state = $1, body = $2 WHERE id = $3",
      [job.state.rawValue, StoreJSON.encode(job), job.id], logger: logger)
  }

  public func planRestore(jobID: String, objects: [RestoreObject], of account: AccountID)
    async throws -> Bool
  {
    let logger = self.logger
    return try await transaction { tx in
      guard
        let job = try await Self.record(tx, RestoreJob.self, jobID, of: account, logger: logger),
        job.state == .queued || job.state == .running, job.objectsTotal == nil,
        try await Self.execute(
          tx, "SELECT 1 FROM restore_objects WHERE job_id = $1 LIMIT 1", [jobID], logger: logger
        ).isEmpty
      else { return false }
      for object in objects {
        _ = try await Self.execute(
          tx,
          "INSERT INTO restore_objects (job_id, key, state, body) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
          [jobID, object.key, object.state.rawValue, StoreJSON.encode(object)], logger: logger)
      }
      try await Self.saveJob(tx, StoreRules.planned(job, objects: objects), logger: logger)
      return true
    }
  }

  public func restoreObjects(
    jobID: String, state: RestoreObjectState?, afterKey: String?, limit: Int,
    of account: AccountID
  ) async throws -> [RestoreObject] {
    if let problem = StoreRules.restoreLimitProblem(limit) { throw problem }
    let rows = try await query(
      """
      SELECT o.body FROM restore_objects o JOIN restore_jobs j ON j.id = o.job_id
      WHERE o.job_id = $1 AND j.account_id = $2 AND o.key > $3
        AND ($4::text IS NULL OR o.state = $4)
      ORDER BY o.key LIMIT $5
      """, Self.binds([jobID, account.rawValue, afterKey ?? "", state?.rawValue, limit]))
    return try decoding {
      try rows.map {
        try StoreJSON.decode(
          RestoreObject.self, try $0["body"].decode(String.self), table: "restore_objects")
      }
    }
  }

  public func commitRestored(_ events: [SourcedEvent], jobID: String, of account: AccountID)
    async throws -> Int
  {
    let logger = self.logger
    return try await transaction { tx in
      let job = try await Self.record(tx, RestoreJob.self, jobID, of: account, logger: logger)
      if let problem = RestoreRows.problem(job: job, id: jobID) { throw problem }
      guard var job else { return 0 }
      var stored: [RestoredSource: [[UInt8]]] = [:]
      for source in RestoredSource.of(events) {
        let rows = try await Self.execute(
          tx,
          """
          SELECT d.data FROM event_blocks b JOIN event_block_data d ON d.block_id = b.id
          WHERE b.account_id = $1 AND b.fetcher_id = $2 AND b.source_key = $3 AND b.source_etag = $4
          """, [account.rawValue, source.fetcherID, source.key, source.eTag], logger: logger)
        stored[source] = try rows.map { row in
          let buffer = try row["data"].decode(ByteBuffer.self)
          return buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? []
        }
      }
      let rows = try RestoreRows.make(events, storedBlocks: stored)
      var count = 0
      let mark = RestoredMark(jobID: jobID, expiresAt: job.expiresAt)
      for (eTag, row) in rows {
        if try await PostgresBlocks.insert(
          tx, row, eTag: eTag, account: account, restored: mark, logger: logger) != nil
        {
          count += row.block.eventCount
        }
      }
      job.eventsRestored += count
      job.updatedAt = Date()
      try await Self.saveJob(tx, job, logger: logger)
      return count
    }
  }

  public func finishRestoreObject(
    jobID: String, key: String, outcome: RestoreObjectOutcome, of account: AccountID
  ) async throws -> Bool {
    let logger = self.logger
    return try await transaction { tx in
      guard
        let job = try await Self.record(tx, RestoreJob.self, jobID, of: account, logger: logger),
        !job.state.isFinal,
        let row = try await Self.execute(
          tx, "SELECT body FROM restore_objects WHERE job_id = $1 AND key = $2 FOR UPDATE",
          [jobID, key], logger: logger
        ).first
      else { return false }
      let object = try StoreJSON.decode(
        RestoreObject.self, try row["body"].decode(String.self), table: "restore_objects")
      guard StoreRules.isRecordable(object.state) else { return false }
      let after = StoreRules.recorded(outcome, object: object)
      _ = try await Self.execute(
        tx, "UPDATE restore_objects SET state = $1, body = $2 WHERE job_id = $3 AND key = $4",
        [after.state.rawValue, StoreJSON.encode(after), jobID, key], logger: logger)
      try await Self.saveJob(
        tx, StoreRules.recorded(outcome, previous: object.state, in: job), logger: logger)
      return true
    }
  }

  public func finishRestore(jobID: String, error: String?, of account: AccountID) async throws
    -> Bool
  {
    let logger = self.logger
    return try await transaction { tx in
      guard
        let job = try await Self.record(tx, RestoreJob.self, jobID, of: account, logger: logger),
        job.state == .running
      else { return false }
      try await Self.saveJob(tx, StoreRules.finished(job, error: error), logger: logger)
      return true
    }
  }

  public func setRestorePaused(
    _ paused: Bool, jobID: String, of account: AccountID, actor: String
  ) async throws -> Bool {
    let logger = self.logger
    return try await transaction { tx in
      guard
        let before = try await Self.record(
          tx, RestoreJob.self, jobID, of: account, logger: logger),
        let after = StoreRules.pausing(before, paused: paused)
      else { return false }
      try await Self.saveJob(tx, after, logger: logger)
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: account, actor: actor, action: paused ? "restore.pause" : "restore.resume",
          target: jobID, before: StoreJSON.audit(before), after: StoreJSON.audit(after)),
        logger: logger)
      return true
    }
  }

  public func setRestoreExpiry(
    _ expiresAt: Date?, jobID: String, of account: AccountID, actor: String
  ) async throws -> Bool {
    let logger = self.logger
    return try await transaction { tx in
      guard
        let before = try await Self.record(
          tx, RestoreJob.self, jobID, of: account, logger: logger)
      else { return false }
      var after = before
      after.expiresAt = expiresAt
      after.updatedAt = Date()
      try await Self.saveJob(tx, after, logger: logger)
      if let expiresAt {
        _ = try await Self.execute(
          tx,
          "UPDATE event_blocks SET expires_at = $1 WHERE account_id = $2 AND restore_job_id = $3",
          [expiresAt.micros, account.rawValue, jobID], logger: logger)
      } else {
        _ = try await Self.execute(
          tx,
          "UPDATE event_blocks SET expires_at = NULL WHERE account_id = $1 AND restore_job_id = $2",
          [account.rawValue, jobID], logger: logger)
      }
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: account, actor: actor, action: "restore.expiry", target: jobID,
          before: StoreJSON.audit(before), after: StoreJSON.audit(after)), logger: logger)
      return true
    }
  }

  public func deleteExpiredRestores(of account: AccountID, now: Date) async throws -> Int {
    // Most sweeps find nothing: a query, not a transaction with locks, says so.
    let any = try await query(
      """
      SELECT 1 FROM event_blocks WHERE account_id = $1 AND expires_at IS NOT NULL AND expires_at < $2
      LIMIT 1
      """, Self.binds([account.rawValue, now.micros]))
    guard !any.isEmpty else { return 0 }
    let logger = self.logger
    var total = 0
    while true {
      let removed = try await transaction { tx -> Int in
        let rows = try await Self.execute(
          tx,
          """
          SELECT id, event_count FROM event_blocks
          WHERE account_id = $1 AND expires_at IS NOT NULL AND expires_at < $2
          LIMIT 64 FOR UPDATE SKIP LOCKED
          """, [account.rawValue, now.micros], logger: logger)
        var removed = 0
        for row in rows {
          try await PostgresBlocks.delete(tx, try row["id"].decode(Int64.self), logger: logger)
          removed += try row["event_count"].decode(Int.self)
        }
        return rows.isEmpty ? -1 : removed
      }
      if removed < 0 { return total }
      total += removed
    }
  }
}
