import Foundation

/// CloudWatch Logs subscription payloads, as a subscription filter delivers them through
/// Kinesis Data Firehose into S3: JSON documents back to back (Firehose adds no separator;
/// a newline between them is accepted too), each
/// `{"messageType":"DATA_MESSAGE","owner":…,"logGroup":…,"logStream":…,
/// "subscriptionFilters":[…],"logEvents":[{"id":…,"timestamp":…,"message":…},…]}`
/// (AWS: "Using CloudWatch Logs subscription filters", the "Examples" data format).
/// Each log event is one event: its text is `message`, its time `timestamp` (milliseconds
/// since 1970), its fields `owner`, `logGroup`, `logStream` and `id`, and, when the message
/// is itself a JSON object (Lambda's, VPC flow logs' JSON), that object's fields as the
/// JSON-lines parser reads them. `CONTROL_MESSAGE` documents (sent when the subscription is
/// created, to check the destination) hold no log event and are skipped.
///
/// One document is held at a time (CloudWatch Logs caps a batch of events at 1 MiB), up to
/// ``maxDocumentBytes``; a larger one is skipped and counted, never loaded whole.
public struct CloudWatchLogsParser: RecordParser {
  public static let maxDocumentBytes = 16 << 20

  var position: Int64 = 0
  var document: [UInt8] = []
  var documentStart: Int64 = 0
  var depth = 0
  var inString = false
  var escaped = false
  var skipping = false
  var skippedDocuments = 0
  var strayBytes = 0
  var cutDocuments = 0
  /// The keys of the previous JSON message, for the next (``JSONKeyCache``).
  var keys = JSONKeyCache()

  public init() {}

  public var notes: String? {
    var parts: [String] = []
    if skippedDocuments > 0 {
      parts.append(
        "\(skippedDocuments) payloads were longer than \(Self.maxDocumentBytes) bytes and were skipped"
      )
    }
    if cutDocuments > 0 {
      parts.append("the object ends inside a payload, which was skipped")
    }
    if strayBytes > 0 {
      parts.append("\(strayBytes) bytes outside any JSON document were skipped")
    }
    return parts.isEmpty ? nil : parts.joined(separator: "; ")
  }

  public mutating func feed(_ bytes: [UInt8], emit: (ParsedRecord) throws -> Void) throws {
    var i = 0
    var from = 0  // where the part of the current document in this piece starts
    func keep(upTo end: Int) {
      guard end > from, !skipping else { return }
      if document.count + (end - from) > Self.maxDocumentBytes {
        skipping = true
        skippedDocuments += 1
        document = []
      } else {
        document += bytes[from..<end]
      }
    }
    while i < bytes.count {
      let b = bytes[i]
      if depth == 0 {
        // Between documents: only white space is expected.
        if b == UInt8(ascii: "{") {
          depth = 1
          documentStart = position + Int64(i)
          from = i
          skipping = false
          document.removeAll(keepingCapacity: true)
        } else if !(b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09) {
          strayBytes += 1
        }
        i += 1
        continue
      }
      if inString {
        if escaped {
          escaped = false
        } else if b == UInt8(ascii: "\\") {
          escaped = true
        } else if b == UInt8(ascii: "\"") {
          inString = false
        }
        i += 1
        continue
      }
      switch b {
      case UInt8(ascii: "\""): inString = true
      case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
      case UInt8(ascii: "}"), UInt8(ascii: "]"):
        depth -= 1
        if depth == 0 {
          keep(upTo: i + 1)
          if !skipping { try events(emit) }
          document.removeAll(keepingCapacity: document.count <= 1 << 20)
          from = i + 1
        }
      default: break
      }
      i += 1
    }
    if depth > 0 { keep(upTo: bytes.count) }
    position += Int64(bytes.count)
  }

  public mutating func finish(emit: (ParsedRecord) throws -> Void) throws {
    // A document cut short (the object ends inside it) is not valid JSON: it is counted
    // and skipped, as a whole.
    if depth > 0 { cutDocuments += 1 }
    document = []
    depth = 0
  }

  /// The log events of the document held, in order.
  mutating func events(_ emit: (ParsedRecord) throws -> Void) throws {
    let start = documentStart
    var keys = self.keys
    defer { self.keys = keys }
    try document.withUnsafeBufferPointer { bytes in
      var control = false
      guard let members = JSONScanner.members(bytes) else { return }
      var common: [String: String] = [:]
      var logEvents: Range<Int>?
      for member in members {
        switch member.key {
        case "messageType":
          control = JSONScanner.text(bytes, member) == "CONTROL_MESSAGE"
        case "owner", "logGroup", "logStream":
          if member.kind == .string { common[member.key] = JSONScanner.text(bytes, member) }
        case "logEvents":
          if member.kind == .array { logEvents = member.value }
        default: break
        }
      }
      guard !control, let logEvents else { return }
      for element in JSONScanner.elements(bytes, logEvents) {
        let inner = UnsafeBufferPointer(rebasing: bytes[element])
        guard let fields = JSONScanner.members(inner) else { continue }
        var record = ParsedRecord(offset: start + Int64(element.lowerBound), text: "")
        var hasMessage = false
        for field in fields {
          switch field.key {
          case "message" where field.kind == .string:
            record.text = JSONScanner.text(inner, field)
            hasMessage = true
          case "timestamp" where field.kind == .number:
            record.time = LogTime.epochMilliseconds(
              UnsafeBufferPointer(rebasing: inner[field.value]))
          case "id":
            record.fields["id"] = JSONScanner.text(inner, field)
          default: break
          }
        }
        guard hasMessage else { continue }
        if record.text.utf8.first == UInt8(ascii: "{"),
          let parsed = JSONLines.record(
            Array(record.text.utf8)[...], offset: record.offset, keys: &keys)
        {
          for (key, value) in parsed.fields where record.fields[key] == nil {
            record.fields[key] = value
          }
          if record.time == nil { record.time = parsed.time }
        }
        for (key, value) in common { record.fields[key] = value }
        try emit(record)
      }
    }
  }
}
