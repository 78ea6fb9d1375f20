import FerryTesting
import Foundation
import Testing

@testable import FerryAWSSigning

/// Ferry's signer and botocore (the AWS SDK for Python, an independent implementation)
/// sign the same S3, STS and SQS requests identically.
@Suite("SigV4 agrees with botocore")
struct BotocoreAgreementTests {
  struct Example: CustomTestStringConvertible, Sendable {
    var name: String
    var service: String
    var method: String
    var host: String
    var path: String
    var query: String = ""
    var headers: [String: String] = [:]
    var body: String = ""
    var token: String?
    var testDescription: String { name }
  }

  static let examples: [Example] = [
    Example(
      name: "S3 GetObject, key with spaces and reserved characters, ranged", service: "s3",
      method: "GET",
      host: "my-logs.s3.us-east-1.amazonaws.com",
      path: "/logs/2024%2001/a%2Bb%3Dc%20%C3%A9t%C3%A9.log.gz",
      headers: ["Range": "bytes=1048576-"]),
    Example(
      name: "S3 ListObjectsV2 page with a continuation token", service: "s3", method: "GET",
      host: "my-logs.s3.us-east-1.amazonaws.com", path: "/",
      query:
        "list-type=2&prefix=AWSLogs%2F111122223333%2F&continuation-token=1ueGcxLPRx1Tr%2FXYExHnhbYLgveDs2J%2F&start-after=a%20b"
    ),
    Example(
      name: "S3 PutObject, path-style, session token", service: "s3", method: "PUT",
      host: "127.0.0.1:9000", path: "/my-archive/ferry/2024/01/01/events-0001.json.gz",
      headers: ["Content-Type": "application/gzip"], body: "archive bytes",
      token: "FwoGZXIvYXdzEJr//////////wEaDOEXAMPLETOKEN+/=="),
    Example(
      name: "S3 UploadPart", service: "s3", method: "PUT",
      host: "my-archive.s3.eu-west-1.amazonaws.com",
      path: "/big.json.gz",
      query: "partNumber=2&uploadId=VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA--",
      body: String(repeating: "x", count: 4096)),
    Example(
      name: "STS AssumeRole with an external ID", service: "sts", method: "POST",
      host: "sts.us-east-1.amazonaws.com",
      path: "/", headers: ["Content-Type": "application/x-www-form-urlencoded; charset=utf-8"],
      body:
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A999988887777%3Arole%2Fferry-s3-fetcher&RoleSessionName=ferry-acme&ExternalId=ferry%3Aaws%3Aextid%3A7fq2k9xw3m&DurationSeconds=3600"
    ),
    Example(
      name: "STS GetCallerIdentity with a session token", service: "sts", method: "POST",
      host: "sts.amazonaws.com",
      path: "/", headers: ["Content-Type": "application/x-www-form-urlencoded; charset=utf-8"],
      body: "Action=GetCallerIdentity&Version=2011-06-15", token: "IQoJb3JpZ2luX2VjEXAMPLE//token=="
    ),
    Example(
      name: "SQS ReceiveMessage (JSON protocol)", service: "sqs", method: "POST",
      host: "sqs.us-east-1.amazonaws.com",
      path: "/",
      headers: [
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.ReceiveMessage",
      ],
      body:
        #"{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/111122223333/ferry-events","MaxNumberOfMessages":10,"WaitTimeSeconds":20}"#
    ),
    Example(
      name: "SQS DeleteMessageBatch (query protocol), path with a dot segment", service: "sqs",
      method: "POST",
      host: "sqs.us-east-1.amazonaws.com", path: "/111122223333/./ferry-events",
      headers: ["Content-Type": "application/x-www-form-urlencoded"],
      body:
        "Action=DeleteMessageBatch&DeleteMessageBatchRequestEntry.1.Id=a&DeleteMessageBatchRequestEntry.1.ReceiptHandle=AQEB%2Bx%3D%3D"
    ),
  ]

  static let script = Bundle.module.url(forResource: "Resources/botocore_sign", withExtension: "py")

  @Test(arguments: examples)
  func signsLikeBotocore(_ example: Example) throws {
    guard let script = Self.script else {
      Issue.record("botocore_sign.py is missing from the test bundle")
      return
    }
    let probe = try Subprocess.run("python3", ["-c", "import botocore"])
    guard probe.status == 0 else {
      Issue.record("botocore is not installed: run scripts/install-test-tools")
      return
    }
    let date = Date(timeIntervalSince1970: 1_732_420_800)  // 2024-11-24T04:00:00Z
    let credentials = AWSCredentials(
      accessKeyID: "AKIAIOSFODNN7EXAMPLE",
      secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      sessionToken: example.token)
    let region = example.host.contains("eu-west-1") ? "eu-west-1" : "us-east-1"
    let signer = SigV4Signer(
      credentials: credentials, region: region, service: example.service,
      options: example.service == "s3" ? .s3 : .standard)
    let body = Data(example.body.utf8)
    var headers = [SigningRequest.Header("Host", example.host)]
    headers += example.headers.sorted { $0.key < $1.key }.map {
      SigningRequest.Header($0.key, $0.value)
    }
    let signed = signer.sign(
      SigningRequest(
        method: example.method, path: example.path, query: example.query, headers: headers),
      payloadHash: SigV4Signer.hash(body), date: date)

    let url =
      "https://\(example.host)\(example.path)" + (example.query.isEmpty ? "" : "?\(example.query)")
    var spec: [String: Any] = [
      "method": example.method, "url": url, "headers": example.headers,
      "body": body.base64EncodedString(),
      "service": example.service, "region": region, "timestamp": "20241124T040000Z",
      "access_key": credentials.accessKeyID, "secret_key": credentials.secretAccessKey.revealed,
    ]
    if let token = example.token { spec["token"] = token }
    let input = String(decoding: try JSONSerialization.data(withJSONObject: spec), as: UTF8.self)
    let result = try Subprocess.run("python3", [script.path], stdin: input)
    #expect(result.status == 0, "\(result.stderr)")
    let reference =
      try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
    #expect(
      signed.request.header("Authorization") == reference["authorization"] as? String,
      "ours:\n\(signed.canonicalRequest)\nbotocore:\n\(reference["canonical_request"] ?? "")")
  }
}
