import FerryCore
import Foundation

/// Turns a Firehose request into the delivery the store keeps: each record read in the
/// format it is in (detected per record: OpenTelemetry records are protobuf messages whose
/// length prefixes cover the record exactly; JSON records are lines of objects), the bad ones listed with why, the good ones' points kept.
public enum MetricDeliveryReader {
  public static func delivery(
    _ request: FirehoseRequest, keyID: String, sourceARN: String?, commonAttributes: String?,
    receivedAt: Date = Date()
  ) throws(FirehoseRequest.Problem) -> MetricDelivery {
    let labels = try self.labels(commonAttributes)
    var points: [MetricPoint] = []
    var rejected: [MetricDelivery.RejectedRecord] = []
    var stream: String?
    var formats: Set<String> = []
    for (index, record) in request.records.enumerated() {
      do {
        let read = try self.record(record)
        points += read.points
        formats.insert(read.format)
        if stream == nil { stream = read.stream }
      } catch {
        rejected.append(.init(index: index, problem: error.description))
      }
    }
    return MetricDelivery(
      requestID: request.requestID, keyID: keyID, receivedAt: receivedAt,
      sourceARN: sourceARN.map { String($0.prefix(2048)) }, streamName: stream,
      format: formats.sorted().joined(separator: "+"), labels: labels,
      records: request.records.count, points: points, rejected: rejected)
  }

  /// One record's points, its format and the stream it names.
  static func record(_ record: [UInt8]) throws(MetricRecordError) -> (
    points: [MetricPoint], format: String, stream: String?
  ) {
    if CloudWatchOpenTelemetryMetrics.isFramed(record) {
      return try CloudWatchOpenTelemetryMetrics.points(record)
    }
    let first = record.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
    guard first == UInt8(ascii: "{") else {
      throw MetricRecordError(
        "the record is neither CloudWatch's JSON format (lines of JSON objects) nor its OpenTelemetry formats (length-prefixed protobuf messages)"
      )
    }
    let read = try CloudWatchJSONMetrics.points(record)
    return (read.points, CloudWatchJSONMetrics.format, read.stream)
  }

  /// `X-Amz-Firehose-Common-Attributes`: `{"commonAttributes": {"name": "value", ...}}`.
  static func labels(_ header: String?) throws(FirehoseRequest.Problem) -> [String: String] {
    guard let header, !header.isEmpty else { return [:] }
    struct Attributes: Decodable { var commonAttributes: [String: String] }
    do {
      let labels = try JSONDecoder().decode(Attributes.self, from: Data(header.utf8))
        .commonAttributes
      guard labels.count <= 50 else {
        throw FirehoseRequest.Problem.bad(
          "X-Amz-Firehose-Common-Attributes holds more than 50 attributes")
      }
      return labels
    } catch let problem as FirehoseRequest.Problem {
      throw problem
    } catch {
      throw .bad(
        "X-Amz-Firehose-Common-Attributes is not {\"commonAttributes\": {\"name\": \"value\"}}: \(DecodingText.describe(error))"
      )
    }
  }
}
