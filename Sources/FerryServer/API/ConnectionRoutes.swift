import FerryCore
import FerryPolicy
import Foundation
import Hummingbird

/// `/api/v1/connection-info`, `/api/v1/role-policy` and `/api/v1/connections`: the guide's
/// "+ Add a bucket → Authenticate with a role" flow.
struct ConnectionRoutes {
  let store: any Store
  let checker: ConnectionChecker
  let identity: PlatformIdentityResolver

  func add(to api: RouterGroup<FerryRequestContext>) {
    api.get("connection-info", use: connectionInfo)
    api.post("role-policy", use: rolePolicy)
    api.get("connections", use: list)
    api.post("connections", use: create)
    api.get("connections/{id}", use: show)
    api.delete("connections/{id}", use: remove)
    api.post("connections/{id}/check", use: recheck)
  }

  func platform() async throws -> PlatformIdentity { try await identity.resolveForRequest() }

  @Sendable func connectionInfo(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try context.requireCaller()
    let platform = try await platform()
    return JSONResponse.make(
      .object([
        ("awsAccountId", .string(platform.accountID)),
        ("principalArn", .string(platform.principalARN)),
        ("externalId", .string(caller.account.externalID)),
      ]))
  }

  /// The fields the role-policy request reads (the web UI's "Add a bucket" form too).
  static let roleSetupFields: Set<String> = [
    "bucket", "region", "prefix", "purpose", "kmsKeyArn", "queueArn",
  ]

  /// What a customer creates in AWS for a bucket: the policies and the scripts.
  struct RoleSetupAnswer {
    var purpose: ConnectionPurpose
    var scope: AccessScope
    var region: String
    var setup: RoleSetup
  }

  /// The role setup that `body` asks for, for the caller's account.
  func roleSetup(_ body: RequestBody, caller: Caller) async throws -> RoleSetupAnswer {
    let (purposeText, bucket, prefix, key, regionText, queue) = (
      try body.string("purpose"), try body.string("bucket"), try body.string("prefix"),
      try body.string("kmsKeyArn"), try body.string("region"), try body.string("queueArn")
    )
    let purpose: ConnectionPurpose
    let scope: AccessScope
    let region: String
    do {
      (purpose, scope) = try ConnectionRules.scope(
        purpose: purposeText, bucket: bucket, prefix: prefix, kmsKeyARN: key, queueARN: queue)
      region = try ConnectionRules.region(regionText ?? "us-east-1")
    } catch {
      throw APIProblem.badInput(error)
    }
    let platform = try await platform()
    let setup = try RoleSetup(
      scope: scope, principal: .arn(platform.principalARN), externalID: caller.account.externalID)
    return RoleSetupAnswer(purpose: purpose, scope: scope, region: region, setup: setup)
  }

  @Sendable func rolePolicy(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try context.requireCaller()
    let body = try await RequestBody.read(request, context: context, known: Self.roleSetupFields)
    let answer = try await roleSetup(body, caller: caller)
    return JSONResponse.make(
      .object([
        ("purpose", .string(answer.purpose.rawValue)), ("bucket", .string(answer.scope.bucket)),
        ("prefix", .string(answer.scope.prefix)), ("region", .string(answer.region)),
        ("roleName", .string(answer.setup.roleName)),
        ("permissionsPolicy", answer.setup.permissions.jsonValue),
        ("trustPolicy", answer.setup.trust.jsonValue),
        ("awsCliScript", .string(answer.setup.awsCLIScript)),
        ("cloudFormationTemplate", .string(answer.setup.cloudFormationTemplate)),
      ]))
  }

  func view(_ connection: Connection, of account: AccountID) async throws -> JSONValue {
    let statuses = try await store.connectionStatuses(of: account)
    return JSONViews.connection(
      connection, status: statuses.first { $0.connectionID == connection.id })
  }

  @Sendable func list(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let caller = try context.requireCaller()
    let connections = try await StoreTimer.time("connections") {
      try await store.connections(of: caller.account.id)
    }
    let statuses = try await store.connectionStatuses(of: caller.account.id)
    return JSONResponse.make(
      JSONViews.list(
        "connections",
        connections.map { c in
          JSONViews.connection(c, status: statuses.first { $0.connectionID == c.id })
        }))
  }

  /// The fields a new connection reads (the web UI's Save form too).
  static let connectionFields: Set<String> = [
    "purpose", "bucket", "region", "prefix", "roleArn", "bucketOwner", "kmsKeyArn", "externalId",
    "allowDuplicate",
  ]

  /// Checks the connection `body` describes and, when every step passes, saves it (admins
  /// only). Returns the connection and its check either way; `onStep` hears each step.
  func createConnection(
    _ body: RequestBody, caller: Caller, onStep: @Sendable (CheckStep) -> Void = { _ in }
  ) async throws -> (Connection, ConnectionCheck) {
    try caller.requireAdmin()
    if body.fields.contains(where: { $0.key == "externalId" }) {
      throw APIProblem.badInput(
        field: "externalId",
        "is chosen by Ferry, never in a request: every connection of an account uses the account's generated external ID",
        fix:
          "Leave externalId out; GET /api/v1/connection-info shows the ID to put in the role's trust policy."
      )
    }
    let connection = try await newConnection(body, of: caller.account)
    if try body.bool("allowDuplicate") != true,
      let existing = try await store.connections(of: caller.account.id).first(where: {
        $0.purpose == connection.purpose && $0.bucket == connection.bucket
          && $0.prefix == connection.prefix
      })
    {
      throw APIProblem.duplicate(
        "connection", existing: existing.id,
        detail:
          "connection \(existing.id) is already this account's \(connection.purpose.rawValue) connection for s3://\(connection.bucket)/\(connection.prefix)"
          + (connection.purpose == .fetcher
            ? ": a fetcher on each would ingest every object twice, and search would show every event twice"
            : ""),
        fix:
          "Use \(existing.id); to add a second one anyway (another role for the same place), send allowDuplicate: true (ferry connection create --allow-duplicate)."
      )
    }
    let check = try await checker.check(connection, of: caller.account, onStep: onStep)
    guard check.succeeded else { return (connection, check) }
    try await StoreTimer.time("addConnection") {
      try await store.addConnection(connection, of: caller.account.id, actor: caller.actor)
    }
    _ = try await store.recordConnectionCheck(check, of: caller.account.id)
    return (connection, check)
  }

  /// The connection `body` describes for `account`, on the account's generated external ID,
  /// or the problem with its first wrong field.
  func newConnection(_ body: RequestBody, of account: Account) async throws -> Connection {
    let platform = try await platform()
    do {
      return try ConnectionRules.newConnection(
        purpose: try body.string("purpose"), bucket: try body.string("bucket"),
        region: try body.string("region"), prefix: try body.string("prefix"),
        roleARN: try body.requiredString(
          "roleArn", example: "arn:aws:iam::123456789012:role/ferry-s3-fetcher"),
        bucketOwner: try body.string("bucketOwner"), kmsKeyARN: try body.string("kmsKeyArn"),
        account: account, platformAccount: platform.accountID)
    } catch let error as InputError {
      throw APIProblem.badInput(error)
    }
  }

  /// The problem a failed check answers in the API.
  static func checkFailed(_ check: ConnectionCheck) -> APIProblem {
    var problem = APIProblem(
      status: .unprocessableContent, name: "connection-check-failed",
      title: "Ferry cannot use the role yet",
      detail: check.diagnosis.map { "\($0.step.title) failed: \($0.cause)" }
        ?? "the check failed",
      fix: check.diagnosis?.fix)
    problem.extra = [("check", JSONViews.check(check))]
    return problem
  }

  @Sendable func create(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let caller = try context.requireCaller()
    try caller.requireAdmin()
    let body = try await RequestBody.read(request, context: context, known: Self.connectionFields)
    let (connection, check) = try await createConnection(body, caller: caller)
    guard check.succeeded else { throw Self.checkFailed(check) }
    var response = JSONResponse.make(
      JSONViews.connection(connection, status: ConnectionStatus(check)), status: .created)
    response.headers[.location] = "/api/v1/connections/\(connection.id)"
    return response
  }

  func owned(_ context: FerryRequestContext) async throws -> (Caller, Connection) {
    let caller = try context.requireCaller()
    let id = context.parameters.get("id") ?? ""
    guard let connection = try await store.connection(id, of: caller.account.id) else {
      throw APIProblem.notFound("connection", id)
    }
    return (caller, connection)
  }

  @Sendable func show(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let (caller, connection) = try await owned(context)
    return JSONResponse.make(try await view(connection, of: caller.account.id))
  }

  @Sendable func remove(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let (caller, connection) = try await owned(context)
    try caller.requireAdmin()
    _ = try await store.removeConnection(connection.id, of: caller.account.id, actor: caller.actor)
    return Response(status: .noContent)
  }

  @Sendable func recheck(_ request: Request, context: FerryRequestContext) async throws -> Response
  {
    let (caller, connection) = try await owned(context)
    try caller.requireAdmin()
    let check = try await checker.check(connection, of: caller.account)
    _ = try await store.recordConnectionCheck(check, of: caller.account.id)
    return JSONResponse.make(JSONViews.check(check))
  }
}
