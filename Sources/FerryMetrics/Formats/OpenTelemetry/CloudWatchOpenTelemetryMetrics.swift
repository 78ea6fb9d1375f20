import FerryCore
import Foundation
import SwiftProtobuf

/// CloudWatch metric streams' OpenTelemetry output formats, 1.0.0 and 0.7.0. A Firehose
/// record holds one or more `ExportMetricsServiceRequest` messages, each after its length
/// as an unsigned varint. Every metric is a summary with one data point per minute:
/// `count` is SampleCount, `sum` is Sum, quantile 0 is Minimum, 1 is Maximum, and other
/// quantiles are the stream's extra percentiles (0.99 is `p99`). The namespace, metric name
/// and dimensions are the data point's attributes: `Namespace`, `MetricName` and, in 1.0.0,
/// a nested `Dimensions` list; in 0.7.0 they are flat string labels, one per dimension.
public enum CloudWatchOpenTelemetryMetrics {
  public static let format1 = "opentelemetry1.0"
  public static let format07 = "opentelemetry0.7"

  /// The points of one record, its format and the stream it names (from the resource's
  /// `aws.exporter.arn`). A record with anything that is not a CloudWatch data point is
  /// refused whole, so that a record is stored entirely or not at all.
  public static func points(_ record: [UInt8]) throws(MetricRecordError) -> (
    points: [MetricPoint], format: String, stream: String?
  ) {
    var points: [MetricPoint] = []
    var stream: String?
    var legacy = false
    var offset = 0
    var message = 0
    while offset < record.count {
      message += 1
      guard let (length, after) = ProtobufWire.varint(record, at: offset), length <= Int.max,
        Int(length) <= record.count - after
      else {
        throw MetricRecordError(
          "message \(message): its length prefix is missing or runs past the record's end (\(record.count) bytes)"
        )
      }
      let end = after + Int(length)
      let request: Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest
      do {
        request = try .init(serializedBytes: record[after..<end])
      } catch {
        throw MetricRecordError(
          "message \(message) is not an OpenTelemetry ExportMetricsServiceRequest (\(error))")
      }
      for resourceMetrics in request.resourceMetrics {
        if stream == nil { stream = streamName(resourceMetrics.resource) }
        for scope in resourceMetrics.scopeMetrics {
          for metric in scope.metrics {
            try read(metric, message: message, into: &points, legacy: &legacy)
          }
        }
      }
      offset = end
    }
    guard !points.isEmpty else { throw MetricRecordError("the record holds no data point") }
    return (points, legacy ? format07 : format1, stream)
  }

  /// Whether the record is a chain of length-prefixed `ExportMetricsServiceRequest`
  /// messages that ends exactly at its end, each message opening with its field 1
  /// (`resource_metrics`, length-delimited: the byte 0x0A). A JSON record is not: its `{`
  /// would read as a length of 123, but the byte after it is `"`, never 0x0A.
  public static func isFramed(_ record: [UInt8]) -> Bool {
    var offset = 0
    while offset < record.count {
      guard let (length, after) = ProtobufWire.varint(record, at: offset), length > 0,
        length <= UInt64(record.count - after), record[after] == 0x0A
      else { return false }
      offset = after + Int(length)
    }
    return offset == record.count && offset > 0
  }

  static func read(
    _ metric: Opentelemetry_Proto_Metrics_V1_Metric, message: Int, into points: inout [MetricPoint],
    legacy: inout Bool
  ) throws(MetricRecordError) {
    guard case .summary(let summary) = metric.data else {
      throw MetricRecordError(
        "message \(message): metric \(Shown.quoted(metric.name)) is not a summary (CloudWatch metric streams send summaries only)"
      )
    }
    let unit = cloudWatchUnit(metric.unit)
    for point in summary.dataPoints {
      var labels: [String: String] = [:]
      var dimensions: [String: String] = [:]
      if point.attributes.isEmpty, !point.unknownFields.data.isEmpty {
        // OpenTelemetry 0.7.0: `labels` (field 1), string pairs, dimensions among them.
        guard let pairs = ProtobufWire.stringPairs(field: 1, in: point.unknownFields.data) else {
          throw MetricRecordError(
            "message \(message): metric \(Shown.quoted(metric.name)) has unreadable labels")
        }
        for (key, value) in pairs {
          if key == "Namespace" || key == "MetricName" {
            labels[key] = value
          } else {
            dimensions[key] = value
          }
        }
        legacy = true
      } else {
        for attribute in point.attributes {
          switch attribute.value.value {
          case .stringValue(let text):
            labels[attribute.key] = text
          case .kvlistValue(let list) where attribute.key == "Dimensions":
            for pair in list.values {
              if case .stringValue(let text) = pair.value.value { dimensions[pair.key] = text }
            }
          default:
            continue
          }
        }
      }
      guard let namespace = labels["Namespace"], let metricName = labels["MetricName"],
        !namespace.isEmpty, namespace.count <= 255, !metricName.isEmpty, metricName.count <= 255
      else {
        throw MetricRecordError(
          "message \(message): metric \(Shown.quoted(metric.name)) has a data point without Namespace and MetricName attributes of 1 to 255 characters"
        )
      }
      var min: Double?
      var max: Double?
      var statistics: [String: Double] = [:]
      for quantile in point.quantileValues {
        switch quantile.quantile {
        case 0: min = quantile.value
        case 1: max = quantile.value
        default: statistics[percentileName(quantile.quantile)] = quantile.value
        }
      }
      guard let min, let max else {
        throw MetricRecordError(
          "message \(message): metric \(Shown.quoted(metric.name)) has a data point without quantiles 0 (minimum) and 1 (maximum)"
        )
      }
      guard point.sum.isFinite, min.isFinite, max.isFinite,
        statistics.values.allSatisfy(\.isFinite)
      else {
        throw MetricRecordError(
          "message \(message): metric \(Shown.quoted(metric.name)) has a statistic that is not a finite number"
        )
      }
      let startNanos = point.startTimeUnixNano
      let endNanos = point.timeUnixNano
      let period =
        endNanos > startNanos ? Int(((endNanos - startNanos) + 500_000_000) / 1_000_000_000) : 60
      points.append(
        MetricPoint(
          series: MetricSeriesKey(
            namespace: namespace, metricName: metricName, dimensions: dimensions, unit: unit),
          start: Date(millis: Int64(startNanos / 1_000_000)), periodSeconds: Swift.max(period, 1),
          count: Double(point.count), sum: point.sum, min: min, max: max,
          statistics: statistics))
    }
  }

  /// The metric stream's name, from the resource's `aws.exporter.arn`
  /// (`arn:aws:cloudwatch:REGION:ACCOUNT:metric-stream/NAME`).
  static func streamName(_ resource: Opentelemetry_Proto_Resource_V1_Resource) -> String? {
    for attribute in resource.attributes where attribute.key == "aws.exporter.arn" {
      guard case .stringValue(let arn) = attribute.value.value,
        let slash = arn.range(of: "metric-stream/")
      else { return nil }
      return String(arn[slash.upperBound...].prefix(255))
    }
    return nil
  }

  /// A quantile as CloudWatch names the percentile: 0.99 is `p99`, 0.999 is `p99.9`.
  static func percentileName(_ quantile: Double) -> String {
    let percent = (quantile * 100 * 1_000_000).rounded() / 1_000_000
    if percent == percent.rounded() { return "p\(Int(percent))" }
    return "p\(percent)"
  }

  /// CloudWatch's unit for the UCUM unit the OpenTelemetry formats carry (CloudWatch's
  /// documented table; `By/s` is `Bytes/Second`). An unknown unit is kept as sent.
  static func cloudWatchUnit(_ ucum: String) -> String {
    if let unit = units[ucum] { return unit }
    let parts = ucum.split(separator: "/", omittingEmptySubsequences: false)
    if parts.count == 2, let top = units[String(parts[0])], parts[1] == "s" {
      return top + "/Second"
    }
    return ucum.isEmpty ? "None" : ucum
  }

  static let units: [String: String] = [
    "s": "Seconds", "us": "Microseconds", "ms": "Milliseconds", "By": "Bytes",
    "kBy": "Kilobytes", "MBy": "Megabytes", "GBy": "Gigabytes", "TBy": "Terabytes",
    "bit": "Bits", "kbit": "Kilobits", "MBit": "Megabits", "GBit": "Gigabits",
    "Tbit": "Terabits", "%": "Percent", "{Count}": "Count", "1": "None",
  ]
}
