import FerryCore
import FerryPolicy
import Foundation
import HTTPTypes
import Hummingbird

/// An error answered as an RFC 9457 problem document (`application/problem+json`): a
/// type, a title, the detail, and where a field was wrong, which field and how to fix it.
public struct APIProblem: Error, Sendable {
  public var status: HTTPResponse.Status
  /// A short, stable name; the document's `type` is `https://ferry.dev/problems/NAME`.
  public var name: String
  public var title: String
  public var detail: String
  public var field: String?
  public var fix: String?
  /// More members of the document (a check's steps, a diagnosis).
  public var extra: [(key: String, value: JSONValue)] = []
  /// Extra response headers (Retry-After).
  public var headers: HTTPFields = [:]

  public init(
    status: HTTPResponse.Status, name: String, title: String, detail: String,
    field: String? = nil, fix: String? = nil
  ) {
    self.status = status
    self.name = name
    self.title = title
    self.detail = detail
    self.field = field
    self.fix = fix
  }

  var document: JSONValue {
    var pairs: [(key: String, value: JSONValue)] = [
      ("type", .string("https://ferry.dev/problems/\(name)")), ("title", .string(title)),
      ("status", .number(Double(status.code))), ("detail", .string(detail)),
    ]
    if let field { pairs.append(("field", .string(field))) }
    if let fix { pairs.append(("fix", .string(fix))) }
    return .object(pairs + extra)
  }

  func response(requestID: String?) -> Response {
    var document = self.document
    if let requestID, case .object(var pairs) = document {
      pairs.append(("requestId", .string(requestID)))
      document = .object(pairs)
    }
    var response = JSONResponse.make(document, status: status)
    response.headers[.contentType] = "application/problem+json"
    for field in headers { response.headers.append(field) }
    return response
  }

  // MARK: The problems the API answers

  static func badInput(_ error: InputError) -> APIProblem {
    APIProblem(
      status: .badRequest, name: "invalid-field", title: "A field is not valid",
      detail: "\(error.field): \(error.problem)", field: error.field, fix: error.fix)
  }

  static func badInput(field: String, _ problem: String, fix: String) -> APIProblem {
    badInput(InputError(field: field, problem: problem, fix: fix))
  }

  static func malformedJSON(_ error: JSONSyntaxError) -> APIProblem {
    APIProblem(
      status: .badRequest, name: "malformed-json", title: "The request body is not valid JSON",
      detail: error.message, fix: "Send one JSON object, as the API's OpenAPI document describes.")
  }

  static func unauthenticated() -> APIProblem {
    var problem = APIProblem(
      status: .unauthorized, name: "unauthenticated", title: "Sign in first",
      detail: "this route needs an API token",
      fix: "Send the token as 'Authorization: Bearer fry_…' (ferry login stores it for the CLI).")
    problem.headers[.wwwAuthenticate] = "Bearer realm=\"ferry\""
    return problem
  }

  /// A token was sent, but no account of this Ferry has it (wrong, revoked, or another
  /// Ferry's).
  static func unknownToken() -> APIProblem {
    var problem = APIProblem(
      status: .unauthorized, name: "unknown-token", title: "Ferry does not know that token",
      detail: "the token is wrong, revoked, or belongs to another Ferry",
      fix:
        "Send a token this Ferry issued, whole (fry_ and 40 letters and digits); an admin of your account can issue another."
    )
    problem.headers[.wwwAuthenticate] = "Bearer realm=\"ferry\", error=\"invalid_token\""
    return problem
  }

  static func forbidden(_ detail: String) -> APIProblem {
    APIProblem(
      status: .forbidden, name: "forbidden", title: "Not allowed", detail: detail,
      fix: "Ask an admin of the account (or an operator) to do it, or to give you a token that may."
    )
  }

  /// Another account's object answers the same as one that does not exist.
  static func notFound(_ what: String, _ id: String) -> APIProblem {
    APIProblem(
      status: .notFound, name: "not-found", title: "No such \(what)",
      detail: "there is no \(what) \"\(id)\" in this account",
      fix: "List them (GET the collection) to find the right ID.")
  }

  /// A second connection or fetcher for what one already does (409, with its ID).
  static func duplicate(_ kind: String, existing: String, detail: String, fix: String)
    -> APIProblem
  {
    var problem = APIProblem(
      status: .conflict, name: "duplicate-\(kind)", title: "One already does this", detail: detail,
      fix: fix)
    problem.extra = [("existingId", .string(existing))]
    return problem
  }

  static func routeNotFound(_ path: String) -> APIProblem {
    APIProblem(
      status: .notFound, name: "no-such-route", title: "No such route",
      detail: "nothing is served at \(path)",
      fix: "The API is under /api/v1; its routes are in /api/v1/openapi.json.")
  }

  /// The rest of a body too large is not read: the connection closes after the answer.
  static func tooLarge(limit: Int) -> APIProblem {
    var problem = APIProblem(
      status: .contentTooLarge, name: "body-too-large", title: "The request body is too large",
      detail: "request bodies may be at most \(limit) bytes", fix: "Send a smaller body.")
    problem.headers[.connection] = "close"
    return problem
  }

  static func storeRejected(_ error: StoreError) -> APIProblem {
    switch error {
    case .rejected(let detail):
      return APIProblem(
        status: .conflict, name: "rejected", title: "The change was refused", detail: detail)
    case .invalid(let detail):
      return APIProblem(
        status: .badRequest, name: "invalid", title: "A value is not valid", detail: detail)
    default:
      return APIProblem(
        status: .serviceUnavailable, name: "store-unavailable",
        title: "Ferry's database cannot be used right now", detail: error.description,
        fix: "Try again shortly; if it persists, the operator should look at the server's log.")
    }
  }

  static func platformIdentityUnknown(_ error: AWSFailure) -> APIProblem {
    APIProblem(
      status: .serviceUnavailable, name: "platform-identity-unknown",
      title: "Ferry does not know its own AWS identity",
      detail: "Ferry could not learn its AWS account: \(error)",
      fix:
        "The operator must give Ferry AWS credentials (environment, profile or instance role), or set --platform-account-id."
    )
  }

  static func internalError() -> APIProblem {
    APIProblem(
      status: .internalServerError, name: "internal", title: "Something went wrong in Ferry",
      detail: "the request failed inside Ferry; nothing in it was changed",
      fix: "Try again; if it persists, give the operator this response's requestId.")
  }
}

/// JSON responses, with keys in the order Ferry writes them.
enum JSONResponse {
  static func make(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
    var buffer = ByteBuffer()
    buffer.writeString(value.serialized(pretty: true))
    buffer.writeString("\n")
    return Response(
      status: status, headers: [.contentType: "application/json"],
      body: ResponseBody(byteBuffer: buffer))
  }
}
