import FerryCore
import Foundation
import Hummingbird

/// Signing in with an API token, and out.
extension WebPages {
  func addSignIn(to web: RouterGroup<FerryRequestContext>) {
    web.get("/") { _, context in
      WebRequestMiddleware.redirect(to: context.caller == nil ? "/sign-in" : "/buckets")
    }
    web.get("sign-in", use: signInPage)
    web.post("sign-in", use: signIn)
    web.post("sign-out", use: signOut)
  }

  /// A local path to go back to; anything else (another site, a scheme) goes home.
  static func safeNext(_ text: String?) -> String {
    guard let text, text.hasPrefix("/"), !text.hasPrefix("//"), !text.contains("\\") else {
      return "/buckets"
    }
    return text
  }

  func signInForm(
    _ request: Request, context: FerryRequestContext, next: String?, problem: APIProblem? = nil
  ) throws -> Response {
    // The form's token before a session exists: a random cookie the form repeats.
    let value = Cookies.value(Cookies.signIn, in: request.headers) ?? CSRF.newSignInValue()
    var data: [String: Any] = [
      "signInToken": value,
      "next": Self.safeNext(next),
    ]
    if let problem { data["error"] = WebPage.problem(problem) }
    return try pages.page(
      "sign-in", title: "Sign in", context: context, data: data,
      status: problem == nil ? .ok : .unauthorized,
      headers: [
        .setCookie: Cookies.setCookie(
          Cookies.signIn, value, maxAge: 3600, secure: Cookies.isSecure(request))
      ])
  }

  @Sendable func signInPage(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    if context.caller != nil {
      return WebRequestMiddleware.redirect(
        to: Self.safeNext(request.uri.queryParameters.get("next")))
    }
    var plain = context
    plain.caller = nil
    return try signInForm(
      request, context: plain, next: request.uri.queryParameters.get("next"))
  }

  @Sendable func signIn(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let form = try await WebForm.read(request, context: context)
    guard let secret = form.value("token"),
      let token = try await store.authenticate(tokenSecret: secret),
      try await store.account(token.accountID) != nil
    else {
      var plain = context
      plain.caller = nil
      plain.sessionSecret = nil
      return try signInForm(
        request, context: plain, next: form.value("next"),
        problem: APIProblem(
          status: .unauthorized, name: "sign-in-failed", title: "Ferry does not know that token",
          detail: "the token is wrong, revoked, or belongs to another Ferry",
          fix:
            "Paste the whole token, fry_ and 40 letters and digits: the one ferry serve printed on its first start, or one an admin issued on Tokens & users."
        ))
    }
    if let old = context.sessionSecret { try await store.endSession(secret: old) }
    let session = try await store.startSession(
      as: token, expiresAt: Date().addingTimeInterval(sessionLifetime),
      actor: "token \(token.name) (\(token.id)) in the web UI")
    var response = WebRequestMiddleware.redirect(to: Self.safeNext(form.value("next")))
    let secure = Cookies.isSecure(request)
    response.headers[values: .setCookie] = [
      Cookies.setCookie(
        Cookies.session, session.secret.revealed, maxAge: Int(sessionLifetime), secure: secure),
      Cookies.setCookie(Cookies.signIn, "", maxAge: 0, secure: secure),
    ]
    return response
  }

  @Sendable func signOut(_ request: Request, context: FerryRequestContext) async throws -> Response
  {
    if let secret = context.sessionSecret { try await store.endSession(secret: secret) }
    var response = WebRequestMiddleware.redirect(to: "/sign-in")
    response.headers[.setCookie] = Cookies.setCookie(
      Cookies.session, "", maxAge: 0, secure: Cookies.isSecure(request))
    return response
  }
}
