import FerryCore
import FerryMetrics
import FerryStore
import Foundation
import GRDB

/// Metric shipping's receiver: every Firehose body of `kind` (`json` or `otel`) in
/// `directory` (written by Benchmarks/baselines/metric_payloads.py) read as the route reads
/// it (the envelope, base64, each record's format) and, in a second pass, committed into a
/// new SQLite store at `storePath` as the route commits it (one delivery per body). HTTP
/// itself is not measured. Reports data points per CPU-second for both passes and the
/// store's file size per point.
func metricsBenchmark(storePath: String, directory: URL, kind: String) async throws
  -> [String: Double]
{
  let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
    .filter { $0.hasPrefix(kind + "-") }.sorted()
  let bodies = try files.map { try Data(contentsOf: directory.appendingPathComponent($0)) }
  guard !bodies.isEmpty else { throw BenchError.failed("no \(kind)-* bodies in \(directory.path)") }

  func read(_ body: Data) throws -> MetricDelivery {
    let requestID = try requestIDOf(body)
    let request = try FirehoseRequest.read(
      body: body, contentEncoding: nil, headerRequestID: requestID)
    let delivery = try MetricDeliveryReader.delivery(
      request, keyID: "bench", sourceARN: nil, commonAttributes: nil)
    guard delivery.rejected.isEmpty else {
      throw BenchError.failed("records refused: \(delivery.rejected.prefix(3))")
    }
    return delivery
  }

  // Pass 1: read only (best of three).
  var points = 0
  var readCPU = Double.infinity
  for _ in 0..<3 {
    let cpu = processCPUSeconds()
    var counted = 0
    for body in bodies { counted += try read(body).points.count }
    readCPU = min(readCPU, processCPUSeconds() - cpu)
    points = counted
  }

  // Pass 2: read and commit, into a new store.
  for suffix in ["", "-wal", "-shm"] {
    try? FileManager.default.removeItem(atPath: storePath + suffix)
  }
  let store = try SQLiteStore(path: storePath)
  let account = try await store.createAccount(
    name: "bench-metrics", externalIDPrefix: "ferry", retentionDays: 3650, actor: "bench"
  ).id
  let emptyBytes = try usedBytes(storePath)
  let cpu = processCPUSeconds()
  let clock = ContinuousClock()
  let started = clock.now
  for body in bodies {
    let delivery = try read(body)
    guard try await store.commitMetricDelivery(delivery, of: account) == nil else {
      throw BenchError.failed("a delivery was already stored")
    }
  }
  let commitCPU = processCPUSeconds() - cpu
  let wall = (clock.now - started).seconds
  let bytes = try usedBytes(storePath) - emptyBytes
  return [
    "points": Double(points), "bodies": Double(bodies.count),
    "body_bytes": Double(bodies.reduce(0) { $0 + $1.count }),
    "read_points_per_cpu_second": Double(points) / readCPU,
    "points_per_cpu_second": Double(points) / commitCPU,
    "points_per_second": Double(points) / wall,
    "store_bytes_per_point": Double(bytes) / Double(points),
  ]
}

/// The body's `requestId`, as Firehose also sends it in `X-Amz-Firehose-Request-Id`.
private func requestIDOf(_ body: Data) throws -> String {
  let head = body.prefix(200)
  guard let text = String(data: head, encoding: .utf8),
    let start = text.range(of: "\"requestId\": \"") ?? text.range(of: "\"requestId\":\""),
    let end = text[start.upperBound...].firstIndex(of: "\"")
  else { throw BenchError.failed("a body without requestId near its start") }
  return String(text[start.upperBound..<end])
}

/// The bytes of the SQLite file's pages in use, once its write-ahead log is folded in.
private func usedBytes(_ path: String) throws -> Int {
  let queue = try DatabaseQueue(path: path)
  return try queue.inDatabase { db in
    _ = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
    let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
    let free = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
    let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0
    return (pages - free) * pageSize
  }
}
