import FerryCore
import FerryStore
import FerryTesting
import Foundation
import Testing

/// Searching over the API and the CLI: events committed to the server's store (through a
/// second handle on its SQLite file, as an ingest node would) are found with the query
/// language, page by page, and counted over time; a malformed query names its column.
@Suite("ferry serve: search", .serialized)
struct SearchAPITests {
  @Test func eventsAreFoundCountedAndPagedInTheQueryLanguage() async throws {
    let data = try TestPaths.temporaryDirectory("ferry-search")
    let server = try await ServerProcess.start(
      arguments: [
        "--data-dir", data.path, "--platform-account-id", "111122223333", "--recheck-interval",
        "off", "--retention-interval", "off",
      ], environment: ["AWS_EC2_METADATA_DISABLED": "true"])
    defer { server.stop() }
    let api = API(server.url)
    let token = try #require(server.firstToken)
    let me = try await api.get("/api/v1/me", token: token)
    let accountID = try #require((me.json["account"] as? [String: Any])?["id"] as? String)
    let account = AccountID(rawValue: accountID)
    let store = try SQLiteStore(path: data.appendingPathComponent("ferry.sqlite").path)
    let now = Date()
    var events: [Event] = []
    for i in 0..<300 {
      let failed = i % 10 == 0
      let message = failed ? "payment failed for order \(i)" : "request ok \(i)"
      let fields: Fields = ["status": failed ? "502" : "200", "service": "checkout"]
      events.append(
        Event(
          accountID: account, fetcherID: "f1", logType: "app",
          time: now.addingTimeInterval(-Double(i) * 60), sourceKey: "app.log",
          sourceOffset: Int64(i), message: message, fields: fields))
    }
    try await store.commitObject(
      LedgerEntry(
        fetcherID: "f1", key: "app.log", eTag: "e", size: 1, state: .ingested, events: 300),
      events: events, of: account)

    let failed = try await api.get(
      "/api/v1/search?q=\("\"payment failed\" status:>=500".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")&from=6h&limit=10",
      token: token)
    #expect(failed.status == 200, "\(failed.text)")
    let page = try #require(failed.json["events"] as? [[String: Any]])
    // 300 minutes back is 5 h; every tenth event failed: 30, ten on this page.
    #expect(page.count == 10)
    #expect(page.allSatisfy { ($0["message"] as? String)?.hasPrefix("payment failed") == true })
    #expect((page.first?["fields"] as? [String: String])?["status"] == "502")
    var seen = page.count
    var cursor = failed.json["nextCursor"] as? String
    while let next = cursor {
      let more = try await api.get(
        "/api/v1/search?q=%22payment%20failed%22&from=6h&limit=10&cursor=\(next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")",
        token: token)
      seen += (more.json["events"] as? [Any])?.count ?? 0
      cursor = more.json["nextCursor"] as? String
    }
    #expect(seen == 30)

    let histogram = try await api.get(
      "/api/v1/search/histogram?q=payment&from=6h&buckets=6", token: token)
    #expect(histogram.status == 200, "\(histogram.text)")
    let buckets = try #require(histogram.json["buckets"] as? [[String: Any]])
    #expect(buckets.count == 6)
    #expect(buckets.compactMap { $0["count"] as? Int }.reduce(0, +) == 30)

    let bad = try await api.get("/api/v1/search?q=status%3A", token: token)
    #expect(bad.status == 400)
    #expect(bad.json["field"] as? String == "q")
    #expect((bad.json["detail"] as? String)?.contains("column 8") == true, "\(bad.text)")
    let badTime = try await api.get("/api/v1/search?from=yesterday", token: token)
    #expect(badTime.status == 400)
    #expect(badTime.json["field"] as? String == "from")

    // Another account sees none of them.
    let other = try await api.post("/api/v1/accounts", token: token, ["name": "other"])
    let otherToken = try #require(other.json["adminToken"] as? String)
    let none = try await api.get("/api/v1/search?from=7d", token: otherToken)
    #expect((none.json["events"] as? [Any])?.isEmpty == true)

    // The CLI.
    let cli = try await Subprocess.runOffPool(
      TestPaths.ferryExecutable,
      [
        "search", "payment failed", "--from", "6h", "--limit", "3", "--server", server.url,
        "--token", token,
      ])
    #expect(cli.status == 0, "\(cli.stderr)")
    #expect(cli.stdout.components(separatedBy: "payment failed for order").count == 4)
    #expect(cli.stdout.contains("More: ferry search 'payment failed' --next "))

    // An empty range names the newest matching event in the retention (the newest failed
    // order is order 0, now); one matching nothing says so; relative times as now-2d.
    let empty = try await api.get(
      "/api/v1/search?q=%22payment%20failed%22&from=now-3d&to=now-2d", token: token)
    #expect(empty.status == 200, "\(empty.text)")
    #expect((empty.json["events"] as? [Any])?.isEmpty == true)
    let newest = try #require(empty.json["newestMatch"] as? String)
    let newestTime = try #require(ISO8601DateFormatter().date(from: newest))
    #expect(abs(newestTime.timeIntervalSince(now)) < 2, "\(newest)")
    let nothing = try await api.get("/api/v1/search?q=nosuchword&from=1h", token: token)
    #expect(nothing.json["newestMatch"] is NSNull, "\(nothing.text)")
    let found = try await api.get("/api/v1/search?q=payment&from=now-6h", token: token)
    #expect(found.json["newestMatch"] == nil && (found.json["events"] as? [Any])?.count == 30)
    let cliEmpty = try await Subprocess.runOffPool(
      TestPaths.ferryExecutable,
      [
        "search", "payment failed", "--from", "now-3d", "--to", "now-2d", "--server", server.url,
        "--token", token,
      ])
    #expect(cliEmpty.status == 0, "\(cliEmpty.stderr)")
    #expect(cliEmpty.stdout.contains("No events match between"))
    #expect(
      cliEmpty.stdout.contains(
        "The newest matching event is at \(newest): ferry search 'payment failed' --from "),
      "\(cliEmpty.stdout)")

    let cliBad = try await Subprocess.runOffPool(
      TestPaths.ferryExecutable, ["search", "(oops", "--server", server.url, "--token", token])
    #expect(cliBad.status == 2)
    #expect(cliBad.stderr.contains("column 6"))
  }
}
