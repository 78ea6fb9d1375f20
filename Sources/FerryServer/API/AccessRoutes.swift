import FerryCore
import FerryPolicy
import Foundation
import Hummingbird

/// Who may act for an account: `/api/v1/me`, `/api/v1/tokens`, `/api/v1/users`, and the
/// account's audit log, `/api/v1/audit` (admins).
struct AccessRoutes {
  let store: any Store

  func add(to api: RouterGroup<FerryRequestContext>) {
    api.get("me", use: me)
    api.get("tokens", use: tokens)
    api.post("tokens", use: issueToken)
    api.delete("tokens/{id}", use: revokeToken)
    api.get("users", use: users)
    api.post("users", use: addUser)
    api.patch("users/{id}", use: updateUser)
    api.delete("users/{id}", use: removeUser)
    api.get("audit", use: audit)
  }

  @Sendable func me(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let caller = try context.requireCaller()
    return JSONResponse.make(
      .object([
        ("account", JSONViews.account(caller.account)), ("token", JSONViews.token(caller.token)),
      ]))
  }

  @Sendable func tokens(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let caller = try context.requireCaller()
    try caller.requireAdmin()
    let tokens = try await store.tokens(of: caller.account.id)
    return JSONResponse.make(JSONViews.list("tokens", tokens.map(JSONViews.token)))
  }

  static func role(_ body: RequestBody) throws -> Role {
    let text = try body.string("role") ?? "member"
    guard let role = Role(rawValue: text) else {
      throw APIProblem.badInput(
        field: "role", "\"\(text)\" is not a role",
        fix: "Use admin (changes configuration) or member (reads).")
    }
    return role
  }

  static func name(_ text: String, field: String) throws -> String {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    guard (1...64).contains(trimmed.count), ShownText.forbiddenScalar(in: trimmed) == nil else {
      throw APIProblem.badInput(
        field: field, "must be 1 to 64 printable characters",
        fix: "Give a short name, e.g. ci-deploy.")
    }
    return trimmed
  }

  @Sendable func issueToken(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try context.requireCaller()
    try caller.requireAdmin()
    let body = try await RequestBody.read(request, context: context, known: ["name", "role"])
    let name = try Self.name(try body.requiredString("name", example: "ci-deploy"), field: "name")
    let issued = try await store.issueToken(
      name: name, role: try Self.role(body), of: caller.account.id, actor: caller.actor)
    return try Self.issuedAnswer(issued)
  }

  /// A token just issued, with its secret: the only time the secret leaves Ferry.
  static func issuedAnswer(_ issued: IssuedToken) throws -> Response {
    guard case .object(var pairs) = JSONViews.token(issued.token) else {
      throw APIProblem.internalError()
    }
    pairs.append(("secret", .string(issued.secret.revealed)))
    return JSONResponse.make(.object(pairs), status: .created)
  }

  @Sendable func revokeToken(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try context.requireCaller()
    try caller.requireAdmin()
    let id = context.parameters.get("id") ?? ""
    guard try await store.revokeToken(id, of: caller.account.id, actor: caller.actor) else {
      throw APIProblem.notFound("token", id)
    }
    return Response(status: .noContent)
  }

  @Sendable func users(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let caller = try context.requireCaller()
    let users = try await store.users(of: caller.account.id)
    return JSONResponse.make(JSONViews.list("users", users.map(JSONViews.user)))
  }

  @Sendable func addUser(_ request: Request, context: FerryRequestContext) async throws -> Response
  {
    let caller = try context.requireCaller()
    try caller.requireAdmin()
    let body = try await RequestBody.read(request, context: context, known: ["email", "role"])
    let user = try await addUser(body, caller: caller)
    return JSONResponse.make(JSONViews.user(user), status: .created)
  }

  /// Adds the user `body` describes (admins only; audited). The web UI's form too.
  func addUser(_ body: RequestBody, caller: Caller) async throws -> User {
    try caller.requireAdmin()
    let email = try body.requiredString("email", example: "alice@example.com")
    guard Self.isEmail(email) else {
      throw APIProblem.badInput(
        field: "email", "\"\(email)\" is not an email address",
        fix: "Give an address like alice@example.com.")
    }
    let user = User(accountID: caller.account.id, email: email, role: try Self.role(body))
    try await store.addUser(user, actor: caller.actor)
    return user
  }

  /// Changes a user's role or disables or enables them (admins; audited). A disabled
  /// user's sessions end at once; the last admin credential is refused (409).
  @Sendable func updateUser(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try context.requireCaller()
    try caller.requireAdmin()
    let id = context.parameters.get("id") ?? ""
    let body = try await RequestBody.read(request, context: context, known: ["role", "disabled"])
    let user = try await updateUser(id, body: body, caller: caller)
    return JSONResponse.make(JSONViews.user(user))
  }

  /// The change `body` asks of user `id` (the web UI's forms too).
  func updateUser(_ id: String, body: RequestBody, caller: Caller) async throws -> User {
    try caller.requireAdmin()
    let role = try body.string("role") == nil ? nil : try Self.role(body)
    let disabled = try body.bool("disabled")
    guard role != nil || disabled != nil else {
      throw APIProblem.badInput(
        field: "role", "nothing to change",
        fix: "Send role (admin or member), disabled (true or false), or both.")
    }
    guard
      let user = try await store.updateUser(
        id, of: caller.account.id, role: role, disabled: disabled, actor: caller.actor)
    else { throw APIProblem.notFound("user", id) }
    return user
  }

  /// Removes a user, their sessions and any invitation (admins; audited).
  @Sendable func removeUser(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try context.requireCaller()
    try caller.requireAdmin()
    let id = context.parameters.get("id") ?? ""
    guard try await store.removeUser(id, of: caller.account.id, actor: caller.actor) else {
      throw APIProblem.notFound("user", id)
    }
    return Response(status: .noContent)
  }

  static func isEmail(_ text: String) -> Bool {
    let parts = text.split(separator: "@", omittingEmptySubsequences: false)
    return text.count <= 254 && parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".")
      && !text.contains(where: { $0.isWhitespace || $0.isNewline })
      && ShownText.forbiddenScalar(in: text) == nil
  }

  @Sendable func audit(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let caller = try context.requireCaller()
    try caller.requireAdmin()
    let limit = try request.intQuery("limit", default: 100, range: 1...1000)
    let entries = try await StoreTimer.time("auditLog") {
      try await store.auditLog(of: caller.account.id, limit: limit)
    }
    return JSONResponse.make(JSONViews.list("entries", entries.map(JSONViews.audit)))
  }
}

/// `/api/v1/accounts`: operators create and list tenants.
struct AccountRoutes {
  let store: any Store
  let externalIDPrefix: String

  func add(to api: RouterGroup<FerryRequestContext>) {
    api.get("accounts", use: list)
    api.post("accounts", use: create)
    api.post("accounts/{id}/tokens", use: issueToken)
  }

  /// Issues a token into any account (operators): the way back into an account that has
  /// lost its admins. Audited in that account, with the operator as the actor.
  @Sendable func issueToken(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try context.requireCaller()
    try caller.requireOperator()
    let id = context.parameters.get("id") ?? ""
    guard let account = try await store.account(AccountID(rawValue: id)) else {
      throw APIProblem.notFound("account", id)
    }
    let body = try await RequestBody.read(request, context: context, known: ["name", "role"])
    let name = try AccessRoutes.name(
      try body.requiredString("name", example: "recovery"), field: "name")
    let issued = try await store.issueToken(
      name: name, role: try AccessRoutes.role(body), of: account.id, actor: caller.actor)
    return try AccessRoutes.issuedAnswer(issued)
  }

  @Sendable func list(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let caller = try context.requireCaller()
    try caller.requireOperator()
    let accounts = try await store.accounts()
    return JSONResponse.make(JSONViews.list("accounts", accounts.map(JSONViews.account)))
  }

  /// Creates an account with its first admin and that admin's token (shown once).
  @Sendable func create(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let caller = try context.requireCaller()
    try caller.requireOperator()
    let body = try await RequestBody.read(
      request, context: context, known: ["name", "adminEmail", "retentionDays"])
    let name = try body.requiredString("name", example: "acme")
    let email = try body.string("adminEmail")
    if let email, !AccessRoutes.isEmail(email) {
      throw APIProblem.badInput(
        field: "adminEmail", "\"\(email)\" is not an email address",
        fix: "Give an address like alice@example.com.")
    }
    // A number out of range is refused here (converting it would trap).
    let retention = try body.int("retentionDays", range: 1...3650) ?? 30
    let account: Account
    do {
      account = try await store.createAccount(
        name: name, externalIDPrefix: externalIDPrefix, retentionDays: retention,
        actor: caller.actor)
    } catch StoreError.invalid(let detail) {
      throw APIProblem.badInput(field: "name", detail, fix: "Choose another name or value.")
    }
    if let email {
      try await store.addUser(
        User(accountID: account.id, email: email, role: .admin), actor: caller.actor)
    }
    let issued = try await store.issueToken(
      name: "first-admin", role: .admin, of: account.id, actor: caller.actor)
    guard case .object(var pairs) = JSONViews.account(account) else {
      throw APIProblem.internalError()
    }
    pairs.append(("adminToken", .string(issued.secret.revealed)))
    return JSONResponse.make(.object(pairs), status: .created)
  }
}
