import AsyncHTTPClient
import FerryAWSSigning
import Foundation
import NIOCore
import NIOHTTP1

/// Credentials from a container credentials endpoint (ECS, EKS Pod Identity):
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` or `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`, with
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN` or `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`.
public struct ContainerCredentialProvider: CredentialProvider {
  let client: AWSClient
  let environment: [String: String]

  public init(
    client: AWSClient, environment: [String: String] = ProcessInfo.processInfo.environment
  ) {
    self.client = client
    self.environment = environment
  }

  /// Whether a container credentials URL may receive the authorization token.
  static func mayReceiveToken(_ url: String) -> Bool {
    guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
      var host = components.host?.lowercased()
    else { return false }
    if scheme == "https" { return true }
    guard scheme == "http" else { return false }
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    if host == "localhost" || host == "::1" || host == "169.254.170.2" || host == "169.254.170.23"
      || host == "fd00:ec2::23"
    {
      return true
    }
    let octets = host.split(separator: ".", omittingEmptySubsequences: false)
    return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
  }

  /// The container credentials token, from its file or the environment: a ``Secret``
  /// until the one header that carries it.
  func authorizationToken() throws(AWSError) -> Secret? {
    if let file = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], !file.isEmpty {
      guard let token = try? String(contentsOfFile: file, encoding: .utf8) else {
        throw AWSError(
          kind: .credentials, operation: "ContainerCredentials",
          message: "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (\(file))")
      }
      return Secret(token.trimmingCharacters(in: .whitespacesAndNewlines))
    }
    if let token = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"], !token.isEmpty {
      return Secret(token)
    }
    return nil
  }

  var url: String? {
    if let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"], !full.isEmpty { return full }
    if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], !relative.isEmpty {
      return "http://169.254.170.2" + relative
    }
    return nil
  }

  public func credentials() async throws(AWSError) -> AWSCredentials {
    let operation = "ContainerCredentials"
    guard let url else {
      throw AWSError(
        kind: .credentials, operation: operation,
        message: "no container credentials endpoint is configured")
    }
    // The authorization token goes only where AWS's SDKs send it: over HTTPS, or over plain
    // HTTP to loopback or the ECS and EKS link-local hosts.
    guard Self.mayReceiveToken(url) else {
      throw AWSError(
        kind: .credentials, operation: operation,
        message:
          "AWS_CONTAINER_CREDENTIALS_FULL_URI must use https, or http to a loopback address, 169.254.170.2 (ECS) or 169.254.170.23 (EKS); refusing to send credentials to \(URLComponents(string: url)?.host ?? "that host")"
      )
    }
    var headers: [(String, String)] = []
    if let token = try authorizationToken() {
      headers.append(("Authorization", token.revealed))
    }
    let body = try await client.fetch(url, method: .GET, headers: headers, operation: operation)
    return try CredentialDocument.decode(body, operation: operation)
  }
}

/// Credentials of an EC2 instance's role, from the instance metadata service with IMDSv2
/// session tokens. `AWS_EC2_METADATA_SERVICE_ENDPOINT` overrides the address;
/// `AWS_EC2_METADATA_DISABLED=true` turns it off.
public struct InstanceMetadataCredentialProvider: CredentialProvider {
  let client: AWSClient
  let endpoint: String

  public init(
    client: AWSClient, environment: [String: String] = ProcessInfo.processInfo.environment
  ) {
    self.client = client
    var endpoint = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? "http://169.254.169.254"
    while endpoint.hasSuffix("/") { endpoint.removeLast() }
    self.endpoint = endpoint
  }

  public func credentials() async throws(AWSError) -> AWSCredentials {
    let operation = "InstanceMetadata"
    let token = try await client.fetch(
      endpoint + "/latest/api/token", method: .PUT,
      headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")], operation: operation,
      timeout: .seconds(2))
    let auth = [("X-aws-ec2-metadata-token", String(decoding: token, as: UTF8.self))]
    let base = endpoint + "/latest/meta-data/iam/security-credentials/"
    let names = try await client.fetch(
      base, method: .GET, headers: auth, operation: operation, timeout: .seconds(2))
    guard
      let role = String(decoding: names, as: UTF8.self).split(separator: "\n").first.map(
        String.init), !role.isEmpty
    else {
      throw AWSError(
        kind: .credentials, operation: operation, message: "the instance has no IAM role attached")
    }
    let document = try await client.fetch(
      base + role, method: .GET, headers: auth, operation: operation, timeout: .seconds(2))
    return try CredentialDocument.decode(document, operation: operation)
  }
}

extension AWSClient {
  /// A plain GET or PUT to a non-AWS endpoint (metadata services), with a short timeout.
  func fetch(
    _ url: String, method: HTTPMethod, headers: [(String, String)], operation: String,
    timeout: Duration = .seconds(5)
  ) async throws(AWSError) -> Data {
    var request = HTTPClientRequest(url: url)
    request.method = method
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    do {
      let response = try await http.execute(
        request, timeout: .nanoseconds(Int64(timeout.nanoseconds)))
      let body = try await response.body.collect(upTo: 1 << 20)
      guard response.status.code < 300 else {
        throw AWSError(
          kind: .credentials, operation: operation,
          message: "\(url) answered HTTP \(response.status.code)",
          statusCode: Int(response.status.code))
      }
      return Data(body.readableBytesView)
    } catch {
      throw map(error, operation: operation)
    }
  }
}
