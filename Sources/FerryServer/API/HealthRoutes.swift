import FerryCore
import FerryPolicy
import Foundation
import Hummingbird
import Prometheus

/// `/healthz` (the process is up), `/readyz` (the store answers and Ferry knows its AWS
/// identity), `/metrics` (Prometheus text: it needs `--metrics-token` when the operator set
/// one) and the OpenAPI document. None needs an API token.
struct HealthRoutes {
  let store: any Store
  let identity: PlatformIdentityResolver
  let registry: PrometheusCollectorRegistry
  /// What `/metrics` requires as `Authorization: Bearer`; nil: it is open.
  let metricsToken: String?

  func add(to router: Router<FerryRequestContext>) {
    router.get("healthz") { _, _ in JSONResponse.make(.object([("status", .string("ok"))])) }
    router.get("readyz", use: ready)
    router.get("metrics", use: metrics)
    router.get("api/v1/openapi.json", use: openAPI)
  }

  @Sendable func ready(_ request: Request, context: FerryRequestContext) async throws -> Response {
    var problems: [String] = []
    do {
      _ = try await store.schemaVersion()
    } catch {
      problems.append("the store does not answer: \(error)")
    }
    do {
      _ = try await identity.resolve()
    } catch {
      problems.append("Ferry does not know its AWS identity: \(error)")
    }
    if problems.isEmpty { return JSONResponse.make(.object([("status", .string("ready"))])) }
    throw APIProblem(
      status: .serviceUnavailable, name: "not-ready", title: "Ferry is not ready",
      detail: problems.joined(separator: "; "),
      fix: "See the server's log; Ferry keeps trying.")
  }

  @Sendable func metrics(_ request: Request, context: FerryRequestContext) async throws -> Response
  {
    if let metricsToken {
      let given = request.headers[.authorization] ?? ""
      guard Self.sameBytes(given, "Bearer " + metricsToken) else {
        throw APIProblem(
          status: .unauthorized, name: "metrics-token",
          title: "/metrics needs the metrics token",
          detail: given.isEmpty
            ? "this server's /metrics needs a token" : "that is not the metrics token",
          fix:
            "Send Authorization: Bearer with the token the operator set (--metrics-token, FERRY_METRICS_TOKEN); in Prometheus, authorization.credentials_file."
        )
      }
    }
    var bytes: [UInt8] = []
    registry.emit(into: &bytes)
    return Response(
      status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
      body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
  }

  /// Whether two strings are the same bytes, in time that does not depend on where they
  /// differ.
  static func sameBytes(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    var difference = UInt8(x.count == y.count ? 0 : 1)
    for i in 0..<max(x.count, y.count) {
      difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
    }
    return difference == 0
  }

  @Sendable func openAPI(_ request: Request, context: FerryRequestContext) async throws -> Response
  {
    guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"),
      let data = try? Data(contentsOf: url)
    else { throw APIProblem.internalError() }
    return Response(
      status: .ok, headers: [.contentType: "application/json"],
      body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
  }
}
