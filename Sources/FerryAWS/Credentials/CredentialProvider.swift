import FerryAWSSigning
import Foundation

/// Something that supplies AWS credentials: fixed keys, the environment, a profile, an
/// assumed role, a container or instance endpoint.
public protocol CredentialProvider: Sendable {
  func credentials() async throws(AWSError) -> AWSCredentials
}

/// Fixed credentials.
public struct StaticCredentialProvider: CredentialProvider {
  let value: AWSCredentials
  public init(_ credentials: AWSCredentials) { value = credentials }
  public func credentials() async throws(AWSError) -> AWSCredentials { value }
}

/// Wraps a source of temporary credentials: serves them until shortly before they expire,
/// then fetches new ones. Concurrent callers during a refresh share that one refresh.
public actor RefreshingCredentialProvider: CredentialProvider {
  public typealias Source = @Sendable () async throws(AWSError) -> AWSCredentials

  private let source: Source
  private let margin: TimeInterval
  private var cached: AWSCredentials?
  private var inFlight: Task<AWSCredentials, any Error>?
  /// How many times the source was called (for tests and metrics).
  public private(set) var refreshCount = 0

  /// - Parameter margin: refresh this long before expiry (default 5 minutes).
  public init(refreshingBefore margin: TimeInterval = 300, _ source: @escaping Source) {
    self.source = source
    self.margin = margin
  }

  public func credentials() async throws(AWSError) -> AWSCredentials {
    if let cached, !cached.expires(within: margin) { return cached }
    let task: Task<AWSCredentials, any Error>
    if let inFlight {
      task = inFlight
    } else {
      refreshCount += 1
      let source = self.source
      task = Task { () async throws -> AWSCredentials in try await source() }
      inFlight = task
    }
    do {
      let fresh = try await task.value
      cached = fresh
      inFlight = nil
      return fresh
    } catch {
      inFlight = nil
      throw (error as? AWSError)
        ?? AWSError(kind: .credentials, operation: "Credentials", message: "\(error)")
    }
  }
}

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and optionally `AWS_SESSION_TOKEN`.
public struct EnvironmentCredentialProvider: CredentialProvider {
  let environment: [String: String]

  public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
    self.environment = environment
  }

  var isConfigured: Bool { environment["AWS_ACCESS_KEY_ID"]?.isEmpty == false }

  public func credentials() async throws(AWSError) -> AWSCredentials {
    guard let key = environment["AWS_ACCESS_KEY_ID"], !key.isEmpty,
      let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty
    else {
      throw AWSError(
        kind: .credentials, operation: "Credentials",
        message: "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or neither")
    }
    let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
    return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token)
  }
}

/// The JSON shape shared by container endpoints, instance metadata and credential_process.
struct CredentialDocument: Decodable {
  var accessKeyID: String
  var secretAccessKey: String
  var token: String?
  var sessionToken: String?
  var expiration: String?

  enum CodingKeys: String, CodingKey {
    case accessKeyID = "AccessKeyId"
    case secretAccessKey = "SecretAccessKey"
    case token = "Token"
    case sessionToken = "SessionToken"
    case expiration = "Expiration"
  }

  func credentials() -> AWSCredentials {
    AWSCredentials(
      accessKeyID: accessKeyID, secretAccessKey: secretAccessKey,
      sessionToken: token ?? sessionToken,
      expiration: expiration.flatMap(ISODate.parse))
  }

  static func decode(_ data: Data, operation: String) throws(AWSError) -> AWSCredentials {
    do {
      return try JSONDecoder().decode(CredentialDocument.self, from: data).credentials()
    } catch {
      throw AWSError(
        kind: .invalidResponse, operation: operation,
        message:
          "the credentials document is not the expected JSON (AccessKeyId, SecretAccessKey, Token, Expiration)"
      )
    }
  }
}

/// ISO 8601 timestamps as AWS writes them, with or without fractional seconds.
enum ISODate {
  static func parse(_ text: String) -> Date? {
    let plain = ISO8601DateFormatter()
    if let date = plain.date(from: text) { return date }
    let fractional = ISO8601DateFormatter()
    fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return fractional.date(from: text)
  }
}
