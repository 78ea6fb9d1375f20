import FerryPolicy
import Foundation

/// One step of a role's migration: who does it, what, and exactly how.
public struct MigrationStep: Sendable, Equatable {
  public enum Actor: String, Sendable, Equatable {
    /// The customer, in their AWS account.
    case customer
    /// A Ferry admin, through Ferry (the API, `ferry migrate` or the web UI).
    case ferry
  }

  public var actor: Actor
  public var title: String
  /// Why this step, and what it changes.
  public var detail: String
  /// The policy the step puts on a role, when it puts one.
  public var policy: PolicyDocument?
  /// AWS CLI commands that do the step (customer steps).
  public var awsCLI: String?
  /// The same change for a role managed with CloudFormation.
  public var cloudFormation: String?
  /// The Ferry command that does the step (Ferry steps).
  public var ferryCommand: String?

  public init(
    actor: Actor, title: String, detail: String, policy: PolicyDocument? = nil,
    awsCLI: String? = nil, cloudFormation: String? = nil, ferryCommand: String? = nil
  ) {
    self.actor = actor
    self.title = title
    self.detail = detail
    self.policy = policy
    self.awsCLI = awsCLI
    self.cloudFormation = cloudFormation
    self.ferryCommand = ferryCommand
  }
}

/// How one role's configurations move to the account's generated external ID, following
/// the guide: which procedure applies and why, and every step in order.
public struct RolePlan: Sendable, Equatable {
  public var role: RoleInventory
  public var procedure: MigrationProcedure
  public var reason: String
  /// The account's generated external ID, which the configurations will use.
  public var externalID: String
  /// For the new-role procedure: the name suggested for the account's own role.
  public var newRoleName: String?
  public var steps: [MigrationStep]
}

/// The guide's rules for migrating off a legacy external ID. A role used by one Ferry
/// account keeps being used: its trust policy moves to the account's generated ID, first
/// through a transition policy that accepts the legacy and the generated ID (so nothing
/// stops working while Ferry switches), then to the generated ID alone. A role used by
/// several Ferry accounts cannot require one account's ID without locking the others out,
/// and accepting every account's ID would let each account reach what the role reaches:
/// each account gets a new role of its own, and the old role is left to the others.
public enum MigrationPlanner {
  /// The plan for `role`, or nil when it has no legacy configuration to move.
  public static func plan(
    _ role: RoleInventory, account: Account, principal: PlatformPrincipal
  ) throws(InputError) -> RolePlan? {
    guard role.needsMigration else { return nil }
    let roleName = role.connections.first?.roleName ?? "ROLE"
    let configurations =
      role.fetchers.map { "fetcher \"\($0.name)\"" }
      + role.archives.map { "archive \"\($0.name)\"" }
    let used =
      configurations.isEmpty
      ? "no fetcher or archive yet"
      : configurations.joined(separator: ", ")
    if role.accountsUsingRole <= 1 {
      let transition = try PolicyGenerator.trustPolicy(
        principal: principal, acceptingAnyOf: role.legacyExternalIDs + [account.externalID])
      return RolePlan(
        role: role, procedure: .sameRole,
        reason:
          "only this Ferry account uses \(role.roleARN), so the role stays and its trust policy moves to this account's generated external ID (the guide's \"Migrate to the external ID in the same role\")",
        externalID: account.externalID, newRoleName: nil,
        steps: [
          MigrationStep(
            actor: .customer, title: "Let the role accept both external IDs",
            detail:
              "The transition trust policy accepts the legacy ID (\(role.legacyExternalIDs.joined(separator: ", "))) and the generated one, so \(configurations.isEmpty ? "the role's connections keep" : "\(used) keep") working while Ferry switches.",
            policy: transition, awsCLI: updateTrust(roleName, transition, file: "trust-transition"),
            cloudFormation: trustChange(transition)),
          switchStep(
            "Switch Ferry's configurations", command: "ferry migrate apply --role \(role.roleARN)"),
          try finalStep(roleName: roleName, principal: principal, externalID: account.externalID),
          MigrationStep(
            actor: .ferry, title: "Confirm",
            detail:
              "Ferry tries the legacy ID once more and expects the role to refuse it; any configuration that fails is listed with its fix.",
            ferryCommand: "ferry migrate status"),
        ])
    }
    let scopes = role.connections.compactMap(\.accessScope)
    let name = newRoleName(roleName, account: account.id)
    let setup = try RoleSetup(
      scopes: scopes, principal: principal, externalID: account.externalID, roleName: name)
    let account12 = (try? ARN.parseRole(role.roleARN).account) ?? "ACCOUNT"
    let others = role.accountsUsingRole - 1
    return RolePlan(
      role: role, procedure: .newRole,
      reason:
        "\(role.accountsUsingRole) Ferry accounts use \(role.roleARN), each with its own generated external ID; a role that required one would lock the others out, and one that accepted them all would let each account reach what the role reaches. So this account gets a new role of its own (the guide's \"Migrate to new IAM roles\")",
      externalID: account.externalID, newRoleName: name,
      steps: [
        MigrationStep(
          actor: .customer, title: "Create the account's own role",
          detail:
            "A new role \(name) that trusts Ferry only with this account's generated ID and grants what \(used) need.",
          policy: setup.trust, awsCLI: setup.awsCLIScript,
          cloudFormation: setup.cloudFormationTemplate),
        switchStep(
          "Switch Ferry's configurations to the new role",
          command:
            "ferry migrate apply --role \(role.roleARN) --new-role-arn arn:aws:iam::\(account12):role/\(name)"
        ),
        MigrationStep(
          actor: .customer, title: "Leave the old role to the other accounts",
          detail:
            "\(others) other Ferry account\(others == 1 ? "" : "s") still use\(others == 1 ? "s" : "") \(role.roleARN): do not change it. Once no account uses it, delete it."
        ),
      ])
  }

  /// Ferry's step of either procedure: check with the generated ID, then switch.
  static func switchStep(_ title: String, command: String) -> MigrationStep {
    MigrationStep(
      actor: .ferry, title: title,
      detail:
        "Ferry assumes the role with the generated ID and checks every configuration with it, then re-points them all in one step, keeping each fetcher's position and each archive's watermark; if a check fails, nothing changes.",
      ferryCommand: command)
  }

  /// The same-role procedure's last customer step: the trust policy that requires the
  /// generated ID alone.
  public static func finalStep(
    roleName: String, principal: PlatformPrincipal, externalID: String
  ) throws(InputError) -> MigrationStep {
    let final = try PolicyGenerator.trustPolicy(principal: principal, externalID: externalID)
    return MigrationStep(
      actor: .customer, title: "Remove the legacy external ID",
      detail:
        "The final trust policy requires the generated ID alone. Apply it only after the switch: before it, configurations still on the legacy ID stop working.",
      policy: final, awsCLI: updateTrust(roleName, final, file: "trust"),
      cloudFormation: trustChange(final))
  }

  /// `<old name>-<account suffix>`, within IAM's 64 characters.
  public static func newRoleName(_ old: String, account: AccountID) -> String {
    let suffix = "-" + String(account.rawValue.suffix(8))
    return String(old.prefix(64 - suffix.count)) + suffix
  }

  static func updateTrust(_ roleName: String, _ policy: PolicyDocument, file: String) -> String {
    """
    cat > \(file).json <<'FERRY_POLICY'
    \(policy.json())
    FERRY_POLICY
    aws iam update-assume-role-policy --role-name \(ShellQuote.quote(roleName)) --policy-document file://\(file).json
    """
  }

  static func trustChange(_ policy: PolicyDocument) -> String {
    let body = policy.json().split(separator: "\n", omittingEmptySubsequences: false)
      .map { "        " + $0 }.joined(separator: "\n")
    return """
      # In the role's AWS::IAM::Role resource (JSON is valid YAML):
          Properties:
            AssumeRolePolicyDocument:
      \(body)
      """
  }
}
