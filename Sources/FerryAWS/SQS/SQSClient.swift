import FerryAWSSigning
import Foundation
import NIOCore

/// A message received from a queue.
public struct SQSMessage: Sendable, Equatable {
  public var messageID: String
  public var receiptHandle: String
  public var body: String
  public var attributes: [String: String]
}

/// Amazon SQS, for S3 event notifications: receive (long polling), delete in batches,
/// extend visibility, read queue attributes. Uses SQS's JSON protocol.
public struct SQSClient: Sendable {
  let client: AWSClient
  let credentials: (any CredentialProvider)?
  public let region: String

  public init(client: AWSClient, credentials: (any CredentialProvider)?, region: String) {
    self.client = client
    self.credentials = credentials
    self.region = region
  }

  /// Waits up to `waitSeconds` (long polling, at most 20) for up to `maxMessages` (at most 10).
  public func receiveMessages(
    queueURL: String, maxMessages: Int = 10, waitSeconds: Int = 20, visibilityTimeout: Int? = nil
  ) async throws(AWSError) -> [SQSMessage] {
    var params: [String: Any] = [
      "QueueUrl": queueURL, "MaxNumberOfMessages": min(max(maxMessages, 1), 10),
      "WaitTimeSeconds": min(max(waitSeconds, 0), 20), "MessageSystemAttributeNames": ["All"],
    ]
    if let visibilityTimeout { params["VisibilityTimeout"] = visibilityTimeout }
    let json = try await call("ReceiveMessage", params, timeout: .seconds(Int64(waitSeconds) + 15))
    let messages = json["Messages"] as? [[String: Any]] ?? []
    return messages.map { m in
      SQSMessage(
        messageID: m["MessageId"] as? String ?? "",
        receiptHandle: m["ReceiptHandle"] as? String ?? "",
        body: m["Body"] as? String ?? "", attributes: m["Attributes"] as? [String: String] ?? [:])
    }
  }

  /// Deletes up to 10 messages; returns the receipt handles that failed, with why.
  @discardableResult
  public func deleteMessages(queueURL: String, receiptHandles: [String]) async throws(AWSError)
    -> [(receiptHandle: String, error: String)]
  {
    var failed: [(String, String)] = []
    var start = 0
    while start < receiptHandles.count {
      let batch = Array(receiptHandles[start..<min(start + 10, receiptHandles.count)])
      let entries = batch.enumerated().map { ["Id": "m\($0.offset)", "ReceiptHandle": $0.element] }
      let json = try await call("DeleteMessageBatch", ["QueueUrl": queueURL, "Entries": entries])
      for failure in json["Failed"] as? [[String: Any]] ?? [] {
        if let id = failure["Id"] as? String, let index = Int(id.dropFirst()), index < batch.count {
          failed.append(
            (batch[index], failure["Message"] as? String ?? failure["Code"] as? String ?? "failed"))
        }
      }
      start += 10
    }
    return failed
  }

  /// Deletes one message (authorized as `sqs:DeleteMessage`, like the batch call in AWS;
  /// the emulator wants `sqs:DeleteMessageBatch` for the batch, which no role of Ferry's
  /// policy has).
  public func deleteMessage(queueURL: String, receiptHandle: String) async throws(AWSError) {
    _ = try await call(
      "DeleteMessage", ["QueueUrl": queueURL, "ReceiptHandle": receiptHandle])
  }

  /// Keeps a message hidden from other consumers for `seconds` more (while it is processed).
  public func changeVisibility(queueURL: String, receiptHandle: String, seconds: Int)
    async throws(AWSError)
  {
    _ = try await call(
      "ChangeMessageVisibility",
      ["QueueUrl": queueURL, "ReceiptHandle": receiptHandle, "VisibilityTimeout": seconds])
  }

  /// Queue attributes such as `QueueArn` and `ApproximateNumberOfMessages`.
  public func queueAttributes(queueURL: String, names: [String] = ["All"]) async throws(AWSError)
    -> [String: String]
  {
    let json = try await call(
      "GetQueueAttributes", ["QueueUrl": queueURL, "AttributeNames": names])
    return json["Attributes"] as? [String: String] ?? [:]
  }

  /// Creates a queue (for tests and set-up); returns its URL.
  public func createQueue(name: String) async throws(AWSError) -> String {
    let json = try await call("CreateQueue", ["QueueName": name])
    return json["QueueUrl"] as? String ?? ""
  }

  private func call(_ action: String, _ params: [String: Any], timeout: Duration? = nil)
    async throws(AWSError) -> [String: Any]
  {
    let operation = "SQS.\(action)"
    try AWSRegion.validate(region, operation: operation)
    let body: Data
    do {
      body = try JSONSerialization.data(withJSONObject: params, options: [.sortedKeys])
    } catch {
      throw .invalidInput(operation, "cannot encode the request: \(error)")
    }
    let request = AWSRequest(
      operation: operation, service: "sqs", region: region, method: .POST,
      target: client.endpoint.service("sqs", region: region),
      headers: [
        ("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "AmazonSQS.\(action)"),
      ],
      body: ByteBuffer(bytes: body), payloadHash: SigV4Signer.hash(body),
      // A receive that reached SQS took messages out of sight: repeating it after a lost
      // answer would hide them until their visibility timeout ends.
      idempotent: action != "ReceiveMessage")
    let response = try await client.send(request, credentials: credentials, timeout: timeout)
    if response.body.readableBytes == 0 { return [:] }
    guard let json = try? JSONSerialization.jsonObject(with: response.data) as? [String: Any] else {
      throw AWSError(
        kind: .invalidResponse, operation: operation, message: "the response is not JSON")
    }
    return json
  }
}
