import Foundation
import HTTPTypes
import Hummingbird

/// The web UI's cookies: reading them from a request and writing them with the attributes
/// every Ferry cookie has (HttpOnly, SameSite=Strict, Path=/, Secure behind TLS).
enum Cookies {
  /// The session's secret.
  static let session = "ferry_session"
  /// The sign-in form's CSRF value before there is a session (a double-submit cookie).
  static let signIn = "ferry_signin"
  /// A notice for the next page after a redirect ("Paused fetcher x.").
  static let notice = "ferry_notice"

  /// A cookie's value in `headers`, if the request has it.
  static func value(_ name: String, in headers: HTTPFields) -> String? {
    for header in headers[values: .cookie] {
      for pair in header.split(separator: ";") {
        let parts = pair.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name else {
          continue
        }
        return String(parts[1]).trimmingCharacters(in: .whitespaces)
      }
    }
    return nil
  }

  /// Whether cookies are marked `Secure`: as the operator said (`--secure-cookies`), else
  /// when the browser reached Ferry over TLS (directly or through a proxy that says so).
  static func isSecure(_ request: Request, _ context: FerryRequestContext) -> Bool {
    if let said = context.secureCookies { return said }
    return request.uri.scheme == .https
      || HTTPField.Name("X-Forwarded-Proto").flatMap { request.headers[$0] } == "https"
  }

  /// A `Set-Cookie` value; `maxAge` 0 removes the cookie.
  static func setCookie(_ name: String, _ value: String, maxAge: Int, secure: Bool) -> String {
    var text = "\(name)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict"
    if secure { text += "; Secure" }
    return text
  }
}
