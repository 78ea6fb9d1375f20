import FerryPolicy
import Foundation

/// One role an account uses, as the guide asks an admin to find out before migrating:
/// the account's configurations on it, how many Ferry accounts use it, and the legacy
/// external IDs among them.
public struct RoleInventory: Sendable, Equatable {
  public var roleARN: String
  /// The account's connections on the role.
  public var connections: [Connection]
  /// The fetchers and archives on those connections.
  public var fetchers: [Fetcher]
  public var archives: [Archive]
  /// Ferry accounts with a connection on the role, this one included.
  public var accountsUsingRole: Int

  public init(
    roleARN: String, connections: [Connection], fetchers: [Fetcher], archives: [Archive],
    accountsUsingRole: Int
  ) {
    self.roleARN = roleARN
    self.connections = connections
    self.fetchers = fetchers
    self.archives = archives
    self.accountsUsingRole = accountsUsingRole
  }

  /// The legacy external IDs the account's connections use on the role, each once.
  public var legacyExternalIDs: [String] {
    var seen: Set<String> = []
    return connections.filter(\.usesLegacyExternalID).map(\.externalID).filter {
      seen.insert($0).inserted
    }
  }

  /// The role has configurations to move to the generated ID.
  public var needsMigration: Bool { !legacyExternalIDs.isEmpty }

  /// Every role the account uses, in the order the connections were made.
  public static func of(
    connections: [Connection], fetchers: [Fetcher], archives: [Archive],
    accountsUsing: (String) -> Int
  ) -> [RoleInventory] {
    var roles: [String] = []
    for c in connections where !roles.contains(c.roleARN) { roles.append(c.roleARN) }
    return roles.map { role in
      let on = connections.filter { $0.roleARN == role }
      let ids = Set(on.map(\.id))
      return RoleInventory(
        roleARN: role, connections: on, fetchers: fetchers.filter { ids.contains($0.connectionID) },
        archives: archives.filter { ids.contains($0.connectionID) },
        accountsUsingRole: max(1, accountsUsing(role)))
    }
  }
}
