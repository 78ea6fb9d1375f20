import FerryCore
import FerryPolicy
import Foundation

/// How the API writes migrations: the inventory of roles, the plans, the switches and the
/// status, with the fields the OpenAPI document names.
enum MigrationViews {
  static func configurations(fetchers: [Fetcher], archives: [Archive]) -> JSONValue {
    .array(
      fetchers.map {
        .object([
          ("kind", .string("fetcher")), ("id", .string($0.id)), ("name", .string($0.name)),
          ("connectionId", .string($0.connectionID)),
        ])
      }
        + archives.map {
          .object([
            ("kind", .string("archive")), ("id", .string($0.id)), ("name", .string($0.name)),
            ("connectionId", .string($0.connectionID)),
          ])
        })
  }

  static func role(_ r: RoleInventory) -> JSONValue {
    .object([
      ("roleArn", .string(r.roleARN)),
      ("accountsUsingRole", .number(Double(r.accountsUsingRole))),
      ("needsMigration", .bool(r.needsMigration)),
      ("legacyExternalIds", .array(r.legacyExternalIDs.map(JSONValue.string))),
      (
        "connections",
        .array(
          r.connections.map { c in
            .object([
              ("id", .string(c.id)), ("purpose", .string(c.purpose.rawValue)),
              ("bucket", .string(c.bucket)), ("prefix", .string(c.prefix)),
              ("externalId", .string(c.externalID)),
              ("legacyExternalId", .bool(c.usesLegacyExternalID)),
            ])
          })
      ),
      ("configurations", configurations(fetchers: r.fetchers, archives: r.archives)),
    ])
  }

  static func step(_ s: MigrationStep) -> JSONValue {
    .object([
      ("actor", .string(s.actor.rawValue)), ("title", .string(s.title)),
      ("detail", .string(s.detail)), ("policy", s.policy?.jsonValue ?? .null),
      ("awsCli", JSONViews.optional(s.awsCLI)),
      ("cloudFormation", JSONViews.optional(s.cloudFormation)),
      ("ferryCommand", JSONViews.optional(s.ferryCommand)),
    ])
  }

  static func plan(_ p: RolePlan) -> JSONValue {
    .object([
      ("roleArn", .string(p.role.roleARN)), ("procedure", .string(p.procedure.rawValue)),
      ("reason", .string(p.reason)), ("externalId", .string(p.externalID)),
      ("newRoleName", JSONViews.optional(p.newRoleName)), ("role", role(p.role)),
      ("steps", .array(p.steps.map(step))),
    ])
  }

  static func migration(_ m: Migration) -> JSONValue {
    .object([
      ("id", .string(m.id)), ("procedure", .string(m.procedure.rawValue)),
      ("roleArn", .string(m.roleARN)), ("newRoleArn", .string(m.newRoleARN)),
      ("state", .string(m.state.rawValue)), ("switchedAt", JSONViews.date(m.switchedAt)),
      ("finishedAt", m.finishedAt.map(JSONViews.date) ?? .null),
      (
        "switches",
        .array(
          m.switches.map {
            .object([
              ("connectionId", .string($0.connectionID)), ("fromRoleArn", .string($0.fromRoleARN)),
              ("fromExternalId", .string($0.fromExternalID)), ("toRoleArn", .string($0.toRoleARN)),
            ])
          })
      ),
    ])
  }

  static func applied(_ a: MigrationApplied) -> JSONValue {
    .object([
      ("migration", migration(a.migration)), ("checks", .array(a.checks.map(JSONViews.check))),
      ("nextSteps", .array(a.nextSteps.map(step))),
    ])
  }

  static func report(_ r: MigrationReport) -> JSONValue {
    .object([
      (
        "migrations",
        .array(
          r.migrations.map { e in
            .object([
              ("migration", migration(e.migration)),
              ("legacyStillAccepted", e.legacyStillAccepted.map(JSONValue.bool) ?? .null),
              ("note", .string(e.note)), ("nextStep", e.nextStep.map(step) ?? .null),
            ])
          })
      ),
      ("pending", .array(r.pending.map(plan))),
      ("checked", .number(Double(r.checked))),
      (
        "broken",
        .array(
          r.broken.map { b in
            .object([
              ("connection", JSONViews.connection(b.connection, status: ConnectionStatus(b.check))),
              ("configurations", configurations(fetchers: b.fetchers, archives: b.archives)),
              ("diagnosis", b.check.diagnosis.map(JSONViews.diagnosis) ?? .null),
              ("fix", .string(b.fix)),
            ])
          })
      ),
    ])
  }
}
