import FerryCore
import Foundation

/// How each metric stream's deliveries are going, from the latest deliveries: when the
/// last one arrived, how many records and points a minute it sends (over the last ten
/// minutes), how many deliveries in the last hour had records refused, and the last error.
public struct MetricStreamStatus: Sendable, Equatable {
  /// The metric stream's name (from the records), or the delivery stream's ARN.
  public var stream: String
  /// `X-Amz-Firehose-Source-Arn` of its latest delivery.
  public var deliveryStream: String?
  public var formats: [String]
  public var lastDelivery: Date
  public var deliveriesLastHour: Int
  public var recordsPerMinute: Double
  public var pointsPerMinute: Double
  public var refusedLastHour: Int
  public var lastError: String?

  /// The window over which the per-minute rates are taken.
  public static let rateWindow: TimeInterval = 600

  /// One status per stream, the most recently heard first. `deliveries` may come in any
  /// order; those older than an hour count only for `lastDelivery`.
  public static func of(_ deliveries: [MetricDeliveryRecord], now: Date = Date())
    -> [MetricStreamStatus]
  {
    var byStream: [String: MetricStreamStatus] = [:]
    var formats: [String: Set<String>] = [:]
    for d in deliveries.sorted(by: { $0.receivedAt > $1.receivedAt }) {
      let name = d.streamName ?? d.sourceARN ?? "(unnamed stream)"
      var status =
        byStream[name]
        ?? MetricStreamStatus(
          stream: name, deliveryStream: d.sourceARN, formats: [], lastDelivery: d.receivedAt,
          deliveriesLastHour: 0, recordsPerMinute: 0, pointsPerMinute: 0, refusedLastHour: 0,
          lastError: nil)
      let age = now.timeIntervalSince(d.receivedAt)
      if age <= 3600 {
        status.deliveriesLastHour += 1
        if d.rejected > 0 {
          status.refusedLastHour += 1
          if status.lastError == nil { status.lastError = d.errorMessage }
        }
      }
      if age <= rateWindow {
        status.recordsPerMinute += Double(d.records) / (rateWindow / 60)
        status.pointsPerMinute += Double(d.points) / (rateWindow / 60)
      }
      formats[name, default: []].formUnion(d.format.split(separator: "+").map(String.init))
      byStream[name] = status
    }
    return byStream.values.map { status in
      var status = status
      status.formats = (formats[status.stream] ?? []).sorted()
      return status
    }.sorted { ($0.lastDelivery, $1.stream) > ($1.lastDelivery, $0.stream) }
  }
}
