import FerryCore
import Foundation
import GRDB

/// Connections (role bindings); fetchers, archives and restore jobs are in the same
/// concern, below.
extension SQLiteStore {
  // MARK: Connections

  public func addConnection(_ connection: Connection, of account: AccountID, actor: String)
    async throws
  {
    try await write { db in
      guard
        let owner = try Row.fetchOne(
          db, sql: "SELECT * FROM accounts WHERE id = ?", arguments: [account.rawValue]
        ).map(Self.account)
      else { throw StoreRules.noSuchAccount(account) }
      let c = StoreRules.placed(connection, in: owner)
      try db.execute(
        sql: """
          INSERT INTO connections (id, account_id, purpose, bucket, region, prefix, role_arn, external_id, legacy,
            bucket_owner, kms_key_arn, created_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          c.id, c.accountID.rawValue, c.purpose.rawValue, c.bucket, c.region, c.prefix, c.roleARN,
          c.externalID, c.usesLegacyExternalID, c.bucketOwner, c.kmsKeyARN, c.createdAt.micros,
        ])
      try Self.audit(
        db,
        AuditEntry(
          accountID: c.accountID, actor: actor, action: "connection.add", target: c.id,
          after: StoreJSON.audit(c)))
    }
  }

  public func connections(of account: AccountID) async throws -> [Connection] {
    try await read { db in
      try Row.fetchAll(
        db, sql: "SELECT * FROM connections WHERE account_id = ? ORDER BY created_at, id",
        arguments: [account.rawValue]
      )
      .map(Self.connection)
    }
  }

  public func removeConnection(_ id: String, of account: AccountID, actor: String) async throws
    -> Bool
  {
    try await write { db in
      guard
        let row = try Row.fetchOne(
          db, sql: "SELECT * FROM connections WHERE id = ? AND account_id = ?",
          arguments: [id, account.rawValue])
      else { return false }
      let users = try String.fetchAll(
        db,
        sql: """
          SELECT 'fetcher "' || name || '"' FROM fetchers WHERE connection_id = ?
          UNION ALL SELECT 'archive "' || name || '"' FROM archives WHERE connection_id = ?
          """, arguments: [id, id])
      if !users.isEmpty { throw StoreRules.connectionInUse(id, by: users) }
      try db.execute(sql: "DELETE FROM connection_checks WHERE connection_id = ?", arguments: [id])
      try db.execute(
        sql: "DELETE FROM connections WHERE id = ? AND account_id = ?",
        arguments: [id, account.rawValue])
      try Self.audit(
        db,
        AuditEntry(
          accountID: account, actor: actor, action: "connection.remove", target: id,
          before: StoreJSON.audit(Self.connection(row))))
      return true
    }
  }

  /// One of the account's connections, inside a transaction.
  static func connection(_ db: Database, _ id: String, of account: AccountID) throws -> Connection?
  {
    try Row.fetchOne(
      db, sql: "SELECT * FROM connections WHERE id = ? AND account_id = ?",
      arguments: [id, account.rawValue]
    ).map(connection)
  }

  static func connection(_ row: Row) -> Connection {
    Connection(
      id: row["id"], accountID: AccountID(rawValue: row["account_id"]),
      purpose: ConnectionPurpose(rawValue: row["purpose"]) ?? .fetcher, bucket: row["bucket"],
      region: row["region"],
      prefix: row["prefix"], roleARN: row["role_arn"], externalID: row["external_id"],
      usesLegacyExternalID: row["legacy"], bucketOwner: row["bucket_owner"],
      kmsKeyARN: row["kms_key_arn"], createdAt: Date(micros: row["created_at"]))
  }

  // MARK: Connection checks

  public func recordConnectionCheck(_ check: ConnectionCheck, of account: AccountID)
    async throws -> Bool
  {
    let status = ConnectionStatus(check)
    return try await write { db in
      guard try Self.connection(db, check.connectionID, of: account) != nil else { return false }
      try db.execute(
        sql: """
          INSERT INTO connection_checks (connection_id, account_id, state, checked_at, body) VALUES (?, ?, ?, ?, ?)
          ON CONFLICT (connection_id) DO UPDATE SET state = excluded.state, checked_at = excluded.checked_at,
            body = excluded.body
          """,
        arguments: [
          check.connectionID, account.rawValue, status.state.rawValue, check.checkedAt.micros,
          StoreJSON.encode(check),
        ])
      return true
    }
  }

  public func connectionStatuses(of account: AccountID) async throws -> [ConnectionStatus] {
    try await read { db in
      try Row.fetchAll(
        db, sql: "SELECT * FROM connection_checks WHERE account_id = ? ORDER BY connection_id",
        arguments: [account.rawValue]
      ).map { row in
        ConnectionStatus(
          connectionID: row["connection_id"],
          state: ConnectionState(rawValue: row["state"]) ?? .unchecked,
          lastCheck: try StoreJSON.decode(
            ConnectionCheck.self, row["body"], table: "connection_checks"))
      }
    }
  }
}

extension SQLiteStore {
  // MARK: Fetchers

  public func addFetcher(_ fetcher: Fetcher, of account: AccountID, actor: String) async throws {
    let fetcher = fetcher.scoped(to: account)
    try await write { db in
      let connection = try Self.connection(db, fetcher.connectionID, of: fetcher.accountID)
      if let problem = StoreRules.problem(with: fetcher, on: connection) { throw problem }
      try Self.insert(db, fetcher, action: "fetcher.add", actor: actor)
    }
  }

  public func fetchers(of account: AccountID) async throws -> [Fetcher] {
    try await records(Fetcher.self, of: account, order: "created_at, id")
  }

  public func updateFetcher(_ fetcher: Fetcher, of account: AccountID, actor: String)
    async throws -> Bool
  {
    let fetcher = fetcher.scoped(to: account)
    return try await write { db in
      guard let before = try Self.record(db, Fetcher.self, fetcher.id, of: fetcher.accountID) else {
        return false
      }
      var after = fetcher
      after.status = before.status
      after.createdAt = before.createdAt
      let connection = try Self.connection(db, after.connectionID, of: after.accountID)
      if let problem = StoreRules.problem(with: after, on: connection) { throw problem }
      if after.name != before.name {
        try Self.requireFreeName(db, table: "fetchers", after.name, of: after.accountID)
      }
      try db.execute(
        sql: "UPDATE fetchers SET connection_id = ?, name = ?, body = ? WHERE id = ?",
        arguments: [after.connectionID, after.name, StoreJSON.encode(after), after.id])
      if !after.enabled {
        try db.execute(
          sql: "DELETE FROM leases WHERE name = ?", arguments: [StoreRules.fetcherLease(after.id)])
      }
      try Self.audit(
        db,
        AuditEntry(
          accountID: after.accountID, actor: actor, action: "fetcher.update", target: after.id,
          before: StoreJSON.audit(before), after: StoreJSON.audit(after)))
      return true
    }
  }

  public func removeFetcher(_ id: String, of account: AccountID, actor: String) async throws
    -> Bool
  {
    try await write { db in
      guard let before = try Self.record(db, Fetcher.self, id, of: account) else { return false }
      try db.execute(
        sql: "DELETE FROM ledger WHERE account_id = ? AND fetcher_id = ?",
        arguments: [account.rawValue, id])
      try db.execute(
        sql: "DELETE FROM reprocess_requests WHERE account_id = ? AND fetcher_id = ?",
        arguments: [account.rawValue, id])
      try db.execute(sql: "DELETE FROM fetchers WHERE id = ?", arguments: [id])
      try db.execute(
        sql: "DELETE FROM leases WHERE name = ?", arguments: [StoreRules.fetcherLease(id)])
      try Self.audit(
        db,
        AuditEntry(
          accountID: account, actor: actor, action: "fetcher.remove", target: id,
          before: StoreJSON.audit(before)))
      return true
    }
  }

  public func recordFetcherRun(_ id: String, of account: AccountID, status: FetcherStatus)
    async throws -> Bool
  {
    try await write { db in
      guard var fetcher = try Self.record(db, Fetcher.self, id, of: account) else { return false }
      fetcher.status = status
      try db.execute(
        sql: "UPDATE fetchers SET body = ? WHERE id = ?",
        arguments: [StoreJSON.encode(fetcher), id])
      return true
    }
  }

  /// One of the account's records by ID.
  static func record<R: StoredRecord>(
    _ db: Database, _ type: R.Type, _ id: String, of account: AccountID
  )
    throws -> R?
  {
    try String.fetchOne(
      db, sql: "SELECT body FROM \(R.table) WHERE id = ? AND account_id = ?",
      arguments: [id, account.rawValue]
    ).map { try StoreJSON.decode(R.self, $0, table: R.table) }
  }

  /// All the account's records of a kind, in `order`.
  func records<R: StoredRecord>(_ type: R.Type, of account: AccountID, order: String) async throws
    -> [R]
  {
    try await read { db in
      try String.fetchAll(
        db, sql: "SELECT body FROM \(R.table) WHERE account_id = ? ORDER BY \(order)",
        arguments: [account.rawValue]
      ).map { try StoreJSON.decode(R.self, $0, table: R.table) }
    }
  }

  /// Inserts a fetcher or an archive (its name free in the account) and audits it.
  static func insert<R: NamedRecord>(
    _ db: Database, _ record: R, action: String, actor: String
  ) throws {
    let table = R.table
    try requireFreeName(db, table: table, record.name, of: record.accountID)
    let body = StoreJSON.encode(record)
    try db.execute(
      sql:
        "INSERT INTO \(table) (id, account_id, connection_id, name, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      arguments: [
        record.id, record.accountID.rawValue, record.connectionID, record.name, body,
        record.createdAt.micros,
      ])
    try audit(
      db,
      AuditEntry(
        accountID: record.accountID, actor: actor, action: action, target: record.id,
        after: StoreJSON.audit(record)))
  }

  static func requireFreeName(_ db: Database, table: String, _ name: String, of account: AccountID)
    throws
  {
    let taken = try Bool.fetchOne(
      db, sql: "SELECT EXISTS (SELECT 1 FROM \(table) WHERE account_id = ? AND name = ?)",
      arguments: [account.rawValue, name])
    if taken == true { throw StoreRules.duplicateName(name, kind: String(table.dropLast())) }
  }

  // MARK: Archives

  public func addArchive(_ archive: Archive, of account: AccountID, actor: String) async throws {
    let archive = archive.scoped(to: account)
    try await write { db in
      let connection = try Self.connection(db, archive.connectionID, of: archive.accountID)
      if let problem = StoreRules.problem(with: archive, on: connection) { throw problem }
      try Self.insert(db, archive, action: "archive.add", actor: actor)
    }
  }

  public func archives(of account: AccountID) async throws -> [Archive] {
    try await records(Archive.self, of: account, order: "created_at, id")
  }

  public func updateArchive(_ archive: Archive, of account: AccountID, actor: String)
    async throws -> Bool
  {
    let archive = archive.scoped(to: account)
    return try await write { db in
      guard let before = try Self.record(db, Archive.self, archive.id, of: archive.accountID)
      else { return false }
      var after = archive
      after.archivedThrough = before.archivedThrough
      after.createdAt = before.createdAt
      let connection = try Self.connection(db, after.connectionID, of: after.accountID)
      if let problem = StoreRules.problem(with: after, on: connection) { throw problem }
      if after.name != before.name {
        try Self.requireFreeName(db, table: "archives", after.name, of: after.accountID)
      }
      try db.execute(
        sql: "UPDATE archives SET connection_id = ?, name = ?, body = ? WHERE id = ?",
        arguments: [after.connectionID, after.name, StoreJSON.encode(after), after.id])
      if !after.enabled {
        try db.execute(
          sql: "DELETE FROM leases WHERE name = ?", arguments: [StoreRules.fetcherLease(after.id)])
      }
      try Self.audit(
        db,
        AuditEntry(
          accountID: after.accountID, actor: actor, action: "archive.update", target: after.id,
          before: StoreJSON.audit(before), after: StoreJSON.audit(after)))
      return true
    }
  }

  public func removeArchive(_ id: String, of account: AccountID, actor: String) async throws
    -> Bool
  {
    try await write { db in
      guard let before = try Self.record(db, Archive.self, id, of: account) else { return false }
      let busy = try Bool.fetchOne(
        db,
        sql:
          "SELECT EXISTS (SELECT 1 FROM restore_jobs WHERE archive_id = ? AND state IN ('queued', 'running', 'paused'))",
        arguments: [id])
      if busy == true { throw StoreRules.archiveBusy(id) }
      try db.execute(
        sql:
          "DELETE FROM restore_objects WHERE job_id IN (SELECT id FROM restore_jobs WHERE archive_id = ?)",
        arguments: [id])
      for table in [
        "restore_jobs", "archive_batches", "archived_blocks", "archived_spans", "archive_runs",
        "archive_waiting",
      ] {
        try db.execute(sql: "DELETE FROM \(table) WHERE archive_id = ?", arguments: [id])
      }
      try db.execute(sql: "DELETE FROM archives WHERE id = ?", arguments: [id])
      try Self.audit(
        db,
        AuditEntry(
          accountID: account, actor: actor, action: "archive.remove", target: id,
          before: StoreJSON.audit(before)))
      return true
    }
  }

  public func advanceArchive(_ id: String, of account: AccountID, through: Date) async throws
    -> Bool
  {
    try await write { db in
      guard var archive = try Self.record(db, Archive.self, id, of: account) else { return false }
      if let current = archive.archivedThrough, current >= through { return true }
      archive.archivedThrough = through
      try db.execute(
        sql: "UPDATE archives SET body = ? WHERE id = ?",
        arguments: [StoreJSON.encode(archive), id])
      return true
    }
  }

  // MARK: Restore jobs

  public func createRestoreJob(_ job: RestoreJob, of account: AccountID, actor: String)
    async throws
  {
    let job = job.scoped(to: account)
    try await write { db in
      let archive = try Self.record(db, Archive.self, job.archiveID, of: job.accountID)
      if let problem = StoreRules.problem(with: job, archiveExists: archive != nil) {
        throw problem
      }
      try db.execute(
        sql:
          "INSERT INTO restore_jobs (id, account_id, archive_id, state, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        arguments: [
          job.id, job.accountID.rawValue, job.archiveID, job.state.rawValue, StoreJSON.encode(job),
          job.createdAt.micros,
        ])
      try Self.audit(
        db,
        AuditEntry(
          accountID: job.accountID, actor: actor, action: "restore.create", target: job.id,
          after: StoreJSON.audit(job)))
    }
  }

  public func restoreJobs(of account: AccountID) async throws -> [RestoreJob] {
    try await records(RestoreJob.self, of: account, order: "created_at DESC, id DESC")
  }

  public func restoreJob(_ id: String, of account: AccountID) async throws -> RestoreJob? {
    try await read { db in try Self.record(db, RestoreJob.self, id, of: account) }
  }

  public func updateRestoreJob(_ job: RestoreJob, of account: AccountID) async throws -> Bool {
    let job = job.scoped(to: account)
    return try await write { db in
      guard let current = try Self.record(db, RestoreJob.self, job.id, of: job.accountID),
        !current.state.isFinal
      else { return false }
      var next = job
      next.archiveID = current.archiveID
      next.from = current.from
      next.to = current.to
      next.requestedBy = current.requestedBy
      next.createdAt = current.createdAt
      try db.execute(
        sql: "UPDATE restore_jobs SET state = ?, body = ? WHERE id = ?",
        arguments: [next.state.rawValue, StoreJSON.encode(next), next.id])
      return true
    }
  }

  public func cancelRestoreJob(_ id: String, of account: AccountID, actor: String) async throws
    -> Bool
  {
    try await write { db in
      guard let before = try Self.record(db, RestoreJob.self, id, of: account),
        !before.state.isFinal
      else {
        return false
      }
      let after = StoreRules.cancelled(before)
      try db.execute(
        sql: "UPDATE restore_jobs SET state = ?, body = ? WHERE id = ?",
        arguments: [after.state.rawValue, StoreJSON.encode(after), id])
      try Self.audit(
        db,
        AuditEntry(
          accountID: account, actor: actor, action: "restore.cancel", target: id,
          before: StoreJSON.audit(before), after: StoreJSON.audit(after)))
      return true
    }
  }

}
