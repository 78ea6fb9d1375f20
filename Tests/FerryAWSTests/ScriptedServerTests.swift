import FerryAWSSigning
import FerryTesting
import Foundation
import Testing

@testable import FerryAWS

/// Behaviour the AWS emulator cannot produce on demand (throttling, server faults, clock
/// skew) and endpoints that cannot run here (EC2 instance metadata, container credentials)
/// are tested against a scripted HTTP server on loopback: a stand-in, said as such.
@Suite("AWS layer against a scripted server")
struct ScriptedServerTests {
  static let identityXML = """
    <GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>\
    <Arn>arn:aws:iam::123456789012:user/ferry</Arn><UserId>AIDA1</UserId><Account>123456789012</Account>\
    </GetCallerIdentityResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></GetCallerIdentityResponse>
    """

  struct Server {
    let helper: HelperServer
    let log: URL

    init(_ routes: [String: [[String: Any]]]) async throws {
      let dir = try TestPaths.temporaryDirectory()
      let script = dir.appendingPathComponent("script.json")
      try JSONSerialization.data(withJSONObject: routes).write(to: script)
      log = URL(fileURLWithPath: script.path + ".log")
      let server = try #require(
        Bundle.module.url(forResource: "Resources/scripted_server", withExtension: "py"))
      helper = try await HelperServer.start(script: server.path, arguments: [script.path])
    }

    var requests: [[String: Any]] {
      let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
      return text.split(separator: "\n").compactMap {
        try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
      }
    }
  }

  func sts(
    _ server: Server,
    retry: RetryPolicy = .init(
      maxAttempts: 4, baseDelay: .milliseconds(5), maxDelay: .milliseconds(20))
  ) -> (AWSClient, STSClient) {
    let client = AWSClient(
      configuration: .init(endpoint: .custom(URL(string: server.helper.url)!), retry: retry))
    return (
      client,
      STSClient(
        client: client,
        credentials: StaticCredentialProvider(.init(accessKeyID: "AKIDTEST", secretAccessKey: "s")))
    )
  }

  @Test func throttlingAndServerFaultsAreRetried() async throws {
    let slowDown =
      [
        "status": 503,
        "body":
          "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>",
      ] as [String: Any]
    let server = try await Server([
      "POST /": [
        slowDown, ["status": 500, "body": ""], ["status": 200, "body": Self.identityXML],
      ]
    ])
    let (client, sts) = sts(server)
    let identity = try await sts.getCallerIdentity()
    #expect(identity.account == "123456789012")
    #expect(server.requests.count == 3)
  }

  @Test func retriesStopAtTheAttemptLimitWithTheLastError() async throws {
    let slowDown =
      [
        "status": 503,
        "body":
          "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>",
      ] as [String: Any]
    let server = try await Server(["POST /": [slowDown]])
    let (client, sts) = sts(server)
    do {
      _ = try await sts.getCallerIdentity()
      Issue.record("must fail")
    } catch {
      #expect(error.code == "Throttling")
      #expect(error.statusCode == 503)
    }
    #expect(server.requests.count == 4)
  }

  @Test func accessDeniedIsNotRetried() async throws {
    let denied =
      [
        "status": 403,
        "body":
          "<ErrorResponse><Error><Code>AccessDenied</Code><Message>not authorized</Message></Error></ErrorResponse>",
      ] as [String: Any]
    let server = try await Server(["POST /": [denied]])
    let (client, sts) = sts(server)
    await #expect(throws: AWSError.self) { try await sts.getCallerIdentity() }
    #expect(server.requests.count == 1)
  }

  @Test func clockSkewIsCorrectedFromTheServersDate() async throws {
    // The server's clock is two hours ahead.
    let ahead = Date().addingTimeInterval(7200)
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
    let skew =
      [
        "status": 403, "headers": ["Date": formatter.string(from: ahead)],
        "body":
          "<ErrorResponse><Error><Code>RequestExpired</Code><Message>Request has expired.</Message></Error></ErrorResponse>",
      ] as [String: Any]
    let server = try await Server(["POST /": [skew, ["status": 200, "body": Self.identityXML]]])
    let (client, sts) = sts(server, retry: .none)
    _ = try await sts.getCallerIdentity()
    let requests = server.requests
    #expect(requests.count == 2)
    let headers = requests.last?["headers"] as? [String: String] ?? [:]
    let amzDate = headers["X-Amz-Date"] ?? ""
    let corrected = DateFormatter()
    corrected.locale = Locale(identifier: "en_US_POSIX")
    corrected.timeZone = TimeZone(identifier: "GMT")
    corrected.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
    let signedAt = try #require(corrected.date(from: amzDate))
    #expect(abs(signedAt.timeIntervalSince(ahead)) < 60)
  }

  @Test func aResponseAWSNeverSendsIsAnInvalidResponseError() async throws {
    let server = try await Server([
      "POST /": [["status": 200, "body": "<html>captive portal</html>"]]
    ])
    let (client, sts) = sts(server)
    do {
      _ = try await sts.getCallerIdentity()
      Issue.record("must fail")
    } catch {
      #expect(error.kind == .invalidResponse)
    }
  }

  @Test func instanceMetadataUsesIMDSv2Tokens() async throws {
    let document =
      #"{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIAIMDS","SecretAccessKey":"s","Token":"t","Expiration":"2099-01-01T00:00:00Z"}"#
    let server = try await Server([
      "PUT /latest/api/token": [["status": 200, "body": "imds-session-token"]],
      "GET /latest/meta-data/iam/security-credentials/": [
        ["status": 200, "body": "ferry-instance-role"]
      ],
      "GET /latest/meta-data/iam/security-credentials/ferry-instance-role": [
        ["status": 200, "body": document]
      ],
    ])
    let client = AWSClient()
    let provider = InstanceMetadataCredentialProvider(
      client: client, environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": server.helper.url])
    let creds = try await provider.credentials()
    #expect(creds.accessKeyID == "ASIAIMDS")
    #expect(creds.sessionToken == "t")
    let requests = server.requests
    #expect(
      (requests.first?["headers"] as? [String: String])?["X-aws-ec2-metadata-token-ttl-seconds"]
        == "21600")
    #expect(
      (requests.last?["headers"] as? [String: String])?["X-aws-ec2-metadata-token"]
        == "imds-session-token")
  }

  @Test func containerCredentialsSendTheAuthorizationToken() async throws {
    let document =
      #"{"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"s","Token":"t","Expiration":"2099-01-01T00:00:00Z"}"#
    let server = try await Server(["GET /creds": [["status": 200, "body": document]]])
    let client = AWSClient()
    let env = [
      "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.helper.url + "/creds",
      "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer pod-token",
    ]
    let chain = DefaultCredentialChain(client: client, environment: env)
    #expect(chain.sourceName == "container")
    #expect(try await chain.credentials().accessKeyID == "ASIACONTAINER")
    #expect(
      (server.requests.first?["headers"] as? [String: String])?["Authorization"]
        == "Bearer pod-token")
  }
}
