import FerryCore
import Foundation

/// One object named by an S3 event notification.
public struct ObjectNotice: Sendable, Equatable {
  public var bucket: String
  /// Decoded (notifications URL-encode keys).
  public var key: String
  /// As S3 listings write it, in quotes (notifications leave them out; they are put back
  /// so that the ledger knows an object version by one name whichever way it was found).
  public var eTag: String
  public var size: Int64
  /// `ObjectCreated:*` (or EventBridge's `Object Created`): other events name no new data.
  public var isCreation: Bool

  public init(bucket: String, key: String, eTag: String?, size: Int64?, isCreation: Bool) {
    self.bucket = bucket
    self.key = key
    let bare = (eTag ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    self.eTag = bare.isEmpty ? "" : "\"\(bare)\""
    self.size = size ?? 0
    self.isCreation = isCreation
  }
}

/// A message of a fetcher's queue: the objects it names, or why it names none.
public struct QueueMessage: Sendable, Equatable {
  public enum Content: Sendable, Equatable {
    /// S3 event notifications (sent by S3 directly, wrapped by SNS, or by EventBridge).
    case notices([ObjectNotice])
    /// S3's `s3:TestEvent`, sent when notifications are configured: acknowledged, ignored.
    case testEvent
    /// Not an S3 event notification: why (it is deleted and reported, never retried).
    case unreadable(String)
  }

  /// What deletes the message or extends its visibility.
  public var receipt: String
  public var content: Content

  public init(receipt: String, content: Content) {
    self.receipt = receipt
    self.content = content
  }
}

/// The SQS queue that receives a bucket's S3 event notifications, read through the
/// connection's role. Implemented by the server over the AWS layer.
public protocol S3NotificationQueue: Sendable {
  /// Up to `max` messages, waiting up to `waitSeconds` for the first (long polling); each
  /// stays hidden from other readers for `visibility` seconds.
  func receive(max: Int, waitSeconds: Int, visibility: Int) async throws(AWSFailure)
    -> [QueueMessage]
  /// Deletes messages whose objects are stored.
  func delete(_ receipts: [String]) async throws(AWSFailure)
  /// Keeps a message hidden `seconds` more, while its object is still being read.
  func extendVisibility(_ receipt: String, seconds: Int) async throws(AWSFailure)
}

/// How a fetcher that reads notifications finds its objects: the creations in its bucket
/// under its prefix, each object version once (the ledger decides what is done).
public enum QueueDiscovery {
  public static func objects(in notices: [ObjectNotice], of connection: Connection)
    -> [SourceObject]
  {
    var seen: Set<String> = []
    return notices.compactMap { notice in
      guard notice.isCreation, notice.bucket == connection.bucket,
        notice.key.hasPrefix(connection.prefix), !notice.key.hasSuffix("/"),
        seen.insert(notice.key + "\u{0}" + notice.eTag).inserted
      else { return nil }
      return SourceObject(key: notice.key, eTag: notice.eTag, size: notice.size)
    }
  }
}
