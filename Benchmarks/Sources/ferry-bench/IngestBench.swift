import FerryAWS
import FerryAWSSigning
import FerryCore
import FerryIngest
import FerryServer
import FerryStore
import Foundation
import GRDB
import NIOCore

/// `ferry-bench ingest ENDPOINT BUCKET STORE_PATH KIND KEY...`: the objects through the
/// fetcher's pipeline (download → decompress → parse → commit) into a SQLite store, one
/// after another (or `FERRY_BENCH_IN_FLIGHT` at once); then, as the baseline, zlib alone decompressing the same objects from
/// memory in this process.
func ingestBenchmark(endpoint: URL, bucket: String, storePath: String, kind: String, keys: [String])
  async throws -> [String: Double]
{
  let client = AWSClient(configuration: .init(endpoint: .custom(endpoint)))
  let credentials = StaticCredentialProvider(
    AWSCredentials(accessKeyID: "AKIAFERRYBENCH000001", secretAccessKey: "bench-secret"))
  let s3 = S3Client(client: client, credentials: credentials, region: "us-east-1")
  let store = try SQLiteStore(path: storePath)
  let account = try await store.createAccount(
    name: "bench-\(kind)", externalIDPrefix: "ferry", retentionDays: 3650, actor: "bench"
  ).id
  // FERRY_BENCH_IN_FLIGHT objects are read at once (default 1, one after another), each
  // by its own fetcher, as the server's scheduler runs several fetchers side by side.
  let inFlight = max(
    1, Int(ProcessInfo.processInfo.environment["FERRY_BENCH_IN_FLIGHT"] ?? "") ?? 1)
  let ingests = (0..<inFlight).map { n in
    ObjectIngest(
      store: store, account: account,
      fetcher: Fetcher(
        accountID: account, connectionID: "bench", name: "\(kind)-\(n)",
        logType: kind == "json" ? "json" : "cloudtrail"),
      fence: {})
  }
  // S3 with the emulator's credentials (no role: what is measured is the pipeline).
  let source = AWSObjectSource(s3: s3, bucket: bucket)
  let clock = ContinuousClock()
  let cpuStart = processCPUSeconds()
  let start = clock.now
  var events = 0
  var bytes: Int64 = 0
  try await withThrowingTaskGroup(of: (slot: Int, events: Int, bytes: Int64).self) { group in
    // Each fetcher reads one object at a time: a finished task gives its fetcher back.
    var free = Array((0..<inFlight).reversed())
    for key in keys {
      if free.isEmpty, let done = try await group.next() {
        events += done.events
        bytes += done.bytes
        free.append(done.slot)
      }
      guard let slot = free.popLast() else { break }
      let ingest = ingests[slot]
      group.addTask {
        let outcome = try await ingest.run(
          SourceObject(key: key, eTag: "", size: 0, lastModified: Date()), from: source,
          previous: nil)
        guard outcome.entry.state == .ingested else {
          throw BenchError.failed("\(key): \(outcome.entry.error ?? "not ingested")")
        }
        return (slot, outcome.entry.events, outcome.bytes)
      }
    }
    for try await done in group {
      events += done.events
      bytes += done.bytes
    }
  }
  let seconds = (clock.now - start).seconds
  let cpu = processCPUSeconds() - cpuStart
  var out: [String: Double] = [
    "events": Double(events), "seconds": seconds, "cpu_seconds": cpu,
    "events_per_second": Double(events) / seconds, "events_per_cpu_second": Double(events) / cpu,
    "uncompressed_mb_per_second": Double(bytes) / 1e6 / seconds,
    "peak_rss_mib": Double(peakResidentKiB()) / 1024, "in_flight": Double(inFlight),
  ]
  out.merge(try storedBytes(path: storePath, events: events)) { $1 }
  // FERRY_BENCH_PROBES ({"rare", "common", "hour_start"}): the searches ClickHouse runs too.
  if let probes = ProcessInfo.processInfo.environment["FERRY_BENCH_PROBES"] {
    out.merge(try await peerSearches(store, account: account, probes: probes)) { $1 }
  }
  // Baseline: zlib alone over the same compressed bytes, already in memory.
  var compressed: [[UInt8]] = []
  for key in keys {
    var object: [UInt8] = []
    for try await buffer in try await s3.getObject(bucket: bucket, key: key) {
      object += buffer.readableBytesView
    }
    compressed.append(object)
  }
  let zlibStart = clock.now
  var inflated = 0
  for object in compressed {
    var gzip = try GzipDecompressor()
    try object.withUnsafeBytes { raw in try gzip.feed(raw) { inflated += $0.count } }
    try gzip.finish { inflated += $0.count }
  }
  let zlibSeconds = (clock.now - zlibStart).seconds
  out["zlib_mb_per_second"] = Double(inflated) / 1e6 / zlibSeconds
  out["compressed_mb"] = Double(compressed.reduce(0) { $0 + $1.count }) / 1e6
  return out
}

/// Bytes per event the store keeps: the blocks' data, their filters, and the SQLite
/// database's pages in use once its WAL is checkpointed into it (indexes, index rows,
/// ledger and all).
func storedBytes(path: String, events: Int) throws -> [String: Double] {
  let queue = try DatabaseQueue(path: path)
  return try queue.inDatabase { db in
    let checkpoint = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")
    let pending: Int = checkpoint.map { ($0[1] as Int) - ($0[2] as Int) } ?? 0
    guard pending == 0 else { throw BenchError.failed("\(pending) WAL frames not checkpointed") }
    let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
    let free = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
    let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0
    let disk = (pages - free) * pageSize
    let data = try Int.fetchOne(db, sql: "SELECT total(length(data)) FROM event_block_data") ?? 0
    let filters =
      try Int.fetchOne(db, sql: "SELECT total(length(filter)) FROM event_block_filters") ?? 0
    let blocks = try Int.fetchOne(db, sql: "SELECT count(*) FROM event_blocks") ?? 0
    let n = Double(max(events, 1))
    return [
      "block_data_bytes_per_event": Double(data) / n,
      "filter_bytes_per_event": Double(filters) / n, "blocks": Double(blocks),
      "disk_bytes_per_event": Double(disk) / n,
    ]
  }
}

/// The two searches the ClickHouse peer runs (`Benchmarks/baselines/chdb_peer.py`), first
/// page of 100, p50 of 20 warm runs: a token one event carries, over the whole day, and a
/// common word within one hour.
func peerSearches(_ store: SQLiteStore, account: AccountID, probes: String) async throws
  -> [String: Double]
{
  guard
    let object = try JSONSerialization.jsonObject(with: Data(probes.utf8)) as? [String: String],
    let rare = object["rare"], let common = object["common"],
    let hourText = object["hour_start"], let hour = try? Date(hourText, strategy: .iso8601)
  else { throw BenchError.failed("FERRY_BENCH_PROBES: \(probes)") }
  let day = Date(timeIntervalSince1970: 1_732_406_400)
  var out: [String: Double] = [:]
  for (name, text, from, to) in [
    ("rare", rare, day, day.addingTimeInterval(86_400)),
    ("common", common, hour, hour.addingTimeInterval(3600)),
  ] {
    let query = try LogQuery.parse(text)
    var found = 0
    let result = try await latencies(runs: 20) {
      let page = try await store.search(
        EventQuery(from: from, to: to, limit: 100, query: query), of: account)
      found = page.events.count
    }
    out["\(name)_p50_ms"] = result.p50
    out["\(name)_found"] = Double(found)
  }
  return out
}
