import AsyncHTTPClient
import FerryPolicy
import Foundation
import NIOCore
import NIOHTTP1

/// A client of Ferry's REST API for the CLI: bearer token, JSON both ways, and the
/// server's problem documents turned into one-line errors with the CLI's exit codes.
struct APIClient {
  let base: String
  let token: String

  init(server: String, token: String) throws(CLIError) {
    var base = server.trimmingCharacters(in: .whitespaces)
    while base.hasSuffix("/") { base.removeLast() }
    guard let url = URL(string: base), ["http", "https"].contains(url.scheme ?? ""), url.host != nil
    else {
      throw .usage("\"\(server)\" is not a server URL; give e.g. http://127.0.0.1:8080")
    }
    self.base = base
    self.token = token
  }

  /// Sends a request; a 2xx answer's JSON, or a thrown ``CLIError``.
  @discardableResult
  func call(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil) async throws(CLIError)
    -> JSONValue
  {
    let (status, json) = try await send(method, path, body: body)
    guard (200..<300).contains(status) else {
      throw .server(status: status, Self.problemText(json, status: status), problem: json)
    }
    return json
  }

  /// Sends a request; the status and JSON of whatever the server answered.
  func send(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil) async throws(CLIError)
    -> (status: Int, json: JSONValue)
  {
    var request = HTTPClientRequest(url: base + path)
    request.method = method
    request.headers.add(name: "Authorization", value: "Bearer \(token)")
    request.headers.add(name: "Accept", value: "application/json")
    if let body {
      request.headers.add(name: "Content-Type", value: "application/json")
      request.body = .bytes(ByteBuffer(string: body.serialized(pretty: false)))
    }
    let status: Int
    let text: String
    do {
      let response = try await Self.http.execute(request, timeout: .seconds(120))
      status = Int(response.status.code)
      text = String(buffer: try await response.body.collect(upTo: 64 << 20))
    } catch {
      throw .server(
        status: nil,
        "cannot reach the server at \(base): \(error). Is ferry serve running there?")
    }
    let json = text.isEmpty ? JSONValue.null : ((try? JSONValue.parse(text)) ?? .string(text))
    return (status, json)
  }

  /// One connection pool for the command; a refused connection fails at once rather than
  /// being retried until the deadline.
  static let http: HTTPClient = {
    var configuration = HTTPClient.Configuration()
    configuration.timeout = .init(connect: .seconds(10), read: .seconds(120))
    configuration.connectionPool.retryConnectionEstablishment = false
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
  }()

  /// "detail. fix" from a problem document.
  static func problemText(_ json: JSONValue, status: Int) -> String {
    guard case .object = json else { return "the server answered HTTP \(status)" }
    var text = json["detail"]?.stringValue ?? json["title"]?.stringValue ?? "HTTP \(status)"
    if let fix = json["fix"]?.stringValue { text += ". \(fix)" }
    return text
  }
}

extension JSONValue {
  var stringValue: String? {
    if case .string(let text) = self { return text }
    return nil
  }

  var arrayValue: [JSONValue] {
    if case .array(let items) = self { return items }
    return []
  }

  var intValue: Int? {
    if case .number(let number) = self, number.rounded() == number, abs(number) < 1e15 {
      return Int(number)
    }
    return nil
  }

  var boolValue: Bool? {
    if case .bool(let flag) = self { return flag }
    return nil
  }

  var doubleValue: Double? {
    if case .number(let number) = self { return number }
    return nil
  }
}
