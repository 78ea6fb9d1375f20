import FerryCore
import Foundation
import Hummingbird
import Metrics

/// Authenticates `Authorization: Bearer fry_…` against the store (which keeps only the
/// tokens' hashes) and puts the caller in the context; routes decide what the caller may
/// do. A missing token answers 401 saying to send one; an unknown one, 401 saying Ferry
/// does not know it (which account has which token is never told).
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
      throw APIProblem.unknownToken()
    }
    var context = context
    context.caller = Caller(token: token, account: account)
    return try await next(request, context)
  }
}
