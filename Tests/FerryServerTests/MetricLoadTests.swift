import FerryCore
import FerryTesting
import Foundation
import Testing

/// Metric deliveries under load, as Firehose makes them: 50 deliveries at once, each of
/// 1,000 records, for a minute; `ferry serve` killed with SIGKILL in the middle and started
/// again; every delivery that got no answer retried with its request ID until it is
/// answered (Firehose retries everything but a 413). Then every data point is stored
/// exactly once: counted and summed by Python's sqlite3 in the store's file.
@Suite("ferry serve: metric deliveries under load", .serialized)
struct MetricLoadTests {
  /// The server that answers now (it changes when the test restarts it).
  actor Current {
    var server: ServerProcess
    init(_ server: ServerProcess) { self.server = server }
    func url() -> String { server.url }
    func replace(_ next: ServerProcess) { server = next }
  }

  /// What the senders saw.
  actor Tally {
    var stored: [(sender: Int, round: Int)] = []
    var refusals: [String] = []
    var retries = 0
    var slowest: Double = 0
    var answers = 0
    func ok(_ sender: Int, _ round: Int, seconds: Double) {
      stored.append((sender, round))
      slowest = max(slowest, seconds)
      answers += 1
    }
    func refused(_ text: String) { refusals.append(text) }
    func retried() { retries += 1 }
  }

  static let senders = 50
  static let recordsPerDelivery = 1_000

  /// One record: one JSON-format data point, unique per (sender, record, round), its sum
  /// a value that identifies it.
  static func body(sender: Int, round: Int) -> (requestID: String, bytes: [UInt8]) {
    let requestID = "load-\(sender)-\(round)"
    var records: [String] = []
    records.reserveCapacity(recordsPerDelivery)
    let minute = MetricDeliveryFlowTests.minute0 + round * 60_000
    for record in 0..<recordsPerDelivery {
      let line =
        "{\"metric_stream_name\":\"load\",\"account_id\":\"123456789012\",\"region\":\"eu-west-1\",\"namespace\":\"Load/Test\",\"metric_name\":\"M\(sender)\",\"dimensions\":{\"InstanceId\":\"i-\(record)\"},\"timestamp\":\(minute),\"value\":{\"count\":2.0,\"sum\":\(sum(sender, record, round)),\"max\":9.5,\"min\":0.25},\"unit\":\"Count\"}"
      records.append("{\"data\":\"\(Data(line.utf8).base64EncodedString())\"}")
    }
    let body =
      "{\"requestId\":\"\(requestID)\",\"timestamp\":\(minute + 60_000),\"records\":[\(records.joined(separator: ","))]}"
    return (requestID, Array(body.utf8))
  }

  static func sum(_ sender: Int, _ record: Int, _ round: Int) -> Int {
    sender * 10_000_000 + round * 10_000 + record
  }

  @Test func fiftyAtOnceForAMinuteWithAKillStoreEveryPointOnce() async throws {
    let data = try TestPaths.temporaryDirectory("ferry-metrics-load")
    let current = Current(try await MetricDeliveryFlowTests.start(data))
    let first = await current.server
    let api = API(first.url)
    let token = try #require(first.firstToken)
    let created = try await api.post("/api/v1/metrics/keys", token: token, ["name": "load"])
    let key = try #require(created.json["key"] as? String)

    let tally = Tally()
    let started = Date()
    let duration: TimeInterval = 60
    try await withThrowingTaskGroup(of: Void.self) { group in
      for sender in 0..<Self.senders {
        group.addTask {
          var round = 0
          while Date().timeIntervalSince(started) < duration {
            let (requestID, plain) = Self.body(sender: sender, round: round)
            // Every other delivery gzip'd, as the template configures Firehose.
            let gzip = (sender + round) % 2 == 0
            let bytes = gzip ? try TestGzip.gzip(plain) : plain
            var headers = MetricDeliveryFlowTests.headers(requestID, key: key)
            if gzip { headers.append(("Content-Encoding", "gzip")) }
            while true {
              let sent = Date()
              let answer: APIResponse
              do {
                answer = try await API(await current.url()).call(
                  .POST, MetricDeliveryFlowTests.path, token: nil, bytes: bytes,
                  headers: headers)
              } catch {
                // No answer (the server was killed, or is starting): Firehose retries.
                await tally.retried()
                try await Task.sleep(for: .milliseconds(300))
                continue
              }
              if answer.status == 200 {
                await tally.ok(sender, round, seconds: Date().timeIntervalSince(sent))
                break
              }
              if answer.status >= 500 {
                await tally.retried()
                try await Task.sleep(for: .milliseconds(300))
                continue
              }
              await tally.refused("\(requestID): \(answer.status) \(answer.text.prefix(300))")
              break
            }
            round += 1
          }
        }
      }
      // Half-way through: SIGKILL, and a new process on the same data.
      group.addTask {
        try await Task.sleep(for: .seconds(duration / 2))
        let old = await current.server
        old.crash()
        await current.replace(try await MetricDeliveryFlowTests.start(data))
      }
      try await group.waitForAll()
    }
    let last = await current.server
    defer { last.stop() }

    let refusals = await tally.refusals
    #expect(refusals.isEmpty, "\(refusals.prefix(5))")
    let stored = await tally.stored
    let retries = await tally.retries
    let slowest = await tally.slowest
    #expect(stored.count >= Self.senders * 2, "\(stored.count) deliveries in a minute")
    #expect(retries > 0, "the kill interrupted no delivery")
    #expect(slowest < 60, "the slowest answer took \(slowest) s")
    print(
      "metric load: \(stored.count) deliveries of \(Self.recordsPerDelivery) records answered 200, \(retries) retried, slowest answer \(String(format: "%.1f", slowest)) s"
    )

    // Stored once each: the store's file read by Python's sqlite3 (the server stopped).
    last.stop()
    var expectedSum = 0
    for (sender, round) in stored {
      for record in 0..<Self.recordsPerDelivery { expectedSum += Self.sum(sender, record, round) }
    }
    let script = """
      import sqlite3, sys
      db = sqlite3.connect(sys.argv[1])
      points, total = db.execute("SELECT count(*), sum(sum) FROM metric_points").fetchone()
      deliveries = db.execute("SELECT count(*) FROM metric_deliveries").fetchone()[0]
      print(points, int(total or 0), deliveries)
      """
    let result = try await Subprocess.runOffPool(
      "python3", ["-c", script, data.appendingPathComponent("ferry.sqlite").path])
    #expect(result.status == 0, "\(result.stderr)")
    let figures = result.stdout.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
    #expect(
      figures == [stored.count * Self.recordsPerDelivery, expectedSum, stored.count],
      "points, sum of sums, deliveries")
  }
}
