import FerryCore
import Foundation
import Hummingbird

/// Admins' pages: the audit log, and the account's API tokens and users.
extension WebPages {
  func addAdmin(to web: RouterGroup<FerryRequestContext>) {
    web.get("audit", use: audit)
    web.get("access", use: access)
    web.post("access/tokens", use: issueToken)
    web.post("access/tokens/{id}/revoke", use: revokeToken)
    web.post("access/users", use: addUser)
    web.post("access/users/{id}/invite", use: invite)
    web.post("access/users/{id}/disable", use: disableUser)
    web.post("access/users/{id}/enable", use: enableUser)
    web.post("access/users/{id}/make-admin", use: makeAdmin)
    web.post("access/users/{id}/make-member", use: makeMember)
    web.post("access/users/{id}/remove", use: removeUser)
  }

  /// Actions that record a sign-in, not a change: folded away unless asked for.
  static let signInActions: Set<String> = ["session.start", "user.sign-in-failed"]

  /// The audit log, newest first, filtered by action and actor (from the latest 2,000
  /// entries); each entry expands to what it changed, before and after.
  @Sendable func audit(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let caller = try caller(context)
    try caller.requireAdmin()
    let parameters = request.formQuery
    let action = parameters.get("action").flatMap { $0.isEmpty ? nil : $0 }
    let actor = (parameters.get("actor") ?? "").trimmingCharacters(in: .whitespaces)
    let showSignIns =
      parameters.get("sign-ins") == "shown" || action.map(Self.signInActions.contains) == true
    let all = try await store.auditLog(of: caller.account.id, limit: 2_000)
    var hiddenSignIns = 0
    let matching = all.filter { entry in
      if let action, entry.action != action { return false }
      if !actor.isEmpty, !entry.actor.localizedCaseInsensitiveContains(actor) { return false }
      if !showSignIns, Self.signInActions.contains(entry.action) {
        hiddenSignIns += 1
        return false
      }
      return true
    }
    var data: [String: Any] = [
      "actor": actor, "showSignIns": showSignIns,
      "actions": Set(all.map(\.action)).sorted().map { ["value": $0, "selected": $0 == action] },
      "entries": matching.prefix(200).map { entry -> [String: Any] in
        var row: [String: Any] = [
          "at": WebPage.time(entry.at), "datetime": WebPage.machineTime(entry.at),
          "actor": entry.actor, "action": entry.action, "target": entry.target,
        ]
        if let before = entry.before { row["before"] = Self.pretty(before) }
        if let after = entry.after { row["after"] = Self.pretty(after) }
        if entry.before != nil || entry.after != nil { row["changed"] = true }
        return row
      },
      "hasEntries": !matching.isEmpty,
      "filtered": action != nil || !actor.isEmpty,
    ]
    if matching.count > 200 { data["more"] = WebPage.count(matching.count - 200) }
    if hiddenSignIns > 0 {
      var shown: [(String, String?)] = [("sign-ins", "shown")]
      if let action { shown.append(("action", action)) }
      if !actor.isEmpty { shown.append(("actor", actor)) }
      data["hiddenSignIns"] = [
        "count": WebPage.count(hiddenSignIns),
        "href": "/audit?"
          + shown.map { "\($0.0)=\(Self.query($0.1 ?? ""))" }.joined(separator: "&"),
      ]
    }
    return try pages.page(
      "audit", title: "Audit log", context: context, data: data, section: .audit)
  }

  /// A snapshot as stored (JSON, keys sorted), indented for reading; as it is otherwise.
  static func pretty(_ json: String) -> String {
    guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)),
      let data = try? JSONSerialization.data(
        withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    else { return json }
    return String(decoding: data, as: UTF8.self)
  }

  func accessPage(
    _ context: FerryRequestContext, caller: Caller, extra: [String: Any] = [:],
    status: HTTPResponse.Status = .ok
  ) async throws -> Response {
    let tokens = try await store.tokens(of: caller.account.id)
    let users = try await store.users(of: caller.account.id)
    var data: [String: Any] = [
      "tokens": tokens.map {
        [
          "id": $0.id, "name": $0.name, "role": $0.role.rawValue,
          "created": WebPage.time($0.createdAt), "current": $0.id == caller.token.id,
          "operator": $0.isOperator,
        ] as [String: Any]
      },
      "users": users.map {
        [
          "id": $0.id, "email": $0.email, "role": $0.role.rawValue,
          "created": WebPage.time($0.createdAt), "disabled": $0.disabled,
          "admin": $0.role == .admin,
        ]
      },
      "noUsers": users.isEmpty,
    ]
    for (key, value) in extra { data[key] = value }
    return try pages.page(
      "access", title: "Tokens & users", context: context, data: data, section: .access,
      status: status)
  }

  @Sendable func access(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let caller = try caller(context)
    try caller.requireAdmin()
    return try await accessPage(context, caller: caller)
  }

  @Sendable func issueToken(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try caller(context)
    try caller.requireAdmin()
    let form = try await WebForm.read(request, context: context)
    do {
      let body = form.body(known: ["name", "role"])
      let name = try AccessRoutes.name(
        try body.requiredString("name", example: "ci-deploy"), field: "name")
      let issued = try await store.issueToken(
        name: name, role: try AccessRoutes.role(body), of: caller.account.id,
        actor: caller.actor)
      // The only time the secret is shown; the page is not cached.
      return try await accessPage(
        context, caller: caller,
        extra: ["issued": ["name": issued.token.name, "secret": issued.secret.revealed]])
    } catch let problem as APIProblem {
      return try await accessPage(
        context, caller: caller,
        extra: ["tokenProblem": WebPage.problem(problem), "tokenForm": form.values],
        status: problem.status)
    }
  }

  @Sendable func revokeToken(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try caller(context)
    try caller.requireAdmin()
    let id = context.parameters.get("id") ?? ""
    guard try await store.revokeToken(id, of: caller.account.id, actor: caller.actor) else {
      throw APIProblem.notFound("token", id)
    }
    if id == caller.token.id { return WebRequestMiddleware.redirect(to: "/sign-in") }
    return WebRequestMiddleware.redirect(to: "/access", notice: "Revoked the token \(id).")
  }

  @Sendable func addUser(_ request: Request, context: FerryRequestContext) async throws -> Response
  {
    let caller = try caller(context)
    try caller.requireAdmin()
    let form = try await WebForm.read(request, context: context)
    do {
      let user = try await AccessRoutes(store: store).addUser(
        form.body(known: ["email", "role"]), caller: caller)
      return try await invitationPage(user, request: request, context: context, caller: caller)
    } catch let problem as APIProblem {
      return try await accessPage(
        context, caller: caller,
        extra: ["userProblem": WebPage.problem(problem), "userForm": form.values],
        status: problem.status)
    }
  }

  /// How long an invitation link works.
  static let invitationLifetime: TimeInterval = 7 * 86400

  /// Issues an invitation for `user` and shows its link, once.
  func invitationPage(
    _ user: User, request: Request, context: FerryRequestContext, caller: Caller
  ) async throws -> Response {
    guard
      let secret = try await store.inviteUser(
        user.id, of: caller.account.id,
        expiresAt: Date().addingTimeInterval(Self.invitationLifetime), actor: caller.actor)
    else { throw APIProblem.notFound("user", user.id) }
    let host = request.head.authority ?? "127.0.0.1"
    let scheme = Cookies.isSecure(request, context) ? "https" : "http"
    return try await accessPage(
      context, caller: caller,
      extra: [
        "invited": [
          "email": user.email,
          "link": "\(scheme)://\(host)/welcome?invitation=\(secret.revealed)",
        ]
      ])
  }

  @Sendable func invite(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let caller = try caller(context)
    try caller.requireAdmin()
    let id = context.parameters.get("id") ?? ""
    guard let user = try await store.users(of: caller.account.id).first(where: { $0.id == id })
    else { throw APIProblem.notFound("user", id) }
    return try await invitationPage(user, request: request, context: context, caller: caller)
  }

  /// A change to a user from the Tokens & users page (admins; audited), then back there
  /// with what was done.
  func changeUser(
    _ context: FerryRequestContext, role: Role? = nil, disabled: Bool? = nil,
    done: (User) -> String
  ) async throws -> Response {
    let caller = try caller(context)
    try caller.requireAdmin()
    let id = context.parameters.get("id") ?? ""
    guard
      let user = try await store.updateUser(
        id, of: caller.account.id, role: role, disabled: disabled, actor: caller.actor)
    else { throw APIProblem.notFound("user", id) }
    return WebRequestMiddleware.redirect(to: "/access", notice: done(user))
  }

  @Sendable func disableUser(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    try await changeUser(context, disabled: true) {
      "Disabled \($0.email): they cannot sign in, and their sessions ended."
    }
  }

  @Sendable func enableUser(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    try await changeUser(context, disabled: false) { "Enabled \($0.email)." }
  }

  @Sendable func makeAdmin(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    try await changeUser(context, role: .admin) { "\($0.email) is now an admin." }
  }

  @Sendable func makeMember(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    try await changeUser(context, role: .member) { "\($0.email) is now a member." }
  }

  @Sendable func removeUser(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try caller(context)
    try caller.requireAdmin()
    let id = context.parameters.get("id") ?? ""
    let email = try await store.users(of: caller.account.id).first { $0.id == id }?.email ?? id
    guard try await store.removeUser(id, of: caller.account.id, actor: caller.actor) else {
      throw APIProblem.notFound("user", id)
    }
    return WebRequestMiddleware.redirect(
      to: "/access", notice: "Removed \(email); their sessions ended.")
  }
}
