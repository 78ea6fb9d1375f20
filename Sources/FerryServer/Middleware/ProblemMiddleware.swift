import FerryCore
import FerryPolicy
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Turns every error of a route into a problem document, so that no answer leaks an
/// internal message, and every answer carries the request's ID (`X-Request-ID`).
struct ProblemMiddleware: RouterMiddleware {
  typealias Context = FerryRequestContext

  func handle(
    _ request: Request, context: Context,
    next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    let requestID = context.id
    var response: Response
    do {
      response = try await next(request, context)
    } catch {
      response = Self.problem(for: error, request: request, context: context)
        .response(requestID: requestID)
    }
    if let name = HTTPField.Name("X-Request-ID") { response.headers[name] = requestID }
    return response
  }

  /// The problem an error answers (the API as JSON, the web UI as a page).
  static func problem(for error: any Error, request: Request, context: Context) -> APIProblem {
    switch error {
    case let problem as APIProblem: return problem
    case let error as InputError: return APIProblem.badInput(error)
    case let error as StoreError:
      context.logger.warning("store error", metadata: ["error": "\(error)"])
      return APIProblem.storeRejected(error)
    case is NIOTooManyBytesError: return APIProblem.tooLarge(limit: context.maxUploadSize)
    case let error as HTTPError where error.status == .notFound:
      return APIProblem.routeNotFound(request.uri.path)
    case let error as HTTPError:
      return APIProblem(
        status: error.status, name: "http-\(error.status.code)",
        title: error.status.reasonPhrase, detail: error.status.reasonPhrase)
    default:
      // Never echo an unknown error: it could carry anything. The log has its type only.
      context.logger.error("unexpected error", metadata: ["type": "\(type(of: error))"])
      return APIProblem.internalError()
    }
  }
}
