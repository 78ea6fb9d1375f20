import FerryCore
import Foundation
import Testing

@testable import FerryMetrics

@Suite("Metric stream status")
struct MetricStreamStatusTests {
  static let now = Date(timeIntervalSince1970: 1_800_000_000)

  static func delivery(
    _ stream: String?, minutesAgo: Double, records: Int, points: Int, rejected: Int = 0,
    format: String = "json"
  ) -> MetricDeliveryRecord {
    MetricDeliveryRecord(
      requestID: UUID().uuidString, keyID: "k",
      receivedAt: now.addingTimeInterval(-60 * minutesAgo),
      sourceARN: "arn:aws:firehose:us-east-1:123456789012:deliverystream/ferry", streamName: stream,
      format: format, labels: [:], records: records, points: points, rejected: rejected,
      errorMessage: rejected > 0 ? "record 3: line 1 is not a data point" : nil)
  }

  @Test func ratesOverTheLastTenMinutesAndErrorsOverTheHour() throws {
    let deliveries = [
      Self.delivery("prod", minutesAgo: 1, records: 100, points: 2_000),
      Self.delivery("prod", minutesAgo: 5, records: 50, points: 1_000, format: "opentelemetry1.0"),
      Self.delivery("prod", minutesAgo: 20, records: 999, points: 9_999, rejected: 2),
      Self.delivery("prod", minutesAgo: 90, records: 7, points: 7, rejected: 1),
      Self.delivery("staging", minutesAgo: 30, records: 10, points: 10),
    ]
    let statuses = MetricStreamStatus.of(deliveries.shuffled(), now: Self.now)
    #expect(statuses.map(\.stream) == ["prod", "staging"])
    let prod = try #require(statuses.first)
    #expect(prod.lastDelivery == Self.now.addingTimeInterval(-60))
    #expect(prod.deliveriesLastHour == 3)
    #expect(prod.recordsPerMinute == 15)  // 150 records in the last 10 minutes
    #expect(prod.pointsPerMinute == 300)
    #expect(prod.refusedLastHour == 1)
    #expect(prod.lastError == "record 3: line 1 is not a data point")
    #expect(prod.formats == ["json", "opentelemetry1.0"])
    let staging = try #require(statuses.last)
    #expect(staging.recordsPerMinute == 0 && staging.deliveriesLastHour == 1)
    #expect(staging.lastError == nil)
  }
}
