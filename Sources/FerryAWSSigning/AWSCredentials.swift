@_exported import FerrySecrets
import Foundation

/// AWS credentials: an access key pair, and a session token for temporary credentials.
/// Printing, dumping or interpolating them never shows the secret key or the token.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible,
  CustomDebugStringConvertible, CustomReflectable
{
  public let accessKeyID: String
  public let secretAccessKey: Secret
  public let sessionToken: Secret?
  /// When temporary credentials stop working; nil for long-lived keys.
  public let expiration: Date?

  public init(
    accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil,
    expiration: Date? = nil
  ) {
    self.accessKeyID = accessKeyID
    self.secretAccessKey = Secret(secretAccessKey)
    self.sessionToken = sessionToken.map { Secret($0) }
    self.expiration = expiration
  }

  public var description: String {
    "AWSCredentials(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>"
      + (sessionToken == nil ? "" : ", sessionToken: <redacted>")
      + (expiration.map { ", expiration: \($0)" } ?? "") + ")"
  }
  public var debugDescription: String { description }
  public var customMirror: Mirror {
    Mirror(self, children: ["accessKeyID": accessKeyID, "secretAccessKey": "<redacted>"])
  }

  /// Whether the credentials expire within `margin` of `now`.
  public func expires(within margin: TimeInterval, of now: Date = Date()) -> Bool {
    guard let expiration else { return false }
    return expiration.timeIntervalSince(now) <= margin
  }
}
