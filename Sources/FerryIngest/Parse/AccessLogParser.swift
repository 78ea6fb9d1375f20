import FerryCore
import Foundation

/// The space-separated access logs of AWS services, one record per line, each field named
/// as AWS's documentation of the format names it. Quoted fields (`"GET / HTTP/1.1"`) and
/// S3's bracketed time (`[06/Feb/2019:00:00:38 +0000]`) are one field each; `-` means
/// absent and is left out. VPC flow logs take their fields from a header line when the
/// log has one (custom formats), else the default version 2 format; CloudFront standard
/// logs from their `#Fields:` line (tab-separated, W3C).
public struct AccessLogParser: RecordParser {
  public enum Layout: String, Sendable, CaseIterable {
    case alb, elb, nlb, s3access, vpcflow, cloudfront
  }

  /// AWS's field names, in order (Elastic Load Balancing, S3 and VPC user guides).
  static let fields: [Layout: [String]] = [
    .alb: [
      "type", "time", "elb", "client:port", "target:port", "request_processing_time",
      "target_processing_time", "response_processing_time", "elb_status_code",
      "target_status_code", "received_bytes", "sent_bytes", "request", "user_agent",
      "ssl_cipher", "ssl_protocol", "target_group_arn", "trace_id", "domain_name",
      "chosen_cert_arn", "matched_rule_priority", "request_creation_time", "actions_executed",
      "redirect_url", "error_reason", "target:port_list", "target_status_code_list",
      "classification", "classification_reason", "conn_trace_id",
    ],
    .elb: [
      "timestamp", "elb", "client:port", "backend:port", "request_processing_time",
      "backend_processing_time", "response_processing_time", "elb_status_code",
      "backend_status_code", "received_bytes", "sent_bytes", "request", "user_agent",
      "ssl_cipher", "ssl_protocol",
    ],
    .nlb: [
      "type", "version", "time", "elb", "listener", "client:port", "destination:port",
      "connection_time", "tls_handshake_time", "received_bytes", "sent_bytes",
      "incoming_tls_alert", "chosen_cert_arn", "chosen_cert_serial", "tls_cipher",
      "tls_protocol_version", "tls_named_group", "domain_name", "alpn_fe_protocol",
      "alpn_be_protocol", "alpn_client_preference_list", "tls_connection_creation_time",
    ],
    .s3access: [
      "bucket_owner", "bucket", "time", "remote_ip", "requester", "request_id", "operation",
      "key", "request_uri", "http_status", "error_code", "bytes_sent", "object_size",
      "total_time", "turn_around_time", "referer", "user_agent", "version_id", "host_id",
      "signature_version", "cipher_suite", "authentication_type", "host_header", "tls_version",
      "access_point_arn", "acl_required",
    ],
    .vpcflow: [
      "version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
      "protocol", "packets", "bytes", "start", "end", "action", "log-status",
    ],
    .cloudfront: [],
  ]

  /// The field that holds each layout's time.
  static let timeField: [Layout: String] = [
    .alb: "time", .elb: "timestamp", .nlb: "time", .s3access: "time", .vpcflow: "start",
  ]

  let layout: Layout
  var names: [String]
  var lines = LineSplitter()

  public init(_ layout: Layout) {
    self.layout = layout
    names = Self.fields[layout] ?? []
  }

  public var notes: String? {
    lines.cutLines > 0
      ? "\(lines.cutLines) lines were longer than \(ParseLimits.maxRecordBytes) bytes and were cut"
      : nil
  }

  public mutating func feed(_ bytes: [UInt8], emit: (ParsedRecord) throws -> Void) throws {
    // The splitter is taken out while it runs, so each line goes straight to `record`.
    var splitter = lines
    defer { lines = splitter }
    try splitter.feed(bytes) { line, offset, cut in try record(line, offset, cut, emit) }
  }

  public mutating func finish(emit: (ParsedRecord) throws -> Void) throws {
    var splitter = lines
    defer { lines = splitter }
    try splitter.finish { line, offset, cut in try record(line, offset, cut, emit) }
  }

  mutating func record(
    _ line: ArraySlice<UInt8>, _ offset: Int64, _ cut: Bool, _ emit: (ParsedRecord) throws -> Void
  ) throws {
    guard !line.isEmpty else { return }
    let text = String(decoding: line, as: UTF8.self)
    if layout == .cloudfront, text.hasPrefix("#") {
      if text.hasPrefix("#Fields:") {
        names = text.dropFirst("#Fields:".count).split(separator: " ").map(String.init)
      }
      return
    }
    if layout == .vpcflow, Self.isHeader(text) {
      names = text.split(separator: " ").map(String.init)
      return
    }
    let values =
      layout == .cloudfront
      ? text.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
      : Self.split(line)
    var record = ParsedRecord(offset: offset, text: text)
    for (name, value) in zip(names, values) where value != "-" && !value.isEmpty {
      record.fields[name] = value
    }
    record.time = time(record.fields)
    if cut { record.fields["ferry.truncated"] = "true" }
    try emit(record)
  }

  /// A VPC flow log header: every word is a field name of the format (lowercase letters
  /// and `-`, with at least one letter), as `version account-id interface-id ...`.
  static func isHeader(_ text: String) -> Bool {
    text.split(separator: " ").allSatisfy { word in
      word.contains(where: \.isLetter)
        && word.allSatisfy { ($0.isLetter && $0.isLowercase) || $0 == "-" }
    }
  }

  func time(_ fields: Fields) -> Date? {
    switch layout {
    case .cloudfront:
      guard let date = fields["date"], let time = fields["time"] else { return nil }
      return LogTime.parse(date + "T" + time + "Z")
    case .vpcflow:
      return fields["start"].flatMap(Double.init).map { Date(timeIntervalSince1970: $0) }
    case .s3access:
      return fields["time"].flatMap(Self.s3Time)
    default:
      return Self.timeField[layout].flatMap { fields[$0] }.flatMap(LogTime.parse)
    }
  }

  /// `06/Feb/2019:00:00:38 +0000`, the time of S3 server access logs.
  static func s3Time(_ text: String) -> Date? {
    let months = [
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    let parts = text.split(whereSeparator: { $0 == "/" || $0 == ":" || $0 == " " })
    guard parts.count == 7, let day = Int(parts[0]),
      let month = months.firstIndex(of: String(parts[1])), let year = Int(parts[2]),
      let hour = Int(parts[3]), let minute = Int(parts[4]), let second = Int(parts[5])
    else { return nil }
    let zone = parts[6]
    guard zone.count == 5, let sign = zone.first, sign == "+" || sign == "-",
      let hours = Int(zone.dropFirst().prefix(2)), let minutes = Int(zone.suffix(2))
    else { return nil }
    let offset = (sign == "-" ? -1 : 1) * (hours * 3600 + minutes * 60)
    let seconds =
      LogTime.days(year: year, month: month + 1, day: day) * 86_400 + hour * 3600 + minute * 60
      + second - offset
    return Date(timeIntervalSince1970: Double(seconds))
  }

  /// Fields separated by spaces; `"..."` (with `\"` inside) and `[...]` are one field.
  static func split(_ line: ArraySlice<UInt8>) -> [String] {
    var out: [String] = []
    var i = line.startIndex
    while i < line.endIndex {
      while i < line.endIndex, line[i] == 0x20 { i += 1 }
      guard i < line.endIndex else { break }
      let start = i
      switch line[i] {
      case UInt8(ascii: "\""):
        i += 1
        let from = i
        while i < line.endIndex, line[i] != UInt8(ascii: "\"") {
          i += line[i] == UInt8(ascii: "\\") ? 2 : 1
        }
        let end = min(i, line.endIndex)
        out.append(String(decoding: line[from..<end], as: UTF8.self))
        i = min(end + 1, line.endIndex)
      case UInt8(ascii: "["):
        while i < line.endIndex, line[i] != UInt8(ascii: "]") { i += 1 }
        out.append(String(decoding: line[(start + 1)..<min(i, line.endIndex)], as: UTF8.self))
        i = min(i + 1, line.endIndex)
      default:
        while i < line.endIndex, line[i] != 0x20 { i += 1 }
        out.append(String(decoding: line[start..<i], as: UTF8.self))
      }
    }
    return out
  }

  /// The layout of a log from its first line, if it is one of these.
  static func detect(_ head: [UInt8]) -> Layout? {
    let text = String(decoding: head.prefix(4096), as: UTF8.self)
    let first = text.split(separator: "\n").first.map(String.init) ?? ""
    if first.hasPrefix("#Version:") || first.hasPrefix("#Fields:") { return .cloudfront }
    let words = first.split(separator: " ").map(String.init)
    guard words.count >= 3 else { return nil }
    if ["http", "https", "h2", "grpcs", "ws", "wss"].contains(words[0]),
      LogTime.parse(words[1]) != nil
    {
      return .alb
    }
    if ["tls", "tcp", "udp"].contains(words[0]), LogTime.parse(words[2]) != nil { return .nlb }
    if LogTime.parse(words[0]) != nil, words.count >= 12, words[2].contains(":") { return .elb }
    if words[0].count == 64, words[0].allSatisfy(\.isHexDigit), words[2].hasPrefix("[") {
      return .s3access
    }
    if words[0] == "version"
      || (Int(words[0]) != nil && words.count >= 14 && words[2].hasPrefix("eni-"))
    {
      return .vpcflow
    }
    return nil
  }
}
