import FerryCore
import FerryPolicy
import Foundation
import Hummingbird

/// The migration page (admins): the roles in use with their external IDs, a plan per role
/// still on a legacy ID (its steps with policies, AWS CLI commands and CloudFormation
/// changes), the switch, and the live status that lists every configuration that fails.
/// The forms run the API's own actions (``MigrationRoutes``).
extension WebPages {
  func addMigration(to web: RouterGroup<FerryRequestContext>) {
    web.get("migration", use: migrationPage)
    web.post("migration/apply", use: applyMigration)
    web.post("migration/status", use: migrationStatus)
  }

  /// The caller, who must be an admin (the page changes configuration).
  func migrationAdmin(_ context: FerryRequestContext) throws -> Caller {
    let caller = try caller(context)
    try caller.requireAdmin()
    return caller
  }

  static func configurationsText(fetchers: [Fetcher], archives: [Archive]) -> String {
    let names =
      fetchers.map { "fetcher \($0.name)" } + archives.map { "archive \($0.name)" }
    return names.isEmpty ? "no fetcher or archive" : names.joined(separator: ", ")
  }

  static func stepData(_ step: MigrationStep, number: Int) -> [String: Any] {
    var data: [String: Any] = [
      "number": number, "title": step.title, "detail": step.detail,
      "where": step.actor == .customer ? "in AWS (the customer)" : "in Ferry",
    ]
    if let policy = step.policy { data["policy"] = policy.json() }
    if let cli = step.awsCLI { data["awsCli"] = cli }
    if let cfn = step.cloudFormation { data["cloudFormation"] = cfn }
    if let command = step.ferryCommand { data["ferryCommand"] = command }
    return data
  }

  func migrationData(_ caller: Caller) async throws -> [String: Any] {
    let runner = try await migration.runner()
    let roles = try await runner.inventory(of: caller.account)
    let principal = PlatformPrincipal.arn(runner.platform.principalARN)
    let statuses = try await store.connectionStatuses(of: caller.account.id)
    var planOfRole: [String: RolePlan] = [:]
    var plans: [[String: Any]] = []
    for role in roles {
      guard
        let plan = try MigrationPlanner.plan(role, account: caller.account, principal: principal)
      else { continue }
      planOfRole[role.roleARN] = plan
      plans.append([
        "roleArn": role.roleARN, "procedure": plan.procedure.rawValue, "reason": plan.reason,
        "newRole": plan.procedure == .newRole,
        "steps": plan.steps.enumerated().map { Self.stepData($1, number: $0 + 1) },
      ])
    }
    let failing = roles.flatMap { role in
      role.connections.compactMap { c -> [String: Any]? in
        guard let check = statuses.first(where: { $0.connectionID == c.id })?.lastCheck,
          let diagnosis = check.diagnosis
        else { return nil }
        return [
          "location": "s3://\(c.bucket)/\(c.prefix)", "roleArn": c.roleARN,
          "configurations": Self.configurationsText(
            fetchers: role.fetchers.filter { $0.connectionID == c.id },
            archives: role.archives.filter { $0.connectionID == c.id }),
          "cause": diagnosis.cause,
          "fix": MigrationRunner.fix(diagnosis, connection: c, plan: planOfRole[role.roleARN]),
          "checkedAt": WebPage.time(check.checkedAt),
        ]
      }
    }
    let migrations = try await store.migrations(of: caller.account.id).map { m -> [String: Any] in
      [
        "id": m.id, "procedure": m.procedure.rawValue, "roleArn": m.roleARN,
        "newRoleArn": m.newRoleARN, "state": m.state.rawValue,
        "switchedAt": WebPage.time(m.switchedAt), "count": m.switches.count,
      ]
    }
    return [
      "roles": roles.map { role -> [String: Any] in
        [
          "roleArn": role.roleARN, "accounts": role.accountsUsingRole,
          "shared": role.accountsUsingRole > 1, "legacy": role.needsMigration,
          "connections": role.connections.map {
            [
              "location": "s3://\($0.bucket)/\($0.prefix)", "purpose": $0.purpose.rawValue,
              "externalId": $0.externalID, "legacy": $0.usesLegacyExternalID,
            ] as [String: Any]
          },
          "configurations": Self.configurationsText(
            fetchers: role.fetchers, archives: role.archives),
        ]
      },
      "noRoles": roles.isEmpty, "plans": plans, "noPlans": plans.isEmpty,
      "failing": failing, "hasFailing": !failing.isEmpty, "migrations": migrations,
      "hasMigrations": !migrations.isEmpty,
    ]
  }

  func migrationResponse(
    _ context: FerryRequestContext, caller: Caller, extra: [String: Any] = [:],
    status: HTTPResponse.Status = .ok
  ) async throws -> Response {
    var data = try await migrationData(caller)
    for (key, value) in extra { data[key] = value }
    return try pages.page(
      "migration", title: "Migration", context: context, data: data, section: .migration,
      status: status)
  }

  @Sendable func migrationPage(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    try await migrationResponse(context, caller: try migrationAdmin(context))
  }

  @Sendable func applyMigration(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try migrationAdmin(context)
    let form = try await WebForm.read(request, context: context)
    do {
      let applied = try await migration.applyMigration(
        role: form.value("roleArn") ?? "", newRole: form.value("newRoleArn"), caller: caller)
      return try await migrationResponse(
        context, caller: caller,
        extra: [
          "applied": [
            "count": applied.migration.switches.count, "roleArn": applied.migration.newRoleARN,
            "steps": applied.nextSteps.enumerated().map { Self.stepData($1, number: $0 + 1) },
            "hasSteps": !applied.nextSteps.isEmpty,
          ]
        ])
    } catch let problem as APIProblem {
      return try await migrationResponse(
        context, caller: caller,
        extra: [
          "applyProblem": WebPage.problem(problem), "applyRole": form.value("roleArn") ?? "",
        ],
        status: problem.status)
    }
  }

  @Sendable func migrationStatus(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try migrationAdmin(context)
    let report = try await migration.runner().status(of: caller.account, actor: caller.actor)
    return try await migrationResponse(
      context, caller: caller,
      extra: [
        "report": [
          "checked": report.checked, "brokenCount": report.broken.count,
          "allWork": report.broken.isEmpty,
          "broken": report.broken.map { b -> [String: Any] in
            [
              "location": "s3://\(b.connection.bucket)/\(b.connection.prefix)",
              "roleArn": b.connection.roleARN,
              "configurations": Self.configurationsText(fetchers: b.fetchers, archives: b.archives),
              "cause": b.check.diagnosis?.cause ?? "", "fix": b.fix,
            ]
          },
          "migrations": report.migrations.map { e -> [String: Any] in
            var row: [String: Any] = [
              "roleArn": e.migration.roleARN, "state": e.migration.state.rawValue, "note": e.note,
            ]
            if let step = e.nextStep { row["step"] = Self.stepData(step, number: 1) }
            return row
          },
        ]
      ])
  }
}
