import Foundation

/// CloudWatch metrics an account ships through Amazon Data Firehose: the delivery keys
/// that name the account, the deliveries (once per Firehose request ID), and the
/// per-period statistics they carry. Key changes are audited in the same transaction.
public protocol MetricStore: Sendable {
  // MARK: Delivery keys
  /// Creates a delivery key (audited as `metrics-key.create`); the store keeps only its
  /// hash.
  func issueDeliveryKey(name: String, of account: AccountID, actor: String) async throws
    -> IssuedDeliveryKey
  func deliveryKeys(of account: AccountID) async throws -> [MetricDeliveryKey]
  /// Revokes a key (audited as `metrics-key.revoke`): deliveries presenting it are refused
  /// from then on. False if the account has no such key.
  func revokeDeliveryKey(_ id: String, of account: AccountID, actor: String) async throws -> Bool
  /// The key a secret belongs to, if any (looked up by its hash).
  func authenticate(deliveryKey secret: String) async throws -> MetricDeliveryKey?

  // MARK: Deliveries and points
  /// Stores a delivery and its points in one transaction, once per request ID: nil when it
  /// was stored now, or the delivery as first stored when that request ID was stored
  /// already (a Firehose retry; nothing is written again). A point of a series and period
  /// already stored replaces it (CloudWatch's later figure for that period wins); points
  /// are never added together.
  func commitMetricDelivery(_ delivery: MetricDelivery, of account: AccountID) async throws
    -> MetricDeliveryRecord?
  /// The latest deliveries, newest first.
  func metricDeliveries(of account: AccountID, limit: Int) async throws -> [MetricDeliveryRecord]
  /// The series the account holds, by namespace, metric name and dimensions; at most
  /// `limit`.
  func metricSeries(of account: AccountID, limit: Int) async throws -> [MetricSeriesSummary]
  /// The points of one metric whose period starts in `from..<to`, of every series whose
  /// dimensions include `dimensions`, oldest first; at most `limit` (the caller asks for
  /// one more than it accepts, to tell that there were more).
  func metricPoints(
    of account: AccountID, namespace: String, metricName: String, dimensions: [String: String],
    from: Date, to: Date, limit: Int
  ) async throws -> [MetricPoint]
  /// Removes the account's points whose period started before `cutoff`, and the series
  /// and deliveries left with nothing newer (retention). Returns the points removed.
  func deleteMetrics(of account: AccountID, olderThan cutoff: Date) async throws -> Int
}
