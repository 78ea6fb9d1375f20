import FerryCore
import Foundation
import Testing

@testable import FerryMetrics

/// The JSON output format of CloudWatch metric streams, as AWS's "CloudWatch metric stream
/// output in JSON format" page gives it.
@Suite("CloudWatch JSON metrics")
struct CloudWatchJSONMetricsTests {
  /// The page's example, on one line as streams send it.
  static let example = """
    {"metric_stream_name":"MyMetricStream","account_id":"1234567890","region":"us-east-1","namespace":"AWS/EC2","metric_name":"DiskWriteOps","dimensions":{"InstanceId":"i-123456789012"},"timestamp":1611929698000,"value":{"count":3.0,"sum":20.0,"max":18.0,"min":0.0,"p99":17.56,"p99.9":17.8764,"TM(25%:75%)":16.43},"unit":"Seconds"}
    """

  @Test func readsTheDocumentedExample() throws {
    let read = try CloudWatchJSONMetrics.points(Array(Self.example.utf8))
    #expect(read.stream == "MyMetricStream")
    let point = try #require(read.points.first)
    #expect(read.points.count == 1)
    #expect(
      point.series
        == MetricSeriesKey(
          namespace: "AWS/EC2", metricName: "DiskWriteOps",
          dimensions: ["InstanceId": "i-123456789012"], unit: "Seconds"))
    #expect(point.start == Date(timeIntervalSince1970: 1_611_929_698))
    #expect(point.periodSeconds == 60)
    #expect(point.count == 3 && point.sum == 20 && point.max == 18 && point.min == 0)
    #expect(point.statistics == ["p99": 17.56, "p99.9": 17.8764, "TM(25%:75%)": 16.43])
  }

  @Test func readsEveryLineOfARecord() throws {
    var lines: [String] = []
    for i in 0..<50 {
      lines.append(
        Self.example.replacingOccurrences(of: "i-123456789012", with: "i-\(i)")
          .replacingOccurrences(of: "\"sum\":20.0", with: "\"sum\":\(i).5"))
    }
    let read = try CloudWatchJSONMetrics.points(Array((lines.joined(separator: "\n") + "\n").utf8))
    #expect(read.points.count == 50)
    #expect(read.points.map(\.sum) == (0..<50).map { Double($0) + 0.5 })
    #expect(Set(read.points.map { $0.series.dimensions["InstanceId"] ?? "" }).count == 50)
  }

  @Test func aBadLineRefusesTheRecordAndNamesTheLine() {
    let noValue = Self.example.replacingOccurrences(of: "\"count\":3.0,", with: "")
    let cases = [
      (Self.example + "\n{not json", "line 2"),
      (noValue, "count, sum, min and max"),
      (
        Self.example.replacingOccurrences(of: "\"namespace\":\"AWS/EC2\",", with: ""),
        "namespace is missing"
      ),
      ("", "no data point"),
    ]
    for (record, words) in cases {
      let error = #expect(throws: MetricRecordError.self) {
        try CloudWatchJSONMetrics.points(Array(record.utf8))
      }
      #expect(error?.description.contains(words) == true, "\(error?.description ?? "")")
    }
  }

  @Test func aDeliveryKeepsTheGoodRecordsAndListsTheBadOnes() throws {
    let request = FirehoseRequest(
      requestID: "r1", timestamp: 1,
      records: [Array(Self.example.utf8), Array("{\"oops\":1}".utf8), [0x0A, 0x12, 0x00]])
    let delivery = try MetricDeliveryReader.delivery(
      request, keyID: "mk_1", sourceARN: "arn:aws:firehose:us-east-1:123456789012:deliverystream/s",
      commonAttributes: "{\"commonAttributes\":{\"team\":\"payments\"}}")
    #expect(delivery.points.count == 1)
    #expect(delivery.rejected.map(\.index) == [1, 2])
    #expect(delivery.labels == ["team": "payments"])
    #expect(delivery.streamName == "MyMetricStream")
    #expect(delivery.errorMessage?.contains("2 of 3 records") == true)
    #expect(delivery.errorMessage?.contains("record 1:") == true)
    #expect(throws: FirehoseRequest.Problem.self) {
      try MetricDeliveryReader.delivery(
        request, keyID: "mk_1", sourceARN: nil, commonAttributes: "{\"other\": 1}")
    }
  }
}

/// Statistics combined over a step, against values worked out by hand.
@Suite("Metric aggregation")
struct MetricAggregationTests {
  static let key = MetricSeriesKey(
    namespace: "AWS/EC2", metricName: "CPUUtilization", dimensions: ["InstanceId": "i-1"],
    unit: "Percent")

  static func point(
    _ minute: Int, count: Double, sum: Double, min: Double, max: Double, p99: Double
  )
    -> MetricPoint
  {
    // 2026-01-01T00:00:00Z plus `minute` minutes.
    MetricPoint(
      series: key, start: Date(timeIntervalSince1970: 1_767_225_600 + Double(minute) * 60),
      count: count, sum: sum, min: min, max: max, statistics: ["p99": p99])
  }

  static let points = [
    point(0, count: 2, sum: 10, min: 1, max: 9, p99: 8.9),
    point(1, count: 6, sum: 6, min: 0.5, max: 2, p99: 1.9),
    point(2, count: 1, sum: 30, min: 30, max: 30, p99: 30),
    // 2 minutes later: a step of its own; minute 4 has no point.
    point(5, count: 4, sum: 8, min: 2, max: 2, p99: 2),
  ]

  func values(_ statistic: MetricStatistic, step: Int) -> [Double] {
    MetricAggregation.series(Self.points, statistic: statistic, stepSeconds: step).first?.points
      .map(\.value) ?? []
  }

  @Test func combinesOverThreeMinuteSteps() {
    // Steps of 180 s start at 00:00 and 00:03: minutes 0–2, then minute 5.
    #expect(values(.sum, step: 180) == [46, 8])
    #expect(values(.count, step: 180) == [9, 4])
    #expect(values(.min, step: 180) == [0.5, 2])
    #expect(values(.max, step: 180) == [30, 2])
    // The average is 46 / 9, not the mean of the minutes' averages (5, 1, 30).
    #expect(values(.avg, step: 180) == [46.0 / 9, 2])
    // A percentile over several minutes: the largest minute's figure.
    #expect(values(.stored("p99"), step: 180) == [30, 2])
    let times = MetricAggregation.series(Self.points, statistic: .sum, stepSeconds: 180)[0].points
      .map(\.time.timeIntervalSince1970)
    #expect(times == [1_767_225_600, 1_767_225_780])
  }

  @Test func aOneMinuteStepIsThePointsThemselves() {
    #expect(values(.avg, step: 60) == [5, 1, 30, 2])
    #expect(values(.stored("p99"), step: 60) == [8.9, 1.9, 30, 2])
    #expect(values(.stored("p50"), step: 60) == [])
  }

  @Test func seriesStayApartByDimensions() {
    var other = Self.points[0]
    other.series.dimensions = ["InstanceId": "i-2"]
    let series = MetricAggregation.series(
      Self.points + [other], statistic: .sum, stepSeconds: 3600)
    #expect(series.map { $0.key.dimensions["InstanceId"] } == ["i-1", "i-2"])
    #expect(series.map { $0.points.map(\.value) } == [[54], [10]])
  }

  @Test func statisticNames() {
    #expect(MetricStatistic("Average") == .avg)
    #expect(MetricStatistic("SampleCount") == .count)
    #expect(MetricStatistic("p99.9") == .stored("p99.9"))
    #expect(MetricStatistic("TM(25%:75%)") == .stored("TM(25%:75%)"))
    #expect(MetricStatistic("p99<script>") == nil)
    #expect(MetricStatistic("") == nil)
  }
}
