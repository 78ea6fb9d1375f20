import Foundation

/// An object event from an S3 notification: what happened to which object version.
public struct S3ObjectEvent: Sendable, Equatable {
  public var eventName: String
  public var bucket: String
  /// The key, decoded (notifications URL-encode it).
  public var key: String
  public var size: Int64?
  public var eTag: String?
  public var versionID: String?
  /// Orders events of one key (hex, compare as strings of equal length).
  public var sequencer: String?

  public var isCreation: Bool {
    eventName.hasPrefix("ObjectCreated") || eventName == "Object Created"
  }
}

/// Reads the S3 events in an SQS message body: sent by S3 directly, wrapped by SNS, or
/// delivered by EventBridge. S3's test event yields no events.
public enum S3EventNotification {
  public enum DecodeError: Error, Equatable, CustomStringConvertible {
    case notJSON
    case unknownShape
    public var description: String {
      switch self {
      case .notJSON: "the message body is not JSON"
      case .unknownShape: "the message is not an S3 event notification (direct, SNS or EventBridge)"
      }
    }
  }

  public static func decode(_ body: String) throws(DecodeError) -> [S3ObjectEvent] {
    guard let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
    else {
      throw .notJSON
    }
    // SNS wraps the S3 message as a JSON string in "Message".
    if json["Type"] as? String == "Notification", let message = json["Message"] as? String {
      return try decode(message)
    }
    if json["Event"] as? String == "s3:TestEvent" { return [] }
    if let records = json["Records"] as? [[String: Any]] {
      return records.compactMap { record in
        guard let s3 = record["s3"] as? [String: Any],
          let bucket = (s3["bucket"] as? [String: Any])?["name"] as? String,
          let object = s3["object"] as? [String: Any], let key = object["key"] as? String
        else { return nil }
        return S3ObjectEvent(
          eventName: record["eventName"] as? String ?? "", bucket: bucket, key: decodeKey(key),
          size: (object["size"] as? NSNumber)?.int64Value, eTag: object["eTag"] as? String,
          versionID: object["versionId"] as? String, sequencer: object["sequencer"] as? String)
      }
    }
    if json["source"] as? String == "aws.s3", let detail = json["detail"] as? [String: Any],
      let bucket = (detail["bucket"] as? [String: Any])?["name"] as? String,
      let object = detail["object"] as? [String: Any], let key = object["key"] as? String
    {
      // EventBridge keys are not URL-encoded.
      return [
        S3ObjectEvent(
          eventName: json["detail-type"] as? String ?? "", bucket: bucket, key: key,
          size: (object["size"] as? NSNumber)?.int64Value, eTag: object["etag"] as? String,
          versionID: object["version-id"] as? String, sequencer: object["sequencer"] as? String)
      ]
    }
    throw .unknownShape
  }

  /// Whether the body is S3's `s3:TestEvent` (directly or wrapped by SNS).
  public static func isTestEvent(_ body: String) -> Bool {
    guard let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
    else { return false }
    if json["Type"] as? String == "Notification", let message = json["Message"] as? String {
      return isTestEvent(message)
    }
    return json["Event"] as? String == "s3:TestEvent"
  }

  /// Notification keys are form-encoded: `+` is a space, `%XX` a byte.
  static func decodeKey(_ key: String) -> String {
    key.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? key
  }
}
