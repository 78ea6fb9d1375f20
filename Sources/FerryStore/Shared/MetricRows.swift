import FerryCore
import Foundation

/// How both backends lay metrics out in rows: a series row per namespace, metric name,
/// dimensions (sorted JSON) and unit; a point row per series and period start, with the
/// four statistics every stream sends as columns and any others as a JSON object; a
/// delivery row per request ID, its record as JSON.
enum MetricRows {
  /// A delivery's points by series, in the order each series first appears, with the span
  /// of their period starts (milliseconds).
  struct SeriesBatch {
    var key: MetricSeriesKey
    var points: [MetricPoint] = []
    var firstMillis = Int64.max
    var lastMillis = Int64.min
  }

  static func bySeries(_ points: [MetricPoint]) -> [SeriesBatch] {
    var index: [MetricSeriesKey: Int] = [:]
    var batches: [SeriesBatch] = []
    for point in points {
      let at: Int
      if let found = index[point.series] {
        at = found
      } else {
        at = batches.count
        index[point.series] = at
        batches.append(SeriesBatch(key: point.series))
      }
      let millis = point.start.millis
      batches[at].points.append(point)
      batches[at].firstMillis = min(batches[at].firstMillis, millis)
      batches[at].lastMillis = max(batches[at].lastMillis, millis)
    }
    return batches
  }

  static func statisticsText(_ statistics: [String: Double]) -> String? {
    statistics.isEmpty ? nil : StoreJSON.object(statistics)
  }

  static func statistics(_ text: String?) -> [String: Double] {
    guard let text else { return [:] }
    return (try? JSONDecoder().decode([String: Double].self, from: Data(text.utf8))) ?? [:]
  }

  static func dimensions(_ text: String) -> [String: String] {
    (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:]
  }

  /// Whether a series' dimensions include every name and value of `filter`.
  static func includes(_ dimensions: [String: String], _ filter: [String: String]) -> Bool {
    filter.allSatisfy { dimensions[$0.key] == $0.value }
  }

  static func deliveryBody(_ record: MetricDeliveryRecord) -> String { StoreJSON.encode(record) }

  static func delivery(_ body: String) throws -> MetricDeliveryRecord {
    try StoreJSON.decode(MetricDeliveryRecord.self, body, table: "metric_deliveries")
  }
}
