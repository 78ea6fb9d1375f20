import FerryCore

/// The fields a message gives back by itself. A JSON line's fields and a CloudTrail
/// record's are exactly what the log type's parser reads from the message alone (no header
/// line, no setting, no state between records), so an archive leaves them out of its
/// lines and a restore reads them from the message again, with the same parser.
public enum MessageFields {
  /// The log types whose fields are a function of the message.
  public static let logTypes: Set<String> = [
    LogFormat.jsonLines.rawValue, LogFormat.cloudTrail.rawValue,
  ]
  /// The field a parser adds to a record it cut: the message no longer holds what the
  /// fields were read from.
  static let truncated = "ferry.truncated"

  /// Whether an event of `logType` with `fields` (named by `name(at:)`, `count` of them)
  /// has the fields its message gives back: the log type derives them, and the record was
  /// not cut.
  public static func derivable(logType: String, count: Int, name: (Int) -> String) -> Bool {
    guard logTypes.contains(logType) else { return false }
    for position in 0..<count where name(position) == truncated { return false }
    return true
  }

  /// The fields of `message` as the parser of `logType` reads them; nil for a log type
  /// whose fields are not derived from the message alone.
  public static func fields(logType: String, message: String) -> Fields? {
    switch LogFormat(rawValue: logType) {
    case .jsonLines:
      return JSONLines.record(Array(message.utf8)[...], offset: 0)?.fields ?? Fields()
    case .cloudTrail:
      return CloudTrailParser.parse(Array(message.utf8), offset: 0, cut: false).fields
    default:
      return nil
    }
  }
}
