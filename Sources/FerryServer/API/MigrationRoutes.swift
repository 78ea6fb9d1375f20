import FerryCore
import FerryPolicy
import Foundation
import Hummingbird

/// `/api/v1/migration/*`: moving an account's configurations off legacy, customer-chosen
/// external IDs (inventory, plan, apply, status; admins only), and
/// `/api/v1/accounts/{id}/legacy-connections`, the operator's import of a configuration
/// that uses a legacy ID (the only way one is made).
struct MigrationRoutes {
  let store: any Store
  let checker: ConnectionChecker
  let identity: PlatformIdentityResolver

  func add(to api: RouterGroup<FerryRequestContext>) {
    api.get("migration/inventory", use: inventory)
    api.get("migration/plan", use: plan)
    api.post("migration/apply", use: apply)
    api.get("migration/status", use: status)
    api.post("migration/check", use: check)
    api.post("accounts/{id}/legacy-connections", use: importLegacy)
  }

  func runner() async throws -> MigrationRunner {
    MigrationRunner(
      store: store, aws: checker.aws, platform: try await identity.resolveForRequest())
  }

  /// The caller, who must be an admin of the account.
  func admin(_ context: FerryRequestContext) throws -> Caller {
    let caller = try context.requireCaller()
    guard caller.isAdmin else {
      throw APIProblem.forbidden("only an admin of the account may see and run its migration")
    }
    return caller
  }

  @Sendable func inventory(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try admin(context)
    let roles = try await runner().inventory(of: caller.account)
    return JSONResponse.make(JSONViews.list("roles", roles.map(MigrationViews.role)))
  }

  @Sendable func plan(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let caller = try admin(context)
    var plans = try await runner().plans(of: caller.account)
    if let role = request.uri.queryParameters.get("role") {
      plans = plans.filter { $0.role.roleARN == role }
    }
    return JSONResponse.make(JSONViews.list("plans", plans.map(MigrationViews.plan)))
  }

  /// The switch of one role's legacy configurations (the caller's "apply" step).
  func applyMigration(
    role: String, newRole: String?, caller: Caller,
    onCheck: @Sendable (ConnectionCheck) -> Void = { _ in }
  ) async throws -> MigrationApplied {
    try caller.requireAdmin()
    do {
      return try await runner().apply(
        role: role, newRoleARN: newRole, account: caller.account, actor: caller.actor,
        onCheck: onCheck)
    } catch let failure as MigrationFailure {
      throw Self.problem(failure)
    } catch let error as InputError {
      throw APIProblem.badInput(error)
    }
  }

  @Sendable func apply(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let caller = try admin(context)
    let body = try await RequestBody.read(
      request, context: context, known: ["roleArn", "newRoleArn"])
    let role = try body.requiredString(
      "roleArn", example: "arn:aws:iam::123456789012:role/ferry-s3-fetcher")
    let newRole = try body.string("newRoleArn").flatMap { $0.isEmpty ? nil : $0 }
    let applied = try await applyMigration(role: role, newRole: newRole, caller: caller)
    return JSONResponse.make(MigrationViews.applied(applied))
  }

  /// The status as last checked: reads only (no AWS call, nothing written).
  @Sendable func status(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let caller = try admin(context)
    let report = try await runner().lastStatus(of: caller.account)
    return JSONResponse.make(MigrationViews.report(report))
  }

  /// Checks every configuration now (and finishes the migrations whose role refuses the
  /// legacy ID), then answers the status.
  @Sendable func check(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let caller = try admin(context)
    let report = try await runner().status(of: caller.account, actor: caller.actor)
    return JSONResponse.make(MigrationViews.report(report))
  }

  static func problem(_ failure: MigrationFailure) -> APIProblem {
    let (status, name): (HTTPResponse.Status, String) =
      switch failure.kind {
      case .badInput: (.badRequest, "migration-refused")
      case .notFound: (.notFound, "role-not-used")
      case .conflict: (.conflict, "migration-conflict")
      case .checkFailed: (.unprocessableContent, "migration-check-failed")
      case .rolledBack: (.unprocessableContent, "migration-rolled-back")
      }
    var problem = APIProblem(
      status: status, name: name, title: "\(failure.step) failed", detail: failure.cause,
      fix: failure.fix)
    problem.extra = [("step", .string(failure.step))]
    if let connection = failure.connection {
      problem.extra.append(("connectionId", .string(connection.id)))
    }
    if let check = failure.check { problem.extra.append(("check", JSONViews.check(check))) }
    return problem
  }

  /// The fields of a legacy import: a connection's, with the customer's own external ID.
  static let legacyFields = ConnectionRoutes.connectionFields

  /// An operator imports a configuration made before Ferry generated external IDs: the
  /// customer's role already trusts Ferry with an ID the customer chose. It is checked with
  /// that ID like any connection and saved, flagged legacy, only when every step passes.
  @Sendable func importLegacy(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try context.requireCaller()
    guard caller.isOperator else {
      throw APIProblem.forbidden(
        "only an operator may import a configuration with a legacy external ID; an account's own connections always use its generated ID"
      )
    }
    let accountID = AccountID(rawValue: context.parameters.get("id") ?? "")
    guard let account = try await store.account(accountID) else {
      throw APIProblem.notFound("account", accountID.rawValue)
    }
    let body = try await RequestBody.read(request, context: context, known: Self.legacyFields)
    let legacyID = try body.requiredString("externalId", example: "acme-logs-2019")
    do {
      try ExternalID.validate(legacyID, field: "externalId")
    } catch {
      throw APIProblem.badInput(error)
    }
    if try await store.accounts().contains(where: { $0.externalID == legacyID }) {
      throw APIProblem.badInput(
        field: "externalId",
        "is the generated external ID of a Ferry account, not a legacy one",
        fix:
          "Give the ID the customer chose in the old setup; a connection on the generated ID is made by the account's admin with POST /api/v1/connections."
      )
    }
    var connection = try await ConnectionRoutes(
      store: store, checker: checker, identity: identity
    ).newConnection(body, of: account)
    connection.externalID = legacyID
    connection.usesLegacyExternalID = true
    let check = try await checker.check(connection, of: account)
    guard check.succeeded else { throw ConnectionRoutes.checkFailed(check) }
    try await store.addConnection(connection, of: account.id, actor: caller.actor)
    _ = try await store.recordConnectionCheck(check, of: account.id)
    var response = JSONResponse.make(
      JSONViews.connection(connection, status: ConnectionStatus(check)), status: .created)
    response.headers[.location] = "/api/v1/connections/\(connection.id)"
    return response
  }
}
