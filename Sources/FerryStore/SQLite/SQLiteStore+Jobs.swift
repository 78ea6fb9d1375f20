import FerryCore
import Foundation
import GRDB

/// What fetchers and archives have in common in storage: a name unique in the account and
/// a connection.
protocol NamedRecord: Encodable {
  var id: String { get }
  var accountID: AccountID { get }
  var connectionID: String { get }
  var name: String { get }
  var createdAt: Date { get }
}

extension Fetcher: NamedRecord {}
extension Archive: NamedRecord {}

/// Fetchers, archives and restore jobs. Each row keeps its record as JSON beside the
/// columns queries need (account, connection, name, state).
extension SQLiteStore {
  // MARK: Fetchers

  public func addFetcher(_ fetcher: Fetcher, actor: String) async throws {
    try await write { db in
      let connection = try Self.connection(db, fetcher.connectionID, of: fetcher.accountID)
      if let problem = StoreRules.problem(with: fetcher, on: connection) { throw problem }
      try Self.insert(db, fetcher, into: "fetchers", action: "fetcher.add", actor: actor)
    }
  }

  public func fetchers(of account: AccountID) async throws -> [Fetcher] {
    try await read { db in
      try String.fetchAll(
        db, sql: "SELECT body FROM fetchers WHERE account_id = ? ORDER BY created_at, id",
        arguments: [account.rawValue]
      ).map { try StoreJSON.decode(Fetcher.self, $0, table: "fetchers") }
    }
  }

  public func updateFetcher(_ fetcher: Fetcher, actor: String) async throws -> Bool {
    try await write { db in
      guard let before = try Self.fetcher(db, fetcher.id, of: fetcher.accountID) else {
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
      try Self.audit(
        db,
        AuditEntry(
          accountID: after.accountID, actor: actor, action: "fetcher.update", target: after.id,
          before: StoreJSON.encode(before), after: StoreJSON.encode(after)))
      return true
    }
  }

  public func removeFetcher(_ id: String, of account: AccountID, actor: String) async throws
    -> Bool
  {
    try await write { db in
      guard let before = try Self.fetcher(db, id, of: account) else { return false }
      try db.execute(
        sql: "DELETE FROM ledger WHERE account_id = ? AND fetcher_id = ?",
        arguments: [account.rawValue, id])
      try db.execute(sql: "DELETE FROM fetchers WHERE id = ?", arguments: [id])
      try Self.audit(
        db,
        AuditEntry(
          accountID: account, actor: actor, action: "fetcher.remove", target: id,
          before: StoreJSON.encode(before)))
      return true
    }
  }

  public func recordFetcherRun(_ id: String, of account: AccountID, status: FetcherStatus)
    async throws -> Bool
  {
    try await write { db in
      guard var fetcher = try Self.fetcher(db, id, of: account) else { return false }
      fetcher.status = status
      try db.execute(
        sql: "UPDATE fetchers SET body = ? WHERE id = ?",
        arguments: [StoreJSON.encode(fetcher), id])
      return true
    }
  }

  static func fetcher(_ db: Database, _ id: String, of account: AccountID) throws -> Fetcher? {
    try String.fetchOne(
      db, sql: "SELECT body FROM fetchers WHERE id = ? AND account_id = ?",
      arguments: [id, account.rawValue]
    ).map { try StoreJSON.decode(Fetcher.self, $0, table: "fetchers") }
  }

  /// Inserts a fetcher or an archive (its name free in the account) and audits it.
  static func insert<R: NamedRecord>(
    _ db: Database, _ record: R, into table: String, action: String, actor: String
  ) throws {
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
        accountID: record.accountID, actor: actor, action: action, target: record.id, after: body))
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

  public func addArchive(_ archive: Archive, actor: String) async throws {
    try await write { db in
      let connection = try Self.connection(db, archive.connectionID, of: archive.accountID)
      if let problem = StoreRules.problem(with: archive, on: connection) { throw problem }
      try Self.insert(db, archive, into: "archives", action: "archive.add", actor: actor)
    }
  }

  public func archives(of account: AccountID) async throws -> [Archive] {
    try await read { db in
      try String.fetchAll(
        db, sql: "SELECT body FROM archives WHERE account_id = ? ORDER BY created_at, id",
        arguments: [account.rawValue]
      ).map { try StoreJSON.decode(Archive.self, $0, table: "archives") }
    }
  }

  public func removeArchive(_ id: String, of account: AccountID, actor: String) async throws
    -> Bool
  {
    try await write { db in
      guard let before = try Self.archive(db, id, of: account) else { return false }
      let busy = try Bool.fetchOne(
        db,
        sql:
          "SELECT EXISTS (SELECT 1 FROM restore_jobs WHERE archive_id = ? AND state IN ('queued', 'running'))",
        arguments: [id])
      if busy == true { throw StoreRules.archiveBusy(id) }
      try db.execute(sql: "DELETE FROM restore_jobs WHERE archive_id = ?", arguments: [id])
      try db.execute(sql: "DELETE FROM archives WHERE id = ?", arguments: [id])
      try Self.audit(
        db,
        AuditEntry(
          accountID: account, actor: actor, action: "archive.remove", target: id,
          before: StoreJSON.encode(before)))
      return true
    }
  }

  public func advanceArchive(_ id: String, of account: AccountID, through: Date) async throws
    -> Bool
  {
    try await write { db in
      guard var archive = try Self.archive(db, id, of: account) else { return false }
      if let current = archive.archivedThrough, current >= through { return true }
      archive.archivedThrough = through
      try db.execute(
        sql: "UPDATE archives SET body = ? WHERE id = ?",
        arguments: [StoreJSON.encode(archive), id])
      return true
    }
  }

  static func archive(_ db: Database, _ id: String, of account: AccountID) throws -> Archive? {
    try String.fetchOne(
      db, sql: "SELECT body FROM archives WHERE id = ? AND account_id = ?",
      arguments: [id, account.rawValue]
    ).map { try StoreJSON.decode(Archive.self, $0, table: "archives") }
  }

  // MARK: Restore jobs

  public func createRestoreJob(_ job: RestoreJob, actor: String) async throws {
    try await write { db in
      let archive = try Self.archive(db, job.archiveID, of: job.accountID)
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
          after: StoreJSON.encode(job)))
    }
  }

  public func restoreJobs(of account: AccountID) async throws -> [RestoreJob] {
    try await read { db in
      try String.fetchAll(
        db,
        sql: "SELECT body FROM restore_jobs WHERE account_id = ? ORDER BY created_at DESC, id DESC",
        arguments: [account.rawValue]
      ).map { try StoreJSON.decode(RestoreJob.self, $0, table: "restore_jobs") }
    }
  }

  public func restoreJob(_ id: String, of account: AccountID) async throws -> RestoreJob? {
    try await read { db in try Self.restoreJob(db, id, of: account) }
  }

  public func updateRestoreJob(_ job: RestoreJob) async throws -> Bool {
    try await write { db in
      guard let current = try Self.restoreJob(db, job.id, of: job.accountID),
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
      guard let before = try Self.restoreJob(db, id, of: account), !before.state.isFinal else {
        return false
      }
      var after = before
      after.state = .cancelled
      after.updatedAt = Date()
      try db.execute(
        sql: "UPDATE restore_jobs SET state = ?, body = ? WHERE id = ?",
        arguments: [after.state.rawValue, StoreJSON.encode(after), id])
      try Self.audit(
        db,
        AuditEntry(
          accountID: account, actor: actor, action: "restore.cancel", target: id,
          before: StoreJSON.encode(before), after: StoreJSON.encode(after)))
      return true
    }
  }

  static func restoreJob(_ db: Database, _ id: String, of account: AccountID) throws -> RestoreJob?
  {
    try String.fetchOne(
      db, sql: "SELECT body FROM restore_jobs WHERE id = ? AND account_id = ?",
      arguments: [id, account.rawValue]
    ).map { try StoreJSON.decode(RestoreJob.self, $0, table: "restore_jobs") }
  }
}
