import Foundation

/// Which of the guide's two procedures moves a role's configurations to the generated
/// external ID.
public enum MigrationProcedure: String, Sendable, Codable, Equatable {
  /// The role is used by one Ferry account: its trust policy changes to the account's
  /// generated ID (through a transition policy that accepts both IDs).
  case sameRole = "same-role"
  /// The role is used by several Ferry accounts, which have different generated IDs: each
  /// account gets a new role of its own; the old role keeps serving the others.
  case newRole = "new-role"
}

/// Where a migration stands.
public enum MigrationState: String, Sendable, Codable, Equatable {
  /// Ferry's configurations use the generated ID; the role may still accept the legacy one.
  case switched
  /// The legacy ID was refused when Ferry tried it: the final trust policy is in place.
  case finished
}

/// One configuration re-pointed by a migration: from a role and legacy external ID to a
/// role (the same or a new one) and the account's generated ID.
public struct ConnectionSwitch: Sendable, Codable, Equatable {
  public var connectionID: String
  public var fromRoleARN: String
  public var fromExternalID: String
  public var toRoleARN: String

  public init(connectionID: String, fromRoleARN: String, fromExternalID: String, toRoleARN: String)
  {
    self.connectionID = connectionID
    self.fromRoleARN = fromRoleARN
    self.fromExternalID = fromExternalID
    self.toRoleARN = toRoleARN
  }
}

extension Migration {
  /// A new random migration ID.
  public static func newID() -> String { "mig_" + RandomText.alphanumeric(16) }
}

/// A role's configurations moved to the account's generated external ID, as the store
/// keeps it: what changed (so it can be undone and the legacy ID checked afterwards), when,
/// and whether the final trust policy was seen in place.
public struct Migration: Sendable, Codable, Equatable {
  public var id: String
  public var accountID: AccountID
  public var procedure: MigrationProcedure
  /// The role the configurations used.
  public var roleARN: String
  /// The role they use now (the same one for the same-role procedure).
  public var newRoleARN: String
  public var switches: [ConnectionSwitch]
  public var state: MigrationState
  public var switchedAt: Date
  /// When the legacy ID was last seen refused (the final trust policy in place).
  public var finishedAt: Date?

  public init(
    id: String = Migration.newID(), accountID: AccountID, procedure: MigrationProcedure,
    roleARN: String, newRoleARN: String, switches: [ConnectionSwitch],
    state: MigrationState = .switched, switchedAt: Date = Date(), finishedAt: Date? = nil
  ) {
    self.id = id
    self.accountID = accountID
    self.procedure = procedure
    self.roleARN = roleARN
    self.newRoleARN = newRoleARN
    self.switches = switches
    self.state = state
    self.switchedAt = switchedAt
    self.finishedAt = finishedAt
  }

  /// The legacy external IDs the configurations used, each once, in order.
  public var legacyExternalIDs: [String] {
    var seen: Set<String> = []
    return switches.map(\.fromExternalID).filter { seen.insert($0).inserted }
  }
}
