import FerryCore
import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// Renders the web UI's pages from the Mustache templates in the binary's resources
/// (`Resources/web/templates`), every value HTML-escaped by `{{ }}`, inside one layout
/// (`layout.mustache`), and serves the static assets (`Resources/web/static`). Nothing is
/// loaded from anywhere else.
struct PageRenderer: Sendable {
  let library: MustacheLibrary
  /// File name → content type and bytes.
  let assets: [String: Asset]

  struct Asset: Sendable {
    var contentType: String
    var bytes: ByteBuffer
  }

  /// The templates and assets, read once.
  static let shared: Result<PageRenderer, WebResourceError> = {
    do throws(WebResourceError) {
      return .success(try load())
    } catch {
      return .failure(error)
    }
  }()

  struct WebResourceError: Error, CustomStringConvertible {
    var description: String
  }

  static func load() throws(WebResourceError) -> PageRenderer {
    guard let root = Bundle.module.url(forResource: "web", withExtension: nil) else {
      throw WebResourceError(description: "the web UI's resources are missing from the build")
    }
    var library = MustacheLibrary()
    var assets: [String: Asset] = [:]
    let files = FileManager.default
    do {
      let templates = root.appendingPathComponent("templates")
      for name in try files.contentsOfDirectory(atPath: templates.path)
      where name.hasSuffix(".mustache") {
        let text = try String(
          contentsOf: templates.appendingPathComponent(name), encoding: .utf8)
        try library.register(text, named: String(name.dropLast(".mustache".count)))
      }
      let statics = root.appendingPathComponent("static")
      for name in try files.contentsOfDirectory(atPath: statics.path) {
        let data = try Data(contentsOf: statics.appendingPathComponent(name))
        assets[name] = Asset(contentType: contentType(of: name), bytes: ByteBuffer(bytes: data))
      }
    } catch {
      throw WebResourceError(description: "the web UI's resources cannot be read: \(error)")
    }
    return PageRenderer(library: library, assets: assets)
  }

  static func contentType(of name: String) -> String {
    switch name.split(separator: ".").last {
    case "css": "text/css; charset=utf-8"
    case "js": "text/javascript; charset=utf-8"
    case "svg": "image/svg+xml"
    case "woff2": "font/woff2"
    default: "application/octet-stream"
    }
  }

  /// A template's text; a missing template is Ferry's bug, answered as an internal error.
  func render(_ template: String, _ data: [String: Any]) throws -> String {
    guard let text = library.render(data, withTemplate: template) else {
      throw APIProblem.internalError()
    }
    return text
  }

  /// A whole page: `template` inside the layout, with the caller's navigation.
  func page(
    _ template: String, title: String, context: FerryRequestContext, data: [String: Any] = [:],
    section: WebPage.Section? = nil, status: HTTPResponse.Status = .ok,
    headers: HTTPFields = [:]
  ) throws -> Response {
    var all = WebPage.base(context: context, title: title, section: section)
    for (key, value) in data { all[key] = value }
    return html(try render(template, all), status: status, headers: headers)
  }

  func html(_ text: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:])
    -> Response
  {
    var fields = headers
    fields[.contentType] = "text/html; charset=utf-8"
    fields[.cacheControl] = "no-store"
    return Response(
      status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
  }

  /// An error as a page: what was wrong and what to do. Never an internal message.
  func errorPage(_ error: any Error, context: FerryRequestContext, request: Request) -> Response {
    let problem = ProblemMiddleware.problem(for: error, request: request, context: context)
    var data: [String: Any] = [
      "problem": WebPage.problem(problem), "requestId": context.id,
    ]
    data["back"] = request.headers[.referer] ?? "/"
    do {
      return try page(
        "error", title: problem.title, context: context, data: data, status: problem.status,
        headers: problem.headers)
    } catch {
      return html(
        "<!doctype html><title>Ferry</title><p>Something went wrong in Ferry.</p>",
        status: .internalServerError)
    }
  }
}
