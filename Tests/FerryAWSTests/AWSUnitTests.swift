import FerryAWSSigning
import FerryTesting
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

@testable import FerryAWS

@Suite("AWS layer, offline")
struct AWSUnitTests {
  let client = AWSClient()

  @Test func parsesS3XMLErrors() {
    let body =
      #"<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>nope</BucketName><RequestId>4442587FB7D0A2F9</RequestId></Error>"#
    let error = client.serviceError(
      AWSResponse(status: 404, headers: [:], body: ByteBuffer(string: body)),
      operation: "S3.ListObjectsV2", credentials: nil)
    #expect(error.kind == .service)
    #expect(error.code == "NoSuchBucket")
    #expect(error.message == "The specified bucket does not exist")
    #expect(error.requestID == "4442587FB7D0A2F9")
    #expect(error.statusCode == 404)
    #expect(
      error.description
        == "S3.ListObjectsV2 failed: NoSuchBucket (HTTP 404): The specified bucket does not exist [request ID 4442587FB7D0A2F9]"
    )
  }

  @Test func parsesQueryProtocolAndJSONErrors() {
    let sts =
      #"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/ferry is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::999988887777:role/x</Message></Error><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>"#
    let e1 = client.serviceError(
      AWSResponse(status: 403, headers: [:], body: ByteBuffer(string: sts)),
      operation: "STS.AssumeRole", credentials: nil)
    #expect(e1.code == "AccessDenied")
    #expect(e1.requestID == "c6104cbe-af31-11e0-8154-cbc7ccf896c7")
    let json =
      #"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}"#
    let e2 = client.serviceError(
      AWSResponse(
        status: 400, headers: ["x-amzn-RequestId": "r-1"], body: ByteBuffer(string: json)),
      operation: "SQS.ReceiveMessage", credentials: nil)
    #expect(e2.code == "QueueDoesNotExist")
    #expect(e2.message == "The specified queue does not exist.")
    #expect(e2.requestID == "r-1")
    let head = client.serviceError(
      AWSResponse(status: 403, headers: [:], body: ByteBuffer()), operation: "S3.HeadObject",
      credentials: nil)
    #expect(head.code == "Forbidden")
    let garbage = client.serviceError(
      AWSResponse(status: 500, headers: [:], body: ByteBuffer(string: "<html>oops")),
      operation: "S3.GetObject", credentials: nil)
    #expect(garbage.isRetryable)
  }

  @Test func secretsNeverAppearInErrorsOrDescriptions() {
    let token = "FwoGZXIvYXdzEJrSECRETTOKEN"
    let body =
      "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match. x-amz-security-token:\(token)\nhost:s3</Message></Error>"
    let error = client.serviceError(
      AWSResponse(status: 403, headers: [:], body: ByteBuffer(string: body)),
      operation: "S3.GetObject", credentials: nil)
    #expect(!error.description.contains(token))
    let credentials = AWSCredentials(
      accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrSECRETKEY", sessionToken: token)
    for text in [
      credentials.description, "\(credentials)", String(reflecting: credentials),
      {
        var s = ""
        dump(credentials, to: &s)
        return s
      }(),
    ] {
      #expect(!text.contains("wJalrSECRETKEY"))
      #expect(!text.contains(token))
      #expect(text.contains("AKIDEXAMPLE"))
    }
  }

  /// AWS's "Exponential Backoff And Jitter" (full jitter): the wait before retry n is
  /// uniform between 0 and min(cap, base × 2^n). With a 100 ms base and a 1 s cap the
  /// ceilings are, written out: 200 ms, 400 ms, 800 ms, then 1 s.
  @Test func retryDelaysUseFullJitterUnderTheCap() {
    let policy = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(100), maxDelay: .seconds(1))
    let ceilings: [Int: Duration] = [
      1: .milliseconds(200), 2: .milliseconds(400), 3: .milliseconds(800), 4: .seconds(1),
      5: .seconds(1), 8: .seconds(1),
    ]
    for (retry, ceiling) in ceilings {
      let delays = (0..<400).map { _ in policy.delay(beforeRetry: retry) }
      #expect(delays.allSatisfy { $0 >= .zero && $0 <= ceiling }, "retry \(retry)")
      // Full jitter spreads over the whole range: some waits near the ceiling, some near 0.
      #expect(delays.contains { $0 > ceiling * 0.8 }, "retry \(retry)")
      #expect(delays.contains { $0 < ceiling * 0.2 }, "retry \(retry)")
    }
  }

  @Test func retryBudgetRunsOutAndRefills() {
    let budget = RetryBudget(capacity: 12)
    let throttled = AWSError(
      kind: .service, operation: "x", code: "SlowDown", message: "", statusCode: 503)
    #expect(budget.withdraw(for: throttled))
    #expect(budget.withdraw(for: throttled))
    #expect(!budget.withdraw(for: throttled))
    for _ in 0..<5 { budget.deposit() }
    #expect(budget.withdraw(for: throttled))
  }

  @Test func classifiesRetryableAndSkewErrors() {
    #expect(
      AWSError(kind: .service, operation: "x", code: "SlowDown", message: "", statusCode: 503)
        .isRetryable)
    #expect(
      AWSError(kind: .service, operation: "x", code: "Throttling", message: "", statusCode: 400)
        .isRetryable)
    #expect(
      AWSError(kind: .service, operation: "x", code: "RequestTimeout", message: "", statusCode: 400)
        .isRetryable)
    #expect(AWSError(kind: .network, operation: "x", message: "reset").isRetryable)
    #expect(
      !AWSError(kind: .service, operation: "x", code: "AccessDenied", message: "", statusCode: 403)
        .isRetryable)
    #expect(
      AWSError(
        kind: .service, operation: "x", code: "RequestTimeTooSkewed", message: "", statusCode: 403
      ).isClockSkew)
  }

  @Test func endpointsAndAddressing() {
    let aws = AWSEndpoint.aws
    #expect(
      aws.s3(bucket: "my-logs", region: "eu-west-1").base
        == "https://my-logs.s3.eu-west-1.amazonaws.com")
    #expect(aws.s3(bucket: "my.logs", region: "eu-west-1").pathPrefix == "/my.logs")
    #expect(
      aws.service("sts", region: "cn-north-1").base == "https://sts.cn-north-1.amazonaws.com.cn")
    let emulator = AWSEndpoint.custom(URL(string: "http://127.0.0.1:5000")!)
    let target = emulator.s3(bucket: "my-logs", region: "us-east-1")
    #expect(target.base == "http://127.0.0.1:5000")
    #expect(target.pathPrefix == "/my-logs")
    #expect(S3Client.encodeKey("logs/2024 01/a+b=c é.gz") == "logs/2024%2001/a%2Bb%3Dc%20%C3%A9.gz")
  }

  @Test func badInputIsATypedErrorBeforeAnyRequest() async throws {
    let s3 = S3Client(
      client: client,
      credentials: StaticCredentialProvider(.init(accessKeyID: "a", secretAccessKey: "b")),
      region: "us-east-1")
    await #expect(throws: AWSError.self) { try await s3.headBucket(bucket: "Bad_Bucket") }
    do {
      _ = try await s3.inRegion("mars-1").listPage(bucket: "my-logs")
      Issue.record("an invalid region must fail")
    } catch {
      #expect(error.kind == .invalidInput)
      #expect(error.message.contains("not an AWS region"))
    }
    let sts = STSClient(client: client, credentials: nil)
    do {
      _ = try await sts.assumeRole(
        roleARN: "arn:aws:iam::123:role/x", sessionName: "t", externalID: "e")
      Issue.record("an invalid role ARN must fail")
    } catch {
      #expect(error.kind == .invalidInput)
      #expect(error.operation == "STS.AssumeRole")
    }
  }

  @Test func unreachableEndpointIsANetworkErrorNotAHang() async throws {
    // Port 9 on loopback: nothing listens, every connection is refused.
    let unreachable = AWSClient(
      configuration: .init(
        endpoint: .custom(URL(string: "http://127.0.0.1:9")!), retry: .none,
        requestTimeout: .seconds(300)))
    let sts = STSClient(
      client: unreachable,
      credentials: StaticCredentialProvider(.init(accessKeyID: "a", secretAccessKey: "b")))
    let start = ContinuousClock.now
    do {
      _ = try await sts.getCallerIdentity()
      Issue.record("must fail")
    } catch {
      #expect(error.kind == .network || error.kind == .timeout)
      #expect(error.operation == "STS.GetCallerIdentity")
      #expect(error.message.contains("127.0.0.1:9"))
    }
    // A refused connection fails at once, not at the call's deadline of 300 s. (Alone it
    // takes about a second; the bound leaves room for a 2-core machine running the other
    // suites beside it, where it was once seen to take 22 s.)
    #expect(ContinuousClock.now - start < .seconds(90))
  }

  @Test func decodesS3NotificationsInEveryEnvelope() throws {
    let direct =
      #"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"my-logs"},"object":{"key":"AWSLogs/2024/a+b%3Dc.log.gz","size":1024,"eTag":"abc","sequencer":"0A1B"}}}]}"#
    let events = try S3EventNotification.decode(direct)
    #expect(
      events == [
        S3ObjectEvent(
          eventName: "ObjectCreated:Put", bucket: "my-logs", key: "AWSLogs/2024/a b=c.log.gz",
          size: 1024, eTag: "abc", versionID: nil, sequencer: "0A1B")
      ])
    let sns =
      try String(
        data: JSONSerialization.data(withJSONObject: ["Type": "Notification", "Message": direct]),
        encoding: .utf8) ?? ""
    #expect(try S3EventNotification.decode(sns) == events)
    let bridge =
      #"{"version":"0","detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"my-logs"},"object":{"key":"AWSLogs/a b.log","size":5,"etag":"e1","version-id":"v1"}}}"#
    let fromBridge = try S3EventNotification.decode(bridge)
    #expect(fromBridge.first?.key == "AWSLogs/a b.log")
    #expect(fromBridge.first?.isCreation == true)
    #expect(
      try S3EventNotification.decode(
        #"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"my-logs"}"#
      ).isEmpty)
    #expect(throws: S3EventNotification.DecodeError.notJSON) {
      try S3EventNotification.decode("nope")
    }
    #expect(throws: S3EventNotification.DecodeError.unknownShape) {
      try S3EventNotification.decode("{}")
    }
  }

  @Test func sessionNamesAreSanitized() {
    #expect(STSClient.sessionName("ferry-acme corp/eu") == "ferry-acme-corp-eu")
    #expect(STSClient.sessionName("x").count == 2)
    #expect(STSClient.sessionName(String(repeating: "a", count: 100)).count == 64)
  }
}

@Suite("Credential providers")
struct CredentialProviderTests {
  @Test func environmentVariables() async throws {
    let env = [
      "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "tok",
    ]
    let creds = try await EnvironmentCredentialProvider(environment: env).credentials()
    #expect(creds.accessKeyID == "AKIDENV")
    #expect(creds.sessionToken == "tok")
    await #expect(throws: AWSError.self) {
      try await EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": "x"]).credentials()
    }
  }

  @Test func sharedProfilesAndCredentialProcess() async throws {
    let dir = try TestPaths.temporaryDirectory()
    let process = dir.appendingPathComponent("creds.sh")
    try """
    #!/bin/sh
    echo '{"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2099-01-01T00:00:00Z"}'
    """.write(to: process, atomically: true, encoding: .utf8)
    _ = try Subprocess.run("chmod", ["+x", process.path])
    try """
    [default]
    aws_access_key_id = AKIDDEFAULT
    aws_secret_access_key = default-secret
    ; a comment
    [work]
    aws_access_key_id=AKIDWORK
    aws_secret_access_key=work-secret
    """.write(to: dir.appendingPathComponent("credentials"), atomically: true, encoding: .utf8)
    try """
    [profile tool]
    credential_process = \(process.path)
    [profile loop]
    role_arn = arn:aws:iam::123456789012:role/x
    source_profile = loop2
    [profile loop2]
    role_arn = arn:aws:iam::123456789012:role/y
    source_profile = loop
    [sso-session corp]
    sso_region = us-east-1
    """.write(to: dir.appendingPathComponent("config"), atomically: true, encoding: .utf8)
    let env = [
      "AWS_SHARED_CREDENTIALS_FILE": dir.appendingPathComponent("credentials").path,
      "AWS_CONFIG_FILE": dir.appendingPathComponent("config").path,
    ]
    let client = AWSClient()
    #expect(
      try await ProfileCredentialProvider(client: client, environment: env).credentials()
        .accessKeyID == "AKIDDEFAULT")
    #expect(
      try await ProfileCredentialProvider(client: client, profile: "work", environment: env)
        .credentials().accessKeyID == "AKIDWORK")
    let tool = try await ProfileCredentialProvider(
      client: client, profile: "tool", environment: env
    ).credentials()
    #expect(tool.accessKeyID == "AKIDPROC")
    #expect(tool.expiration != nil)
    do {
      _ = try await ProfileCredentialProvider(client: client, profile: "loop", environment: env)
        .credentials()
      Issue.record("a source_profile loop must fail")
    } catch {
      #expect(error.message.contains("loop"))
    }
    let chain = DefaultCredentialChain(
      client: client, environment: env.merging(["AWS_PROFILE": "work"]) { $1 })
    #expect(chain.sourceName == "profile work")
  }

  /// A source whose refreshes the test finishes one at a time, with a clock the test
  /// moves: no sleeps, so nothing depends on the machine's speed.
  actor ControlledSource {
    var calls = 0
    var waiting: [CheckedContinuation<Result<AWSCredentials, AWSError>, Never>] = []

    func next() async throws(AWSError) -> AWSCredentials {
      calls += 1
      let result = await withCheckedContinuation { waiting.append($0) }
      return try result.get()
    }

    /// Finishes the oldest waiting refresh.
    func finish(_ result: Result<AWSCredentials, AWSError>) async {
      while waiting.isEmpty { await Task.yield() }
      waiting.removeFirst().resume(returning: result)
    }

    var pending: Int { waiting.count }
  }

  final class TestClock: Sendable {
    let value = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    func now() -> Date { value.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { value.withLock { $0 += seconds } }
  }

  func credentials(_ key: String, expiresAt: Date) -> AWSCredentials {
    AWSCredentials(accessKeyID: key, secretAccessKey: "s", expiration: expiresAt)
  }

  @Test func refreshingProviderSharesOneRefreshWhenNothingIsValid() async throws {
    let source = ControlledSource()
    let clock = TestClock()
    let provider = RefreshingCredentialProvider(refreshingBefore: 300, now: clock.now) {
      () async throws(AWSError) -> AWSCredentials in try await source.next()
    }
    let callers = Task {
      try await withThrowingTaskGroup(of: String.self) { group in
        for _ in 0..<20 { group.addTask { try await provider.credentials().accessKeyID } }
        return try await group.reduce(into: Set<String>()) { $0.insert($1) }
      }
    }
    await source.finish(.success(credentials("AKID1", expiresAt: clock.now() + 3600)))
    #expect(try await callers.value == ["AKID1"])
    #expect(await provider.refreshCount == 1)
  }

  @Test func insideTheMarginValidCredentialsAreServedWhileOneRefreshRuns() async throws {
    let source = ControlledSource()
    let clock = TestClock()
    let provider = RefreshingCredentialProvider(refreshingBefore: 300, now: clock.now) {
      () async throws(AWSError) -> AWSCredentials in try await source.next()
    }
    let first = Task { try await provider.credentials() }
    await source.finish(.success(credentials("AKID1", expiresAt: clock.now() + 600)))
    #expect(try await first.value.accessKeyID == "AKID1")
    // 400 s later the credentials expire within the margin but are still valid: callers get
    // them at once, and one refresh starts.
    clock.advance(400)
    for _ in 0..<5 { #expect(try await provider.credentials().accessKeyID == "AKID1") }
    #expect(await provider.refreshCount == 2)
    #expect(await source.pending == 1)
    // The refresh fails: callers still get the valid credentials, and the failure is kept.
    await source.finish(.failure(AWSError(kind: .network, operation: "STS", message: "down")))
    while await provider.lastRefreshError == nil { await Task.yield() }
    #expect(try await provider.credentials().accessKeyID == "AKID1")
    // The next refresh succeeds and replaces them.
    await source.finish(.success(credentials("AKID2", expiresAt: clock.now() + 3600)))
    while try await provider.credentials().accessKeyID != "AKID2" { await Task.yield() }
    #expect(await provider.refreshCount == 3)
  }

  @Test func expiredCredentialsAndAFailedRefreshFailTheCaller() async throws {
    let source = ControlledSource()
    let clock = TestClock()
    let provider = RefreshingCredentialProvider(refreshingBefore: 300, now: clock.now) {
      () async throws(AWSError) -> AWSCredentials in try await source.next()
    }
    let first = Task { try await provider.credentials() }
    await source.finish(.success(credentials("AKID1", expiresAt: clock.now() + 600)))
    _ = try await first.value
    clock.advance(700)  // expired
    let waiting = Task { try await provider.credentials() }
    await source.finish(.failure(AWSError(kind: .network, operation: "STS", message: "down")))
    await #expect(throws: AWSError.self) { try await waiting.value }
  }

  actor Counter {
    var value = 0
    func next() -> Int {
      value += 1
      return value
    }
  }
}

@Suite("AWS errors carry the bucket's region")
struct BucketRegionErrorTests {
  @Test func aRedirectNamesTheBucketsRegion() {
    let error = AWSClient().serviceError(
      AWSResponse(
        status: 301, headers: ["x-amz-bucket-region": "eu-central-1"], body: ByteBuffer()),
      operation: "S3.HeadBucket", credentials: nil)
    #expect(error.code == "PermanentRedirect")
    #expect(error.bucketRegion == "eu-central-1")
    #expect(error.message.contains("eu-central-1"))
  }
}
