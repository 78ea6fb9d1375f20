import FerryBlocks
import FerryCore
import FerryStore
import Foundation
import GRDB

/// CPU time of this process (all threads), in seconds.
func processCPUSeconds() -> Double {
  var spec = timespec()
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
  return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

/// Commits every object of `logs` through the Store (one ledger row and its events per
/// object, as the fetcher does); returns wall and CPU rates (events/s) and text bytes.
func storeInsert(_ store: any Store, _ logs: LogGenerator) async throws -> (
  wall: Double, cpu: Double, rawBytes: Int
) {
  let clock = ContinuousClock()
  var elapsed = Duration.zero
  var cpu = 0.0
  var raw = 0
  for n in 0..<logs.objects {
    let (key, events) = logs.object(n)
    raw += events.reduce(0) { $0 + $1.message.utf8.count }
    let entry = LedgerEntry(
      fetcherID: events.first?.fetcherID ?? "app", key: key, eTag: "e\(n)", size: 1,
      state: .ingested, events: events.count)
    let cpuStart = processCPUSeconds()
    let start = clock.now
    try await store.commitObject(entry, events: events, of: logs.account)
    elapsed += clock.now - start
    cpu += processCPUSeconds() - cpuStart
  }
  return (Double(logs.total) / elapsed.seconds, Double(logs.total) / cpu, raw)
}

/// p50 and p99 latencies (ms) of a query run `runs` times, after one warm-up run.
func latencies(runs: Int, _ body: () async throws -> Void) async throws -> (
  p50: Double, p99: Double
) {
  let clock = ContinuousClock()
  try await body()
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

/// Search latencies for each kind of query, within one hour and over the whole day, and
/// the speed of a whole-day scan that no filter can shorten.
func searchBenchmarks(_ store: any Store, _ logs: LogGenerator, rawBytes: Int) async throws
  -> [String: Double]
{
  var out: [String: Double] = [:]
  let day = (from: logs.day, to: logs.day.addingTimeInterval(86_400))
  let hour = (
    from: logs.day.addingTimeInterval(12 * 3600), to: logs.day.addingTimeInterval(13 * 3600)
  )
  // A trace ID carried by one event in the middle of the hour searched.
  let middle = logs.objects / 2 + (logs.objects / 2) % 2
  let rare = LogGenerator.traceID(object: middle, index: logs.perObject / 2)
  let kinds: [(String, String)] = [
    ("rare", rare), ("common", "getobject"), ("field", "level:error"),
    ("phrase", "\"connection reset by peer\""),
  ]
  for (kind, text) in kinds {
    let query = try LogQuery.parse(text)
    for (range, span) in [("hour", hour), ("day", day)] {
      var found = 0
      let result = try await latencies(runs: 40) {
        let page = try await store.search(
          EventQuery(from: span.from, to: span.to, limit: 100, query: query), of: logs.account)
        found = page.events.count
      }
      out["search_\(kind)_\(range)_p50_ms"] = result.p50
      out["search_\(kind)_\(range)_p99_ms"] = result.p99
      out["search_\(kind)_\(range)_found"] = Double(found)
    }
  }
  // Whole day, counted per hour: every block holds the word, so every block is read.
  let cpuStart = processCPUSeconds()
  let clock = ContinuousClock()
  let start = clock.now
  let buckets = try await store.histogram(
    EventQuery(from: day.from, to: day.to, query: try LogQuery.parse("getobject")),
    of: logs.account, bucketSeconds: 3600)
  out["scan_seconds"] = (clock.now - start).seconds
  out["scan_cpu_seconds"] = processCPUSeconds() - cpuStart
  out["scan_matches"] = Double(buckets.reduce(0) { $0 + $1.count })
  out["scan_raw_bytes"] = Double(rawBytes)
  return out
}

/// `ferry-bench store sqlite PATH EVENTS` / `ferry-bench store postgres URL EVENTS`: the
/// mixed set of EVENTS events, then CloudTrail alone (half as many), then the baselines on
/// 200,000 of the same events.
func storeBenchmark(backend: String, location: String, events: Int) async throws -> [String:
  Double]
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
  let mixed = LogGenerator(
    account: try await account("mixed"), day: day, total: events, mix: .mixed)
  let sizeBefore = try storageBytes(backend: backend, location: location)
  let inserted = try await storeInsert(store, mixed)
  out["insert_events_per_second"] = inserted.wall
  out["insert_events_per_cpu_second"] = inserted.cpu
  out["raw_bytes_per_event"] = Double(inserted.rawBytes) / Double(events)
  out["disk_bytes_per_event"] =
    Double(try storageBytes(backend: backend, location: location) - sizeBefore) / Double(events)
  // FERRY_BENCH_INSERT_ONLY=1: only the mixed insert (for a profiler).
  if ProcessInfo.processInfo.environment["FERRY_BENCH_INSERT_ONLY"] != nil { return out }
  out.merge(try await searchBenchmarks(store, mixed, rawBytes: inserted.rawBytes)) { $1 }

  let trail = LogGenerator(
    account: try await account("cloudtrail"), day: day, total: events / 2, mix: .cloudTrailOnly)
  let trailRates = try await storeInsert(store, trail)
  out["cloudtrail_events_per_second"] = trailRates.wall
  out["cloudtrail_events_per_cpu_second"] = trailRates.cpu
  (store as? PostgresStore)?.close()

  let sample = LogGenerator(
    account: AccountID(rawValue: "baseline"), day: day, total: min(events, 200_000), mix: .mixed)
  let rows = (0..<sample.objects).flatMap { sample.object($0).events }
  out["baseline_events"] = Double(rows.count)
  if backend == "sqlite" {
    out["baseline_plain_events_per_second"] = try sqliteBaseline(rows, path: location, fts: false)
    out["baseline_fts_events_per_second"] = try sqliteBaseline(rows, path: location, fts: true)
  } else {
    // The baseline (COPY of the same rows) is timed by scripts/bench with psql.
    try writeCopyCSV(rows)
  }
  return out
}

/// Bytes the store takes: the SQLite files, or PostgreSQL's database.
func storageBytes(backend: String, location: String) throws -> Int {
  if backend == "sqlite" {
    return [location, location + "-wal"].reduce(0) { total, path in
      total + ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
    }
  }
  let psql = Process()
  psql.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  psql.arguments = ["psql", location, "-Atc", "SELECT pg_database_size(current_database())"]
  let pipe = Pipe()
  psql.standardOutput = pipe
  try psql.run()
  let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  psql.waitUntilExit()
  return Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
}

/// The same rows through one plain prepared statement in one transaction, either into a
/// table without any index (the ceiling of a row store) or into the row-per-event design
/// Ferry had before blocks (an index on time and an FTS5 index of the normalized text);
/// events/s. The rows are prepared before the clock starts.
func sqliteBaseline(_ rows: [Event], path: String, fts: Bool) throws -> Double {
  let queue = try DatabaseQueue(path: path)
  let table = fts ? "baseline_fts_rows" : "baseline_events"
  try queue.write { db in
    try db.execute(
      sql: """
        CREATE TABLE IF NOT EXISTS \(table) (id INTEGER PRIMARY KEY, account_id TEXT, fetcher_id TEXT,
          log_type TEXT, time INTEGER, source_key TEXT, source_offset INTEGER, message TEXT, fields TEXT,
          search_text TEXT)
        """)
    if fts {
      try db.execute(
        sql: """
          CREATE INDEX IF NOT EXISTS baseline_fts_time ON baseline_fts_rows (account_id, time);
          CREATE VIRTUAL TABLE IF NOT EXISTS baseline_fts USING fts5(search_text, content='baseline_fts_rows',
            content_rowid='id');
          """)
    }
  }
  let prepared: [[DatabaseValueConvertible]] = try rows.map { e in
    let fields = String(
      decoding: try JSONSerialization.data(withJSONObject: e.fields, options: [.sortedKeys]),
      as: UTF8.self)
    return [
      e.accountID.rawValue, e.fetcherID, e.logType, e.time.micros, e.sourceKey, e.sourceOffset,
      e.message, fields, SearchText.normalize(e.message),
    ]
  }
  let clock = ContinuousClock()
  let start = clock.now
  try queue.write { db in
    let insert = try db.makeStatement(
      sql:
        "INSERT INTO \(table) (account_id, fetcher_id, log_type, time, source_key, source_offset, message, fields, search_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    let index =
      fts
      ? try db.makeStatement(sql: "INSERT INTO baseline_fts (rowid, search_text) VALUES (?, ?)")
      : nil
    for row in prepared {
      try insert.execute(arguments: StatementArguments(row))
      if let index {
        try index.execute(arguments: [db.lastInsertedRowID, row[8]])
      }
    }
  }
  return Double(rows.count) / (clock.now - start).seconds
}

/// Writes the rows as the CSV that scripts/bench's `\copy` baseline loads.
func writeCopyCSV(_ rows: [Event]) throws {
  func quoted(_ text: String) -> String {
    "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
  var csv = ""
  for e in rows {
    let fields = String(
      decoding: try JSONSerialization.data(withJSONObject: e.fields, options: [.sortedKeys]),
      as: UTF8.self)
    csv +=
      [
        e.accountID.rawValue, e.fetcherID, e.logType, "\(e.time.micros)", quoted(e.sourceKey),
        "copy",
        "\(e.sourceOffset)", quoted(e.message), quoted(fields),
        quoted(SearchText.normalize(e.message)),
      ].joined(separator: ",") + "\n"
  }
  try csv.write(
    toFile: ProcessInfo.processInfo.environment["FERRY_BENCH_COPY_CSV"] ?? "/tmp/ferry-copy.csv",
    atomically: true, encoding: .utf8)
}

extension Duration {
  var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// `ferry-bench encode EVENTS`: where a commit's CPU time goes (encode, of which zstd and
/// the words), per event; for finding what to make faster, not for RESULTS.md.
func encodeBreakdown(events: Int) throws -> [String: Double] {
  let logs = LogGenerator(
    account: AccountID(rawValue: "a"), day: Date(timeIntervalSince1970: 1_732_406_400),
    total: events, mix: .mixed)
  let objects = (0..<logs.objects).map { logs.object($0).events }
  var out: [String: Double] = [:]
  var start = processCPUSeconds()
  var blocks: [EncodedBlock] = []
  for object in objects { blocks += try BlockCodec.encode(object) }
  out["encode_us_per_event"] = (processCPUSeconds() - start) / Double(events) * 1e6
  start = processCPUSeconds()
  for block in blocks { _ = try BlockCodec.view(block.data) }
  out["view_us_per_event"] = (processCPUSeconds() - start) / Double(events) * 1e6
  start = processCPUSeconds()
  for object in objects {
    var set = HashSet64(capacity: 20_000)
    for event in object { _ = Tokenizer.addTokenHashes(event.message, to: &set) }
  }
  out["words_into_set_us_per_event"] = (processCPUSeconds() - start) / Double(events) * 1e6
  start = processCPUSeconds()
  var sink: UInt64 = 0
  for object in objects {
    for event in object { Tokenizer.forEachTokenHash(event.message) { sink ^= $0 } }
  }
  out["words_only_us_per_event"] = (processCPUSeconds() - start) / Double(events) * 1e6
  out["sink"] = Double(sink & 1)
  let texts = objects.map { $0.reduce(into: [UInt8]()) { $0 += Array($1.message.utf8) } }
  start = processCPUSeconds()
  for text in texts { _ = try Zstd.compress(text) }
  out["zstd_us_per_event"] = (processCPUSeconds() - start) / Double(events) * 1e6
  return out
}
