import Crypto
@_exported import FerrySecrets
import Foundation

/// What a user or token may do in its account.
public enum Role: String, Sendable, Codable, CaseIterable {
  /// Changes configuration: connections, fetchers, archives, users, tokens.
  case admin
  /// Reads configuration, status and logs.
  case member
}

extension User {
  /// A new random user ID.
  public static func newID() -> String { "user_" + RandomText.alphanumeric(16) }
}

/// A person with access to an account.
public struct User: Sendable, Equatable, Codable {
  public var id: String
  public var accountID: AccountID
  public var email: String
  public var role: Role
  public var createdAt: Date
  /// A disabled user cannot sign in, and their sessions end; an admin may enable them again.
  public var disabled: Bool

  public init(
    id: String = User.newID(), accountID: AccountID, email: String, role: Role,
    createdAt: Date = Date(), disabled: Bool = false
  ) {
    self.id = id
    self.accountID = accountID
    self.email = email
    self.role = role
    self.createdAt = createdAt
    self.disabled = disabled
  }

  enum CodingKeys: String, CodingKey {
    case id, accountID, email, role, createdAt, disabled
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    id = try c.decode(String.self, forKey: .id)
    accountID = try c.decode(AccountID.self, forKey: .accountID)
    email = try c.decode(String.self, forKey: .email)
    role = try c.decode(Role.self, forKey: .role)
    createdAt = try c.decode(Date.self, forKey: .createdAt)
    disabled = try c.decodeIfPresent(Bool.self, forKey: .disabled) ?? false
  }
}

/// An API token as stored: never the secret, only its hash.
public struct APIToken: Sendable, Equatable, Codable {
  public var id: String
  public var accountID: AccountID
  public var name: String
  public var role: Role
  /// Operators manage accounts (tenants) as well as their own account.
  public var isOperator: Bool
  public var createdAt: Date

  public init(
    id: String, accountID: AccountID, name: String, role: Role, isOperator: Bool = false,
    createdAt: Date
  ) {
    self.id = id
    self.accountID = accountID
    self.name = name
    self.role = role
    self.isOperator = isOperator
    self.createdAt = createdAt
  }
}

/// A token just issued: the only moment its secret exists outside the caller.
public struct IssuedToken: Sendable {
  public var token: APIToken
  /// `fry_` and 40 random letters and digits. Shown once; Ferry keeps only its hash.
  public var secret: Secret

  public init(token: APIToken, secret: String) {
    self.token = token
    self.secret = Secret(secret)
  }
}

/// Token secrets and their stored form.
public enum TokenSecret {
  public static func generate() -> String { "fry_" + RandomText.alphanumeric(40) }

  /// The stored form: hex SHA-256. Tokens are long and random, so a fast hash suffices.
  public static func hash(_ secret: String) -> String {
    SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
  }
}
