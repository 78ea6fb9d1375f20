import FerryCore
import FerryTesting
import Foundation
import Testing

@testable import FerryMetrics

/// CloudWatch metric streams' OpenTelemetry 1.0.0 and 0.7.0 formats, as AWS's "CloudWatch
/// metric stream output in OpenTelemetry 1.0.0 format" and "0.7.0 format" pages and their
/// "Translations" pages describe them, encoded by the PyPI package opentelemetry-proto.
@Suite(
  "CloudWatch OpenTelemetry metrics",
  .enabled(if: OpenTelemetryRecords.missing == nil, "\(OpenTelemetryRecords.missing ?? "")"))
struct OpenTelemetryMetricsTests {
  typealias Point = OpenTelemetryRecords.Point

  /// The pages' example: DynamoDB's ConsumedReadCapacityUnits for one table, count 1, sum 1,
  /// quantiles 0, 0.99 and 1 all 1, unit "1" (CloudWatch's None).
  static let example = Point(
    namespace: "AWS/DynamoDB", metric: "ConsumedReadCapacityUnits",
    dimensions: ["TableName": "MyTable"], unit: "1", startMs: 1_609_459_200_000, count: 1,
    sum: 1, quantiles: ["0": 1, "0.99": 1, "1": 1])

  @Test(arguments: [
    ("1.0", CloudWatchOpenTelemetryMetrics.format1),
    ("0.7", CloudWatchOpenTelemetryMetrics.format07),
  ])
  func readsTheDocumentedExample(format: String, name: String) throws {
    let records = try OpenTelemetryRecords.make(format: format, records: [[[Self.example]]])
    let record = try #require(records.first)
    #expect(CloudWatchOpenTelemetryMetrics.isFramed(record))
    let read = try CloudWatchOpenTelemetryMetrics.points(record)
    #expect(read.format == name)
    #expect(read.stream == "MyMetricStream")
    let point = try #require(read.points.first)
    #expect(read.points.count == 1)
    #expect(
      point.series
        == MetricSeriesKey(
          namespace: "AWS/DynamoDB", metricName: "ConsumedReadCapacityUnits",
          dimensions: ["TableName": "MyTable"], unit: "None"))
    #expect(point.start == Date(timeIntervalSince1970: 1_609_459_200))
    #expect(point.periodSeconds == 60)
    #expect(point.count == 1 && point.sum == 1 && point.min == 1 && point.max == 1)
    #expect(point.statistics == ["p99": 1])
  }

  /// Several messages per record, many metrics per message, varied values, dimensions and
  /// units: every point comes back as the encoder was given it, in both formats.
  @Test(arguments: ["1.0", "0.7"])
  func readsEveryPointOfManyMessages(format: String) throws {
    var generator = SystemRandomNumberGenerator()
    let units = [
      ("By/s", "Bytes/Second"), ("{Count}", "Count"), ("%", "Percent"), ("ms", "Milliseconds"),
      ("By", "Bytes"), ("1", "None"), ("{Count}/s", "Count/Second"),
    ]
    var expected: [MetricPoint] = []
    var records: [[[Point]]] = []
    for r in 0..<3 {
      var messages: [[Point]] = []
      for m in 0..<4 {
        var points: [Point] = []
        for i in 0..<25 {
          let unit = units[(r + m + i) % units.count]
          let low = Double(Int.random(in: 0..<1000, using: &generator)) / 8
          let high = low + Double(Int.random(in: 1..<5000, using: &generator)) / 4
          let count = UInt64.random(in: 1...10_000, using: &generator)
          let sum = (low + high) / 2 * Double(count)
          let start: Int64 = 1_700_000_000_000 + Int64(r * 100 + m * 25 + i) * 60_000
          let dimensions = [
            "InstanceId":
              "i-\(String(UInt64.random(in: 0...UInt64.max, using: &generator), radix: 16))",
            "AutoScalingGroupName": "group \(i % 3) \"quoted\" é",
          ]
          points.append(
            Point(
              namespace: "Custom/App\(m)", metric: "Latency\(i % 5)", dimensions: dimensions,
              unit: unit.0, startMs: start, count: count, sum: sum,
              quantiles: ["0": low, "0.5": (low + high) / 2, "0.999": high - 0.25, "1": high]))
          expected.append(
            MetricPoint(
              series: MetricSeriesKey(
                namespace: "Custom/App\(m)", metricName: "Latency\(i % 5)",
                dimensions: dimensions, unit: unit.1),
              start: Date(millis: start), count: Double(count), sum: sum, min: low, max: high,
              statistics: ["p50": (low + high) / 2, "p99.9": high - 0.25]))
        }
        messages.append(points)
      }
      records.append(messages)
    }
    var read: [MetricPoint] = []
    for record in try OpenTelemetryRecords.make(format: format, records: records) {
      read += try CloudWatchOpenTelemetryMetrics.points(record).points
    }
    #expect(read.count == 300)
    #expect(read == expected)
  }

  /// A record cut short, or with bytes after its last message, is refused whole with why;
  /// the reader says neither format matched rather than guessing.
  @Test func refusesRecordsThatAreNotWholeMessages() throws {
    let record = try #require(
      try OpenTelemetryRecords.make(format: "1.0", records: [[[Self.example]]]).first)
    for broken in [Array(record.dropLast(3)), record + [0x01], [0x05, 0x0A, 0x03]] {
      #expect(!CloudWatchOpenTelemetryMetrics.isFramed(broken))
      #expect(throws: MetricRecordError.self) { try MetricDeliveryReader.record(broken) }
    }
    // A framed message that is not an ExportMetricsServiceRequest (a varint where a
    // length-delimited field must be).
    #expect(throws: MetricRecordError.self) {
      try CloudWatchOpenTelemetryMetrics.points([0x02, 0x08, 0x01])
    }
  }

  /// A JSON record whose first byte, `{`, reads as a length of 123 is still JSON, even when
  /// that length would end exactly at the record's end (a record of 124 bytes) or chain on
  /// to it through later bytes.
  @Test func tellsJSONFromOpenTelemetry() throws {
    let json = Array(CloudWatchJSONMetricsTests.example.utf8)
    #expect(!CloudWatchOpenTelemetryMetrics.isFramed(json))
    #expect(try MetricDeliveryReader.record(json).format == "json")
    let short = Array(
      #"{"namespace":"A","metric_name":"B","timestamp":1,"value":{"count":1,"sum":1,"max":1,"min":1}}"#
        .utf8)
    let exact = short + Array(repeating: 0x20, count: 123 - short.count) + [0x0A]
    #expect(exact.count == 124)
    #expect(!CloudWatchOpenTelemetryMetrics.isFramed(exact))
    #expect(try MetricDeliveryReader.record(exact).format == "json")
    let otel = try #require(
      try OpenTelemetryRecords.make(format: "0.7", records: [[[Self.example]]]).first)
    #expect(try MetricDeliveryReader.record(otel).format == "opentelemetry0.7")
  }

  @Test func namesPercentilesAsCloudWatchDoes() {
    #expect(CloudWatchOpenTelemetryMetrics.percentileName(0.99) == "p99")
    #expect(CloudWatchOpenTelemetryMetrics.percentileName(0.999) == "p99.9")
    #expect(CloudWatchOpenTelemetryMetrics.percentileName(0.5) == "p50")
    #expect(CloudWatchOpenTelemetryMetrics.percentileName(0.9999) == "p99.99")
  }
}
