import FerryAWS
import FerryAWSSigning
import FerryCore
import FerryIngest
import Foundation

/// A fetcher's notification queue over the AWS layer: SQS through the connection's role
/// (assumed with the owning account's external ID, refreshed), in the bucket's region (S3
/// notifies only queues in its own region). Message bodies are read as S3 event
/// notifications sent directly, wrapped by SNS, or delivered by EventBridge.
struct AWSNotificationQueue: S3NotificationQueue {
  let sqs: SQSClient
  let queueURL: String

  func receive(max: Int, waitSeconds: Int, visibility: Int) async throws(AWSFailure)
    -> [QueueMessage]
  {
    do {
      return try await sqs.receiveMessages(
        queueURL: queueURL, maxMessages: max, waitSeconds: waitSeconds,
        visibilityTimeout: visibility
      ).map { message in
        QueueMessage(receipt: message.receiptHandle, content: Self.content(message.body))
      }
    } catch {
      throw AWSFailure(error)
    }
  }

  /// What a message body says, by AWS's documented notification formats.
  static func content(_ body: String) -> QueueMessage.Content {
    do {
      let events = try S3EventNotification.decode(body)
      if events.isEmpty, S3EventNotification.isTestEvent(body) { return .testEvent }
      return .notices(
        events.map {
          ObjectNotice(
            bucket: $0.bucket, key: $0.key, eTag: $0.eTag, size: $0.size,
            isCreation: $0.isCreation)
        })
    } catch {
      return .unreadable(error.description)
    }
  }

  func delete(_ receipts: [String]) async throws(AWSFailure) {
    do {
      for receipt in receipts {
        try await sqs.deleteMessage(queueURL: queueURL, receiptHandle: receipt)
      }
    } catch {
      throw AWSFailure(error)
    }
  }

  func extendVisibility(_ receipt: String, seconds: Int) async throws(AWSFailure) {
    do {
      try await sqs.changeVisibility(queueURL: queueURL, receiptHandle: receipt, seconds: seconds)
    } catch {
      throw AWSFailure(error)
    }
  }
}
