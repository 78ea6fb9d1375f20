import FerryCore
import Foundation
import Logging
import PostgresNIO

/// Connections (role bindings); fetchers, archives and restore jobs are in the same
/// concern, below.
extension PostgresStore {
  // MARK: Connections

  public func addConnection(_ connection: Connection, of account: AccountID, actor: String)
    async throws
  {
    let logger = self.logger
    try await transaction { tx in
      guard
        let owner = try await Self.execute(
          tx, "SELECT * FROM accounts WHERE id = $1", [account.rawValue], logger: logger
        ).first.map({ try self.account($0) })
      else { throw StoreRules.noSuchAccount(account) }
      let c = StoreRules.placed(connection, in: owner)
      _ = try await Self.execute(
        tx,
        """
        INSERT INTO connections (id, account_id, purpose, bucket, region, prefix, role_arn, external_id, legacy,
        bucket_owner, kms_key_arn, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        """,
        [
          c.id, c.accountID.rawValue, c.purpose.rawValue, c.bucket, c.region, c.prefix, c.roleARN,
          c.externalID, c.usesLegacyExternalID, c.bucketOwner, c.kmsKeyARN, c.createdAt.micros,
        ], logger: logger)
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: c.accountID, actor: actor, action: "connection.add", target: c.id,
          after: StoreJSON.audit(c)), logger: logger)
    }
  }

  public func connections(of account: AccountID) async throws -> [Connection] {
    let rows = try await query(
      "SELECT * FROM connections WHERE account_id = $1 ORDER BY created_at, id",
      Self.binds([account.rawValue]))
    do { return try rows.map(Self.connection) } catch { throw map(error) }
  }

  public func removeConnection(_ id: String, of account: AccountID, actor: String) async throws
    -> Bool
  {
    let logger = self.logger
    return try await transaction { tx in
      // Another tenant's connection does not exist for this account: check ownership
      // before anything that could name that tenant's fetchers.
      guard try await Self.connection(tx, id, of: account, logger: logger) != nil else {
        return false
      }
      let users = try await Self.execute(
        tx,
        """
        SELECT 'fetcher "' || name || '"' AS user FROM fetchers WHERE connection_id = $1 AND account_id = $2
        UNION ALL SELECT 'archive "' || name || '"' FROM archives WHERE connection_id = $1 AND account_id = $2
        """, [id, account.rawValue], logger: logger
      ).map { try $0["user"].decode(String.self) }
      if !users.isEmpty { throw StoreRules.connectionInUse(id, by: users) }
      _ = try await Self.execute(
        tx, "DELETE FROM connection_checks WHERE connection_id = $1", [id], logger: logger)
      let rows = try await Self.execute(
        tx, "DELETE FROM connections WHERE id = $1 AND account_id = $2 RETURNING *",
        [id, account.rawValue], logger: logger)
      guard let row = rows.first else { return false }
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: account, actor: actor, action: "connection.remove", target: id,
          before: StoreJSON.audit(try Self.connection(row))),
        logger: logger)
      return true
    }
  }

  /// One of the account's connections, inside a transaction.
  static func connection(
    _ tx: PostgresConnection, _ id: String, of account: AccountID, logger: Logger
  ) async throws -> Connection? {
    try await execute(
      tx, "SELECT * FROM connections WHERE id = $1 AND account_id = $2", [id, account.rawValue],
      logger: logger
    ).first.map(connection)
  }

  static func connection(_ row: PostgresRandomAccessRow) throws -> Connection {
    Connection(
      id: try row["id"].decode(String.self),
      accountID: AccountID(rawValue: try row["account_id"].decode(String.self)),
      purpose: ConnectionPurpose(rawValue: try row["purpose"].decode(String.self)) ?? .fetcher,
      bucket: try row["bucket"].decode(String.self), region: try row["region"].decode(String.self),
      prefix: try row["prefix"].decode(String.self),
      roleARN: try row["role_arn"].decode(String.self),
      externalID: try row["external_id"].decode(String.self),
      usesLegacyExternalID: try row["legacy"].decode(Bool.self),
      bucketOwner: try row["bucket_owner"].decode(String.self),
      kmsKeyARN: try row["kms_key_arn"].decode(String?.self),
      createdAt: Date(micros: try row["created_at"].decode(Int64.self)))
  }

  // MARK: Connection checks

  public func recordConnectionCheck(_ check: ConnectionCheck, of account: AccountID)
    async throws -> Bool
  {
    let logger = self.logger
    let status = ConnectionStatus(check)
    return try await transaction { tx in
      guard try await Self.connection(tx, check.connectionID, of: account, logger: logger) != nil
      else { return false }
      _ = try await Self.execute(
        tx,
        """
        INSERT INTO connection_checks (connection_id, account_id, state, checked_at, body) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (connection_id) DO UPDATE SET state = excluded.state, checked_at = excluded.checked_at,
        body = excluded.body
        """,
        [
          check.connectionID, account.rawValue, status.state.rawValue, check.checkedAt.micros,
          StoreJSON.encode(check),
        ], logger: logger)
      return true
    }
  }

  public func connectionStatuses(of account: AccountID) async throws -> [ConnectionStatus] {
    let rows = try await query(
      "SELECT * FROM connection_checks WHERE account_id = $1 ORDER BY connection_id",
      Self.binds([account.rawValue]))
    do {
      return try rows.map { row in
        ConnectionStatus(
          connectionID: try row["connection_id"].decode(String.self),
          state: ConnectionState(rawValue: try row["state"].decode(String.self)) ?? .unchecked,
          lastCheck: try StoreJSON.decode(
            ConnectionCheck.self, try row["body"].decode(String.self), table: "connection_checks"))
      }
    } catch {
      throw map(error)
    }
  }
}

extension PostgresStore {
  // MARK: Fetchers

  public func addFetcher(_ fetcher: Fetcher, of account: AccountID, actor: String) async throws {
    let fetcher = fetcher.scoped(to: account)
    let logger = self.logger
    try await transaction { tx in
      let connection = try await Self.connection(
        tx, fetcher.connectionID, of: fetcher.accountID, logger: logger)
      if let problem = StoreRules.problem(with: fetcher, on: connection) { throw problem }
      try await Self.insert(
        tx, fetcher, action: "fetcher.add", actor: actor, logger: logger)
    }
  }

  public func fetchers(of account: AccountID) async throws -> [Fetcher] {
    try await records(Fetcher.self, of: account, order: "created_at, id")
  }

  public func updateFetcher(_ fetcher: Fetcher, of account: AccountID, actor: String)
    async throws -> Bool
  {
    let fetcher = fetcher.scoped(to: account)
    let logger = self.logger
    return try await transaction { tx in
      guard
        let before = try await Self.record(
          tx, Fetcher.self, fetcher.id, of: fetcher.accountID, logger: logger)
      else { return false }
      var after = fetcher
      after.status = before.status
      after.createdAt = before.createdAt
      let connection = try await Self.connection(
        tx, after.connectionID, of: after.accountID, logger: logger)
      if let problem = StoreRules.problem(with: after, on: connection) { throw problem }
      if after.name != before.name {
        try await Self.requireFreeName(
          tx, table: "fetchers", after.name, of: after.accountID, logger: logger)
      }
      _ = try await Self.execute(
        tx, "UPDATE fetchers SET connection_id = $1, name = $2, body = $3 WHERE id = $4",
        [after.connectionID, after.name, StoreJSON.encode(after), after.id], logger: logger)
      if !after.enabled {
        _ = try await Self.execute(
          tx, "DELETE FROM leases WHERE name = $1", [StoreRules.fetcherLease(after.id)],
          logger: logger)
      }
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: after.accountID, actor: actor, action: "fetcher.update", target: after.id,
          before: StoreJSON.audit(before), after: StoreJSON.audit(after)), logger: logger)
      return true
    }
  }

  public func removeFetcher(_ id: String, of account: AccountID, actor: String) async throws
    -> Bool
  {
    let logger = self.logger
    return try await transaction { tx in
      guard let before = try await Self.record(tx, Fetcher.self, id, of: account, logger: logger)
      else {
        return false
      }
      _ = try await Self.execute(
        tx, "DELETE FROM ledger WHERE account_id = $1 AND fetcher_id = $2", [account.rawValue, id],
        logger: logger)
      _ = try await Self.execute(
        tx, "DELETE FROM reprocess_requests WHERE account_id = $1 AND fetcher_id = $2",
        [account.rawValue, id], logger: logger)
      _ = try await Self.execute(tx, "DELETE FROM fetchers WHERE id = $1", [id], logger: logger)
      _ = try await Self.execute(
        tx, "DELETE FROM leases WHERE name = $1", [StoreRules.fetcherLease(id)], logger: logger)
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: account, actor: actor, action: "fetcher.remove", target: id,
          before: StoreJSON.audit(before)), logger: logger)
      return true
    }
  }

  public func recordFetcherRun(_ id: String, of account: AccountID, status: FetcherStatus)
    async throws -> Bool
  {
    let logger = self.logger
    return try await transaction { tx in
      guard var fetcher = try await Self.record(tx, Fetcher.self, id, of: account, logger: logger)
      else {
        return false
      }
      fetcher.status = status
      _ = try await Self.execute(
        tx, "UPDATE fetchers SET body = $1 WHERE id = $2", [StoreJSON.encode(fetcher), id],
        logger: logger)
      return true
    }
  }

  /// Inserts a fetcher or an archive (its name free in the account) and audits it.
  static func insert<R: NamedRecord>(
    _ tx: PostgresConnection, _ record: R, action: String, actor: String, logger: Logger
  ) async throws {
    let table = R.table
    try await requireFreeName(tx, table: table, record.name, of: record.accountID, logger: logger)
    let body = StoreJSON.encode(record)
    _ = try await execute(
      tx,
      "INSERT INTO \(table) (id, account_id, connection_id, name, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
      [
        record.id, record.accountID.rawValue, record.connectionID, record.name, body,
        record.createdAt.micros,
      ], logger: logger)
    try await audit(
      tx,
      AuditEntry(
        accountID: record.accountID, actor: actor, action: action, target: record.id,
        after: StoreJSON.audit(record)),
      logger: logger)
  }

  static func requireFreeName(
    _ tx: PostgresConnection, table: String, _ name: String, of account: AccountID, logger: Logger
  ) async throws {
    let rows = try await execute(
      tx, "SELECT 1 FROM \(table) WHERE account_id = $1 AND name = $2", [account.rawValue, name],
      logger: logger)
    if !rows.isEmpty { throw StoreRules.duplicateName(name, kind: String(table.dropLast())) }
  }

  // MARK: Archives

  public func addArchive(_ archive: Archive, of account: AccountID, actor: String) async throws {
    let archive = archive.scoped(to: account)
    let logger = self.logger
    try await transaction { tx in
      let connection = try await Self.connection(
        tx, archive.connectionID, of: archive.accountID, logger: logger)
      if let problem = StoreRules.problem(with: archive, on: connection) { throw problem }
      try await Self.insert(
        tx, archive, action: "archive.add", actor: actor, logger: logger)
    }
  }

  public func archives(of account: AccountID) async throws -> [Archive] {
    try await records(Archive.self, of: account, order: "created_at, id")
  }

  public func updateArchive(_ archive: Archive, of account: AccountID, actor: String)
    async throws -> Bool
  {
    let archive = archive.scoped(to: account)
    let logger = self.logger
    return try await transaction { tx in
      guard
        let before = try await Self.record(
          tx, Archive.self, archive.id, of: archive.accountID, logger: logger)
      else { return false }
      var after = archive
      after.archivedThrough = before.archivedThrough
      after.createdAt = before.createdAt
      let connection = try await Self.connection(
        tx, after.connectionID, of: after.accountID, logger: logger)
      if let problem = StoreRules.problem(with: after, on: connection) { throw problem }
      if after.name != before.name {
        try await Self.requireFreeName(
          tx, table: "archives", after.name, of: after.accountID, logger: logger)
      }
      _ = try await Self.execute(
        tx, "UPDATE archives SET connection_id = $1, name = $2, body = $3 WHERE id = $4",
        [after.connectionID, after.name, StoreJSON.encode(after), after.id], logger: logger)
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: after.accountID, actor: actor, action: "archive.update", target: after.id,
          before: StoreJSON.audit(before), after: StoreJSON.audit(after)), logger: logger)
      return true
    }
  }

  public func removeArchive(_ id: String, of account: AccountID, actor: String) async throws
    -> Bool
  {
    let logger = self.logger
    return try await transaction { tx in
      guard let before = try await Self.record(tx, Archive.self, id, of: account, logger: logger)
      else {
        return false
      }
      let busy = try await Self.execute(
        tx,
        "SELECT 1 FROM restore_jobs WHERE archive_id = $1 AND state IN ('queued', 'running', 'paused')",
        [id], logger: logger)
      if !busy.isEmpty { throw StoreRules.archiveBusy(id) }
      _ = try await Self.execute(
        tx,
        "DELETE FROM restore_objects WHERE job_id IN (SELECT id FROM restore_jobs WHERE archive_id = $1)",
        [id], logger: logger)
      for table in [
        "restore_jobs", "archive_batches", "archived_blocks", "archived_spans", "archive_runs",
        "archive_waiting",
      ] {
        _ = try await Self.execute(
          tx, "DELETE FROM \(table) WHERE archive_id = $1", [id], logger: logger)
      }
      _ = try await Self.execute(tx, "DELETE FROM archives WHERE id = $1", [id], logger: logger)
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: account, actor: actor, action: "archive.remove", target: id,
          before: StoreJSON.audit(before)), logger: logger)
      return true
    }
  }

  public func advanceArchive(_ id: String, of account: AccountID, through: Date) async throws
    -> Bool
  {
    let logger = self.logger
    return try await transaction { tx in
      guard var archive = try await Self.record(tx, Archive.self, id, of: account, logger: logger)
      else {
        return false
      }
      if let current = archive.archivedThrough, current >= through { return true }
      archive.archivedThrough = through
      _ = try await Self.execute(
        tx, "UPDATE archives SET body = $1 WHERE id = $2", [StoreJSON.encode(archive), id],
        logger: logger)
      return true
    }
  }

  // MARK: Restore jobs

  public func createRestoreJob(_ job: RestoreJob, of account: AccountID, actor: String)
    async throws
  {
    let job = job.scoped(to: account)
    let logger = self.logger
    try await transaction { tx in
      // FOR UPDATE on the archive: a concurrent removal waits for this job, then sees it.
      let archive = try await Self.record(
        tx, Archive.self, job.archiveID, of: job.accountID, logger: logger)
      if let problem = StoreRules.problem(with: job, archiveExists: archive != nil) {
        throw problem
      }
      _ = try await Self.execute(
        tx,
        "INSERT INTO restore_jobs (id, account_id, archive_id, state, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        [
          job.id, job.accountID.rawValue, job.archiveID, job.state.rawValue, StoreJSON.encode(job),
          job.createdAt.micros,
        ], logger: logger)
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: job.accountID, actor: actor, action: "restore.create", target: job.id,
          after: StoreJSON.audit(job)), logger: logger)
    }
  }

  public func restoreJobs(of account: AccountID) async throws -> [RestoreJob] {
    try await records(RestoreJob.self, of: account, order: "created_at DESC, id DESC")
  }

  public func restoreJob(_ id: String, of account: AccountID) async throws -> RestoreJob? {
    try await records(RestoreJob.self, of: account, id: id).first
  }

  public func updateRestoreJob(_ job: RestoreJob, of account: AccountID) async throws -> Bool {
    let job = job.scoped(to: account)
    let logger = self.logger
    return try await transaction { tx in
      guard
        let current = try await Self.record(
          tx, RestoreJob.self, job.id, of: job.accountID, logger: logger),
        !current.state.isFinal
      else { return false }
      var next = job
      next.archiveID = current.archiveID
      next.from = current.from
      next.to = current.to
      next.requestedBy = current.requestedBy
      next.createdAt = current.createdAt
      _ = try await Self.execute(
        tx, "UPDATE restore_jobs SET state = $1, body = $2 WHERE id = $3",
        [next.state.rawValue, StoreJSON.encode(next), next.id], logger: logger)
      return true
    }
  }

  public func cancelRestoreJob(_ id: String, of account: AccountID, actor: String) async throws
    -> Bool
  {
    let logger = self.logger
    return try await transaction { tx in
      guard
        let before = try await Self.record(tx, RestoreJob.self, id, of: account, logger: logger),
        !before.state.isFinal
      else { return false }
      let after = StoreRules.cancelled(before)
      _ = try await Self.execute(
        tx, "UPDATE restore_jobs SET state = $1, body = $2 WHERE id = $3",
        [after.state.rawValue, StoreJSON.encode(after), id], logger: logger)
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: account, actor: actor, action: "restore.cancel", target: id,
          before: StoreJSON.audit(before), after: StoreJSON.audit(after)), logger: logger)
      return true
    }
  }

  // MARK: Helpers

  /// One of the account's records by ID, locked for the rest of the transaction.
  static func record<R: StoredRecord>(
    _ tx: PostgresConnection, _ type: R.Type, _ id: String, of account: AccountID, logger: Logger
  ) async throws -> R? {
    try await execute(
      tx, "SELECT body FROM \(R.table) WHERE id = $1 AND account_id = $2 FOR UPDATE",
      [id, account.rawValue], logger: logger
    ).first.map { try StoreJSON.decode(R.self, try $0["body"].decode(String.self), table: R.table) }
  }

  /// The account's records of a kind (or the one with `id`), in `order`.
  func records<R: StoredRecord>(
    _ type: R.Type, of account: AccountID, id: String? = nil, order: String = "id"
  ) async throws -> [R] {
    let rows = try await query(
      "SELECT body FROM \(R.table) WHERE account_id = $1 AND ($2::text IS NULL OR id = $2) ORDER BY \(order)",
      Self.binds([account.rawValue, id]))
    do {
      return try rows.map {
        try StoreJSON.decode(R.self, try $0["body"].decode(String.self), table: R.table)
      }
    } catch {
      throw map(error)
    }
  }
}
