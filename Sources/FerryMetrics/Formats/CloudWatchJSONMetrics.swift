import FerryCore
import Foundation

/// CloudWatch metric streams' JSON output format: each Firehose record holds JSON objects
/// separated by newlines, one data point of one metric each:
/// `{"metric_stream_name", "account_id", "region", "namespace", "metric_name",
/// "dimensions": {...}, "timestamp": ms, "value": {"count", "sum", "max", "min", extra
/// statistics such as "p99"}, "unit"}`. Each is one minute's statistics (a delta).
public enum CloudWatchJSONMetrics {
  /// The format's name, as the metric stream's `OutputFormat` says it.
  public static let format = "json"

  /// The points of one record, and the stream it names. A record with one line that is not
  /// a data point is refused whole (with the line's number), so that a record is stored
  /// entirely or not at all.
  public static func points(_ record: [UInt8]) throws(MetricRecordError) -> (
    points: [MetricPoint], stream: String?
  ) {
    var points: [MetricPoint] = []
    var stream: String?
    var line = 0
    var start = 0
    let decoder = JSONDecoder()
    while start < record.count {
      var end = start
      while end < record.count && record[end] != 0x0A { end += 1 }
      line += 1
      if record[start..<end].contains(where: { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) {
        let datum: Datum
        if let fast = record.withUnsafeBufferPointer({
          CloudWatchJSONLine.read(UnsafeBufferPointer(rebasing: $0[start..<end]))
        }).flatMap(Datum.init) {
          datum = fast
        } else {
          do {
            datum = try decoder.decode(Datum.self, from: Data(record[start..<end]))
          } catch {
            throw MetricRecordError(
              "line \(line) is not a CloudWatch metric data point: \(DecodingText.describe(error))"
            )
          }
        }
        points.append(try datum.point(line: line))
        if stream == nil { stream = datum.metricStreamName }
      }
      start = end + 1
    }
    guard !points.isEmpty else { throw MetricRecordError("the record holds no data point") }
    return (points, stream)
  }

  struct Datum: Decodable, Equatable {
    var metricStreamName: String?
    var namespace: String
    var metricName: String
    var dimensions: [String: String]?
    var timestamp: Int64
    var value: [String: Double]
    var unit: String?

    /// What the fast reader read, when it holds every key the format requires.
    init?(_ line: CloudWatchJSONLine) {
      guard let namespace = line.namespace, let metricName = line.metricName,
        let timestamp = line.timestamp, line.sawValue
      else { return nil }
      self.metricStreamName = line.metricStreamName
      self.namespace = namespace
      self.metricName = metricName
      self.dimensions = line.sawDimensions ? line.dimensions : nil
      self.timestamp = timestamp
      self.value = line.value
      self.unit = line.unit
    }

    enum CodingKeys: String, CodingKey {
      case metricStreamName = "metric_stream_name"
      case metricName = "metric_name"
      case namespace, dimensions, timestamp, value, unit
    }

    func point(line: Int) throws(MetricRecordError) -> MetricPoint {
      guard !namespace.isEmpty, namespace.count <= 255, !metricName.isEmpty,
        metricName.count <= 255
      else {
        throw MetricRecordError(
          "line \(line): namespace and metric_name must be 1 to 255 characters")
      }
      guard let count = value["count"], let sum = value["sum"], let min = value["min"],
        let max = value["max"]
      else {
        throw MetricRecordError("line \(line): value must hold count, sum, min and max")
      }
      var statistics = value
      for name in ["count", "sum", "min", "max"] { statistics[name] = nil }
      return MetricPoint(
        series: MetricSeriesKey(
          namespace: namespace, metricName: metricName, dimensions: dimensions ?? [:],
          unit: unit ?? "None"),
        start: Date(millis: timestamp), periodSeconds: 60, count: count, sum: sum, min: min,
        max: max, statistics: statistics)
    }
  }

}

/// Why one record of a delivery could not be read (the others still are).
public struct MetricRecordError: Error, Sendable, Equatable, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// What a JSON decoding error means, in a few words (never the input itself).
enum DecodingText {
  static func describe(_ error: any Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, _): "\(key.stringValue) is missing"
    case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
      "\(context.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type"
    case DecodingError.dataCorrupted: "it is not valid JSON"
    default: "it could not be read"
    }
  }
}
