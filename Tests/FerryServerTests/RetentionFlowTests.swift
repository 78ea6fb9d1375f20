import FerryCore
import FerryStore
import FerryTesting
import Foundation
import Testing

/// Retention in a running server: `ferry serve` sweeps on its own (`--retention-interval`),
/// the account's events past its 30 days go, the newer ones stay, and `/metrics` says how
/// many went.
@Suite("ferry serve: retention runs")
struct RetentionFlowTests {
  @Test func oldEventsLeaveOnTheirOwnAndNewOnesStay() async throws {
    let data = try TestPaths.temporaryDirectory("ferry-retention")
    let server = try await ServerProcess.start(
      arguments: [
        "--data-dir", data.path, "--aws-endpoint", "http://127.0.0.1:9", "--platform-account-id",
        "111122223333", "--recheck-interval", "off", "--retention-interval", "1s",
      ], environment: ["AWS_EC2_METADATA_DISABLED": "true"])
    defer { _ = server.stop() }
    let token = try #require(server.firstToken)
    let api = API(server.url)
    let me = try await api.get("/api/v1/me", token: token)
    let account = AccountID(
      rawValue: try #require((me.json["account"] as? [String: Any])?["id"] as? String))
    #expect((me.json["account"] as? [String: Any])?["retentionDays"] as? Int == 30)

    // Two objects written beside the running server: one from 40 days ago, one from today.
    let store = try SQLiteStore(path: data.appendingPathComponent("ferry.sqlite").path)
    for (key, age) in [("old.json", 40.0 * 86_400), ("new.json", 3600.0)] {
      let start = Date().addingTimeInterval(-age)
      let events = (0..<500).map { n in
        Event(
          accountID: account, fetcherID: "fet_retention", logType: "json",
          time: start.addingTimeInterval(Double(n)), sourceKey: key, sourceOffset: Int64(n * 80),
          message: "request \(UUID().uuidString) took \(Int.random(in: 1...900)) ms",
          fields: ["n": String(n)])
      }
      try await store.commitObject(
        LedgerEntry(
          fetcherID: "fet_retention", key: key, eTag: "\"\(key)\"", size: 1, state: .ingested,
          events: 500), events: events, of: account)
    }
    try await eventually("the old events are swept", seconds: 60, every: .milliseconds(200)) {
      try await store.eventCount(of: account) == 500
    }
    let left = try await api.get(
      "/api/v1/search?from=60d&to=now&limit=1000", token: token)
    let keys = Set(
      (left.json["events"] as? [[String: Any]] ?? []).compactMap { $0["sourceKey"] as? String })
    #expect(keys == ["new.json"], "\(left.text.prefix(300))")
    let metrics = try await api.get("/metrics", token: nil).text
    #expect(metrics.contains("ferry_retention_events_removed_total 500"), "\(metrics.prefix(2000))")
    #expect(metrics.contains("ferry_retention_last_sweep_timestamp_seconds"))
  }
}
