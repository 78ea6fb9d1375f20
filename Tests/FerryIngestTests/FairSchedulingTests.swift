import FerryCore
import FerryTesting
import Foundation
import Synchronization
import Testing

@testable import FerryIngest

/// One tenant's slow work never holds another tenant's fetchers past their interval: on the
/// embedded store, tenant A's four fetchers each read an object that takes a minute to
/// download (a piece a second); tenant B's fetchers, added while those run, are read at
/// once (a sweep that waited for A's passes would read them a minute later); A holds at
/// most three of the four slots.
@Suite("Ingest scheduling: fair between tenants")
struct FairSchedulingTests {
  /// A bucket whose one object arrives a piece a second (the slow tenant's), or an empty
  /// bucket (the quick one's).
  struct Bucket: ObjectSource, ObjectBytes {
    let slow: Bool
    func list(prefix: String, startAfter: String?, continuation: String?)
      async throws(AWSFailure) -> (objects: [SourceObject], next: String?)
    {
      guard slow, startAfter == nil else { return ([], nil) }
      return (
        [SourceObject(key: "app/slow.json", eTag: "e", size: 6000, lastModified: Date())], nil
      )
    }
    func open(key: String, eTag: String) async throws(AWSFailure) -> any ObjectBytes { self }
    func next() async throws(AWSFailure) -> [UInt8]? {
      do {
        try await Task.sleep(for: .seconds(1))
      } catch {
        throw AWSFailure(kind: .unreachable, operation: "S3.GetObject", message: "cancelled")
      }
      return Array(#"{"msg":"slowly"}"#.utf8) + [0x0A]
    }
  }

  @Test func aSlowTenantDoesNotDelayAnotherTenantsFetchers() async throws {
    let slow = try await IngestWorld(accountName: "slowco")
    let store = slow.store
    let quick = try await IngestWorld(accountName: "quickco", on: store)
    for n in 1...3 {
      let more = Fetcher(
        accountID: slow.account.id, connectionID: slow.connection.id, name: "slow\(n)",
        logType: "json")
      try await store.addFetcher(more, of: slow.account.id, actor: "test")
    }
    let opened = Mutex<[AccountID: Int]>([:])
    let scheduler = IngestScheduler(store: store, holder: "node-1", concurrency: 4) {
      connection, _ throws(AWSFailure) in
      opened.withLock { $0[connection.accountID, default: 0] += 1 }
      return FetcherSources(bucket: Bucket(slow: connection.accountID == slow.account.id))
    }
    let running = Task { await scheduler.run(tick: .milliseconds(100)) }
    // While A's passes run, B's new fetchers are read at once, one after another.
    for n in 1...2 {
      try await Task.sleep(for: .seconds(2))
      try await store.addFetcher(
        Fetcher(
          accountID: quick.account.id, connectionID: quick.connection.id, name: "new\(n)",
          logType: "json"), of: quick.account.id, actor: "test")
    }
    try await Task.sleep(for: .seconds(2))
    let counts = opened.withLock { $0 }
    running.cancel()
    await running.value
    // B's three fetchers each ran; A's four got three slots, their passes still on.
    #expect(counts[quick.account.id] == 3, "the quick tenant's passes: \(counts)")
    #expect(counts[slow.account.id] == 3, "the slow tenant holds three slots: \(counts)")
  }

  /// An object without end: 50 JSON lines (about 5 KiB) every 300 ms.
  struct Drip: ObjectSource, ObjectBytes {
    func list(prefix: String, startAfter: String?, continuation: String?)
      async throws(AWSFailure) -> (objects: [SourceObject], next: String?)
    {
      guard startAfter == nil else { return ([], nil) }
      return (
        [SourceObject(key: "app/drip.json", eTag: "e", size: 1 << 30, lastModified: Date())], nil
      )
    }
    func open(key: String, eTag: String) async throws(AWSFailure) -> any ObjectBytes { self }
    func next() async throws(AWSFailure) -> [UInt8]? {
      do {
        try await Task.sleep(for: .milliseconds(300))
      } catch {
        throw AWSFailure(kind: .unreachable, operation: "S3.GetObject", message: "cancelled")
      }
      var rng = SystemRandomNumberGenerator()
      return Array(
        (0..<50).map { _ in
          #"{"id":"\#(rng.next())","ms":\#(rng.next() % 900),"msg":"dripping slowly from a tap"}"#
            + "\n"
        }.joined().utf8)
    }
  }

  /// Pausing a fetcher stops its pass under way (its lease goes with the pause, so the pass
  /// stops at its next renewal, before its next commit), and deleting one likewise.
  @Test(arguments: ["pause", "delete"])
  func pausingOrDeletingAFetcherStopsItsPassInProgress(action: String) async throws {
    let world = try await IngestWorld(accountName: "pauseco")
    let store = world.store
    var settings = IngestSettings()
    settings.chunkEvents = 50  // a commit per piece: one every 300 ms
    settings.leaseTTL = 1.5
    let scheduler = IngestScheduler(store: store, holder: "node-1", settings: settings) {
      _, _ throws(AWSFailure) in FetcherSources(bucket: Drip())
    }
    let running = Task { await scheduler.run(tick: .milliseconds(100)) }
    defer { running.cancel() }
    let deadline = Date().addingTimeInterval(20)
    while try await store.eventCount(of: world.account.id) < 100 && Date() < deadline {
      try await Task.sleep(for: .milliseconds(100))
    }
    #expect(try await store.eventCount(of: world.account.id) >= 100, "the pass is reading")
    if action == "pause" {
      var paused = world.fetcher
      paused.enabled = false
      #expect(try await store.updateFetcher(paused, of: world.account.id, actor: "alice"))
    } else {
      #expect(try await store.removeFetcher(world.fetcher.id, of: world.account.id, actor: "alice"))
    }
    let atPause = try await store.eventCount(of: world.account.id)
    // A renewal comes every half second: within it the pass stops, after the commit that
    // may be in flight. Without the stop, the count grows by about 166 a second for ever.
    var stopped = atPause
    var stableSince = Date()
    let until = Date().addingTimeInterval(15)
    while Date() < until, Date().timeIntervalSince(stableSince) < 2 {
      try await Task.sleep(for: .milliseconds(100))
      let now = try await store.eventCount(of: world.account.id)
      if now != stopped {
        stopped = now
        stableSince = Date()
      }
    }
    #expect(Date().timeIntervalSince(stableSince) >= 2, "the pass kept storing after the \(action)")
    #expect(stopped <= atPause + 250, "\(stopped - atPause) events were stored after the \(action)")
    try await Task.sleep(for: .seconds(2))
    #expect(try await store.eventCount(of: world.account.id) == stopped, "nothing more is read")
  }

}
