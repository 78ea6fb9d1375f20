import FerryAWS
import FerryAWSSigning
import FerryCore
import FerryIngest
import FerryServer
import FerryStore
import Foundation
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
