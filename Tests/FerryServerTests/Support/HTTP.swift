import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A response of the API, parsed by Foundation's JSON reader (independent of the server's
/// own JSON writer).
struct APIResponse: Sendable {
  var status: Int
  var headers: [(String, String)]
  var text: String

  var json: [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
  }

  func header(_ name: String) -> String? {
    headers.first { $0.0.lowercased() == name.lowercased() }?.1
  }
}

/// Talks to a running server over real HTTP and keeps every response, so a test can search
/// them all for secrets.
final class API: @unchecked Sendable {
  let base: String
  private(set) var transcript: [String] = []
  private let lock = NSLock()

  init(_ base: String) { self.base = base }

  func call(
    _ method: HTTPMethod, _ path: String, token: String?, body: String? = nil,
    headers extra: [(String, String)] = []
  ) async throws -> APIResponse {
    try await call(method, path, token: token, bytes: body.map { Array($0.utf8) }, headers: extra)
  }

  /// A request whose body is bytes (a gzip'd body, say).
  func call(
    _ method: HTTPMethod, _ path: String, token: String?, bytes body: [UInt8]?,
    headers extra: [(String, String)] = []
  ) async throws -> APIResponse {
    var request = HTTPClientRequest(url: base + path)
    request.method = method
    if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
    for (name, value) in extra { request.headers.add(name: name, value: value) }
    if let body {
      if !extra.contains(where: { $0.0.lowercased() == "content-type" }) {
        request.headers.add(name: "Content-Type", value: "application/json")
      }
      request.body = .bytes(ByteBuffer(bytes: body))
    }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
    let buffer = try await response.body.collect(upTo: 16 << 20)
    let text = String(buffer: buffer)
    lock.withLock { transcript.append(text) }
    return APIResponse(
      status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
      text: text)
  }

  func get(_ path: String, token: String?) async throws -> APIResponse {
    try await call(.GET, path, token: token)
  }

  func post(_ path: String, token: String?, _ body: [String: Any]) async throws -> APIResponse {
    let data = try JSONSerialization.data(withJSONObject: body)
    return try await call(.POST, path, token: token, body: String(decoding: data, as: UTF8.self))
  }

  var everything: String { lock.withLock { transcript.joined(separator: "\n") } }
}
