import FerryCore
import FerryTesting
import Foundation
import Testing

@testable import FerryStore

/// Metrics on every backend: delivery keys kept as hashes and audited, each Firehose
/// request stored once, a period's later figure replacing the earlier one, tenants apart,
/// retention.
@Suite("Metric store")
struct MetricStoreTests {
  typealias Backend = StoreContractTests.Backend

  static let base = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z

  static func point(
    _ minute: Int, instance: String = "i-1", metric: String = "CPUUtilization",
    sum: Double = 10, p99: Double? = nil
  ) -> MetricPoint {
    MetricPoint(
      series: MetricSeriesKey(
        namespace: "AWS/EC2", metricName: metric,
        dimensions: ["InstanceId": instance, "AutoScalingGroupName": "web"], unit: "Percent"),
      start: base.addingTimeInterval(Double(minute) * 60), count: 4, sum: sum, min: 1, max: 5,
      statistics: p99.map { ["p99": $0] } ?? [:])
  }

  static func delivery(_ id: String, key: String, _ points: [MetricPoint]) -> MetricDelivery {
    MetricDelivery(
      requestID: id, keyID: key,
      sourceARN: "arn:aws:firehose:us-east-1:123456789012:deliverystream/s",
      streamName: "stream", format: "json", labels: ["team": "web"], records: 1, points: points,
      rejected: [])
  }

  @Test(arguments: Backend.allCases)
  func deliveryKeysAreHashedAuditedAndStayInTheirAccount(backend: Backend) async throws {
    let store = try await StoreContractTests.makeStore(backend)
    defer { (store as? PostgresStore)?.close() }
    let account = try await store.testAccount("acme")
    let other = try await store.testAccount("globex")
    let first = try await store.issueDeliveryKey(name: "firehose", of: account.id, actor: "alice")
    let second = try await store.issueDeliveryKey(name: "rotated", of: account.id, actor: "alice")
    #expect(first.secret.revealed.hasPrefix("frm_") && first.secret.revealed.count == 44)
    #expect(first.secret != second.secret)
    // Both keys work at once (a rotation's overlap), each naming its account.
    #expect(
      try await store.authenticate(deliveryKey: first.secret.revealed)?.accountID == account.id)
    #expect(try await store.authenticate(deliveryKey: second.secret.revealed)?.id == second.key.id)
    #expect(try await store.authenticate(deliveryKey: first.secret.revealed + "x") == nil)
    #expect(try await store.deliveryKeys(of: account.id).map(\.name) == ["firehose", "rotated"])
    #expect(try await store.deliveryKeys(of: other.id).isEmpty)
    // Another account cannot revoke it.
    #expect(
      try await store.revokeDeliveryKey(first.key.id, of: other.id, actor: "mallory") == false)
    #expect(try await store.revokeDeliveryKey(first.key.id, of: account.id, actor: "alice"))
    #expect(try await store.authenticate(deliveryKey: first.secret.revealed) == nil)
    #expect(try await store.authenticate(deliveryKey: second.secret.revealed) != nil)
    // Bad names are refused.
    await #expect(throws: StoreError.self) {
      try await store.issueDeliveryKey(name: "bad\nname", of: account.id, actor: "alice")
    }
    let audit = try await store.auditLog(of: account.id, limit: 50)
    #expect(audit.filter { $0.action == "metrics-key.create" }.count == 2)
    #expect(audit.filter { $0.action == "metrics-key.revoke" }.map(\.target) == [first.key.id])
    let text = audit.map { "\($0)" }.joined()
    #expect(!text.contains(first.secret.revealed) && !text.contains(second.secret.revealed))
  }

  @Test(arguments: Backend.allCases)
  func aRequestIsStoredOnceAndALaterFigureReplacesAPeriod(backend: Backend) async throws {
    let store = try await StoreContractTests.makeStore(backend)
    defer { (store as? PostgresStore)?.close() }
    let account = try await store.testAccount("acme")
    let other = try await store.testAccount("globex")
    let key = try await store.issueDeliveryKey(name: "firehose", of: account.id, actor: "t")
    let points =
      (0..<5).map { Self.point($0, p99: 4.5) } + (0..<5).map { Self.point($0, instance: "i-2") }
    #expect(
      try await store.commitMetricDelivery(
        Self.delivery("r1", key: key.key.id, points), of: account.id) == nil)
    // A retry of r1, even with other contents, writes nothing and says what r1 was.
    let again = try await store.commitMetricDelivery(
      Self.delivery("r1", key: key.key.id, [Self.point(9, sum: 99)]), of: account.id)
    #expect(again?.points == 10)
    #expect(again?.requestID == "r1")
    let all = try await store.metricPoints(
      of: account.id, namespace: "AWS/EC2", metricName: "CPUUtilization", dimensions: [:],
      from: Self.base, to: Self.base.addingTimeInterval(3600), limit: 100)
    #expect(all.count == 10)
    #expect(all.allSatisfy { $0.sum == 10 && $0.count == 4 && $0.min == 1 && $0.max == 5 })
    #expect(
      all.filter { $0.series.dimensions["InstanceId"] == "i-1" }.allSatisfy {
        $0.statistics == ["p99": 4.5]
      })
    // Oldest first.
    #expect(all.map(\.start) == all.map(\.start).sorted())

    // A new request with minute 2 again: CloudWatch's later figure replaces it, not added.
    #expect(
      try await store.commitMetricDelivery(
        Self.delivery("r2", key: key.key.id, [Self.point(2, sum: 25), Self.point(2, sum: 30)]),
        of: account.id) == nil)
    let one = try await store.metricPoints(
      of: account.id, namespace: "AWS/EC2", metricName: "CPUUtilization",
      dimensions: ["InstanceId": "i-1"], from: Self.base, to: Self.base.addingTimeInterval(3600),
      limit: 100)
    #expect(one.map(\.sum) == [10, 10, 30, 10, 10])
    #expect(one[2].statistics.isEmpty)

    // The range is half-open, the limit holds (one more than asked tells there are more).
    let some = try await store.metricPoints(
      of: account.id, namespace: "AWS/EC2", metricName: "CPUUtilization",
      dimensions: ["InstanceId": "i-1"], from: Self.base.addingTimeInterval(60),
      to: Self.base.addingTimeInterval(180), limit: 100)
    #expect(
      some.map(\.start) == [Self.base.addingTimeInterval(60), Self.base.addingTimeInterval(120)])
    let capped = try await store.metricPoints(
      of: account.id, namespace: "AWS/EC2", metricName: "CPUUtilization", dimensions: [:],
      from: Self.base, to: Self.base.addingTimeInterval(3600), limit: 3)
    #expect(capped.count == 4)

    // Series and deliveries; the other tenant sees none of it, and may use the same ID.
    let series = try await store.metricSeries(of: account.id, limit: 100)
    #expect(series.count == 2)
    #expect(series.map(\.points) == [5, 5])
    #expect(
      series[0].firstPoint == Self.base && series[0].lastPoint == Self.base.addingTimeInterval(240))
    let deliveries = try await store.metricDeliveries(of: account.id, limit: 10)
    #expect(Set(deliveries.map(\.requestID)) == ["r1", "r2"])
    #expect(deliveries.first { $0.requestID == "r1" }?.labels == ["team": "web"])
    #expect(try await store.deliveryKeys(of: account.id).first?.lastUsedAt != nil)
    #expect(try await store.metricSeries(of: other.id, limit: 100).isEmpty)
    #expect(
      try await store.metricPoints(
        of: other.id, namespace: "AWS/EC2", metricName: "CPUUtilization", dimensions: [:],
        from: Self.base, to: Self.base.addingTimeInterval(3600), limit: 100
      ).isEmpty)
    #expect(
      try await store.commitMetricDelivery(
        Self.delivery("r1", key: "mk_x", [Self.point(0)]), of: other.id) == nil)
    #expect(try await store.metricSeries(of: other.id, limit: 100).count == 1)

    // Retention: points before minute 3 go; a series with none left goes too.
    let removed = try await store.deleteMetrics(
      of: account.id, olderThan: Self.base.addingTimeInterval(180))
    #expect(removed == 6)
    let left = try await store.metricSeries(of: account.id, limit: 100)
    #expect(left.map(\.points) == [2, 2])
    #expect(left[0].firstPoint == Self.base.addingTimeInterval(180))
    #expect(try await store.metricSeries(of: other.id, limit: 100).count == 1)
  }

  /// Concurrent retries of one request (Firehose retries while the first is in flight)
  /// store it once.
  @Test(arguments: Backend.allCases)
  func concurrentRetriesStoreARequestOnce(backend: Backend) async throws {
    let store = try await StoreContractTests.makeStore(backend)
    defer { (store as? PostgresStore)?.close() }
    let account = try await store.testAccount("acme")
    let points = (0..<200).map { Self.point($0 % 60, instance: "i-\($0 / 60)") }
    let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
      for _ in 0..<8 {
        group.addTask {
          try await store.commitMetricDelivery(
            Self.delivery("same", key: "k", points), of: account.id) == nil
        }
      }
      return try await group.reduce(into: [Bool]()) { $0.append($1) }
    }
    #expect(outcomes.filter { $0 }.count == 1)
    #expect(try await store.metricDeliveries(of: account.id, limit: 10).count == 1)
    #expect(
      try await store.metricSeries(of: account.id, limit: 10).map(\.points).reduce(0, +) == 200)
  }

  /// The retention sweep removes each account's points past its own retention.
  @Test(arguments: Backend.allCases)
  func theRetentionSweepRemovesPointsPastTheAccountsRetention(backend: Backend) async throws {
    let store = try await StoreContractTests.makeStore(backend)
    defer { (store as? PostgresStore)?.close() }
    let account = try await store.testAccount("acme")  // 30 days
    let keeper = try await store.createAccount(
      name: "keeper", externalIDPrefix: "ferry", retentionDays: 365, actor: "t")
    let day = 1440
    let points = [Self.point(0), Self.point(40 * day)]
    for tenant in [account.id, keeper.id] {
      #expect(
        try await store.commitMetricDelivery(Self.delivery("r", key: "k", points), of: tenant)
          == nil)
    }
    // Day 45: the account's minute 0 is 45 days old, past its 30; the keeper keeps both.
    let report = try await RetentionSweep(store: store, holder: "n1").run(
      now: Self.base.addingTimeInterval(45 * 86_400))
    #expect(report.metricPointsRemoved == 1, "\(report)")
    #expect(try await store.metricSeries(of: account.id, limit: 10).map(\.points) == [1])
    #expect(try await store.metricSeries(of: keeper.id, limit: 10).map(\.points) == [2])
  }
}
