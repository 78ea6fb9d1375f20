import Crypto
import FerryCore
import FerryIngest
import FerryPolicy
import Foundation

/// One archived event: one line of NDJSON, keys in a fixed order:
/// `{"time", "eventId", "logType", "message", "fields", "source": {"bucket", "key",
/// "etag", "offset"}, "fetcher"}`. Times are RFC 3339 in UTC with milliseconds.
public enum ArchiveRecord {
  /// An event's ID across Ferry and its archives: hex SHA-256 of the fetcher, the object
  /// key, the object version's ETag and the byte offset (NUL between them), its first 16
  /// bytes. Restores use it so an event already in search is not stored twice.
  public static func eventID(_ event: Event, eTag: String) -> String {
    var hasher = SHA256()
    for part in [event.fetcherID, event.sourceKey, eTag] {
      hasher.update(data: Data(part.utf8))
      hasher.update(data: [0])
    }
    hasher.update(data: Data(String(event.sourceOffset).utf8))
    return hasher.finalize().prefix(16).map { String(format: "%02x", $0) }.joined()
  }

  static let timeFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)

  static let secondsFormat = Date.ISO8601FormatStyle(timeZone: .gmt)

  /// RFC 3339 in UTC, rounded to the millisecond (so a time read back writes the same).
  public static func time(_ date: Date) -> String {
    let ms = Int64((date.timeIntervalSince1970 * 1000).rounded())
    let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
    let whole = Date(timeIntervalSince1970: Double(seconds)).formatted(secondsFormat)
    return whole.dropLast() + String(format: ".%03dZ", Int(ms - seconds * 1000))
  }

  /// The event as one NDJSON line, with its newline (a compact line leaves out `eventId`,
  /// and `fields` when the message gives them back: ``MessageFields``).
  public static func line(
    _ event: Event, eTag: String, sourceBucket: String, lines: ArchiveLines = .full
  ) -> String {
    let id: [(String, JSONValue)] =
      lines == .full ? [("eventId", .string(eventID(event, eTag: eTag)))] : []
    let fields: [(String, JSONValue)] =
      lines == .compact
        && MessageFields.derivable(
          logType: event.logType, count: event.fields.count, name: event.fields.key(at:))
      ? []
      : [
        (
          "fields",
          .object(event.fields.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
        )
      ]
    return JSONValue.object(
      [("time", .string(time(event.time)))] + id + [
        ("logType", .string(event.logType)),
        ("message", .string(event.message)),
      ] + fields + [
        (
          "source",
          .object([
            ("bucket", .string(sourceBucket)), ("key", .string(event.sourceKey)),
            ("etag", .string(eTag)), ("offset", .number(Double(event.sourceOffset))),
          ])
        ),
        ("fetcher", .string(event.fetcherID)),
      ]
    ).serialized(pretty: false) + "\n"
  }
}
