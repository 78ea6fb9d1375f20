import Foundation

/// Accounts (tenants), their users and API tokens: who Ferry serves and who may act for
/// them. Every change is audited in the same transaction.
public protocol AccountStore: Sendable {
  // MARK: Accounts
  /// Creates a tenant with a newly generated external ID (audited as the account's first
  /// entry).
  func createAccount(name: String, externalIDPrefix: String, retentionDays: Int, actor: String)
    async throws -> Account
  func account(_ id: AccountID) async throws -> Account?
  /// Every account, oldest first: for operators and schedulers. Tenant data stays behind
  /// calls that name one account.
  func accounts() async throws -> [Account]

  // MARK: Users and API tokens; each change is audited in the same transaction
  func addUser(_ user: User, actor: String) async throws
  func users(of account: AccountID) async throws -> [User]
  /// Issues a token; the store keeps only the secret's hash. An operator's token also
  /// manages accounts.
  func issueToken(
    name: String, role: Role, isOperator: Bool, of account: AccountID, actor: String
  ) async throws -> IssuedToken
  /// The token a secret belongs to, if any.
  func authenticate(tokenSecret: String) async throws -> APIToken?
  func tokens(of account: AccountID) async throws -> [APIToken]
  func revokeToken(_ id: String, of account: AccountID, actor: String) async throws -> Bool
  /// Changes a user's role or disables (or enables) them, audited as `user.update`. A
  /// disabled user's sessions end at once. Refused for the account's last admin
  /// credential. Nil if there is no such user in the account.
  func updateUser(
    _ id: String, of account: AccountID, role: Role?, disabled: Bool?, actor: String
  ) async throws -> User?
  /// Removes a user, their sessions and their invitation, audited as `user.remove`.
  /// Refused for the account's last admin credential.
  func removeUser(_ id: String, of account: AccountID, actor: String) async throws -> Bool
}

extension AccountStore {
  /// Issues a token of the account that is not an operator's.
  public func issueToken(name: String, role: Role, of account: AccountID, actor: String)
    async throws -> IssuedToken
  {
    try await issueToken(name: name, role: role, isOperator: false, of: account, actor: actor)
  }
}
