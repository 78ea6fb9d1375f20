import Foundation
import Hummingbird
import Logging
import Metrics

/// One structured log line per request (request ID, method, path without its query,
/// status, duration) and the request metrics by route and status. Never logs headers or
/// bodies, so tokens cannot reach the log.
struct RequestLogMiddleware: RouterMiddleware {
  typealias Context = FerryRequestContext

  func handle(
    _ request: Request, context: Context,
    next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    let start = ContinuousClock.now
    let response = try await next(request, context)
    let elapsed = ContinuousClock.now - start
    let seconds =
      Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let route = context.endpointPath ?? "unmatched"
    context.logger.info(
      "request",
      metadata: [
        "method": "\(request.method.rawValue)", "path": "\(request.uri.path)",
        "route": "\(route)", "status": "\(response.status.code)",
        "duration_ms": "\(String(format: "%.2f", seconds * 1000))",
      ])
    let dimensions = [
      ("method", request.method.rawValue), ("route", route),
      ("status", String(response.status.code)),
    ]
    Counter(label: "ferry_http_requests_total", dimensions: dimensions).increment()
    Metrics.Timer(
      label: "ferry_http_request_duration_seconds",
      dimensions: [("method", request.method.rawValue), ("route", route)],
      preferredDisplayUnit: .seconds
    ).recordNanoseconds(Int64(seconds * 1e9))
    return response
  }
}
