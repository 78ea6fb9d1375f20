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

/// Wraps a source of temporary credentials, in the manner of soto-core's `ExpiringValue`:
/// - fresh credentials are served as they are;
/// - inside the refresh margin (default 5 minutes before expiry) the still-valid
///   credentials keep being served while one refresh runs in the background;
/// - only expired (or missing) credentials make callers wait, all on that one refresh;
/// - a failed refresh does not fail callers whose credentials are still valid;
/// - the newest refresh wins: a refresh that finishes after a newer one cannot replace it.
public actor RefreshingCredentialProvider: CredentialProvider {
  public typealias Source = @Sendable () async throws(AWSError) -> AWSCredentials

  private let source: Source
  private let margin: TimeInterval
  private let now: @Sendable () -> Date
  private var cached: AWSCredentials?
  /// The generation of the refresh that produced `cached`.
  private var cachedGeneration = 0
  private var inFlight: (generation: Int, task: Task<AWSCredentials, any Error>)?
  private var generations = 0
  /// How many times the source was called (for tests and metrics).
  public private(set) var refreshCount = 0
  /// The last refresh's failure, while still-valid credentials are being served.
  public private(set) var lastRefreshError: AWSError?

  /// - Parameters:
  ///   - margin: refresh this long before expiry (default 5 minutes).
  ///   - now: the clock (tests pass their own).
  public init(
    refreshingBefore margin: TimeInterval = 300, now: @escaping @Sendable () -> Date = { Date() },
    _ source: @escaping Source
  ) {
    self.source = source
    self.margin = margin
    self.now = now
  }

  public func credentials() async throws(AWSError) -> AWSCredentials {
    let now = self.now()
    if let cached, !cached.expires(within: margin, of: now) { return cached }
    let refresh = startRefreshIfNeeded()
    if let cached, !cached.expires(within: 0, of: now) {
      // Still valid: serve it while the refresh runs.
      return cached
    }
    do {
      return try await refresh.value
    } catch {
      // A concurrent, newer refresh may have succeeded meanwhile.
      if let cached, !cached.expires(within: 0, of: self.now()) { return cached }
      throw (error as? AWSError)
        ?? AWSError(kind: .credentials, operation: "Credentials", message: "\(error)")
    }
  }

  /// The refresh in flight, or a new one.
  private func startRefreshIfNeeded() -> Task<AWSCredentials, any Error> {
    if let inFlight { return inFlight.task }
    generations += 1
    refreshCount += 1
    let generation = generations
    let source = self.source
    let task = Task { () async throws -> AWSCredentials in
      do {
        let fresh = try await source()
        await self.finish(generation, with: fresh)
        return fresh
      } catch {
        await self.fail(generation, error)
        throw error
      }
    }
    inFlight = (generation, task)
    return task
  }

  private func finish(_ generation: Int, with fresh: AWSCredentials) {
    if generation >= cachedGeneration {
      cached = fresh
      cachedGeneration = generation
      lastRefreshError = nil
    }
    if inFlight?.generation == generation { inFlight = nil }
  }

  private func fail(_ generation: Int, _ error: any Error) {
    lastRefreshError =
      (error as? AWSError)
      ?? AWSError(kind: .credentials, operation: "Credentials", message: "\(error)")
    if inFlight?.generation == generation { inFlight = nil }
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
