import FerryAWSSigning
import FerryTesting
import Foundation
import NIOCore
import Testing

@testable import FerryAWS

/// Secrets cannot leak by printing, interpolating, dumping or reflecting any type that
/// holds one, nor through an error AWS sends back.
@Suite("Secrets never leak")
struct SecretLeakTests {
  static let secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"
  static let token = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN"

  /// Every way Swift turns a value into text.
  func renderings(_ value: Any) -> [String] {
    var dumped = ""
    dump(value, to: &dumped)
    let mirror = Mirror(reflecting: value).children.map { "\($0.label ?? ""): \($0.value)" }
    return [
      "\(value)", String(describing: value), String(reflecting: value), dumped,
      mirror.joined(separator: ","),
    ]
  }

  func expectNoSecret(
    _ value: Any, _ secrets: [String], sourceLocation: SourceLocation = #_sourceLocation
  ) {
    for text in renderings(value) {
      for secret in secrets {
        #expect(
          !text.contains(secret), "\(type(of: value)) shows a secret: \(text)",
          sourceLocation: sourceLocation)
      }
    }
  }

  @Test func typesThatHoldSecretsNeverShowThem() {
    let secret = Secret(Self.token)
    expectNoSecret(secret, [Self.token])
    #expect(secret.revealed == Self.token)
    let credentials = AWSCredentials(
      accessKeyID: "AKIDEXAMPLE", secretAccessKey: Self.secretKey, sessionToken: Self.token)
    expectNoSecret(credentials, [Self.secretKey, Self.token])
    let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "s3")
    let request = SigningRequest(
      method: "GET", path: "/b/k", query: "", headers: [.init("Host", "s3.amazonaws.com")])
    let signed = signer.sign(request, payloadHash: SigV4Signer.emptyPayloadHash, date: Date())
    let signature = signed.signature
    expectNoSecret(signed, [Self.secretKey, Self.token, signature])
    expectNoSecret(signed.request, [Self.secretKey, Self.token, signature])
    let presigned = signer.presign(
      request, expires: 300, payloadHash: "UNSIGNED-PAYLOAD", date: Date())
    expectNoSecret(presigned.request, [Self.token, presigned.signature])
  }

  @Test func redactionIgnoresCase() {
    let echoed =
      "canonical request: X-AMZ-SECURITY-TOKEN:\(Self.token)\nx-Amz-Signature=abc123&other=1 Authorization: AWS4 Signature=def456"
    let redacted = Redactor.redact(echoed)
    #expect(!redacted.contains(Self.token))
    #expect(!redacted.contains("abc123"))
    #expect(!redacted.contains("def456"))
    #expect(redacted.contains("other=1"))
  }

  /// S3 can send an error inside a 200 answer to CompleteMultipartUpload; its message is
  /// redacted like any other.
  @Test func anErrorInsideA200IsRedacted() async throws {
    let body =
      "<Error><Code>InternalError</Code><Message>We encountered an internal error. x-amz-security-token:\(Self.token)</Message></Error>"
    let server = try await ScriptedServerTests.Server([
      "POST /b1b/k": [["status": 200, "body": body]]
    ])
    let client = AWSClient(
      configuration: .init(endpoint: .custom(URL(string: server.helper.url)!), retry: .none))
    let s3 = S3Client(
      client: client,
      credentials: StaticCredentialProvider(
        .init(accessKeyID: "AKIDTEST", secretAccessKey: Self.secretKey, sessionToken: Self.token)),
      region: "us-east-1")
    await #expect {
      try await s3.completeMultipartUpload(
        bucket: "b1b", key: "k", uploadID: "u", parts: [(1, "\"e\"")])
    } throws: { error in
      let text = "\(error)"
      return text.contains("InternalError") && !text.contains(Self.token)
    }
  }
}
