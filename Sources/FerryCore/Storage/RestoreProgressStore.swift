import Foundation

/// What a restore needs from the store: the objects it reads (listed once, from the
/// manifests), each recorded with what reading it gave, and the events it brings back,
/// stored once whatever is already in search. Restored events are kept in blocks marked
/// with their job: retention by event time skips them (they leave when the job's expiry
/// passes, unless kept), and archives never take them again.
public protocol RestoreProgressStore: Sendable {
  /// Records the objects a job reads and their totals, once, and starts the job (queued
  /// becomes running); false if the job is not the account's, is finished, or was planned
  /// before.
  func planRestore(jobID: String, objects: [RestoreObject], of account: AccountID) async throws
    -> Bool
  /// A job's objects in key order after `afterKey`, at most `limit` (1 to 10,000); only
  /// those in `state` when it is given.
  func restoreObjects(
    jobID: String, state: RestoreObjectState?, afterKey: String?, limit: Int,
    of account: AccountID
  ) async throws -> [RestoreObject]
  /// Stores restored events that are not in search already (same fetcher, object version
  /// and offset), in blocks marked as the job's and expiring with it, and counts them in
  /// the job, in one transaction; returns how many were stored. Repeating a call stores
  /// nothing twice. Throws if the job is not the account's or is finished.
  func commitRestored(_ events: [SourcedEvent], jobID: String, of account: AccountID)
    async throws -> Int
  /// Records how reading a planned (or frozen) object went and adds it to the job's
  /// counters, in one transaction; false if the object was recorded before.
  func finishRestoreObject(
    jobID: String, key: String, outcome: RestoreObjectOutcome, of account: AccountID
  ) async throws -> Bool
  /// Ends a running job: succeeded when `error` is nil, failed with it otherwise; false if
  /// the job is not running (paused or cancelled meanwhile).
  func finishRestore(jobID: String, error: String?, of account: AccountID) async throws -> Bool
  /// Pauses a queued or running job, or resumes a paused one (it is queued again), audited
  /// (`restore.pause`, `restore.resume`); false if the job is not in a state to do so.
  func setRestorePaused(_ paused: Bool, jobID: String, of account: AccountID, actor: String)
    async throws -> Bool
  /// Sets when a job's restored events leave search (nil: they are kept), audited
  /// (`restore.expiry`); false if there is no such job.
  func setRestoreExpiry(_ expiresAt: Date?, jobID: String, of account: AccountID, actor: String)
    async throws -> Bool
  /// Removes restored events whose job's expiry is before `now`; returns how many.
  func deleteExpiredRestores(of account: AccountID, now: Date) async throws -> Int
}
