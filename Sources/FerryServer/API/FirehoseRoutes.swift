import FerryCore
import FerryMetrics
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics

/// `POST /api/v1/firehose/metrics`: Amazon Data Firehose's HTTP endpoint delivery of a
/// CloudWatch metric stream. Outside the token auth: `X-Amz-Firehose-Access-Key` (a
/// delivery key) names the account. Every answer is Firehose's own form, `{"requestId",
/// "timestamp"}` plus `errorMessage` when not every record was stored: 200 only when every
/// record is stored durably, 401 for a missing or wrong key, 413 for a body over the limit
/// (Firehose does not retry it), 400 for records that cannot be read (Firehose retries,
/// then backs them up to the stream's S3 bucket), 503 when the store is unavailable. A
/// retry of a stored request (same request ID) writes nothing and answers as the first
/// time. Neither the key nor the records reach a log line.
struct FirehoseRoutes {
  let store: any Store
  /// Deliveries read at once; the others wait their turn (Firehose allows 3 minutes).
  let gate: AsyncGate

  init(store: any Store, concurrentDeliveries: Int = 4) {
    self.store = store
    self.gate = AsyncGate(permits: concurrentDeliveries)
  }

  func add(to router: Router<FerryRequestContext>) {
    router.post("api/v1/firehose/metrics", use: receive)
  }

  static let requestIDHeader = HTTPField.Name("X-Amz-Firehose-Request-Id")
  static let accessKeyHeader = HTTPField.Name("X-Amz-Firehose-Access-Key")
  static let sourceARNHeader = HTTPField.Name("X-Amz-Firehose-Source-Arn")
  static let attributesHeader = HTTPField.Name("X-Amz-Firehose-Common-Attributes")
  static let protocolHeader = HTTPField.Name("X-Amz-Firehose-Protocol-Version")

  @Sendable func receive(_ request: Request, context: FerryRequestContext) async throws -> Response
  {
    let headerID = Self.requestIDHeader.flatMap { request.headers[$0] }
    guard let secret = Self.accessKeyHeader.flatMap({ request.headers[$0] }), !secret.isEmpty
    else {
      return Self.answer(
        .unauthorized, headerID,
        "the X-Amz-Firehose-Access-Key header is missing: set the delivery stream's access key to a Ferry delivery key (ferry metrics key create)"
      )
    }
    let key: MetricDeliveryKey
    do {
      guard let found = try await store.authenticate(deliveryKey: secret) else {
        return Self.answer(
          .unauthorized, headerID,
          "the access key is not a delivery key of any account (revoked, or mistyped): create one with ferry metrics key create and set it on the delivery stream"
        )
      }
      key = found
    } catch {
      return Self.answer(
        .serviceUnavailable, headerID, "Ferry's store is unavailable; Firehose will retry")
    }
    // Firehose sends version 1.0 of its protocol; a later major version may mean another
    // body, so it is refused (400: Firehose retries, then backs the data up to S3).
    if let version = Self.protocolHeader.flatMap({ request.headers[$0] }),
      version.split(separator: ".").first.map(String.init) != "1"
    {
      return Self.answer(
        .badRequest, headerID,
        "X-Amz-Firehose-Protocol-Version \(Shown.quoted(String(version.prefix(40)))) is not supported: Ferry speaks version 1.0 of Firehose's HTTP endpoint delivery protocol"
      )
    }
    let logger = context.logger
    return await gate.run { await deliver(request, key: key, headerID: headerID, logger: logger) }
  }

  /// Reads, checks and stores one delivery of an authenticated key.
  func deliver(_ request: Request, key: MetricDeliveryKey, headerID: String?, logger: Logger)
    async -> Response
  {
    var request = request
    let body: ByteBuffer
    do {
      body = try await request.collectBody(upTo: FirehoseRequest.maxBodyBytes)
    } catch {
      return Self.answer(
        .contentTooLarge, headerID,
        "the body is over Firehose's limit of \(FirehoseRequest.maxBodyBytes) bytes (64 MiB)")
    }
    let delivery: MetricDelivery
    do {
      let firehose = try FirehoseRequest.read(
        body: Data(body.readableBytesView),
        contentEncoding: request.headers[.contentEncoding], headerRequestID: headerID)
      delivery = try MetricDeliveryReader.delivery(
        firehose, keyID: key.id, sourceARN: Self.sourceARNHeader.flatMap { request.headers[$0] },
        commonAttributes: Self.attributesHeader.flatMap { request.headers[$0] })
    } catch {
      return Self.answer(
        error.status == 413 ? .contentTooLarge : .badRequest, headerID, error.message)
    }
    do {
      let earlier = try await store.commitMetricDelivery(delivery, of: key.accountID)
      let message = earlier.map(\.errorMessage) ?? delivery.errorMessage
      if earlier == nil {
        Counter(label: "ferry_metric_points_total").increment(by: delivery.points.count)
      }
      return Self.answer(message == nil ? .ok : .badRequest, delivery.requestID, message)
    } catch {
      logger.warning("metric delivery not stored", metadata: ["error": "\(type(of: error))"])
      return Self.answer(
        .serviceUnavailable, delivery.requestID,
        "Ferry could not store the delivery now; Firehose will retry")
    }
  }

  /// Firehose's answer: its JSON, no `Content-Encoding`.
  static func answer(_ status: HTTPResponse.Status, _ requestID: String?, _ message: String?)
    -> Response
  {
    Counter(label: "ferry_firehose_requests_total", dimensions: [("status", String(status.code))])
      .increment()
    var buffer = ByteBuffer()
    buffer.writeBytes(FirehoseAnswer.body(requestID: requestID ?? "", errorMessage: message))
    return Response(
      status: status, headers: [.contentType: "application/json"],
      body: ResponseBody(byteBuffer: buffer))
  }
}

/// At most `permits` bodies run at once; others wait in order.
actor AsyncGate {
  private var free: Int
  private var waiting: [CheckedContinuation<Void, Never>] = []

  init(permits: Int) { free = max(1, permits) }

  func run<T: Sendable>(_ body: @Sendable () async -> T) async -> T {
    await acquire()
    defer { release() }
    return await body()
  }

  private func acquire() async {
    if free > 0 {
      free -= 1
      return
    }
    await withCheckedContinuation { waiting.append($0) }
  }

  private func release() {
    if waiting.isEmpty {
      free += 1
    } else {
      waiting.removeFirst().resume()
    }
  }
}
