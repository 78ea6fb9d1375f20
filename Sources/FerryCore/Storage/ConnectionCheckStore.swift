import Foundation

/// The latest check of each connection: the server's bookkeeping, not audited (a check
/// changes no configuration).
public protocol ConnectionCheckStore: Sendable {
  /// Records a connection's latest check; false if the account has no such connection.
  func recordConnectionCheck(_ check: ConnectionCheck, of account: AccountID) async throws -> Bool
  /// The latest check of each of the account's connections that was ever checked.
  func connectionStatuses(of account: AccountID) async throws -> [ConnectionStatus]
}

extension ConfigurationStore {
  /// One of the account's connections.
  public func connection(_ id: String, of account: AccountID) async throws -> Connection? {
    try await connections(of: account).first { $0.id == id }
  }
}

extension ConnectionStatus {
  /// The status a check gives its connection.
  public init(_ check: ConnectionCheck) {
    self.init(
      connectionID: check.connectionID, state: check.succeeded ? .ok : .failing, lastCheck: check)
  }
}
