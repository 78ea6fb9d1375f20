import FerryPolicy
import Foundation

/// What a role binding is used for.
public enum ConnectionPurpose: String, Sendable, Codable, CaseIterable {
  case fetcher
  case archive
}

extension Connection {
  /// A new random connection ID.
  public static func newID() -> String { "conn_" + RandomText.alphanumeric(16) }
}

/// A role binding: a bucket (region, optional prefix) reached through a customer's role,
/// assumed with an external ID.
public struct Connection: Sendable, Equatable, Codable {
  public var id: String
  public var accountID: AccountID
  public var purpose: ConnectionPurpose
  public var bucket: String
  public var region: String
  public var prefix: String
  public var roleARN: String
  /// The external ID this configuration assumes the role with: the account's generated one,
  /// or a legacy one the customer chose in an older setup.
  public var externalID: String
  /// True when `externalID` is a legacy, customer-chosen ID (a reason to migrate).
  public var usesLegacyExternalID: Bool
  /// The AWS account that must own the bucket (sent as `x-amz-expected-bucket-owner`);
  /// empty: the role's own account.
  public var bucketOwner: String
  /// The KMS key the bucket's objects are encrypted with, if any.
  public var kmsKeyARN: String?
  public var createdAt: Date

  public init(
    id: String = Connection.newID(), accountID: AccountID, purpose: ConnectionPurpose,
    bucket: String, region: String, prefix: String, roleARN: String, externalID: String,
    usesLegacyExternalID: Bool, bucketOwner: String = "", kmsKeyARN: String? = nil,
    createdAt: Date = Date()
  ) {
    self.bucketOwner = bucketOwner
    self.kmsKeyARN = kmsKeyARN
    self.id = id
    self.accountID = accountID
    self.purpose = purpose
    self.bucket = bucket
    self.region = region
    self.prefix = prefix
    self.roleARN = roleARN
    self.externalID = externalID
    self.usesLegacyExternalID = usesLegacyExternalID
    self.createdAt = createdAt
  }
}

extension Connection {
  /// What the connection's role must reach (nil for a record whose bucket or prefix no
  /// longer passes the scope's rules).
  public var accessScope: AccessScope? {
    try? AccessScope(
      purpose: purpose == .fetcher ? .fetcher : .archive, bucket: bucket, prefix: prefix,
      kmsKeyARN: kmsKeyARN)
  }

  /// The role's name, the last part of its ARN.
  public var roleName: String { Self.roleName(of: roleARN) }

  /// A role's name, the last part of its ARN.
  public static func roleName(of roleARN: String) -> String {
    roleARN.split(separator: "/").last.map(String.init) ?? "ROLE"
  }
}

/// Where a connection stands after its latest check.
public enum ConnectionState: String, Sendable, Codable {
  /// Never checked.
  case unchecked
  /// The latest check passed.
  case ok
  /// The latest check failed; its diagnosis says why.
  case failing
}

/// A connection's latest check, as the store keeps it.
public struct ConnectionStatus: Sendable, Equatable, Codable {
  public var connectionID: String
  public var state: ConnectionState
  public var lastCheck: ConnectionCheck?

  public init(connectionID: String, state: ConnectionState, lastCheck: ConnectionCheck?) {
    self.connectionID = connectionID
    self.state = state
    self.lastCheck = lastCheck
  }
}
