import FerryCore
import FerryTesting
import Foundation
import Testing

@testable import FerryStore

/// What a restore keeps in the store, on every backend: its objects listed once, each
/// recorded once with what reading it gave, restored events stored once whatever is in
/// search already, marked as restored, out of reach of retention by event time and of the
/// archive writer, leaving when their expiry passes unless kept; tenants apart.
@Suite("Store contract: restore progress")
struct RestoreProgressStoreTests {
  typealias Backend = StoreContractTests.Backend

  static func object(_ key: String, events: Int, state: RestoreObjectState = .planned)
    -> RestoreObject
  {
    RestoreObject(
      key: key, events: events, bytes: Int64(events * 10), minTime: EventBlockStoreTests.base,
      maxTime: EventBlockStoreTests.base.addingTimeInterval(3600), sha256: "ab",
      storageClass: state == .frozen ? "GLACIER" : nil, state: state)
  }

  /// Sourced copies of events, as a restore reads them back.
  static func sourced(_ events: [Event], eTag: String) -> [SourcedEvent] {
    events.map { SourcedEvent(event: $0, eTag: eTag) }
  }

  @Test(arguments: Backend.allCases)
  func objectsArePlannedOnceAndRecordedOnce(backend: Backend) async throws {
    let t = try await JobsStoreTests().tenant(backend)
    defer { (t.store as? PostgresStore)?.close() }
    let store = t.store
    let archive = Archive(accountID: t.account, connectionID: t.archiveConnection.id, name: "a")
    try await store.addArchive(archive, of: t.account, actor: "admin")
    let day = EventBlockStoreTests.base
    let job = RestoreJob(
      accountID: t.account, archiveID: archive.id, from: day, to: day.addingTimeInterval(86_400),
      requestedBy: "alice")
    try await store.createRestoreJob(job, of: t.account, actor: "alice")
    let objects = [
      Self.object("h00/part-1", events: 100), Self.object("h00/part-2", events: 50),
      Self.object("h01/part-1", events: 7, state: .frozen),
    ]
    let other = try await JobsStoreTests().tenant(backend, store: store)
    #expect(
      try await store.planRestore(jobID: job.id, objects: objects, of: other.account) == false)
    #expect(try await store.planRestore(jobID: job.id, objects: objects, of: t.account))
    #expect(try await store.planRestore(jobID: job.id, objects: objects, of: t.account) == false)
    let planned = try #require(try await store.restoreJob(job.id, of: t.account))
    #expect(planned.state == .running)
    #expect(planned.objectsTotal == 3 && planned.eventsTotal == 157 && planned.bytesTotal == 1570)
    #expect(planned.objectsFrozen == 1)

    let page = try await store.restoreObjects(
      jobID: job.id, state: nil, afterKey: "h00/part-1", limit: 10, of: t.account)
    #expect(page.map(\.key) == ["h00/part-2", "h01/part-1"])
    #expect(
      try await store.restoreObjects(
        jobID: job.id, state: .planned, afterKey: nil, limit: 10, of: t.account
      ).map(\.key) == ["h00/part-1", "h00/part-2"])
    #expect(
      try await store.restoreObjects(
        jobID: job.id, state: nil, afterKey: nil, limit: 10, of: other.account
      ).isEmpty, "another tenant sees none of them")

    // Each object is recorded once; counters add up.
    let read = RestoreObjectOutcome(
      state: .done, bytesRead: 1000, eventsRead: 100, eventsMatched: 40)
    #expect(
      try await store.finishRestoreObject(
        jobID: job.id, key: "h00/part-1", outcome: read, of: t.account))
    #expect(
      try await store.finishRestoreObject(
        jobID: job.id, key: "h00/part-1", outcome: read, of: t.account) == false)
    #expect(
      try await store.finishRestoreObject(
        jobID: job.id, key: "h00/part-2",
        outcome: RestoreObjectOutcome(state: .failed, error: "the object is gone"), of: t.account))
    // A frozen object, once thawed and read, is no longer counted as frozen.
    #expect(
      try await store.finishRestoreObject(
        jobID: job.id, key: "h01/part-1",
        outcome: RestoreObjectOutcome(state: .done, bytesRead: 70, eventsRead: 7, eventsMatched: 7),
        of: t.account))
    let progress = try #require(try await store.restoreJob(job.id, of: t.account))
    #expect(progress.objectsDone == 3 && progress.objectsFailed == 1 && progress.objectsFrozen == 0)
    #expect(
      progress.bytesRead == 1070 && progress.eventsRead == 107 && progress.eventsMatched == 47)
    let failed = try await store.restoreObjects(
      jobID: job.id, state: .failed, afterKey: nil, limit: 10, of: t.account)
    #expect(failed.map(\.error) == ["the object is gone"])

    // Pause and resume are audited; a paused job is not finished by the restorer.
    #expect(try await store.setRestorePaused(true, jobID: job.id, of: t.account, actor: "bob"))
    #expect(
      try await store.setRestorePaused(true, jobID: job.id, of: t.account, actor: "bob") == false)
    #expect(try await store.finishRestore(jobID: job.id, error: nil, of: t.account) == false)
    #expect(try await store.setRestorePaused(false, jobID: job.id, of: t.account, actor: "bob"))
    #expect(try await store.restoreJob(job.id, of: t.account)?.state == .queued)
    let actions = try await store.auditLog(of: t.account, limit: 10).map(\.action)
    #expect(actions.prefix(2) == ["restore.resume", "restore.pause"])
    #expect(
      try await store.setRestorePaused(true, jobID: job.id, of: other.account, actor: "x") == false)

    // Archives with an unfinished restore (paused included) cannot be removed.
    #expect(try await store.setRestorePaused(true, jobID: job.id, of: t.account, actor: "bob"))
    await #expect(throws: StoreError.self) {
      _ = try await store.removeArchive(archive.id, of: t.account, actor: "alice")
    }
    #expect(try await store.cancelRestoreJob(job.id, of: t.account, actor: "bob"))
    #expect(try await store.removeArchive(archive.id, of: t.account, actor: "alice"))
  }

  @Test(arguments: Backend.allCases)
  func restoredEventsAreStoredOnceMarkedAndExpire(backend: Backend) async throws {
    let t = try await JobsStoreTests().tenant(backend)
    defer { (t.store as? PostgresStore)?.close() }
    let store = t.store
    let archive = Archive(accountID: t.account, connectionID: t.archiveConnection.id, name: "a")
    try await store.addArchive(archive, of: t.account, actor: "admin")
    // Offsets 0..<100 of o1 are in search; the archive holds offsets 0..<150.
    let all = EventBlockStoreTests.events(t.account, key: "o1", count: 150)
    try await store.commitObject(
      LedgerEntry(fetcherID: "f1", key: "o1", eTag: "e1", size: 1, state: .ingested, events: 100),
      events: Array(all.prefix(100)), of: t.account)
    let day = EventBlockStoreTests.base
    let expiry = Date().addingTimeInterval(7 * 86_400)
    let job = RestoreJob(
      accountID: t.account, archiveID: archive.id, from: day, to: day.addingTimeInterval(86_400),
      requestedBy: "alice", expiresAt: expiry)
    try await store.createRestoreJob(job, of: t.account, actor: "alice")
    #expect(try await store.planRestore(jobID: job.id, objects: [], of: t.account))

    let restored = Self.sourced(Array(all[50..<150]), eTag: "e1")
    #expect(try await store.commitRestored(restored, jobID: job.id, of: t.account) == 50)
    #expect(
      try await store.commitRestored(restored, jobID: job.id, of: t.account) == 0,
      "a repeated commit stores nothing twice")
    // The same offsets of another object version are other events.
    #expect(
      try await store.commitRestored(
        Self.sourced(Array(all[0..<10]), eTag: "e2"), jobID: job.id, of: t.account) == 10)
    #expect(try await store.eventCount(of: t.account) == 160)
    #expect(try await store.restoreJob(job.id, of: t.account)?.eventsRestored == 60)
    // Another tenant cannot write into the job.
    let other = try await JobsStoreTests().tenant(backend, store: store)
    await #expect(throws: StoreError.self) {
      _ = try await store.commitRestored(restored, jobID: job.id, of: other.account)
    }

    // Search marks restored events, and finds them with the same fields.
    let page = try await store.search(
      EventQuery(from: day, to: day.addingTimeInterval(86_400), limit: 1000), of: t.account)
    #expect(page.events.count == 160)
    let marked = page.events.filter { $0.restoredBy == job.id }
    #expect(marked.count == 60)
    #expect(Set(marked.filter { $0.sourceOffset >= 100 }.map(\.sourceOffset)).count == 50)
    let original = try #require(all.first { $0.sourceOffset == 120 })
    let back = try #require(marked.first { $0.sourceOffset == 120 })
    #expect(back.message == original.message && back.fields == original.fields)
    #expect(back.time == original.time && back.logType == original.logType)

    // The archive writer never takes restored events again.
    let pending = try await store.unarchivedBlocks(
      archiveID: archive.id, fetcherIDs: [], of: t.account, limit: 100)
    #expect(pending.reduce(0) { $0 + $1.eventCount } == 100)

    // Retention by event time leaves restored events alone; their expiry removes them.
    let removed = try await store.deleteEvents(
      of: t.account, olderThan: Date().addingTimeInterval(86_400), batchSize: 1000)
    #expect(removed == 100)
    #expect(try await store.eventCount(of: t.account) == 60)
    #expect(try await store.deleteExpiredRestores(of: t.account, now: Date()) == 0)
    #expect(
      try await store.deleteExpiredRestores(of: other.account, now: expiry.addingTimeInterval(1))
        == 0)
    // Kept: nothing expires; then an expiry again, and it passes.
    #expect(try await store.setRestoreExpiry(nil, jobID: job.id, of: t.account, actor: "bob"))
    #expect(
      try await store.deleteExpiredRestores(of: t.account, now: expiry.addingTimeInterval(1)) == 0)
    #expect(try await store.auditLog(of: t.account, limit: 1).first?.action == "restore.expiry")
    #expect(try await store.setRestoreExpiry(expiry, jobID: job.id, of: t.account, actor: "bob"))
    #expect(
      try await store.deleteExpiredRestores(of: t.account, now: expiry.addingTimeInterval(1)) == 60)
    #expect(try await store.eventCount(of: t.account) == 0)

    // A finished job stores nothing more.
    #expect(try await store.finishRestore(jobID: job.id, error: nil, of: t.account))
    #expect(try await store.restoreJob(job.id, of: t.account)?.state == .succeeded)
    await #expect(throws: StoreError.self) {
      _ = try await store.commitRestored(restored, jobID: job.id, of: t.account)
    }
  }
}
