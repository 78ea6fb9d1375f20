import FerryCore
import Foundation
import Logging

/// Runs one restore job against its archive's bucket: lists what it reads once (from the
/// manifests), then reads the objects not read yet, in key order, each recorded with what
/// it gave as soon as it is done, so a crash or a pause resumes at the first object not
/// recorded (events of an object read again are not stored twice). It looks at the job
/// between objects, so a pause or a cancel takes effect within one object.
public struct ArchiveRestorer: Sendable {
  public let store: any Store
  public let jobID: String
  public let account: AccountID
  public let bucket: any ArchiveBucket
  public let layout: ArchiveLayout
  /// Called between objects: throws to stop (a lost lease, a cancelled task).
  public let check: @Sendable () async throws -> Void
  public var logger = Logger(label: "ferry.restore")

  public init(
    store: any Store, job: RestoreJob, bucket: any ArchiveBucket, layout: ArchiveLayout,
    check: @escaping @Sendable () async throws -> Void = {}
  ) {
    self.store = store
    self.jobID = job.id
    self.account = job.accountID
    self.bucket = bucket
    self.layout = layout
    self.check = check
  }

  /// How a run ended.
  public enum Ending: Sendable, Equatable {
    /// Every object was read; the job succeeded.
    case finished
    /// The job was paused, cancelled or removed meanwhile.
    case stopped
    /// Everything readable was read; these objects wait for S3 to thaw them.
    case thawing(objects: Int)
  }

  /// Days a thawed copy stays readable in S3.
  public static let thawDays = 7

  /// Runs the job until it is finished or stopped. Throws ``ArchiveReadError`` when the
  /// bucket cannot be listed (the caller decides whether to fail the job or try later).
  public func run() async throws -> Ending {
    guard var job = try await store.restoreJob(jobID, of: account), Self.isRunnable(job)
    else { return .stopped }
    let filter = try Self.filter(of: job)
    if job.objectsTotal == nil {
      let plan = try await RestorePlan.make(
        bucket: bucket, layout: layout, account: account, from: job.from, to: job.to)
      _ = try await store.planRestore(jobID: jobID, objects: plan.objects, of: account)
      logger.info(
        "restore \(jobID): \(plan.readable.count) objects to read, \(plan.bytes) bytes, up to \(plan.events) events; \(plan.frozen.count) frozen, \(plan.problems.count) manifests unreadable"
      )
    } else if job.state == .queued {
      // Resumed after a pause: running again.
      job.state = .running
      _ = try await store.updateRestoreJob(job, of: account)
    }
    let reader = ArchiveObjectReader(bucket: bucket, account: account)
    var after: String?
    while true {
      let page = try await store.restoreObjects(
        jobID: jobID, state: .planned, afterKey: after, limit: 100, of: account)
      guard !page.isEmpty else { break }
      for object in page {
        try await check()
        guard let current = try await store.restoreJob(jobID, of: account),
          current.state == .running
        else { return .stopped }
        let outcome = try await restore(object, reader: reader, filter: filter)
        if let error = outcome.error { logger.warning("restore \(jobID): \(object.key): \(error)") }
        _ = try await store.finishRestoreObject(
          jobID: jobID, key: object.key, outcome: outcome, of: account)
        after = object.key
      }
    }
    if try await store.restoreJob(jobID, of: account)?.thaw == true {
      let waiting = try await thawFrozen(reader: reader, filter: filter)
      if waiting > 0 { return .thawing(objects: waiting) }
    }
    return try await store.finishRestore(jobID: jobID, error: nil, of: account)
      ? .finished : .stopped
  }

  /// Reads one object into search, a batch at a time; each committed batch writes a debug
  /// line (`restore: committed`), the progress signal the kill tests wait on.
  func restore(_ object: RestoreObject, reader: ArchiveObjectReader, filter: RestoreFilter)
    async throws -> RestoreObjectOutcome
  {
    try await reader.read(object, filter: filter) { events in
      let stored = try await store.commitRestored(events, jobID: jobID, of: account)
      logger.debug(
        "restore: committed",
        metadata: [
          "job": "\(jobID)", "key": "\(object.key)", "events": "\(events.count)",
          "stored": "\(stored)",
        ])
    }
  }

  /// Asks S3 to thaw each frozen object (once) and reads those whose copy is readable;
  /// returns how many still wait.
  func thawFrozen(reader: ArchiveObjectReader, filter: RestoreFilter) async throws -> Int {
    var waiting = 0
    var after: String?
    while true {
      let page = try await store.restoreObjects(
        jobID: jobID, state: .frozen, afterKey: after, limit: 100, of: account)
      guard let last = page.last else { return waiting }
      after = last.key
      for object in page {
        try await check()
        var state: ThawState
        do {
          state = try await bucket.thaw(key: object.key, days: Self.thawDays)
          // S3 may make a copy at once (a small object, a fast tier): look again.
          if state == .requested {
            state = try await bucket.thaw(key: object.key, days: Self.thawDays)
          }
        } catch {
          let why = ArchiveReadError(
            step: "restoring \(object.key) from its archive storage class",
            permission: "s3:RestoreObject", failure: error, bucket: bucket.name)
          _ = try await store.finishRestoreObject(
            jobID: jobID, key: object.key,
            outcome: RestoreObjectOutcome(state: .failed, error: why.description), of: account)
          continue
        }
        guard state == .ready else {
          waiting += 1
          continue
        }
        let outcome = try await restore(object, reader: reader, filter: filter)
        _ = try await store.finishRestoreObject(
          jobID: jobID, key: object.key, outcome: outcome, of: account)
      }
    }
  }

  /// Whether the restorer takes the job up: queued or running (a paused or finished job
  /// waits for an admin).
  public static func isRunnable(_ job: RestoreJob) -> Bool {
    job.state == .queued || job.state == .running
  }

  static func filter(of job: RestoreJob) throws -> RestoreFilter {
    RestoreFilter(
      from: job.from, to: job.to,
      query: try job.query.flatMap { $0.isEmpty ? nil : try LogQuery.parse($0) })
  }
}
