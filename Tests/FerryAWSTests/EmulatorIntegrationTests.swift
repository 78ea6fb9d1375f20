import Crypto
import FerryAWSSigning
import FerryPolicy
import FerryTesting
import Foundation
import NIOCore
import Testing

@testable import FerryAWS

/// The AWS layer against moto's server on loopback (scripts/aws-emulator). Note: unless
/// told otherwise, moto checks no permissions and no trust policies: `EnforcedIAMTests`
/// switches its IAM enforcement on; what moto does not enforce even then is covered by
/// FerryPolicy's evaluator tests (`PolicyHardeningTests`, `EvaluatorTests`).
@Suite("AWS layer against the emulator", .serialized)
struct EmulatorIntegrationTests {
  let emulator: AWSEmulator
  let client: AWSClient
  let platform = StaticCredentialProvider(
    .init(accessKeyID: "AKIAPLATFORM00000001", secretAccessKey: "platform-secret"))

  init() throws {
    emulator = try AWSEmulator.shared()
    client = AWSClient(configuration: .init(endpoint: .custom(emulator.url)))
  }

  var s3: S3Client { S3Client(client: client, credentials: platform, region: "us-east-1") }

  static func unique(_ prefix: String) -> String {
    "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
  }

  @Test func assumesACustomerRoleInAnotherAccountWithTheExternalID() async throws {
    let sts = STSClient(client: client, credentials: platform)
    let me = try await sts.getCallerIdentity()
    #expect(me.account == "123456789012")
    // The customer's own admin, in another account (moto maps assumed-role keys to it).
    let customerAccount = "222233334444"
    let admin = try await sts.assumeRole(
      roleARN: "arn:aws:iam::\(customerAccount):role/admin", sessionName: "setup", externalID: nil)
    let adminCreds = StaticCredentialProvider(admin.credentials)
    let bucket = Self.unique("customer-logs")
    let customerS3 = S3Client(client: client, credentials: adminCreds, region: "us-east-1")
    try await customerS3.createBucket(bucket: bucket)
    try await customerS3.putObject(
      bucket: bucket, key: "AWSLogs/app.log", body: ByteBuffer(string: "hello"))
    // The customer creates the role Ferry will assume, with Ferry's trust policy.
    let externalID = "ferry:aws:extid:7fq2k9xw3m"
    let trust = try PolicyGenerator.trustPolicy(platformPrincipal: me.arn, externalID: externalID)
    let env = [
      "AWS_ACCESS_KEY_ID": admin.credentials.accessKeyID,
      "AWS_SECRET_ACCESS_KEY": admin.credentials.secretAccessKey.revealed,
      "AWS_SESSION_TOKEN": admin.credentials.sessionToken?.revealed ?? "",
    ]
    let created = try await emulator.awsOffPool(
      [
        "iam", "create-role", "--role-name", "ferry-s3-fetcher", "--assume-role-policy-document",
        trust.json(pretty: false),
      ],
      environment: env)
    #expect(created.status == 0, "\(created.stderr)")
    let roleARN = "arn:aws:iam::\(customerAccount):role/ferry-s3-fetcher"

    let cache = AssumedRoleCredentialCache(sts: sts)
    let provider = cache.provider(
      tenant: "acct_acme", roleARN: roleARN, externalID: externalID,
      sessionName: "ferry-tenant-acme")
    #expect(
      cache.provider(
        tenant: "acct_acme", roleARN: roleARN, externalID: externalID,
        sessionName: "ferry-tenant-acme") === provider)
    // Another tenant never shares the session, even for the same role and ID.
    #expect(
      cache.provider(
        tenant: "acct_globex", roleARN: roleARN, externalID: externalID,
        sessionName: "ferry-tenant-globex") !== provider)
    let assumed = STSClient(client: client, credentials: provider)
    let identity = try await assumed.getCallerIdentity()
    #expect(identity.account == customerAccount)
    #expect(identity.arn.contains("assumed-role/ferry-s3-fetcher/ferry-tenant-acme"))
    let listing = try await S3Client(client: client, credentials: provider, region: "us-east-1")
      .listPage(bucket: bucket)
    #expect(listing.objects.map(\.key) == ["AWSLogs/app.log"])
    #expect(await provider.refreshCount == 1)
  }

  @Test func listsTenThousandObjectsPageByPage() async throws {
    let bucket = Self.unique("many")
    try await s3.createBucket(bucket: bucket)
    let s3 = self.s3
    try await withThrowingTaskGroup(of: Void.self) { group in
      for worker in 0..<16 {
        group.addTask {
          for i in stride(from: worker, to: 10_000, by: 16) {
            try await s3.putObject(
              bucket: bucket, key: String(format: "logs/%02d/%05d.log", i % 10, i),
              body: ByteBuffer(string: "x"))
          }
        }
      }
      try await group.waitForAll()
    }
    var pages = 0
    var keys: [String] = []
    for try await page in s3.listObjects(bucket: bucket, prefix: "logs/", maxKeys: 1000) {
      pages += 1
      #expect(page.objects.count <= 1000)
      keys += page.objects.map(\.key)
    }
    #expect(pages == 10)
    #expect(keys.count == 10_000)
    #expect(Set(keys).count == 10_000)
    #expect(keys == keys.sorted())
    let folders = try await s3.listPage(bucket: bucket, prefix: "logs/", delimiter: "/")
    #expect(folders.commonPrefixes.count == 10)
    let after = try await s3.listPage(
      bucket: bucket, prefix: "logs/09/", startAfter: "logs/09/09989.log")
    #expect(after.objects.map(\.key) == ["logs/09/09999.log"])
  }

  @Test func streamsALargeObjectWithBoundedMemory() async throws {
    let mib = Int(ProcessInfo.processInfo.environment["FERRY_LARGE_OBJECT_MIB"] ?? "") ?? 1024
    let bucket = Self.unique("large")
    try await s3.createBucket(bucket: bucket)
    let chunks = GeneratedBytes(totalBytes: mib << 20, chunkSize: 1 << 20, seed: 42)
    try await s3.upload(bucket: bucket, key: "big.bin", from: chunks, partSize: 16 << 20)
    let expected = try await chunks.sha256()

    // The download runs in a child process, whose peak resident memory the kernel
    // accounts for alone (getrusage of the children): other tests in this process cannot
    // blur it, and it is measured wherever getrusage works.
    let probe = URL(fileURLWithPath: TestPaths.ferryExecutable).deletingLastPathComponent()
      .appendingPathComponent("ferry-download-probe").path
    try #require(FileManager.default.isExecutableFile(atPath: probe), "\(probe) is not built")
    let measured = try await Subprocess.runOffPool(
      "python3",
      [
        "-c",
        "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)",
        probe, emulator.url.absoluteString, bucket, "big.bin",
      ],
      environment: [
        "AWS_ACCESS_KEY_ID": "AKIAPLATFORM00000001", "AWS_SECRET_ACCESS_KEY": "platform-secret",
      ])
    #expect(measured.status == 0, "\(measured.stderr)")
    let lines = measured.stdout.split(separator: "\n")
    try #require(lines.count == 2, "\(measured.stdout)")
    let result = lines[0].split(separator: " ")
    #expect(result.last.flatMap { Int($0) } == mib << 20)
    #expect(result.first.map(String.init) == Hex.string(expected))
    // Memory does not grow with the object: the child's peak is far below its size.
    let peakKiB = try #require(Int(lines[1]))
    #expect(peakKiB > 0)
    #expect(
      peakKiB < 128 << 10,
      "the download's peak resident memory was \(peakKiB >> 10) MiB while streaming \(mib) MiB")
  }

  @Test func resumesADownloadAfterTheConnectionIsCut() async throws {
    let bucket = Self.unique("resume")
    try await s3.createBucket(bucket: bucket)
    let chunks = GeneratedBytes(totalBytes: 8 << 20, chunkSize: 1 << 20, seed: 7)
    var body = ByteBuffer()
    for try await chunk in chunks { body.writeImmutableBuffer(chunk) }
    try await s3.putObject(bucket: bucket, key: "cut.bin", body: body)
    // A proxy that cuts the first two connections after 1 MiB of response each.
    let script = try #require(
      Bundle.module.url(forResource: "Resources/cutting_proxy", withExtension: "py"))
    let proxy = try await HelperServer.start(
      script: script.path, arguments: [String(emulator.url.port ?? 0), String(1 << 20), "2"])
    defer { proxy.stop() }
    let viaProxy = AWSClient(configuration: .init(endpoint: .custom(URL(string: proxy.url)!)))
    let stream = try await S3Client(client: viaProxy, credentials: platform, region: "us-east-1")
      .getObject(bucket: bucket, key: "cut.bin")
    var hasher = SHA256()
    let iterator = stream.makeAsyncIterator()
    while let buffer = try await iterator.next() {
      buffer.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
    }
    #expect(iterator.resumes == 2)
    #expect(Array(hasher.finalize()) == (try await chunks.sha256()))
  }

  @Test func uploadsByMultipartAndTheAWSCLIReadsIt() async throws {
    let bucket = Self.unique("archive")
    try await s3.createBucket(bucket: bucket)
    let size = 200 << 20
    let chunks = GeneratedBytes(totalBytes: size, chunkSize: 3 << 20, seed: 9)
    try await s3.upload(
      bucket: bucket, key: "ferry/2024/archive.bin", from: chunks, partSize: 16 << 20,
      contentType: "application/octet-stream")
    let head = try await emulator.awsOffPool([
      "s3api", "head-object", "--bucket", bucket, "--key", "ferry/2024/archive.bin",
    ])
    #expect(head.status == 0, "\(head.stderr)")
    let json = try JSONSerialization.jsonObject(with: Data(head.stdout.utf8)) as? [String: Any]
    #expect((json?["ContentLength"] as? Int) == size)
    #expect((json?["ETag"] as? String)?.hasSuffix("-13\"") == true)
    let dir = try TestPaths.temporaryDirectory()
    let copy = try await emulator.awsOffPool([
      "s3", "cp", "s3://\(bucket)/ferry/2024/archive.bin", dir.appendingPathComponent("a.bin").path,
    ])
    #expect(copy.status == 0, "\(copy.stderr)")
    let sum = try await Subprocess.runOffPool(
      "sha256sum", [dir.appendingPathComponent("a.bin").path])
    #expect(sum.stdout.hasPrefix(Hex.string(try await chunks.sha256())))
    try? FileManager.default.removeItem(at: dir)
  }

  @Test func errorsNameTheOperationAndAWSsCode() async throws {
    let bucket = Self.unique("errors")
    try await s3.createBucket(bucket: bucket)
    do {
      _ = try await s3.getObject(bucket: bucket, key: "missing.log")
      Issue.record("must fail")
    } catch {
      #expect(error.operation == "S3.GetObject")
      #expect(error.code == "NoSuchKey")
      #expect(error.statusCode == 404)
    }
    do {
      _ = try await s3.listPage(bucket: Self.unique("absent"))
      Issue.record("must fail")
    } catch {
      #expect(error.code == "NoSuchBucket")
    }
  }

  @Test func discoversTheBucketsRegion() async throws {
    let bucket = Self.unique("eu-logs")
    try await s3.inRegion("eu-west-1").createBucket(bucket: bucket)
    #expect(try await s3.bucketRegion(bucket: bucket) == "eu-west-1")
    do {
      _ = try await s3.inRegion("eu-west-1").headObject(bucket: bucket, key: "absent.log")
      Issue.record("must fail")
    } catch {
      #expect(error.code == "NotFound")
      #expect(error.statusCode == 404)
    }
  }

  @Test func receivesS3NotificationsThroughSQS() async throws {
    let sqs = SQSClient(client: client, credentials: platform, region: "us-east-1")
    let queueURL = try await sqs.createQueue(name: Self.unique("ferry-events"))
    let attributes = try await sqs.queueAttributes(queueURL: queueURL)
    let queueARN = try #require(attributes["QueueArn"])
    let bucket = Self.unique("notify")
    try await s3.createBucket(bucket: bucket)
    let config =
      #"{"QueueConfigurations":[{"QueueArn":"\#(queueARN)","Events":["s3:ObjectCreated:*"]}]}"#
    let put = try await emulator.awsOffPool([
      "s3api", "put-bucket-notification-configuration", "--bucket", bucket,
      "--notification-configuration", config,
    ])
    #expect(put.status == 0, "\(put.stderr)")
    try await s3.putObject(
      bucket: bucket, key: "AWSLogs/a b+c.log", body: ByteBuffer(string: "event"))

    var events: [S3ObjectEvent] = []
    var handles: [String] = []
    for _ in 0..<10 where events.isEmpty {
      for message in try await sqs.receiveMessages(queueURL: queueURL, waitSeconds: 1) {
        handles.append(message.receiptHandle)
        events += try S3EventNotification.decode(message.body)
      }
    }
    let event = try #require(events.first)
    #expect(event.bucket == bucket)
    #expect(event.key == "AWSLogs/a b+c.log")
    #expect(event.isCreation)
    #expect(event.size == 5)
    try await sqs.changeVisibility(queueURL: queueURL, receiptHandle: handles[0], seconds: 0)
    let failed = try await sqs.deleteMessages(queueURL: queueURL, receiptHandles: handles)
    #expect(failed.isEmpty)
  }
}

/// Deterministic pseudo-random bytes, generated chunk by chunk (never held whole): one
/// random block made once, each chunk stamped with its index so that no two are equal.
struct GeneratedBytes: AsyncSequence, Sendable {
  typealias Element = ByteBuffer
  let totalBytes: Int
  let chunkSize: Int
  let block: [UInt8]

  init(totalBytes: Int, chunkSize: Int, seed: UInt64) {
    self.totalBytes = totalBytes
    self.chunkSize = chunkSize
    var generator = SeededGenerator(seed: seed)
    block = (0..<chunkSize).map { _ in UInt8.random(in: 0...255, using: &generator) }
  }

  struct AsyncIterator: AsyncIteratorProtocol {
    let sequence: GeneratedBytes
    var produced = 0
    var index: UInt64 = 0

    mutating func next() async -> ByteBuffer? {
      guard produced < sequence.totalBytes else { return nil }
      let count = Swift.min(sequence.chunkSize, sequence.totalBytes - produced)
      var buffer = ByteBuffer(bytes: sequence.block.prefix(count))
      var stamp = index.littleEndian
      withUnsafeBytes(of: &stamp) { raw in
        _ = buffer.setBytes(raw.prefix(Swift.min(8, count)), at: 0)
      }
      produced += count
      index += 1
      return buffer
    }
  }

  func makeAsyncIterator() -> AsyncIterator { AsyncIterator(sequence: self) }

  func sha256() async throws -> [UInt8] {
    var hasher = SHA256()
    for await chunk in self { chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) } }
    return Array(hasher.finalize())
  }
}

enum Hex {
  static func string(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
  }
}
