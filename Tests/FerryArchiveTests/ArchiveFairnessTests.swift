import FerryCore
import FerryTesting
import Foundation
import Synchronization
import Testing

@testable import FerryArchive

/// One tenant's long archive flush never holds another tenant's archive: archives of
/// different accounts flush side by side, one per account at a time. On the embedded store
/// (SQLite), with the buckets in memory: a double of S3, because what is checked is timing
/// (a write that takes as long as the test wants), which the emulator cannot be made to
/// show on demand. The writer against real S3 (moto) is `ArchiveFlowTests`.
@Suite("Archive scheduler: one tenant's slow flush does not hold another's")
struct ArchiveFairnessTests {
  /// A bucket in memory; a slow one holds every write until `release` is set.
  final class MemoryBucket: ArchiveBucket, Sendable {
    let name: String
    let slow: Bool
    let objects = Mutex<[String: [UInt8]]>([:])
    let release = Mutex(false)
    let writesStarted = Mutex(0)

    init(name: String, slow: Bool) {
      self.name = name
      self.slow = slow
    }

    func put(key: String, bytes: [UInt8], contentType: String) async throws(AWSFailure) {
      writesStarted.withLock { $0 += 1 }
      while slow && !release.withLock({ $0 }) {
        try? await Task.sleep(for: .milliseconds(20))
      }
      objects.withLock { $0[key] = bytes }
    }
    func get(key: String) async throws(AWSFailure) -> [UInt8]? {
      objects.withLock { $0[key] }
    }
    func list(prefix: String) async throws(AWSFailure) -> [ArchiveListing] {
      objects.withLock { all in
        all.filter { $0.key.hasPrefix(prefix) }.sorted { $0.key < $1.key }.map {
          ArchiveListing(key: $0.key, size: Int64($0.value.count), storageClass: nil)
        }
      }
    }
    func folders(under prefix: String) async throws(AWSFailure) -> [String] { [] }
    func thaw(key: String, days: Int) async throws(AWSFailure) -> ThawState { .ready }
  }

  struct TimedOut: Error, CustomStringConvertible {
    var description: String
  }

  /// Waits until `condition` holds; throws, naming it, after `seconds`.
  func eventually(_ what: String, seconds: Double, _ condition: () async throws -> Bool)
    async throws
  {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if try await condition() { return }
      try await Task.sleep(for: .milliseconds(50))
    }
    throw TimedOut(description: "timed out after \(seconds) s waiting until \(what)")
  }

  struct Tenant {
    var account: AccountID
    var archive: Archive
  }

  /// An account with an archive and `events` committed events waiting for it.
  static func tenant(_ store: any Store, name: String, events: Int) async throws -> Tenant {
    let account = try await store.createAccount(
      name: name, externalIDPrefix: "ferry", retentionDays: 30, actor: "setup"
    ).id
    let connection = Connection(
      accountID: account, purpose: .archive, bucket: "\(name)-archive", region: "us-east-1",
      prefix: "ferry", roleARN: "arn:aws:iam::111122223333:role/archive",
      externalID: "ferry:aws:extid:abc", usesLegacyExternalID: false)
    try await store.addConnection(connection, of: account, actor: "admin")
    let archive = Archive(accountID: account, connectionID: connection.id, name: "all")
    try await store.addArchive(archive, of: account, actor: "admin")
    var rng = SeededGenerator(seed: UInt64(name.utf8.count))
    let start = Date(timeIntervalSince1970: 1_796_083_200)
    let batch = (0..<events).map { i in
      Event(
        accountID: account, fetcherID: "f1", logType: "json",
        time: start.addingTimeInterval(Double(i)), sourceKey: "app/\(name).json",
        sourceOffset: Int64(i * 100),
        message: #"{"id":"\#(rng.next())","ms":\#(rng.next() % 900),"msg":"served \#(name)"}"#)
    }
    try await store.commitObject(
      LedgerEntry(
        fetcherID: "f1", key: "app/\(name).json", eTag: "e", size: 1, state: .ingested,
        events: events), events: batch, of: account)
    return Tenant(account: account, archive: archive)
  }

  @Test func anotherTenantsArchiveIsWrittenWhileOnesFlushIsHeld() async throws {
    let store = try TestStore.sqlite()
    let slow = try await Self.tenant(store, name: "slowco", events: 2_000)
    let quick = try await Self.tenant(store, name: "quickco", events: 500)
    let held = MemoryBucket(name: "slowco-archive", slow: true)
    let free = MemoryBucket(name: "quickco-archive", slow: false)
    var settings = ArchiveSettings()
    settings.flushAge = 0
    let scheduler = ArchiveScheduler(store: store, holder: "node-1", settings: settings) {
      connection throws(AWSFailure) in
      connection.accountID == slow.account ? held : free
    }
    let running = Task { await scheduler.run(tick: .milliseconds(100)) }
    defer { running.cancel() }
    // The slow tenant's flush starts and is held; the other's archive is written meanwhile.
    try await eventually("the slow tenant's flush has started", seconds: 20) {
      held.writesStarted.withLock { $0 } >= 1
    }
    try await eventually("the other tenant's events are archived", seconds: 20) {
      try await store.archiveProgress(
        archiveID: quick.archive.id, fetcherIDs: [], of: quick.account
      ).events == 500
    }
    #expect(held.objects.withLock { $0.isEmpty }, "the slow tenant's write is still held")
    #expect(free.objects.withLock { $0.keys.contains { $0.hasSuffix(".json.zst") } })
    // Let go: the slow tenant's flush ends, and its events are archived too.
    held.release.withLock { $0 = true }
    try await eventually("the slow tenant's events are archived", seconds: 20) {
      try await store.archiveProgress(
        archiveID: slow.archive.id, fetcherIDs: [], of: slow.account
      ).events == 2_000
    }
  }

  /// A flush's age counts from the first look that saw events waiting, kept in the store:
  /// a new scheduler (a restart, another node) does not start the clock again, so a node
  /// restarted more often than the flush age still flushes.
  @Test func theFlushAgeSurvivesARestartOfTheScheduler() async throws {
    let store = try TestStore.sqlite()
    let tenant = try await Self.tenant(store, name: "agedco", events: 300)
    let bucket = MemoryBucket(name: "agedco-archive", slow: false)
    // The first scheduler's age is an hour: it cannot flush, however slow the machine.
    // The second's is 1 s, and it looks 1.5 s after the first: it flushes only on the
    // first one's clock (a clock of its own would start at its look).
    func scheduler(age: TimeInterval) -> ArchiveScheduler {
      var settings = ArchiveSettings()
      settings.flushAge = age
      return ArchiveScheduler(store: store, holder: "node-\(UUID())", settings: settings) {
        _ throws(AWSFailure) in bucket
      }
    }
    func progress() async throws -> ArchiveProgress {
      try await store.archiveProgress(
        archiveID: tenant.archive.id, fetcherIDs: [], of: tenant.account)
    }
    await scheduler(age: 3600).sweep()
    let seen = try #require(try await progress().waitingSince, "the first look starts the clock")
    #expect(try await progress().events == 0, "too young to flush")
    try await Task.sleep(for: .milliseconds(1500))
    await scheduler(age: 1).sweep()
    let after = try await progress()
    #expect(after.events == 300, "the new scheduler flushed on the first one's clock")
    #expect(after.waitingSince == nil, "nothing waits: the clock stopped")
    #expect(seen <= Date())
  }
}
