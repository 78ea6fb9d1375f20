import Foundation

/// A tenant's identifier.
public struct AccountID: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
  public let rawValue: String
  public init(rawValue: String) { self.rawValue = rawValue }
  public var description: String { rawValue }

  /// A new random identifier, `acct_` and 20 lowercase letters and digits.
  public static func generate() -> AccountID {
    AccountID(rawValue: "acct_" + RandomText.alphanumeric(20))
  }
}

/// A tenant of Ferry: owns users, tokens, connections, fetchers, archives and logs.
public struct Account: Sendable, Equatable, Codable {
  public var id: AccountID
  public var name: String
  /// The external ID Ferry generated for this account: what its roles' trust policies
  /// require. Never chosen by the customer.
  public var externalID: String
  /// Events older than this many days are deleted.
  public var retentionDays: Int
  public var createdAt: Date

  public init(id: AccountID, name: String, externalID: String, retentionDays: Int, createdAt: Date)
  {
    self.id = id
    self.name = name
    self.externalID = externalID
    self.retentionDays = retentionDays
    self.createdAt = createdAt
  }
}

/// Generates external IDs: `<prefix>:aws:extid:<random>`, unguessable: 26 characters of
/// 36 from the system's secure generator, 134 bits (IDs generated before, with 19
/// characters, stay valid).
public enum ExternalIDGenerator {
  public static let randomCharacters = 26

  public static func generate(prefix: String = "ferry") -> String {
    "\(prefix):aws:extid:\(RandomText.alphanumeric(randomCharacters))"
  }
}

/// Random text for IDs and secrets.
public enum RandomText {
  static let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")

  /// Random lowercase letters and digits from the system's secure generator.
  public static func alphanumeric(_ count: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    return String(
      (0..<count).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
  }
}
