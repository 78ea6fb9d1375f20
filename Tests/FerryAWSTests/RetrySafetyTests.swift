import FerryAWSSigning
import FerryCore
import FerryTesting
import Foundation
import NIOCore
import Testing

@testable import FerryAWS

/// What a service that runs for weeks needs from retries: a call that may have been carried
/// out is not repeated unless repeating is harmless; a cancelled call stops; a call has one
/// deadline, retries included; a resumed download is checked. Against the scripted server
/// (a stand-in for AWS's faults, which the emulator cannot produce on demand).
@Suite("AWS retries are safe")
struct RetrySafetyTests {
  typealias Server = ScriptedServerTests.Server

  func s3(_ server: Server, timeout: Duration = .seconds(60), attempts: Int = 4) -> S3Client {
    let client = AWSClient(
      configuration: .init(
        endpoint: .custom(URL(string: server.helper.url)!),
        retry: .init(
          maxAttempts: attempts, baseDelay: .milliseconds(5), maxDelay: .milliseconds(20)),
        requestTimeout: timeout))
    return S3Client(
      client: client,
      credentials: StaticCredentialProvider(.init(accessKeyID: "AKIDTEST", secretAccessKey: "s")),
      region: "us-east-1")
  }

  static let uploadXML =
    "<InitiateMultipartUploadResult><Bucket>b1b</Bucket><Key>k</Key><UploadId>u-1</UploadId></InitiateMultipartUploadResult>"
  static var lost: [String: Any] { ["drop": true] }

  @Test func aLostAnswerToANonIdempotentCallIsNotRetried() async throws {
    let server = try await Server([
      "POST /b1b/k": [Self.lost, ["status": 200, "body": Self.uploadXML]]
    ])
    await #expect {
      try await s3(server).createMultipartUpload(bucket: "b1b", key: "k")
    } throws: { error in
      (error as? AWSError)?.kind == .network
    }
    #expect(server.requests.count == 1)
  }

  @Test func aLostAnswerToAnIdempotentCallIsRetried() async throws {
    let server = try await Server([
      "HEAD /b1b/k": [Self.lost, ["status": 200, "headers": ["ETag": "\"e1\""]]]
    ])
    let head = try await s3(server).headObject(bucket: "b1b", key: "k")
    #expect(head.eTag == "\"e1\"")
    #expect(server.requests.count == 2)
  }

  @Test func aConnectionThatNeverOpenedIsRetriedEvenWhenNotIdempotent() async throws {
    // Nothing listens on this port: the request cannot have reached a server.
    let client = AWSClient(
      configuration: .init(
        endpoint: .custom(URL(string: "http://127.0.0.1:9")!),
        retry: .init(maxAttempts: 2, baseDelay: .milliseconds(5), maxDelay: .milliseconds(5))))
    let s3 = S3Client(
      client: client,
      credentials: StaticCredentialProvider(.init(accessKeyID: "AKIDTEST", secretAccessKey: "s")),
      region: "us-east-1")
    await #expect {
      try await s3.createMultipartUpload(bucket: "b1b", key: "k")
    } throws: { error in
      (error as? AWSError)?.mayHaveReachedServer == false
    }
  }

  /// CompleteMultipartUpload succeeded but its answer was lost; asked again, S3 says
  /// NoSuchUpload. The object is there: the upload succeeded and is not aborted.
  @Test func aCompletedUploadWhoseAnswerWasLostIsASuccess() async throws {
    let noSuchUpload: [String: Any] = [
      "status": 404,
      "body":
        "<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>",
    ]
    let server = try await Server([
      "POST /b1b/k": [["status": 200, "body": Self.uploadXML], noSuchUpload],
      "PUT /b1b/k": [["status": 200, "headers": ["ETag": "\"p1\""]]],
      "HEAD /b1b/k": [["status": 200, "headers": ["ETag": "\"0123abc-1\""]]],
    ])
    let chunks = AsyncStream<ByteBuffer> { continuation in
      continuation.yield(ByteBuffer(string: "hello"))
      continuation.finish()
    }
    let eTag = try await s3(server).upload(bucket: "b1b", key: "k", from: chunks)
    #expect(eTag == "\"0123abc-1\"")
    #expect(!server.requests.contains { ($0["route"] as? String) == "DELETE /b1b/k" })
  }

  @Test func aCancelledCallIsNotRetried() async throws {
    let server = try await Server(["HEAD /b1b/k": [["status": 200, "delay": 20]]])
    let s3 = s3(server)
    let call = Task { try await s3.headObject(bucket: "b1b", key: "k") }
    while server.requests.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
    call.cancel()
    await #expect {
      try await call.value
    } throws: { error in
      (error as? AWSError)?.kind == .cancelled
    }
    #expect(server.requests.count == 1)
  }

  @Test func aCallHasOneDeadlineRetriesIncluded() async throws {
    let slow: [String: Any] = [
      "status": 503, "delay": 0.4,
      "body": "<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>",
    ]
    let server = try await Server(["HEAD /b1b/k": [slow]])
    let started = ContinuousClock.now
    await #expect(throws: AWSError.self) {
      try await s3(server, timeout: .seconds(1), attempts: 20).headObject(bucket: "b1b", key: "k")
    }
    // Twenty attempts are allowed, but three at most fit in the one-second deadline (each
    // answer takes 0.4 s): the count is the check. Elapsed time is not asserted, because
    // other suites starve this one of threads on a 2-core machine.
    #expect(server.requests.count <= 3)
    _ = started
  }

  /// A server that ignores Range sends the whole object with 200: resuming would splice
  /// the start of the object after the bytes already received.
  @Test func aResumedReadMustStartWhereItWasAsked() async throws {
    let server = try await Server(["GET /b1b/k": [["status": 200, "body": "0123456789"]]])
    await #expect {
      try await s3(server).openObject(bucket: "b1b", key: "k", offset: 5, eTag: "\"e\"")
    } throws: { error in
      (error as? AWSError)?.kind == .invalidResponse
        && (error as? AWSError)?.message.contains("Range") == true
    }
    #expect(ContentRange("bytes 5-9/10") == ContentRange("bytes 5-9/10"))
    #expect(ContentRange("bytes 5-9/10")?.first == 5)
    #expect(ContentRange("bytes 5-9/*")?.total == nil)
    #expect(ContentRange("5-9/10") == nil)
  }

  @Test func aTruncatedListingWithoutAContinuationTokenIsAnError() async throws {
    let page =
      "<ListBucketResult><Name>b1b</Name><IsTruncated>true</IsTruncated><Contents><Key>a</Key><Size>1</Size><ETag>\"e\"</ETag></Contents></ListBucketResult>"
    let server = try await Server(["GET /b1b/": [["status": 200, "body": page]]])
    await #expect {
      for try await _ in s3(server).listObjects(bucket: "b1b") {}
    } throws: { error in
      (error as? AWSError)?.message.contains("continuation token") == true
    }
  }

  /// InvalidSignatureException also means a wrong secret key: only an expiry message is
  /// clock skew, to be corrected and retried.
  @Test func aWrongSignatureIsNotMistakenForClockSkew() {
    let wrongKey = AWSError(
      kind: .service, operation: "SQS.ReceiveMessage", code: "InvalidSignatureException",
      message: "The request signature we calculated does not match the signature you provided.")
    #expect(!wrongKey.isClockSkew)
    let expired = AWSError(
      kind: .service, operation: "SQS.ReceiveMessage", code: "InvalidSignatureException",
      message: "Signature expired: 20240101T000000Z is now earlier than 20240101T000500Z")
    #expect(expired.isClockSkew)
    let cancelled = AWSError(kind: .cancelled, operation: "S3.GetObject", message: "cancelled")
    #expect(!cancelled.isRetryable)
  }
}

/// Credential sources that a long-running service must not trust blindly.
@Suite("Credential sources are bounded and careful")
struct CredentialSourceSafetyTests {
  /// AWS's SDKs send the container token over plain HTTP only to loopback and the ECS and
  /// EKS link-local hosts ("Container credential provider" in the SDKs reference).
  @Test func theContainerTokenGoesOnlyToAllowedHosts() async throws {
    for allowed in [
      "https://creds.example.com/v1", "http://127.0.0.1:8080/creds", "http://localhost/c",
      "http://[::1]:80/c", "http://169.254.170.2/v2/credentials", "http://169.254.170.23/v1",
    ] {
      #expect(ContainerCredentialProvider.mayReceiveToken(allowed), "\(allowed)")
    }
    for refused in [
      "http://example.com/creds", "http://10.0.0.5/creds", "http://169.254.169.254/",
      "ftp://127.0.0.1/", "http://127.0.0.1.example.com/",
    ] {
      #expect(!ContainerCredentialProvider.mayReceiveToken(refused), "\(refused)")
    }
    let provider = ContainerCredentialProvider(
      client: AWSClient(),
      environment: [
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://example.com/creds",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "secret-token",
      ])
    await #expect {
      try await provider.credentials()
    } throws: { error in
      let e = error as? AWSError
      return e?.message.contains("refusing") == true && e?.message.contains("secret-token") == false
    }
  }

  @Test func aHangingCredentialProcessIsStopped() async throws {
    await #expect {
      try await CredentialProcess.run("sleep 40", timeout: 1)
    } throws: { error in
      (error as? AWSError)?.message.contains("did not finish within 1 s") == true
    }
    // The stop itself is timed on a thread of its own, where the time measured is the
    // call's, not the wait of an async task for a cooperative thread other suites hold.
    let elapsed = try await OffPool.run { () -> Duration in
      let started = ContinuousClock.now
      _ = CredentialProcess.runBlocking("sleep 40", timeout: 1)
      return ContinuousClock.now - started
    }
    #expect(elapsed < .seconds(15), "far sooner than the command would end")
  }
}
