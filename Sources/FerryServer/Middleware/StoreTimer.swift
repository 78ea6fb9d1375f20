import Foundation
import Metrics

/// Store call latencies, by call.
enum StoreTimer {
  static func time<T: Sendable>(_ call: String, _ body: () async throws -> T) async throws -> T {
    let start = ContinuousClock.now
    defer {
      let elapsed = ContinuousClock.now - start
      Metrics.Timer(
        label: "ferry_store_call_duration_seconds", dimensions: [("call", call)],
        preferredDisplayUnit: .seconds
      )
      .recordNanoseconds(
        elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
    return try await body()
  }
}
