import FerryPolicy
import Foundation

/// Why a migration step did not go through: the step, the cause and the fix, and the check
/// that failed when one did. Nothing was changed when this is thrown.
public struct MigrationFailure: Error, Sendable, Equatable {
  public enum Kind: String, Sendable, Equatable {
    /// The request names no role of the account, or asks for what the rules refuse.
    case badInput
    /// No configuration of the account uses the role.
    case notFound
    /// The role's configurations changed while Ferry was checking them; run again.
    case conflict
    /// A configuration does not work with the generated external ID yet.
    case checkFailed
    /// The switch was made, the check after it failed, and the switch was undone.
    case rolledBack
  }

  public var kind: Kind
  /// The migration step that failed.
  public var step: String
  public var cause: String
  public var fix: String
  /// The configuration whose check failed, and the check.
  public var connection: Connection?
  public var check: ConnectionCheck?

  public init(
    _ kind: Kind, step: String, cause: String, fix: String, connection: Connection? = nil,
    check: ConnectionCheck? = nil
  ) {
    self.kind = kind
    self.step = step
    self.cause = cause
    self.fix = fix
    self.connection = connection
    self.check = check
  }
}

/// A switch that went through: the migration as recorded, the checks made with the
/// generated external ID, and what is left to do.
public struct MigrationApplied: Sendable, Equatable {
  public var migration: Migration
  public var checks: [ConnectionCheck]
  public var nextSteps: [MigrationStep]
}

/// A configuration that does not work now, with what fixes it.
public struct BrokenConfiguration: Sendable, Equatable {
  public var connection: Connection
  public var fetchers: [Fetcher]
  public var archives: [Archive]
  public var check: ConnectionCheck
  /// The fix, in the migration's terms where the cause is a migration (a trust policy
  /// changed before Ferry switched); else the diagnosis's own fix.
  public var fix: String
}

/// Where an account's migrations stand: each one, whether the legacy ID is refused now,
/// the roles that still need one, and every configuration that fails.
public struct MigrationReport: Sendable, Equatable {
  public struct Entry: Sendable, Equatable {
    public var migration: Migration
    /// For a same-role migration not finished yet: whether the role still accepts a legacy
    /// ID (nil when AWS could not be asked, with the reason in `note`).
    public var legacyStillAccepted: Bool?
    /// What is left to do, or why it is done.
    public var note: String
    /// The customer's step still to do (the final trust policy), if one is.
    public var nextStep: MigrationStep?
  }

  public var migrations: [Entry]
  /// The roles whose configurations still use a legacy external ID, with their plans.
  public var pending: [RolePlan]
  public var broken: [BrokenConfiguration]
  /// Every configuration checked, failing or not.
  public var checked: Int
}

/// The migration of an account's configurations to its generated external ID, as the guide
/// describes it and as Ferry automates it: the inventory of roles, the plan per role, the
/// switch (checked first with the generated ID, undone if the check after it fails), and
/// the status that lists every configuration that broke.
public struct MigrationRunner: Sendable {
  let store: any Store
  let aws: any RoleAssumer
  public let platform: PlatformIdentity

  public init(store: any Store, aws: any RoleAssumer, platform: PlatformIdentity) {
    self.store = store
    self.aws = aws
    self.platform = platform
  }

  /// Every role the account uses, with its configurations and how many accounts use it.
  public func inventory(of account: Account) async throws -> [RoleInventory] {
    let connections = try await store.connections(of: account.id)
    let fetchers = try await store.fetchers(of: account.id)
    let archives = try await store.archives(of: account.id)
    var counts: [String: Int] = [:]
    for role in Set(connections.map(\.roleARN)) {
      counts[role] = try await store.accountsUsingRole(role)
    }
    return RoleInventory.of(
      connections: connections, fetchers: fetchers, archives: archives,
      accountsUsing: { counts[$0] ?? 1 })
  }

  /// The plan of every role that has configurations on a legacy external ID.
  public func plans(of account: Account) async throws -> [RolePlan] {
    try await inventory(of: account).compactMap { role in
      try MigrationPlanner.plan(role, account: account, principal: .arn(platform.principalARN))
    }
  }

  /// Switches every legacy configuration of the account on `roleARN` to the account's
  /// generated external ID, on the same role or on `newRoleARN`: each is first checked as
  /// it will be used; then all switch in one step; then Ferry assumes the role once more
  /// with the generated ID and undoes the switch if that fails. Fetchers and archives keep
  /// their cursors, ledgers and watermarks. `onCheck` hears each configuration's check.
  public func apply(
    role roleARN: String, newRoleARN: String?, account: Account, actor: String,
    onCheck: @Sendable (ConnectionCheck) -> Void = { _ in }
  ) async throws -> MigrationApplied {
    let roles = try await inventory(of: account)
    guard let role = roles.first(where: { $0.roleARN == roleARN }) else {
      throw MigrationFailure(
        .notFound, step: "Find the role",
        cause: "no configuration of this account uses \(roleARN)",
        fix:
          "List the roles in use with ferry migrate inventory (GET /api/v1/migration/inventory) and give one of them."
      )
    }
    guard
      let plan = try MigrationPlanner.plan(
        role, account: account, principal: .arn(platform.principalARN))
    else {
      throw MigrationFailure(
        .badInput, step: "Find the role",
        cause:
          "every configuration on \(roleARN) already uses this account's generated external ID",
        fix: "Nothing to migrate on this role; ferry migrate status shows the others.")
    }
    let target = try await targetRole(of: plan, newRoleARN: newRoleARN, account: account)
    let procedure: MigrationProcedure = target == roleARN ? .sameRole : .newRole
    let legacy = role.connections.filter(\.usesLegacyExternalID)
    let switches = legacy.map {
      ConnectionSwitch(
        connectionID: $0.id, fromRoleARN: $0.roleARN, fromExternalID: $0.externalID,
        toRoleARN: target)
    }
    let migration = Migration(
      accountID: account.id, procedure: procedure, roleARN: roleARN, newRoleARN: target,
      switches: switches)

    // 1. Every configuration, as it will be used: the target role, the generated ID.
    let verifier = ConnectionVerifier(aws: aws, platform: platform)
    var checks: [ConnectionCheck] = []
    for connection in legacy {
      var after = connection
      after.roleARN = target
      after.externalID = account.externalID
      after.usesLegacyExternalID = false
      let check = await verifier.verify(after, account: account)
      onCheck(check)
      guard check.succeeded else {
        throw Self.checkFailed(
          after, check, plan: plan, procedure: procedure, account: account)
      }
      checks.append(check)
    }

    // 2. All of them in one step, or none.
    guard try await store.recordMigration(migration, of: account.id, actor: actor) else {
      throw MigrationFailure(
        .conflict, step: "Switch the configurations",
        cause:
          "the configurations on \(roleARN) changed while Ferry checked them (one was added, removed or switched)",
        fix: "Run the migration again: it checks the role's configurations as they are now.")
    }

    // 3. Once more, after the switch: the role must still take the generated ID.
    if let first = legacy.first {
      do {
        _ = try await aws.assumeRole(
          roleARN: target, externalID: account.externalID,
          sessionName: ConnectionVerifier.sessionName(for: account), region: first.region,
          expectedBucketOwner: first.bucketOwner.isEmpty
            ? ((try? ARN.parseRole(target).account) ?? "") : first.bucketOwner)
      } catch {
        _ = try await store.revertMigration(migration.id, of: account.id, actor: actor)
        throw MigrationFailure(
          .rolledBack, step: "Check after the switch",
          cause:
            "\(target) refused the generated external ID right after the switch (\(error.code ?? error.message)); the switch was undone, the configurations use their legacy ID again",
          fix:
            "Make sure the role's trust policy accepts \(account.externalID) (step 1 of ferry migrate plan), then run the migration again."
        )
      }
    }
    for check in checks { _ = try await store.recordConnectionCheck(check, of: account.id) }
    var recorded = migration
    if procedure == .newRole {
      // The old role stays as it is for whoever else uses it: nothing more to confirm.
      let now = Date()
      _ = try await store.finishMigration(migration.id, of: account.id, at: now, actor: actor)
      recorded.state = .finished
      recorded.finishedAt = now
    }
    let next = Array(
      plan.steps.drop(while: { $0.actor != .ferry }).dropFirst()
        .filter { procedure == .sameRole || $0.actor == .customer })
    return MigrationApplied(migration: recorded, checks: checks, nextSteps: next)
  }

  /// The role the configurations move to, by the guide's rules.
  func targetRole(of plan: RolePlan, newRoleARN: String?, account: Account) async throws -> String {
    let roleARN = plan.role.roleARN
    guard let newRoleARN, newRoleARN != roleARN else {
      if plan.procedure == .newRole {
        throw MigrationFailure(
          .badInput, step: "Choose the role",
          cause:
            "\(plan.role.accountsUsingRole) Ferry accounts use \(roleARN): it cannot require this account's external ID without locking the others out",
          fix:
            "Create the account's own role (step 1 of ferry migrate plan), then give its ARN as newRoleArn (--new-role-arn)."
        )
      }
      return roleARN
    }
    if let problem = ConnectionRules.roleProblem(newRoleARN, platformAccount: platform.accountID) {
      throw MigrationFailure(
        .badInput, step: "Choose the role", cause: "newRoleArn: \(problem.problem)",
        fix: problem.fix)
    }
    let mine = try await store.connections(of: account.id).contains { $0.roleARN == newRoleARN }
    if !mine, try await store.accountsUsingRole(newRoleARN) > 0 {
      throw MigrationFailure(
        .badInput, step: "Choose the role",
        cause: "\(newRoleARN) is already used by another Ferry account",
        fix:
          "Give a role of this account's own, created with the script of ferry migrate plan, so no other account can reach what it reaches."
      )
    }
    return newRoleARN
  }

  static func checkFailed(
    _ connection: Connection, _ check: ConnectionCheck, plan: RolePlan,
    procedure: MigrationProcedure, account: Account
  ) -> MigrationFailure {
    let diagnosis = check.diagnosis
    let denied = diagnosis?.step == .assumeRole
    let fix: String
    if denied {
      fix =
        procedure == .sameRole
        ? "Let \(connection.roleARN) accept both IDs first: apply the transition trust policy of ferry migrate plan (step 1), which adds \(account.externalID) beside the legacy ID, then run the migration again."
        : "Create \(connection.roleARN) with the script of ferry migrate plan (step 1): it must trust Ferry with \(account.externalID); then run the migration again."
    } else {
      fix = diagnosis?.fix ?? "Fix the role, then run the migration again."
    }
    return MigrationFailure(
      .checkFailed, step: "Check with the generated external ID",
      cause:
        "\(diagnosis?.step.title ?? "the check") failed for s3://\(connection.bucket)/\(connection.prefix) through \(connection.roleARN): \(diagnosis?.cause ?? "unknown"). Nothing was switched",
      fix: fix, connection: connection, check: check)
  }

  /// Where the account's migrations stand: for each same-role migration not finished, Ferry
  /// tries the legacy ID (the role must refuse it once the final trust policy is in place)
  /// and marks it finished when refused; then every configuration is checked, and those
  /// that fail are listed with their fix. Each check is recorded.
  public func status(of account: Account, actor: String) async throws -> MigrationReport {
    var entries: [MigrationReport.Entry] = []
    for migration in try await store.migrations(of: account.id) {
      entries.append(try await progress(of: migration, account: account, actor: actor))
    }
    let roles = try await inventory(of: account)
    let principal = PlatformPrincipal.arn(platform.principalARN)
    let pending = try roles.compactMap {
      try MigrationPlanner.plan($0, account: account, principal: principal)
    }
    let verifier = ConnectionVerifier(aws: aws, platform: platform)
    var checked = 0
    let broken = try await Self.broken(roles, pending: pending) { connection in
      let check = await verifier.verify(connection, account: account)
      checked += 1
      _ = try await store.recordConnectionCheck(check, of: account.id)
      return check
    }
    return MigrationReport(
      migrations: entries, pending: pending, broken: broken, checked: checked)
  }

  /// The configurations of `roles` whose check (`check` gives it; nil: never checked)
  /// failed, each with its fetchers and archives and the fix.
  static func broken(
    _ roles: [RoleInventory], pending: [RolePlan],
    check: (Connection) async throws -> ConnectionCheck?
  ) async throws -> [BrokenConfiguration] {
    var broken: [BrokenConfiguration] = []
    for role in roles {
      for connection in role.connections {
        guard let check = try await check(connection), let diagnosis = check.diagnosis else {
          continue
        }
        broken.append(
          BrokenConfiguration(
            connection: connection,
            fetchers: role.fetchers.filter { $0.connectionID == connection.id },
            archives: role.archives.filter { $0.connectionID == connection.id }, check: check,
            fix: Self.fix(
              diagnosis, connection: connection,
              plan: pending.first { $0.role.roleARN == role.roleARN })))
      }
    }
    return broken
  }

  /// The status as last checked, without asking AWS or writing anything: the migrations
  /// as recorded, the plans still to follow, and the configurations whose latest check
  /// failed (``status(of:actor:)`` checks them now). `checked` counts the configurations
  /// that were ever checked.
  public func lastStatus(of account: Account) async throws -> MigrationReport {
    let entries = try await store.migrations(of: account.id).map { migration in
      MigrationReport.Entry(
        migration: migration, legacyStillAccepted: nil,
        note: migration.state == .switched && migration.procedure == .sameRole
          ? "switched; whether \(migration.roleARN) still accepts the legacy external ID is known once the configurations are checked (POST /api/v1/migration/check, ferry migrate status)"
          : "\(migration.state.rawValue): \(migration.roleARN)")
    }
    let roles = try await inventory(of: account)
    let principal = PlatformPrincipal.arn(platform.principalARN)
    let pending = try roles.compactMap {
      try MigrationPlanner.plan($0, account: account, principal: principal)
    }
    let statuses = try await store.connectionStatuses(of: account.id)
    let broken = try await Self.broken(roles, pending: pending) { connection in
      statuses.first { $0.connectionID == connection.id }?.lastCheck
    }
    return MigrationReport(
      migrations: entries, pending: pending, broken: broken, checked: statuses.count)
  }

  /// The fix of a failing configuration: a legacy configuration whose role no longer takes
  /// its ID is what the guide warns of, and the migration's switch is its fix.
  public static func fix(_ diagnosis: Diagnosis, connection: Connection, plan: RolePlan?) -> String
  {
    guard diagnosis.code == "legacy-external-id-refused" else { return diagnosis.fix }
    guard let plan, plan.procedure == .sameRole else {
      return
        "The role no longer takes this configuration's legacy ID. Follow ferry migrate plan for \(connection.roleARN): create this account's own role, then ferry migrate apply --role \(connection.roleARN) --new-role-arn NEW_ROLE_ARN."
    }
    return
      "The role's trust policy was changed to the generated ID before Ferry switched: switch now with ferry migrate apply --role \(connection.roleARN) (the role already takes the generated ID, so the check passes and the configuration resumes where it stopped)."
  }

  /// Whether the role still takes one of the migration's legacy IDs: true, false, or
  /// AWS's failure when it answered something other than access denied.
  private func legacyIDStillAccepted(by migration: Migration, account: Account) async
    -> Result<Bool, AWSFailure>
  {
    let owner = (try? ARN.parseRole(migration.roleARN))?.account ?? ""
    let sessionName = ConnectionVerifier.sessionName(for: account)
    for legacyID in migration.legacyExternalIDs {
      do {
        _ = try await aws.assumeRole(
          roleARN: migration.roleARN, externalID: legacyID, sessionName: sessionName,
          region: "us-east-1", expectedBucketOwner: owner)
        return .success(true)
      } catch {
        guard error.isDenied else { return .failure(error) }
      }
    }
    return .success(false)
  }

  func progress(of migration: Migration, account: Account, actor: String) async throws
    -> MigrationReport.Entry
  {
    guard migration.state == .switched, migration.procedure == .sameRole else {
      let note =
        migration.procedure == .newRole
        ? "switched to \(migration.newRoleARN); \(migration.roleARN) is left as it is for the other accounts that use it"
        : "done: \(migration.roleARN) refuses the legacy external ID"
      return .init(migration: migration, legacyStillAccepted: false, note: note)
    }
    let accepted: Bool
    switch await legacyIDStillAccepted(by: migration, account: account) {
    case .success(let answer): accepted = answer
    case .failure(let error):
      return .init(
        migration: migration, legacyStillAccepted: nil,
        note:
          "Ferry could not ask AWS whether \(migration.roleARN) still takes the legacy ID: \(error.message)"
      )
    }
    if accepted {
      let role = Connection.roleName(of: migration.roleARN)
      return .init(
        migration: migration, legacyStillAccepted: true,
        note:
          "\(migration.roleARN) still accepts the legacy external ID: apply the final trust policy below, then run ferry migrate status again",
        nextStep: try MigrationPlanner.finalStep(
          roleName: role, principal: .arn(platform.principalARN),
          externalID: account.externalID))
    }
    let now = Date()
    _ = try await store.finishMigration(migration.id, of: account.id, at: now, actor: actor)
    var finished = migration
    finished.state = .finished
    finished.finishedAt = now
    return .init(
      migration: finished, legacyStillAccepted: false,
      note: "done: \(migration.roleARN) refuses the legacy external ID")
  }
}
