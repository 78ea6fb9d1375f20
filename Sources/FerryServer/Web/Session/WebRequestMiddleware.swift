import FerryCore
import Foundation
import HTTPTypes
import Hummingbird

/// Every web UI request passes here: the session cookie becomes the caller, every form post
/// must carry the CSRF token, every answer gets the UI's security headers, and any error
/// becomes a page that says what was wrong and what to do (a missing session sends the
/// browser to sign in).
struct WebRequestMiddleware: RouterMiddleware {
  typealias Context = FerryRequestContext
  let store: any Store
  let pages: PageRenderer
  /// `--secure-cookies`: nil follows the request.
  let secureCookies: Bool?

  func handle(
    _ request: Request, context: Context,
    next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    var context = context
    context.secureCookies = secureCookies
    var request = request
    var response: Response
    do {
      if let secret = Cookies.value(Cookies.session, in: request.headers),
        let principal = try await store.session(secret: secret, at: Date()),
        let account = try await store.account(principal.accountID)
      {
        context.caller = Caller(principal, account: account)
        context.sessionSecret = secret
      }
      // Without a session a post can do nothing but sign in (the handlers need a caller),
      // so only a session's posts and the sign-in forms are checked; a post whose session
      // expired is sent to sign in, not refused.
      let signingIn = request.uri.path.hasPrefix("/sign-in") || request.uri.path == "/welcome"
      if request.method != .get && request.method != .head
        && (context.sessionSecret != nil || signingIn)
      {
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        let form = WebForm(encoded: String(buffer: buffer))
        // A session's forms carry its token; the sign-in forms the sign-in cookie's value
        // (also when a session exists, e.g. opening an invitation while signed in).
        let expected = [
          context.sessionSecret.map(CSRF.token(forSession:)),
          signingIn ? Cookies.value(Cookies.signIn, in: request.headers) : nil,
        ].compactMap { $0 }
        guard let sent = form.value(CSRF.field),
          expected.contains(where: { CSRF.matches(sent, $0) })
        else {
          throw APIProblem(
            status: .forbidden, name: "csrf", title: "This form cannot be accepted",
            detail:
              "it came without this session's form token (it is old, or it was sent from another site)",
            fix: "Go back, reload the page and send the form again.")
        }
      }
      context.notice = Cookies.value(Cookies.notice, in: request.headers).flatMap {
        $0.removingPercentEncoding
      }
      response = try await next(request, context)
      if context.notice != nil, response.status == .ok,
        response.headers[.contentType]?.hasPrefix("text/html") == true,
        !response.headers.contains(.setCookie)
      {
        response.headers[.setCookie] = Cookies.setCookie(
          Cookies.notice, "", maxAge: 0, secure: Cookies.isSecure(request, context))
      }
    } catch let problem as APIProblem where problem.status == .unauthorized {
      response = Self.redirect(to: "/sign-in?next=" + Self.nextPath(request))
    } catch {
      response = pages.errorPage(error, context: context, request: request)
    }
    WebPage.secure(&response.headers)
    return response
  }

  /// Where to come back after signing in: this page's path and query, if it is a page.
  static func nextPath(_ request: Request) -> String {
    guard request.method == .get else { return "%2F" }
    let path = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
    return path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "%2F"
  }

  static func redirect(to location: String) -> Response {
    Response(status: .seeOther, headers: [.location: location])
  }

  /// A redirect whose next page shows `notice` once (a short-lived cookie, so no link can
  /// put words on a Ferry page).
  static func redirect(to location: String, notice: String) -> Response {
    var response = redirect(to: location)
    let value = notice.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    response.headers[.setCookie] = Cookies.setCookie(
      Cookies.notice, String(value.prefix(3000)), maxAge: 60, secure: false)
    return response
  }
}
