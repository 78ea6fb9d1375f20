import FerryCore
import FerryPolicy
import Foundation
import Hummingbird
import Prometheus

/// `/healthz` (the process is up), `/readyz` (the store answers and Ferry knows its AWS
/// identity), `/metrics` (Prometheus text) and the OpenAPI document. None needs a token.
struct HealthRoutes {
  let store: any Store
  let identity: PlatformIdentityResolver
  let registry: PrometheusCollectorRegistry

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
    var bytes: [UInt8] = []
    registry.emit(into: &bytes)
    return Response(
      status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
      body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
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
