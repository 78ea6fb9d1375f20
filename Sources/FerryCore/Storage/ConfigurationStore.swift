import Foundation

/// What each account configured: connections (role bindings), fetchers, archives and
/// restore jobs. Every call names its account; configuration changes are audited in the
/// same transaction.
public protocol ConfigurationStore: Sendable {
  // MARK: Connections (role bindings); each change is audited in the same transaction
  /// Adds a connection to `account` (whatever account the record names). Unless it is a
  /// legacy import, it uses the account's generated external ID, whatever the record says.
  func addConnection(_ connection: Connection, of account: AccountID, actor: String) async throws
  func connections(of account: AccountID) async throws -> [Connection]
  func removeConnection(_ id: String, of account: AccountID, actor: String) async throws -> Bool

  // MARK: Fetchers; configuration changes are audited in the same transaction
  /// Adds a fetcher on one of the account's fetcher connections.
  func addFetcher(_ fetcher: Fetcher, of account: AccountID, actor: String) async throws
  func fetchers(of account: AccountID) async throws -> [Fetcher]
  /// Replaces a fetcher's configuration, keeping its status; false if there is no such
  /// fetcher in the account.
  func updateFetcher(_ fetcher: Fetcher, of account: AccountID, actor: String) async throws
    -> Bool
  /// Removes a fetcher and its ledger (its events stay until retention removes them).
  func removeFetcher(_ id: String, of account: AccountID, actor: String) async throws -> Bool
  /// Records how a run went: the scheduler's bookkeeping, not audited.
  func recordFetcherRun(_ id: String, of account: AccountID, status: FetcherStatus) async throws
    -> Bool

  // MARK: Archives and restore jobs
  /// Adds an archive on one of the account's archive connections.
  func addArchive(_ archive: Archive, of account: AccountID, actor: String) async throws
  func archives(of account: AccountID) async throws -> [Archive]
  /// Replaces an archive's configuration (name, connection, fetchers, paused or not),
  /// keeping its watermark; audited. False if there is no such archive in the account.
  func updateArchive(_ archive: Archive, of account: AccountID, actor: String) async throws
    -> Bool
  /// Removes an archive and the history of its finished restore jobs; refused while a
  /// restore from it is queued or running.
  func removeArchive(_ id: String, of account: AccountID, actor: String) async throws -> Bool
  /// Moves the archive's watermark forward (never back); false if there is no such archive.
  func advanceArchive(_ id: String, of account: AccountID, through: Date) async throws -> Bool
  /// Queues a restore of one of the account's archives (audited).
  func createRestoreJob(_ job: RestoreJob, of account: AccountID, actor: String) async throws
  /// The account's restore jobs, newest first.
  func restoreJobs(of account: AccountID) async throws -> [RestoreJob]
  func restoreJob(_ id: String, of account: AccountID) async throws -> RestoreJob?
  /// Saves a job's progress; false if it does not exist or has already finished (a
  /// cancelled job stays cancelled).
  func updateRestoreJob(_ job: RestoreJob, of account: AccountID) async throws -> Bool
  /// Cancels a queued or running job (audited); false if there is none to cancel.
  func cancelRestoreJob(_ id: String, of account: AccountID, actor: String) async throws -> Bool
}
