import FerryCore
import Foundation
import Hummingbird
import Metrics

/// Authenticates `Authorization: Bearer fry_…` against the store (which keeps only the
/// tokens' hashes) and puts the caller in the context; routes decide what the caller may
/// do. A missing or unknown token answers 401, without saying which.
struct AuthMiddleware: RouterMiddleware {
  typealias Context = FerryRequestContext
  let store: any Store

  func handle(
    _ request: Request, context: Context,
    next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
      throw APIProblem.unauthenticated()
    }
    let secret = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
    guard !secret.isEmpty,
      let token = try await StoreTimer.time(
        "authenticate", { try await store.authenticate(tokenSecret: secret) }),
      let account = try await store.account(token.accountID)
    else {
      throw APIProblem.unauthenticated()
    }
    var context = context
    context.caller = Caller(token: token, account: account)
    return try await next(request, context)
  }
}

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
