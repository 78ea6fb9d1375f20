import FerryAWSSigning
import Foundation

/// Credentials from a web identity token file: `AWS_WEB_IDENTITY_TOKEN_FILE` and
/// `AWS_ROLE_ARN` (EKS IRSA and similar).
public struct WebIdentityCredentialProvider: CredentialProvider {
  let client: AWSClient
  let environment: [String: String]

  public init(
    client: AWSClient, environment: [String: String] = ProcessInfo.processInfo.environment
  ) {
    self.client = client
    self.environment = environment
  }

  var isConfigured: Bool {
    environment["AWS_WEB_IDENTITY_TOKEN_FILE"]?.isEmpty == false
      && environment["AWS_ROLE_ARN"]?.isEmpty == false
  }

  public func credentials() async throws(AWSError) -> AWSCredentials {
    guard let file = environment["AWS_WEB_IDENTITY_TOKEN_FILE"],
      let role = environment["AWS_ROLE_ARN"]
    else {
      throw AWSError(
        kind: .credentials, operation: "WebIdentity",
        message: "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN must both be set")
    }
    // The token file is rotated by the platform: read it on every refresh.
    guard let token = try? String(contentsOfFile: file, encoding: .utf8) else {
      throw AWSError(
        kind: .credentials, operation: "WebIdentity",
        message: "cannot read the web identity token file \(file)")
    }
    let sts = STSClient(
      client: client, credentials: nil, region: environment["AWS_REGION"] ?? "us-east-1")
    return try await sts.assumeRoleWithWebIdentity(
      roleARN: role, sessionName: environment["AWS_ROLE_SESSION_NAME"] ?? "ferry",
      token: token.trimmingCharacters(in: .whitespacesAndNewlines)
    ).credentials
  }
}

/// The AWS SDKs' default chain: environment variables, then the shared profile, then a web
/// identity token, then a container endpoint, then instance metadata. The first source that
/// is configured is used (and refreshed); a configured source that fails is reported, not
/// skipped.
public final class DefaultCredentialChain: CredentialProvider {
  private let provider: RefreshingCredentialProvider
  /// Which source the chain chose.
  public let sourceName: String

  public init(
    client: AWSClient, environment: [String: String] = ProcessInfo.processInfo.environment
  ) {
    let env = EnvironmentCredentialProvider(environment: environment)
    let profile = ProfileCredentialProvider(client: client, environment: environment)
    let web = WebIdentityCredentialProvider(client: client, environment: environment)
    let container = ContainerCredentialProvider(client: client, environment: environment)
    let chosen: (String, any CredentialProvider)
    if env.isConfigured {
      chosen = ("environment", env)
    } else if profile.isConfigured {
      chosen = ("profile \(profile.profile)", profile)
    } else if web.isConfigured {
      chosen = ("web identity", web)
    } else if container.url != nil {
      chosen = ("container", container)
    } else if environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() != "true" {
      chosen = (
        "instance metadata",
        InstanceMetadataCredentialProvider(client: client, environment: environment)
      )
    } else {
      chosen = ("none", NoCredentials())
    }
    sourceName = chosen.0
    let source = chosen.1
    provider = RefreshingCredentialProvider { () async throws(AWSError) -> AWSCredentials in
      try await source.credentials()
    }
  }

  public func credentials() async throws(AWSError) -> AWSCredentials {
    try await provider.credentials()
  }

  struct NoCredentials: CredentialProvider {
    func credentials() async throws(AWSError) -> AWSCredentials {
      throw AWSError(
        kind: .credentials, operation: "Credentials",
        message:
          "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile in ~/.aws, or run where a role is attached"
      )
    }
  }
}
