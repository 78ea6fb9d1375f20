/// The formats the fetcher reads, as a fetcher's `logType` names them.
public enum LogFormat: String, Sendable, CaseIterable {
  /// One JSON object per line (application logs).
  case jsonLines = "json"
  /// CloudTrail log files: one JSON document with a `Records` array, streamed.
  case cloudTrail = "cloudtrail"
  /// One event per line, as written.
  case text

  /// The format of a decompressed object from its first bytes: `{"Records":` is
  /// CloudTrail, `{` a JSON object per line, anything else text. Never the key's name.
  public static func detect(_ prefix: [UInt8]) -> LogFormat {
    var i = 0
    while i < prefix.count, [0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains(prefix[i]) {
      i += 1
    }
    guard i < prefix.count, prefix[i] == UInt8(ascii: "{") else { return .text }
    let head = String(decoding: prefix[i..<min(prefix.count, i + 64)], as: UTF8.self)
    let compact = head.filter { !$0.isWhitespace }
    return compact.hasPrefix("{\"Records\":") ? .cloudTrail : .jsonLines
  }

  /// A parser for this format; `fallbackTime` is for records without a time of their own.
  public func parser() -> any RecordParser {
    switch self {
    case .jsonLines: return JSONLinesParser()
    case .cloudTrail: return CloudTrailParser()
    case .text: return TextLinesParser()
    }
  }

  /// What users may give as a fetcher's log type: a format, or `auto`.
  public static let choices = ["auto"] + allCases.map(\.rawValue)
}
