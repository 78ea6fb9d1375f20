import FerryCore
import FerryStore
import Foundation
import GRDB

/// Synthetic ALB-like events: one day, a few hundred distinct words, some fields.
func syntheticEvents(account: AccountID, count: Int, start: Int, day: Date) -> [Event] {
  let methods = ["GET", "POST", "PUT", "DELETE"]
  let paths = ["/api/users", "/api/orders", "/health", "/login", "/static/app.js", "/api/search"]
  let statuses = ["200", "200", "200", "201", "304", "404", "500", "503"]
  return (start..<(start + count)).map { n in
    let method = methods[n % methods.count]
    let status = statuses[(n / 3) % statuses.count]
    let path = paths[(n / 7) % paths.count]
    let message =
      "\(method) \(path)?id=\(n % 9973) HTTP/1.1 \(status) client 10.\(n % 256).\((n / 256) % 256).7 target ip-10-0-\(n % 32)-9 "
      + (status.hasPrefix("5") ? "upstream timeout error" : "ok") + " trace-\(n % 100_003)"
    return Event(
      accountID: account, fetcherID: "bench", logType: "alb",
      time: day.addingTimeInterval(Double(n % 86_400) + Double(n) / 1e7),
      sourceKey: "AWSLogs/\(n / 10_000).log",
      sourceOffset: Int64(n % 10_000), message: message,
      fields: ["status": status, "method": method])
  }
}

/// Inserts `total` events through the Store, one ledger row per 10,000; returns events/s.
func storeInsertRate(_ store: any Store, account: AccountID, total: Int, day: Date) async throws
  -> Double
{
  let clock = ContinuousClock()
  var elapsed = Duration.zero
  var inserted = 0
  while inserted < total {
    let batch = syntheticEvents(
      account: account, count: min(10_000, total - inserted), start: inserted, day: day)
    let entry = LedgerEntry(
      fetcherID: "bench", key: "AWSLogs/\(inserted / 10_000).log", eTag: "e", size: 1,
      state: .ingested, events: batch.count)
    let start = clock.now
    try await store.commitObject(entry, events: batch, of: account)
    elapsed += clock.now - start
    inserted += batch.count
  }
  return Double(total) / elapsed.seconds
}

/// p50 and p99 latencies (ms) of a query run `runs` times.
func latencies(runs: Int, _ body: () async throws -> Void) async throws -> (
  p50: Double, p99: Double
) {
  let clock = ContinuousClock()
  var samples: [Double] = []
  for _ in 0..<runs {
    let start = clock.now
    try await body()
    samples.append((clock.now - start).seconds * 1000)
  }
  samples.sort()
  return (
    samples[samples.count / 2], samples[min(samples.count - 1, Int(Double(samples.count) * 0.99))]
  )
}

func searchBenchmarks(_ store: any Store, account: AccountID, day: Date) async throws -> [String:
  Double]
{
  var out: [String: Double] = [:]
  let oneDay = (from: day, to: day.addingTimeInterval(86_400))
  let text = try await latencies(runs: 50) {
    _ = try await store.search(
      EventQuery(from: oneDay.from, to: oneDay.to, text: "upstream timeout", limit: 100),
      of: account)
  }
  let field = try await latencies(runs: 50) {
    _ = try await store.search(
      EventQuery(from: oneDay.from, to: oneDay.to, fields: ["status": "404"], limit: 100),
      of: account)
  }
  out["search_text_p50_ms"] = text.p50
  out["search_text_p99_ms"] = text.p99
  out["search_field_p50_ms"] = field.p50
  out["search_field_p99_ms"] = field.p99
  return out
}

/// `ferry-bench store sqlite PATH INSERT_EVENTS SEARCH_EVENTS` /
/// `ferry-bench store postgres URL INSERT_EVENTS SEARCH_EVENTS`.
func storeBenchmark(backend: String, location: String, insertEvents: Int, searchEvents: Int)
  async throws -> [String: Double]
{
  let day = Date(timeIntervalSince1970: 1_732_406_400)
  let store: any Store
  switch backend {
  case "sqlite": store = try SQLiteStore(path: location)
  case "postgres": store = try await PostgresStore(url: location, callTimeout: .seconds(600))
  default: throw BenchError.usage
  }
  func account(_ name: String) async throws -> AccountID {
    try await store.createAccount(
      name: name, externalIDPrefix: "ferry", retentionDays: 30, actor: "bench"
    ).id
  }
  var out: [String: Double] = [:]
  out["insert_events_per_second"] = try await storeInsertRate(
    store, account: try await account("bench"), total: insertEvents, day: day)
  let rows = syntheticEvents(
    account: try await account("baseline"), count: insertEvents, start: 0, day: day)
  if backend == "sqlite" {
    out["baseline_events_per_second"] = try await sqliteBaselineRate(rows, path: location)
  } else {
    // The baseline (COPY of the same rows) is timed by scripts/bench with psql.
    try writeCopyCSV(rows)
  }
  if searchEvents > 0 {
    let big = try await account("search")
    _ = try await storeInsertRate(store, account: big, total: searchEvents, day: day)
    out.merge(try await searchBenchmarks(store, account: big, day: day)) { $1 }
  }
  (store as? PostgresStore)?.close()
  return out
}

/// The same rows through one plain prepared statement in one transaction, into a table
/// without any index: the ceiling of a row store; events/s.
func sqliteBaselineRate(_ rows: [Event], path: String) async throws -> Double {
  let queue = try DatabaseQueue(path: path)
  try await queue.write { db in
    try db.execute(
      sql: """
        CREATE TABLE IF NOT EXISTS baseline_events (account_id TEXT, fetcher_id TEXT, log_type TEXT, time INTEGER,
          source_key TEXT, source_offset INTEGER, message TEXT, fields TEXT, search_text TEXT)
        """)
  }
  let clock = ContinuousClock()
  let start = clock.now
  try await queue.write { db in
    let statement = try db.makeStatement(
      sql:
        "INSERT INTO baseline_events (account_id, fetcher_id, log_type, time, source_key, source_offset, message, fields, search_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    for e in rows {
      try statement.execute(arguments: [
        e.accountID.rawValue, e.fetcherID, e.logType, e.time.micros, e.sourceKey, e.sourceOffset,
        e.message,
        "{\"method\":\"\(e.fields["method"] ?? "")\",\"status\":\"\(e.fields["status"] ?? "")\"}",
        SearchText.normalize(e.message),
      ])
    }
  }
  return Double(rows.count) / (clock.now - start).seconds
}

/// Writes the rows as the CSV that scripts/bench's `\copy` baseline loads (with their own
/// source ETag, so they do not collide with the rows Ferry stored).
func writeCopyCSV(_ rows: [Event]) throws {
  var csv = ""
  for e in rows {
    let fields =
      "{\"\"method\"\":\"\"\(e.fields["method"] ?? "")\"\",\"\"status\"\":\"\"\(e.fields["status"] ?? "")\"\"}"
    csv +=
      "\(e.accountID.rawValue),\(e.fetcherID),\(e.logType),\(e.time.micros),\(e.sourceKey),copy,\(e.sourceOffset),\"\(e.message)\",\"\(fields)\",\"\(SearchText.normalize(e.message))\"\n"
  }
  try csv.write(
    toFile: ProcessInfo.processInfo.environment["FERRY_BENCH_COPY_CSV"] ?? "/tmp/ferry-copy.csv",
    atomically: true, encoding: .utf8)
}

extension Duration {
  var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
