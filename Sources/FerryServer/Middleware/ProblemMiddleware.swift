import FerryCore
import FerryPolicy
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
    } catch let problem as APIProblem {
      response = problem.response(requestID: requestID)
    } catch let error as InputError {
      response = APIProblem.badInput(error).response(requestID: requestID)
    } catch let error as StoreError {
      context.logger.warning("store error", metadata: ["error": "\(error)"])
      response = APIProblem.storeRejected(error).response(requestID: requestID)
    } catch is NIOTooManyBytesError {
      response = APIProblem.tooLarge(limit: context.maxUploadSize).response(requestID: requestID)
    } catch let error as HTTPError where error.status == .notFound {
      response = APIProblem.routeNotFound(request.uri.path).response(requestID: requestID)
    } catch let error as HTTPError {
      response = APIProblem(
        status: error.status, name: "http-\(error.status.code)",
        title: error.status.reasonPhrase, detail: error.status.reasonPhrase
      ).response(requestID: requestID)
    } catch {
      // Never echo an unknown error: it could carry anything. The log has its type only.
      context.logger.error("unexpected error", metadata: ["type": "\(type(of: error))"])
      response = APIProblem.internalError().response(requestID: requestID)
    }
    response.headers[.init("X-Request-ID")!] = requestID
    return response
  }
}
