import FerryCore
import Foundation

/// A statistic a metric query asks for.
public enum MetricStatistic: Sendable, Equatable, CustomStringConvertible {
  case sum, count, min, max, avg
  /// A statistic the stream sent beside the four (`p99`, `p99.9`, `TM(25%:75%)`), by name.
  case stored(String)

  public init?(_ text: String) {
    switch text.lowercased() {
    case "sum": self = .sum
    case "count", "samplecount": self = .count
    case "min", "minimum": self = .min
    case "max", "maximum": self = .max
    case "avg", "average": self = .avg
    default:
      guard !text.isEmpty, text.count <= 32, Self.isStatisticName(text) else { return nil }
      self = .stored(text)
    }
  }

  public var description: String {
    switch self {
    case .sum: "sum"
    case .count: "count"
    case .min: "min"
    case .max: "max"
    case .avg: "avg"
    case .stored(let name): name
    }
  }
}

/// One series of a query's answer: its dimensions and unit, and a value per step.
public struct MetricSeriesResult: Sendable, Equatable {
  public var key: MetricSeriesKey
  public var points: [Point]

  public struct Point: Sendable, Equatable {
    /// The step's start.
    public var time: Date
    public var value: Double
    public init(time: Date, value: Double) {
      self.time = time
      self.value = value
    }
  }
}

/// Per-period statistics combined over a longer step, the way the statistics combine:
/// counts and sums add up, the minimum is the least minimum and the maximum the greatest
/// maximum, the average is the summed sum over the summed count (never an average of
/// averages). A percentile cannot be combined from percentiles: over one period it is
/// CloudWatch's own figure; over a longer step the largest of the periods' figures (an
/// upper bound), as the answer says. Steps start on multiples of the step since 1970, so
/// they fall on round times.
public enum MetricAggregation {
  public static func series(
    _ points: [MetricPoint], statistic: MetricStatistic, stepSeconds: Int
  ) -> [MetricSeriesResult] {
    let step = Int64(Swift.max(1, stepSeconds)) * 1000
    var bySeries: [MetricSeriesKey: [Int64: Accumulator]] = [:]
    for point in points {
      let millis = point.start.millis
      let bucket = millis - ((millis % step) + step) % step
      bySeries[point.series, default: [:]][bucket, default: Accumulator()].add(
        point, statistic)
    }
    return bySeries.map { key, buckets in
      MetricSeriesResult(
        key: key,
        points: buckets.keys.sorted().compactMap { bucket in
          buckets[bucket]?.value(statistic).map {
            MetricSeriesResult.Point(time: Date(millis: bucket), value: $0)
          }
        })
    }
    .filter { !$0.points.isEmpty }
    .sorted { ($0.key.dimensionsText, $0.key.unit) < ($1.key.dimensionsText, $1.key.unit) }
  }

  struct Accumulator {
    var count = 0.0
    var sum = 0.0
    var min = Double.infinity
    var max = -Double.infinity
    var stored: Double?

    mutating func add(_ point: MetricPoint, _ statistic: MetricStatistic) {
      count += point.count
      sum += point.sum
      min = Swift.min(min, point.min)
      max = Swift.max(max, point.max)
      if case .stored(let name) = statistic, let value = point.statistics[name] {
        stored = Swift.max(stored ?? -Double.infinity, value)
      }
    }

    func value(_ statistic: MetricStatistic) -> Double? {
      switch statistic {
      case .sum: sum
      case .count: count
      case .min: min.isFinite ? min : nil
      case .max: max.isFinite ? max : nil
      case .avg: count > 0 ? sum / count : nil
      case .stored: stored
      }
    }
  }
}

extension MetricStatistic {
  /// Letters, digits and the punctuation CloudWatch's statistic names use.
  static func isStatisticName(_ text: String) -> Bool {
    text.unicodeScalars.allSatisfy {
      ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
        || "().:%_-".unicodeScalars.contains($0)
    }
  }
}
