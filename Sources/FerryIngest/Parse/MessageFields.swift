import FerryCore

/// The fields a message gives back by itself. A JSON line's fields and a CloudTrail
/// record's are exactly what the log type's parser reads from the message alone (no header
/// line, no setting, no state between records), so an archive leaves them out of its
/// lines and a restore reads them from the message again, with the same parser.
public struct MessageFields: Sendable {
  /// The log types whose fields are a function of the message.
  public static let logTypes: Set<String> = [
    LogFormat.jsonLines.rawValue, LogFormat.cloudTrail.rawValue,
  ]
  /// The field a parser adds to a record it cut: the message no longer holds what the
  /// fields were read from.
  public static let truncated = "ferry.truncated"

  /// Whether an event of `logType` with `fields` (named by `name(at:)`, `count` of them)
  /// has the fields its message gives back: the log type derives them, and the record was
  /// not cut.
  public static func derivable(logType: String, count: Int, name: (Int) -> String) -> Bool {
    guard logTypes.contains(logType) else { return false }
    for position in 0..<count where name(position) == truncated { return false }
    return true
  }

  /// ``derivable(logType:count:name:)`` for every event of a set at once: true when each of
  /// `logTypes` derives its fields and no name the events may have (`names`, a superset
  /// will do) says a record was cut.
  public static func derivable(logTypes types: some Sequence<String>, names: [String]) -> Bool {
    types.allSatisfy { logTypes.contains($0) } && !names.contains(truncated)
  }

  /// JSON keys as the previous message had them (a reader of many messages of one log
  /// makes each key's name once).
  var keys = JSONKeyCache()

  public init() {}

  /// The fields of `message` as the parser of `logType` reads them; nil for a log type
  /// whose fields are not derived from the message alone.
  public static func fields(logType: String, message: String) -> Fields? {
    var reader = MessageFields()
    return reader.fields(logType: logType, message: message)
  }

  /// ``fields(logType:message:)``, with the keys of the messages read before.
  public mutating func fields(logType: String, message: String) -> Fields? {
    var message = message
    switch LogFormat(rawValue: logType) {
    case .jsonLines:
      return message.withUTF8 {
        JSONLines.record(bytes: $0, offset: 0, keys: &keys, keepsText: false)?.fields ?? Fields()
      }
    case .cloudTrail:
      return message.withUTF8 { bytes in
        var record = ParsedRecord(offset: 0, text: "")
        _ = CloudTrailParser.scan(bytes, into: &record)
        return record.fields
      }
    default:
      return nil
    }
  }
}
