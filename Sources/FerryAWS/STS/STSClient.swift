import FerryAWSSigning
import FerryPolicy
import Foundation
import NIOCore
import Synchronization

/// Who a set of credentials belongs to.
public struct CallerIdentity: Sendable, Equatable {
  public var account: String
  public var arn: String
  public var userID: String
}

/// Temporary credentials from assuming a role.
public struct AssumedRole: Sendable {
  public var credentials: AWSCredentials
  /// `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`.
  public var assumedRoleARN: String
}

/// AWS Security Token Service: who am I, and assume a role (with an external ID).
public struct STSClient: Sendable {
  let client: AWSClient
  let credentials: (any CredentialProvider)?
  public let region: String

  /// - Parameter region: STS is called at its regional endpoint, `sts.REGION.amazonaws.com`.
  public init(
    client: AWSClient, credentials: (any CredentialProvider)?, region: String = "us-east-1"
  ) {
    self.client = client
    self.credentials = credentials
    self.region = region
  }

  /// The account and ARN of the credentials (the platform principal, for Ferry's own).
  public func getCallerIdentity() async throws(AWSError) -> CallerIdentity {
    let xml = try await call("GetCallerIdentity", [:])
    guard let result = xml.find("GetCallerIdentityResult"), let account = result.string("Account"),
      let arn = result.string("Arn")
    else { throw invalid("GetCallerIdentity") }
    return CallerIdentity(account: account, arn: arn, userID: result.string("UserId") ?? "")
  }

  /// Assumes a role. `externalID` is the tenant's; `sessionName` names the tenant so that
  /// the customer's CloudTrail shows who acted.
  public func assumeRole(
    roleARN: String, sessionName: String, externalID: String?, durationSeconds: Int = 3600
  ) async throws(AWSError) -> AssumedRole {
    try Self.validateRoleARN(roleARN, operation: "STS.AssumeRole")
    var params = [
      "RoleArn": roleARN, "RoleSessionName": Self.sessionName(sessionName),
      "DurationSeconds": String(min(max(durationSeconds, 900), 43_200)),
    ]
    if let externalID { params["ExternalId"] = externalID }
    return try parseAssumed(try await call("AssumeRole", params), "AssumeRole")
  }

  /// Exchanges an OIDC token for role credentials (unsigned call).
  public func assumeRoleWithWebIdentity(roleARN: String, sessionName: String, token: String)
    async throws(AWSError)
    -> AssumedRole
  {
    try Self.validateRoleARN(roleARN, operation: "STS.AssumeRoleWithWebIdentity")
    let xml = try await call(
      "AssumeRoleWithWebIdentity",
      [
        "RoleArn": roleARN, "RoleSessionName": Self.sessionName(sessionName),
        "WebIdentityToken": token,
      ], signed: false)
    return try parseAssumed(xml, "AssumeRoleWithWebIdentity")
  }

  private func parseAssumed(_ xml: XMLNode, _ action: String) throws(AWSError) -> AssumedRole {
    guard let creds = xml.find("Credentials"), let key = creds.string("AccessKeyId"),
      let secret = creds.string("SecretAccessKey"), let token = creds.string("SessionToken")
    else { throw invalid(action) }
    return AssumedRole(
      credentials: AWSCredentials(
        accessKeyID: key, secretAccessKey: secret, sessionToken: token,
        expiration: creds.string("Expiration").flatMap(ISODate.parse)),
      assumedRoleARN: xml.find("AssumedRoleUser")?.string("Arn") ?? "")
  }

  private func call(_ action: String, _ params: [String: String], signed: Bool = true)
    async throws(AWSError) -> XMLNode
  {
    let operation = "STS.\(action)"
    try AWSRegion.validate(region, operation: operation)
    var form = "Action=\(action)&Version=2011-06-15"
    for (key, value) in params.sorted(by: { $0.key < $1.key }) {
      form += "&\(key)=\(URIEncoding.encode(value))"
    }
    let body = ByteBuffer(string: form)
    let request = AWSRequest(
      operation: operation, service: "sts", region: region, method: .POST,
      target: client.endpoint.service("sts", region: region),
      headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")], body: body,
      payloadHash: SigV4Signer.hash(Data(form.utf8)), signed: signed)
    let response = try await client.send(request, credentials: signed ? credentials : nil)
    guard let xml = XMLNode.parse(response.data) else { throw invalid(action) }
    return xml
  }

  private func invalid(_ action: String) -> AWSError {
    AWSError(
      kind: .invalidResponse, operation: "STS.\(action)",
      message: "the response is not the XML STS sends")
  }

  /// Role session names: 2 to 64 of `[\w+=,.@-]`; anything else becomes `-`.
  static func sessionName(_ name: String) -> String {
    var out = String(name.map { IAMName.allowedCharacters.contains($0) ? $0 : "-" }.prefix(64))
    while out.count < 2 { out += "-" }
    return out
  }

  static func validateRoleARN(_ arn: String, operation: String) throws(AWSError) {
    do {
      _ = try ARN.parseRole(arn)
    } catch {
      throw .invalidInput(operation, "\(error.problem). \(error.fix)")
    }
  }
}

/// Credentials of an assumed role, refreshed before they expire. Cached per tenant, role
/// ARN and external ID, so every fetcher of a tenant shares one session, and two tenants
/// never share one, even for the same role and ID.
public final class AssumedRoleCredentialCache: Sendable {
  private struct Key: Hashable {
    let tenant: String
    let roleARN: String
    let externalID: String?
  }

  private let sts: STSClient
  private let providers = Mutex<[Key: RefreshingCredentialProvider]>([:])
  private let durationSeconds: Int

  public init(sts: STSClient, durationSeconds: Int = 3600) {
    self.sts = sts
    self.durationSeconds = durationSeconds
  }

  /// The provider for a tenant's role; the first call creates it, later calls share it.
  /// - Parameter tenant: the Ferry account the session is for.
  public func provider(tenant: String, roleARN: String, externalID: String?, sessionName: String)
    -> RefreshingCredentialProvider
  {
    let key = Key(tenant: tenant, roleARN: roleARN, externalID: externalID)
    let sts = self.sts
    let duration = durationSeconds
    return providers.withLock { cache in
      if let existing = cache[key] { return existing }
      let provider = RefreshingCredentialProvider { () async throws(AWSError) -> AWSCredentials in
        try await sts.assumeRole(
          roleARN: roleARN, sessionName: sessionName, externalID: externalID,
          durationSeconds: duration
        ).credentials
      }
      cache[key] = provider
      return provider
    }
  }

  /// Forgets a tenant's role session (after its configuration changed).
  public func invalidate(tenant: String, roleARN: String, externalID: String?) {
    _ = providers.withLock {
      $0.removeValue(forKey: Key(tenant: tenant, roleARN: roleARN, externalID: externalID))
    }
  }
}
