/// The formats the fetcher reads, as a fetcher's `logType` names them.
public enum LogFormat: String, Sendable, CaseIterable {
  /// One JSON object per line (application logs).
  case jsonLines = "json"
  /// CloudTrail log files: one JSON document with a `Records` array, streamed.
  case cloudTrail = "cloudtrail"
  /// One event per line, as written.
  case text
  /// Application Load Balancer access logs.
  case alb
  /// Classic Load Balancer access logs.
  case elb
  /// Network Load Balancer (TLS listener) access logs.
  case nlb
  /// S3 server access logs.
  case s3access
  /// VPC flow logs (version 2, or a custom format with its header line).
  case vpcflow
  /// CloudFront standard logs (W3C, `#Fields:`).
  case cloudfront
  /// CloudWatch Logs subscription payloads (`logEvents`), as Firehose writes them to S3.
  case cloudWatchLogs = "cloudwatch"

  /// The format of a decompressed object from its first bytes: `{"Records":` is
  /// CloudTrail, an object naming `logGroup` and `messageType` in its first KiB a
  /// CloudWatch Logs subscription payload, `{` a JSON object per line, a first line laid out as one of AWS's access
  /// logs is that log, anything else text. Never the key's name.
  public static func detect(_ prefix: [UInt8]) -> LogFormat {
    var i = 0
    while i < prefix.count, [0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains(prefix[i]) {
      i += 1
    }
    guard i < prefix.count, prefix[i] == UInt8(ascii: "{") else {
      return AccessLogParser.detect(Array(prefix[i...])).flatMap {
        LogFormat(rawValue: $0.rawValue)
      }
        ?? .text
    }
    let head = String(decoding: prefix[i..<min(prefix.count, i + 1024)], as: UTF8.self)
    let compact = head.filter { !$0.isWhitespace }
    if compact.hasPrefix("{\"Records\":") { return .cloudTrail }
    // A subscription payload names its log group and message type before its events.
    if compact.contains("\"logGroup\":"), compact.contains("\"messageType\":") {
      return .cloudWatchLogs
    }
    return .jsonLines
  }

  /// A parser for this format; text with a multiline start pattern joins the lines of an
  /// event (other formats have their own record boundaries and ignore it).
  public func parser(multilineStart: MultilineStart? = nil) -> any RecordParser {
    switch self {
    case .jsonLines: return JSONLinesParser()
    case .cloudTrail: return CloudTrailParser()
    case .text:
      if let multilineStart { return MultilineTextParser(start: multilineStart) }
      return TextLinesParser()
    case .alb: return AccessLogParser(.alb)
    case .elb: return AccessLogParser(.elb)
    case .nlb: return AccessLogParser(.nlb)
    case .s3access: return AccessLogParser(.s3access)
    case .vpcflow: return AccessLogParser(.vpcflow)
    case .cloudfront: return AccessLogParser(.cloudfront)
    case .cloudWatchLogs: return CloudWatchLogsParser()
    }
  }

  /// What users may give as a fetcher's log type: a format, or `auto`.
  public static let choices = ["auto"] + allCases.map(\.rawValue)
}
