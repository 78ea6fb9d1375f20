import FerryCore
import FerryTesting
import Foundation
import Testing

@testable import FerryIngest

/// An account's events per UTC day are limited, its fetchers together: at the limit they
/// stop until the next UTC day, with the reason in their status, while another account's
/// fetcher goes on. Through the scheduler, on the embedded store (SQLite); the bucket is
/// the scripted one of `LedgerCompactionTests` (what is checked is counting, not S3).
@Suite("Ingest: the daily event limit per account")
struct DailyLimitTests {
  typealias Bucket = LedgerCompactionTests.Bucket

  /// 10 objects of `lines` JSON lines under `prefix`, each line with a unique id.
  static func objects(_ prefix: String, lines: Int, seed: UInt64) -> [String: Bucket.Object] {
    var rng = SeededGenerator(seed: seed)
    var out: [String: Bucket.Object] = [:]
    for n in 0..<10 {
      let key = String(format: "\(prefix)%02d.json", n)
      let text = (0..<lines).map { i in
        #"{"id":"\#(rng.next())","n":\#(i),"ms":\#(rng.next() % 900),"msg":"served \#(key)"}"#
      }.joined(separator: "\n")
      out[key] = Bucket.Object(eTag: "v1", modified: Date(), text: text + "\n")
    }
    return out
  }

  static func fetcher(_ store: any Store, _ id: String, of account: AccountID) async throws
    -> Fetcher
  {
    try #require(try await store.fetchers(of: account).first { $0.id == id })
  }

  @Test func anAccountStopsAtItsDailyLimitUntilTheNextDayAndOthersGoOn() async throws {
    let a = try await IngestWorld(accountName: "bigco")
    let store = a.store
    let b = try await IngestWorld(accountName: "smallco", on: store)
    // bigco's second fetcher reads another prefix of its own.
    let other = Connection(
      accountID: a.account.id, purpose: .fetcher, bucket: "logs", region: "us-east-1",
      prefix: "other/", roleARN: "arn:aws:iam::123456789012:role/r",
      externalID: a.account.externalID, usesLegacyExternalID: false)
    try await store.addConnection(other, of: a.account.id, actor: "test")
    let second = Fetcher(
      accountID: a.account.id, connectionID: other.id, name: "other", logType: "json")
    try await store.addFetcher(second, of: a.account.id, actor: "test")
    let bucket = Bucket(
      Self.objects("app/", lines: 100, seed: 1).merging(Self.objects("other/", lines: 100, seed: 2))
      { $1 })
    var settings = IngestSettings()
    settings.dailyLimit = DailyLimit(eventsPerDay: 250)
    let scheduler = IngestScheduler(
      store: store, holder: "node-1", settings: settings, concurrency: 1
    ) { _, _ throws(AWSFailure) in FetcherSources(bucket: bucket) }

    await scheduler.sweep()
    // bigco's fetchers stop once the account passed 250: the limit is checked before each
    // object (100 events each), so 300 are stored, by whichever fetcher ran first.
    let next = DailyLimit.nextDay(after: Date())
    var fetchers = [
      try await Self.fetcher(store, a.fetcher.id, of: a.account.id),
      try await Self.fetcher(store, second.id, of: a.account.id),
    ]
    #expect(try await store.eventCount(of: a.account.id) == 300)
    #expect(fetchers.map { $0.status.eventsToday ?? 0 }.reduce(0, +) == 300)
    for fetcher in fetchers {
      #expect(fetcher.status.eventsDay == DailyLimit.day(of: Date()))
      #expect(fetcher.status.limitedUntil == next, "\(fetcher.status)")
      let reason = try #require(fetcher.status.lastError)
      #expect(reason.contains("its daily limit is 250"), "\(reason)")
      #expect(reason.contains("--max-account-events-per-day"), "the fix: \(reason)")
      #expect(fetcher.enabled, "limited, not paused: it goes on by itself")
    }
    // smallco has a limit of its own: bigco's events do not count against it.
    #expect(try await store.eventCount(of: b.account.id) == 300)

    // Later the same day, the limited fetchers are not run at all.
    let opened = bucket.opened.withLock { $0.count }
    await scheduler.sweep(now: Date().addingTimeInterval(3600))
    #expect(bucket.opened.withLock { $0.count } == opened)

    // A new day: the day's counts start over and the fetchers read on, to the limit again.
    for fetcher in fetchers {
      var status = fetcher.status
      status.eventsDay = "2000-01-01"
      status.limitedUntil = Date().addingTimeInterval(-1)
      status.lastRunAt = Date().addingTimeInterval(-3600)
      #expect(try await store.recordFetcherRun(fetcher.id, of: a.account.id, status: status))
    }
    await scheduler.sweep()
    #expect(try await store.eventCount(of: a.account.id) == 600)
    fetchers = [
      try await Self.fetcher(store, a.fetcher.id, of: a.account.id),
      try await Self.fetcher(store, second.id, of: a.account.id),
    ]
    #expect(fetchers.map { $0.status.eventsToday ?? 0 }.reduce(0, +) == 300)
    #expect(fetchers.map(\.status.eventsIngested).reduce(0, +) == 600)
  }
}
