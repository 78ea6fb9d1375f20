import FerryCore
import Foundation

/// What a fresh data directory needs before anyone can sign in: a first account whose first
/// user is both an operator and that account's admin, with a token shown once.
public enum FirstRun {
  /// The first account and its token's secret, if the store had no account yet; nil on
  /// every later start.
  public static func prepare(
    store: any Store, accountName: String, externalIDPrefix: String, adminEmail: String
  ) async throws -> (account: Account, token: IssuedToken)? {
    guard try await store.accounts().isEmpty else { return nil }
    let account = try await store.createAccount(
      name: accountName, externalIDPrefix: externalIDPrefix, retentionDays: 30,
      actor: "ferry serve (first run)")
    try await store.addUser(
      User(accountID: account.id, email: adminEmail, role: .admin),
      actor: "ferry serve (first run)")
    let token = try await store.issueToken(
      name: "first-admin", role: .admin, isOperator: true, of: account.id,
      actor: "ferry serve (first run)")
    return (account, token)
  }
}
