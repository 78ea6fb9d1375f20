import FerryCore
import Foundation
import Hummingbird

/// Signing in (with an API token, or as a user with a password), choosing a password from
/// an invitation, and signing out.
extension WebPages {
  func addSignIn(to web: RouterGroup<FerryRequestContext>) {
    web.get("/") { _, context in
      WebRequestMiddleware.redirect(to: context.caller == nil ? "/sign-in" : "/buckets")
    }
    web.get("sign-in", use: signInPage)
    web.post("sign-in", use: signIn)
    web.post("sign-in/user", use: signInUser)
    web.get("welcome", use: welcomePage)
    web.post("welcome", use: welcome)
    web.post("sign-out", use: signOut)
  }

  /// A local path to go back to; anything else (another site, a scheme) goes home.
  static func safeNext(_ text: String?) -> String {
    // Browsers drop tabs and newlines from URLs, so "/\t/x" would become "//x".
    guard let text, text.hasPrefix("/"), !text.hasPrefix("//"), !text.contains("\\"),
      !text.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F })
    else {
      return "/buckets"
    }
    return text
  }

  /// A page shown before there is a session, with the sign-in cookie its form repeats.
  func signedOutPage(
    _ template: String, title: String, request: Request, context: FerryRequestContext,
    data: [String: Any], status: HTTPResponse.Status = .ok
  ) throws -> Response {
    var plain = context
    plain.caller = nil
    plain.sessionSecret = nil
    let value = Cookies.value(Cookies.signIn, in: request.headers) ?? CSRF.newSignInValue()
    var all = data
    all["signInToken"] = value
    return try pages.page(
      template, title: title, context: plain, data: all, status: status,
      headers: [
        .setCookie: Cookies.setCookie(
          Cookies.signIn, value, maxAge: 3600, secure: Cookies.isSecure(request, context))
      ])
  }

  func signInForm(
    _ request: Request, context: FerryRequestContext, next: String?,
    tokenProblem: APIProblem? = nil, userProblem: APIProblem? = nil, email: String? = nil
  ) throws -> Response {
    var data: [String: Any] = ["next": Self.safeNext(next)]
    if let tokenProblem { data["tokenProblem"] = WebPage.problem(tokenProblem) }
    if let userProblem { data["userProblem"] = WebPage.problem(userProblem) }
    if let email { data["email"] = email }
    return try signedOutPage(
      "sign-in", title: "Sign in", request: request, context: context, data: data,
      status: (tokenProblem ?? userProblem)?.status ?? .ok)
  }

  @Sendable func signInPage(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    if context.caller != nil {
      return WebRequestMiddleware.redirect(
        to: Self.safeNext(request.formQuery.get("next")))
    }
    return try signInForm(
      request, context: context, next: request.formQuery.get("next"))
  }

  /// Starts a session and sends the browser on, with its cookie.
  func startSession(
    _ principal: SessionPrincipal, actor: String, request: Request,
    context: FerryRequestContext, next: String?
  ) async throws -> Response {
    if let old = context.sessionSecret { try await store.endSession(secret: old) }
    let session = try await store.startSession(
      as: principal, expiresAt: Date().addingTimeInterval(sessionLifetime), actor: actor)
    var response = WebRequestMiddleware.redirect(to: Self.safeNext(next))
    let secure = Cookies.isSecure(request, context)
    response.headers[values: .setCookie] = [
      Cookies.setCookie(
        Cookies.session, session.secret.revealed, maxAge: Int(sessionLifetime), secure: secure),
      Cookies.setCookie(Cookies.signIn, "", maxAge: 0, secure: secure),
    ]
    return response
  }

  @Sendable func signIn(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let form = try await WebForm.read(request, context: context)
    guard let secret = form.value("token"),
      let token = try await store.authenticate(tokenSecret: secret),
      try await store.account(token.accountID) != nil
    else {
      return try signInForm(
        request, context: context, next: form.value("next"),
        tokenProblem: APIProblem(
          status: .unauthorized, name: "sign-in-failed", title: "Ferry does not know that token",
          detail: "the token is wrong, revoked, or belongs to another Ferry",
          fix:
            "Paste the whole token, fry_ and 40 letters and digits: the one ferry serve printed on its first start, or one an admin issued on Tokens & users."
        ))
    }
    return try await startSession(
      .token(token), actor: "token \(token.name) (\(token.id)) in the web UI", request: request,
      context: context, next: form.value("next"))
  }

  @Sendable func signInUser(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let form = try await WebForm.read(request, context: context)
    let email = form.value("email") ?? ""
    let password = form.pairs.first { $0.name == "password" }?.value ?? ""
    let address = context.remoteAddress
    func refused(_ refusal: SignInGuard.Refusal) throws -> Response {
      let (detail, seconds) =
        switch refusal {
        case .busy: ("Ferry is checking many sign-ins at once", 5)
        case .locked(let seconds):
          ("too many sign-ins failed for this email or from this address", seconds)
        }
      var response = try signInForm(
        request, context: context, next: form.value("next"),
        userProblem: APIProblem(
          status: .tooManyRequests, name: "sign-in-limited", title: "Sign-in is paused",
          detail: detail,
          fix:
            "Try again in \(seconds) seconds; if you forgot your password, ask an admin of your account for an invitation link."
        ), email: email)
      response.headers[.retryAfter] = String(seconds)
      return response
    }
    do {
      try await signInGuard.admit(email: email, address: address)
    } catch {
      return try refused(error)
    }
    // Every candidate is checked, and an unknown email is checked against a stand-in, so
    // the time taken does not tell whether the email exists.
    let candidates = try await store.passwordUsers(email: email)
    let matching: [User]
    do {
      matching = try await signInGuard.checking {
        guard !candidates.isEmpty else {
          _ = PasswordHash.verify(password, against: SignInGuard.standIn)
          return []
        }
        return candidates.filter { PasswordHash.verify(password, against: $0.passwordHash) }
          .map(\.user)
      }
    } catch let refusal as SignInGuard.Refusal {
      return try refused(refusal)
    }
    guard matching.count == 1, let user = matching.first,
      try await store.account(user.accountID) != nil
    else {
      await signInGuard.recordFailure(email: email, address: address)
      // On the record of each account the email belongs to (never the password).
      for candidate in candidates where !matching.contains(where: { $0.id == candidate.user.id }) {
        try? await store.recordAudit(
          AuditEntry(
            accountID: candidate.user.accountID, actor: "web sign-in from \(address)",
            action: "user.sign-in-failed", target: candidate.user.id))
      }
      let several = matching.count > 1
      return try signInForm(
        request, context: context, next: form.value("next"),
        userProblem: APIProblem(
          status: .unauthorized, name: "sign-in-failed",
          title: several
            ? "That email and password belong to several accounts"
            : "The email or the password is wrong",
          detail: several
            ? "Ferry cannot tell which account to sign in to"
            : "Ferry knows no user with that email and password",
          fix: several
            ? "Sign in with an API token of the account instead, or give each account its own password."
            : "Check both; if you never chose a password, ask an admin of your account for an invitation link."
        ), email: email)
    }
    await signInGuard.recordSuccess(email: email)
    return try await startSession(
      .user(user), actor: "user \(user.email) (\(user.id)) in the web UI", request: request,
      context: context, next: form.value("next"))
  }

  @Sendable func welcomePage(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    try signedOutPage(
      "welcome", title: "Choose your password", request: request, context: context,
      data: ["invitation": request.formQuery.get("invitation") ?? ""])
  }

  @Sendable func welcome(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let form = try await WebForm.read(request, context: context)
    let invitation = form.value("invitation") ?? ""
    let password = form.pairs.first { $0.name == "password" }?.value ?? ""
    let again = form.pairs.first { $0.name == "confirm" }?.value ?? ""
    func refuse(_ problem: APIProblem) throws -> Response {
      try signedOutPage(
        "welcome", title: "Choose your password", request: request, context: context,
        data: ["invitation": invitation, "problem": WebPage.problem(problem)],
        status: problem.status)
    }
    if let problem = PasswordHash.problem(password) { return try refuse(.badInput(problem)) }
    guard password == again else {
      return try refuse(
        .badInput(
          field: "confirm", "the two passwords differ", fix: "Type the same password twice."))
    }
    let hash = try await OffPool.run { try PasswordHash.make(password) }
    guard
      let user = try await store.acceptInvitation(
        secret: invitation, passwordHash: hash, at: Date())
    else {
      return try refuse(
        APIProblem(
          status: .gone, name: "invitation-unusable", title: "This invitation cannot be used",
          detail: "it was used already, it expired, or the link is incomplete",
          fix: "Ask an admin of your account for a new invitation link (Tokens & users)."))
    }
    return try await startSession(
      .user(user), actor: "user \(user.email) (\(user.id)) in the web UI", request: request,
      context: context, next: "/buckets")
  }

  @Sendable func signOut(_ request: Request, context: FerryRequestContext) async throws -> Response
  {
    if let secret = context.sessionSecret { try await store.endSession(secret: secret) }
    var response = WebRequestMiddleware.redirect(to: "/sign-in")
    response.headers[.setCookie] = Cookies.setCookie(
      Cookies.session, "", maxAge: 0, secure: Cookies.isSecure(request, context))
    return response
  }
}
