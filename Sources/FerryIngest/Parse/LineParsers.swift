import FerryCore
import Foundation

/// One JSON object per line. The event's time comes from the first of the usual time
/// members (`@timestamp`, `timestamp`, `time`, `ts`, `eventTime`, `date`); the top-level
/// members whose values are short strings, numbers or literals become fields, and those
/// of objects one level down as `parent.child` (WAF's `httpRequest.clientIp`); at most 32,
/// keys up to 64 bytes, values up to 256. A line that is not a JSON object is kept
/// as text, as is every line, whole.
public enum JSONLines: LineFormat {
  static let timeKeys = ["@timestamp", "timestamp", "time", "ts", "eventTime", "date", "datetime"]
  static let maxFields = 32
  /// Whether a byte is the first of a time key: most members are passed over by one load.
  static let timeKeyStarts: [Bool] = (0..<256).map { byte in
    timeKeys.contains { $0.utf8.first == UInt8(byte) }
  }

  public static func record(_ line: ArraySlice<UInt8>, offset: Int64) -> ParsedRecord? {
    var keys = JSONKeyCache()
    return record(line, offset: offset, keys: &keys)
  }

  /// The record of `line`, its keys looked up in the previous line's (`keys`).
  public static func record(
    _ line: ArraySlice<UInt8>, offset: Int64, keys: inout JSONKeyCache
  ) -> ParsedRecord? {
    line.withUnsafeBufferPointer { record(bytes: $0, offset: offset, keys: &keys) }
  }

  /// ``record(_:offset:keys:)`` of bytes in place; without the text (an empty `text`)
  /// when `keepsText` is false, for a reader that has it already.
  static func record(
    bytes: UnsafeBufferPointer<UInt8>, offset: Int64, keys: inout JSONKeyCache,
    keepsText: Bool = true
  ) -> ParsedRecord? {
    guard bytes.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { return nil }
    keys.startLine()
    defer { keys.endLine() }
    var record = ParsedRecord(
      offset: offset, text: keepsText ? String(decoding: bytes, as: UTF8.self) : "")
    var fields = Fields()
    fields.reserveCapacity(16)
    var timeRank = timeKeys.count
    let isObject = JSONScanner.forEachMember(bytes) { keyRange, kind, value in
      let (key, slot, new) = keys.name(bytes, keyRange, parent: -1, prefix: nil)
      if let first = key.utf8.first, timeKeyStarts[Int(first)],
        kind == .string || kind == .number,
        let rank = timeKeys.firstIndex(of: key), rank < timeRank,
        let time = LogTime.parse(UnsafeBufferPointer(rebasing: bytes[value]))
      {
        record.time = time
        timeRank = rank
      }
      guard fields.count < maxFields, key.utf8.count <= 64, kind != .array else { return }
      if kind == .object {
        // One level down (WAF's httpRequest.clientIp): scalars as parent.child.
        let inner = UnsafeBufferPointer(rebasing: bytes[value])
        _ = JSONScanner.forEachMember(inner) { childKey, childKind, childValue in
          let (name, _, new) = keys.name(inner, childKey, parent: slot, prefix: key)
          guard fields.count < maxFields, childKind != .object, childKind != .array,
            childValue.count <= 256, childKey.count <= 64
          else { return }
          JSONScanner.store(inner, childKind, childValue, as: name, in: &fields, new: new)
        }
        return
      }
      guard value.count <= 256 else { return }
      JSONScanner.store(bytes, kind, value, as: key, in: &fields, new: new)
    }
    // A line that is not a JSON object is kept as text, without fields or a time.
    if isObject { record.fields = fields } else { record.time = nil }
    return record
  }
}

/// One event per line, kept as written. A line that starts with an ISO 8601 time takes
/// it as the event's time.
public enum TextLines: LineFormat {
  public static func record(_ line: ArraySlice<UInt8>, offset: Int64) -> ParsedRecord? {
    guard !line.isEmpty else { return nil }
    return line.withUnsafeBufferPointer { bytes in
      ParsedRecord(
        offset: offset, text: String(decoding: bytes, as: UTF8.self),
        time: LogTime.iso8601(bytes))
    }
  }
}

/// How a format that holds one record per line reads a line (nil: no record, as for a
/// blank line).
public protocol LineFormat {
  static func record(_ line: ArraySlice<UInt8>, offset: Int64) -> ParsedRecord?
  /// The record of `line`, with the previous lines' keys (for formats with keys).
  static func record(_ line: ArraySlice<UInt8>, offset: Int64, keys: inout JSONKeyCache)
    -> ParsedRecord?
}

extension LineFormat {
  public static func record(
    _ line: ArraySlice<UInt8>, offset: Int64, keys: inout JSONKeyCache
  ) -> ParsedRecord? {
    record(line, offset: offset)
  }
}

/// A parser of a format with one record per line: lines cut at the limit are kept and
/// marked `ferry.truncated`.
public struct LineParser<Format: LineFormat>: RecordParser {
  var lines = LineSplitter()
  var keys = JSONKeyCache()
  public init() {}

  public var notes: String? {
    lines.cutLines > 0
      ? "\(lines.cutLines) lines were longer than \(ParseLimits.maxRecordBytes) bytes and were cut"
      : nil
  }

  public mutating func feed(_ bytes: [UInt8], emit: (ParsedRecord) throws -> Void) throws {
    var keys = self.keys
    defer { self.keys = keys }
    try lines.feed(bytes) { line, offset, cut in
      try Self.emit(line, offset, cut, &keys, emit)
    }
  }

  public mutating func finish(emit: (ParsedRecord) throws -> Void) throws {
    var keys = self.keys
    defer { self.keys = keys }
    try lines.finish { line, offset, cut in try Self.emit(line, offset, cut, &keys, emit) }
  }

  static func emit(
    _ line: ArraySlice<UInt8>, _ offset: Int64, _ cut: Bool, _ keys: inout JSONKeyCache,
    _ emit: (ParsedRecord) throws -> Void
  ) rethrows {
    guard var record = Format.record(line, offset: offset, keys: &keys) else { return }
    if cut { record.fields["ferry.truncated"] = "true" }
    try emit(record)
  }
}

public typealias JSONLinesParser = LineParser<JSONLines>
public typealias TextLinesParser = LineParser<TextLines>
