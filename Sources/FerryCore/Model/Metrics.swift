import Crypto
import Foundation

/// A key that Amazon Data Firehose presents (`X-Amz-Firehose-Access-Key`) when it delivers
/// an account's CloudWatch metric stream to Ferry. It names the account; the store keeps
/// only its hash. An account may hold several at once, so that a rotation (a new key in
/// the stream, then the old one revoked) loses no delivery.
public struct MetricDeliveryKey: Sendable, Equatable, Codable {
  public var id: String
  public var accountID: AccountID
  public var name: String
  public var createdAt: Date
  /// When a delivery last presented it (nil: never).
  public var lastUsedAt: Date?

  public init(
    id: String, accountID: AccountID, name: String, createdAt: Date, lastUsedAt: Date? = nil
  ) {
    self.id = id
    self.accountID = accountID
    self.name = name
    self.createdAt = createdAt
    self.lastUsedAt = lastUsedAt
  }

  /// A new key's ID: `mk_` and 16 random letters and digits.
  public static func newID() -> String { "mk_" + RandomText.alphanumeric(16) }
  /// A new key's secret: `frm_` and 40 random letters and digits (about 238 bits).
  public static func generateSecret() -> String { "frm_" + RandomText.alphanumeric(40) }
  /// The stored form of a key: hex SHA-256 (keys are long and random).
  public static func hash(_ secret: String) -> String { TokenSecret.hash(secret) }
}

/// A delivery key just created: the only moment its secret exists outside Firehose.
public struct IssuedDeliveryKey: Sendable {
  public var key: MetricDeliveryKey
  public var secret: Secret

  public init(key: MetricDeliveryKey, secret: String) {
    self.key = key
    self.secret = Secret(secret)
  }
}

/// What names one time series: CloudWatch's namespace, metric name, dimensions and unit.
public struct MetricSeriesKey: Sendable, Hashable, Codable {
  public var namespace: String
  public var metricName: String
  /// Dimension names to values (CloudWatch allows up to 30).
  public var dimensions: [String: String]
  /// CloudWatch's unit (`Seconds`, `Count`, `None`, ...).
  public var unit: String

  public init(namespace: String, metricName: String, dimensions: [String: String], unit: String) {
    self.namespace = namespace
    self.metricName = metricName
    self.dimensions = dimensions
    self.unit = unit
  }

  /// The dimensions as stored and compared: a JSON object with its keys sorted.
  public var dimensionsText: String { Self.dimensionsText(dimensions) }

  public static func dimensionsText(_ dimensions: [String: String]) -> String {
    StoreJSON.object(dimensions)
  }
}

/// One metric's statistics over one period (CloudWatch streams one-minute periods), as
/// CloudWatch computed them for that period alone: a delta, never a running total.
public struct MetricPoint: Sendable, Equatable {
  public var series: MetricSeriesKey
  /// The period's start (milliseconds are kept).
  public var start: Date
  /// The period's length in seconds (60 for metric streams).
  public var periodSeconds: Int
  /// `SampleCount`, `Sum`, `Minimum`, `Maximum` of the period.
  public var count: Double
  public var sum: Double
  public var min: Double
  public var max: Double
  /// Additional statistics the stream was configured to send (`p99`, `p99.9`,
  /// `TM(25%:75%)`, ...), by CloudWatch's name.
  public var statistics: [String: Double]

  public init(
    series: MetricSeriesKey, start: Date, periodSeconds: Int = 60, count: Double, sum: Double,
    min: Double, max: Double, statistics: [String: Double] = [:]
  ) {
    self.series = series
    self.start = start
    self.periodSeconds = periodSeconds
    self.count = count
    self.sum = sum
    self.min = min
    self.max = max
    self.statistics = statistics
  }
}

/// One Firehose request to the metrics endpoint, as received and decoded: what is stored
/// once per request ID, with its points, in one transaction.
public struct MetricDelivery: Sendable {
  /// Firehose's request ID: a retry of the same request carries the same one.
  public var requestID: String
  public var keyID: String
  public var receivedAt: Date
  /// `X-Amz-Firehose-Source-Arn`: the delivery stream's ARN.
  public var sourceARN: String?
  /// The metric stream's name, when the records say it.
  public var streamName: String?
  /// The format the records were in (`json`, `opentelemetry1.0`, `opentelemetry0.7`).
  public var format: String
  /// `X-Amz-Firehose-Common-Attributes`, kept as the delivery's labels.
  public var labels: [String: String]
  public var records: Int
  public var points: [MetricPoint]
  /// The records that could not be read, with why (their points are not stored).
  public var rejected: [RejectedRecord]

  public init(
    requestID: String, keyID: String, receivedAt: Date = Date(), sourceARN: String?,
    streamName: String?, format: String, labels: [String: String], records: Int,
    points: [MetricPoint], rejected: [RejectedRecord]
  ) {
    self.requestID = requestID
    self.keyID = keyID
    self.receivedAt = receivedAt
    self.sourceARN = sourceARN
    self.streamName = streamName
    self.format = format
    self.labels = labels
    self.records = records
    self.points = points
    self.rejected = rejected
  }

  /// A record of a delivery that could not be read: its place in the request and why.
  public struct RejectedRecord: Sendable, Equatable, Codable {
    public var index: Int
    public var problem: String
    public init(index: Int, problem: String) {
      self.index = index
      self.problem = problem
    }
  }

  /// What the answer's `errorMessage` says when records were refused (nil: none was),
  /// at most 8,192 characters as Firehose allows.
  public var errorMessage: String? {
    guard !rejected.isEmpty else { return nil }
    var text =
      "\(rejected.count) of \(records) records could not be read and were not stored (the other records were): "
    text += rejected.prefix(20).map { "record \($0.index): \($0.problem)" }.joined(separator: "; ")
    if rejected.count > 20 { text += "; and \(rejected.count - 20) more" }
    return String(text.prefix(8192))
  }
}

/// A delivery as the account's delivery log keeps it (the points are in the series).
public struct MetricDeliveryRecord: Sendable, Equatable, Codable {
  public var requestID: String
  public var keyID: String
  public var receivedAt: Date
  public var sourceARN: String?
  public var streamName: String?
  public var format: String
  public var labels: [String: String]
  public var records: Int
  public var points: Int
  public var rejected: Int
  public var errorMessage: String?

  public init(
    requestID: String, keyID: String, receivedAt: Date, sourceARN: String?, streamName: String?,
    format: String, labels: [String: String], records: Int, points: Int, rejected: Int,
    errorMessage: String?
  ) {
    self.requestID = requestID
    self.keyID = keyID
    self.receivedAt = receivedAt
    self.sourceARN = sourceARN
    self.streamName = streamName
    self.format = format
    self.labels = labels
    self.records = records
    self.points = points
    self.rejected = rejected
    self.errorMessage = errorMessage
  }

  public init(_ delivery: MetricDelivery) {
    self.init(
      requestID: delivery.requestID, keyID: delivery.keyID, receivedAt: delivery.receivedAt,
      sourceARN: delivery.sourceARN, streamName: delivery.streamName, format: delivery.format,
      labels: delivery.labels, records: delivery.records, points: delivery.points.count,
      rejected: delivery.rejected.count, errorMessage: delivery.errorMessage)
  }
}

/// A series the account has received, with the time span of its points.
public struct MetricSeriesSummary: Sendable, Equatable {
  public var key: MetricSeriesKey
  public var firstPoint: Date
  public var lastPoint: Date
  public var points: Int

  public init(key: MetricSeriesKey, firstPoint: Date, lastPoint: Date, points: Int) {
    self.key = key
    self.firstPoint = firstPoint
    self.lastPoint = lastPoint
    self.points = points
  }
}

extension Date {
  /// Whole milliseconds since 1970 (how CloudWatch and Firehose give times).
  public var millis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }
  public init(millis: Int64) { self.init(timeIntervalSince1970: Double(millis) / 1000) }
}
