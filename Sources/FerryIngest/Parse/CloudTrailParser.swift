import Foundation

/// CloudTrail log files: `{"Records":[{...},{...}]}`, streamed record by record (a file
/// is never loaded whole). Each record is one event, kept as its JSON text; its time is
/// `eventTime`; its fields are the record contents AWS documents that are plain values
/// (`eventName`, `eventSource`, `awsRegion`, `sourceIPAddress`, `errorCode`, ...) and the
/// `userIdentity` members `type`, `arn`, `accountId`, `principalId`, `userName`.
public struct CloudTrailParser: RecordParser {
  /// Top-level record members kept as fields (AWS: "CloudTrail record contents").
  static let fieldNames: Set<String> = [
    "eventVersion", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
    "userAgent", "errorCode", "errorMessage", "requestID", "eventID", "eventType",
    "apiVersion", "readOnly", "managementEvent", "recipientAccountId", "sharedEventID",
    "vpcEndpointId", "eventCategory", "sessionCredentialFromConsole",
  ]
  static let identityNames: Set<String> = ["type", "arn", "accountId", "principalId", "userName"]

  var position: Int64 = 0
  var depth = 0
  var inString = false
  var escaped = false
  /// The last key read at depth 1, while short.
  var key: [UInt8] = []
  var readingKey = false
  var afterRecordsKey = false
  var inRecords = false
  var record: [UInt8] = []
  var recordStart: Int64 = 0
  var capturing = false
  var cut = false
  var cutRecords = 0
  var sawRecords = false

  public init() {}

  public var notes: String? {
    cutRecords > 0
      ? "\(cutRecords) records were longer than \(ParseLimits.maxRecordBytes) bytes and were cut"
      : nil
  }

  public mutating func feed(_ bytes: [UInt8], emit: (ParsedRecord) throws -> Void) throws {
    let base = position
    let count = bytes.count
    // Where the record being read starts in this piece (it is copied out in slices, not
    // byte by byte).
    var captureFrom: Int? = capturing ? 0 : nil
    func capture(to end: Int) {
      guard let from = captureFrom, from < end else { return }
      let room = ParseLimits.maxRecordBytes - record.count
      if end - from > room {
        if room > 0 { record += bytes[from..<(from + room)] }
        if !cut {
          cut = true
          cutRecords += 1
        }
      } else {
        record += bytes[from..<end]
      }
    }
    var i = 0
    while i < count {
      let byte = bytes[i]
      if inString {
        if escaped {
          escaped = false
          i += 1
          continue
        }
        if !readingKey {
          // Inside a value's string: skip to the next quote or backslash.
          while i < count, bytes[i] != UInt8(ascii: "\""), bytes[i] != UInt8(ascii: "\\") {
            i += 1
          }
          guard i < count else { break }
        }
        let b = bytes[i]
        if b == UInt8(ascii: "\\") {
          escaped = true
        } else if b == UInt8(ascii: "\"") {
          inString = false
          readingKey = false
        } else if readingKey, key.count < 16 {
          key.append(b)
        }
        i += 1
        continue
      }
      switch byte {
      case UInt8(ascii: "\""):
        inString = true
        if depth == 1 && !inRecords {
          afterRecordsKey = false
          key = []
          readingKey = true
        }
      case UInt8(ascii: ":"):
        if depth == 1 && !inRecords { afterRecordsKey = key == Array("Records".utf8) }
      case UInt8(ascii: "{"), UInt8(ascii: "["):
        depth += 1
        if depth == 2 && afterRecordsKey && byte == UInt8(ascii: "[") {
          inRecords = true
          sawRecords = true
          afterRecordsKey = false
        } else if inRecords && depth == 3 && byte == UInt8(ascii: "{") {
          // Nearly every record lies whole in one piece: read it there, in one pass.
          let start = i
          if let whole = bytes.withUnsafeBufferPointer({
            Self.parseWhole(
              UnsafeBufferPointer(rebasing: $0[start...]), offset: base + Int64(start))
          }) {
            depth -= 1
            try emit(whole.record)
            i += whole.length
            continue
          }
          capturing = true
          cut = false
          record.removeAll(keepingCapacity: true)
          recordStart = base + Int64(i)
          captureFrom = i
        }
      case UInt8(ascii: "}"), UInt8(ascii: "]"):
        depth -= 1
        if inRecords && depth == 2 && capturing {
          capture(to: i + 1)
          captureFrom = nil
          capturing = false
          try emit(Self.parse(record, offset: recordStart, cut: cut))
        } else if inRecords && depth == 1 {
          inRecords = false
        }
        if depth < 0 {
          throw ParseError(
            "the CloudTrail file has a '\(Character(Unicode.Scalar(byte)))' with nothing open, at byte \(base + Int64(i))"
          )
        }
      case 0x20, 0x09, 0x0A, 0x0D: break
      default:
        // Any other value after `"Records":` means it is not the array.
        if depth == 1 { afterRecordsKey = false }
      }
      i += 1
    }
    if capturing { capture(to: count) }
    position = base + Int64(count)
  }

  public mutating func finish(emit: (ParsedRecord) throws -> Void) throws {
    if capturing || depth != 0 || inString {
      throw ParseError(
        "the CloudTrail file ends inside its JSON (at byte \(position)): it is truncated")
    }
    if !sawRecords && position > 0 {
      throw ParseError("the file is not a CloudTrail log: it has no top-level \"Records\" array")
    }
  }

  /// One record's event.
  /// The names kept, as bytes beside the strings that become field names: a member's key
  /// is compared as bytes, so no string is made for the members that are not kept.
  static let keptNames = NameTable(fieldNames.sorted().map { ($0, $0) })
  static let keptIdentityNames = NameTable(
    identityNames.sorted().map { ($0, "userIdentity." + $0) }, firstID: keptNames.count)
  static let eventTimeID =
    Array("eventTime".utf8).withUnsafeBufferPointer { keptNames.name($0)?.id } ?? -1
  static let userIdentity = Array("userIdentity".utf8)

  static func parse(_ record: [UInt8], offset: Int64, cut: Bool) -> ParsedRecord {
    record.withUnsafeBufferPointer { bytes in
      var out = ParsedRecord(offset: offset, text: String(decoding: bytes, as: UTF8.self))
      if cut {
        out.fields["ferry.truncated"] = "true"
        return out
      }
      // A malformed record keeps the fields read before the fault.
      _ = scan(bytes, into: &out)
      return out
    }
  }

  /// The record that starts at the first of `bytes`, if they hold all of it and it is a
  /// well-formed object: its event and its length in bytes. The bytes are read once, in
  /// place; nil leaves the record to the byte-by-byte path.
  static func parseWhole(_ bytes: UnsafeBufferPointer<UInt8>, offset: Int64) -> (
    record: ParsedRecord, length: Int
  )? {
    var out = ParsedRecord(offset: offset, text: "")
    guard let end = scan(bytes, into: &out), end <= ParseLimits.maxRecordBytes else {
      return nil
    }
    out.text = String(decoding: UnsafeBufferPointer(rebasing: bytes[..<end]), as: UTF8.self)
    return (out, end)
  }

  /// Reads the kept members of the record at the start of `bytes` into `out`'s fields and
  /// time; answers where the record ends (nil: not a whole object).
  static func scan(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout ParsedRecord) -> Int? {
    // The kept values of a record take 300 to 500 bytes (the identity's ARN and the user
    // agent are the long ones).
    out.fields.reserveCapacity(24, valueBytes: 512)
    // The names already set (by number, fewer than 64 in the two tables): a repeated
    // key replaces its value, any other is appended without comparing strings.
    var seen: UInt64 = 0
    // Read once here, not once per member (each read of a global checks its initializer).
    let keptNames = keptNames
    let keptIdentityNames = keptIdentityNames
    let eventTimeID = eventTimeID
    let userIdentity = userIdentity
    func set(
      _ id: Int, _ name: String, _ bytes: UnsafeBufferPointer<UInt8>, _ kind: JSONScanner.Kind,
      _ value: Range<Int>
    ) {
      let new = seen & (1 << UInt64(id)) == 0
      seen |= 1 << UInt64(id)
      JSONScanner.store(bytes, kind, value, as: name, in: &out.fields, new: new)
    }
    return JSONScanner.objectEnd(bytes) { keyRange, kind, value in
      let key = UnsafeBufferPointer(rebasing: bytes[keyRange])
      if kind == .object, key.elementsEqual(userIdentity) {
        let inner = UnsafeBufferPointer(rebasing: bytes[value])
        _ = JSONScanner.forEachMember(inner) { keyRange, kind, value in
          guard kind != .object, kind != .array,
            let kept = keptIdentityNames.name(UnsafeBufferPointer(rebasing: inner[keyRange]))
          else { return }
          set(kept.id, kept.name, inner, kind, value)
        }
        return
      }
      guard kind != .object, kind != .array,
        kind != .literal || bytes[value.lowerBound] != UInt8(ascii: "n"),
        let kept = keptNames.name(key)
      else { return }
      set(kept.id, kept.name, bytes, kind, value)
      if kept.id == eventTimeID {
        let raw = UnsafeBufferPointer(rebasing: bytes[value])
        out.time =
          JSONScanner.hasBackslash(raw)
          ? LogTime.parse(JSONScanner.text(bytes, kind, value)) : LogTime.parse(raw)
      }
    }
  }
}

/// Names looked up by their UTF-8 bytes, as they appear in JSON (a key written with
/// escapes is decoded first, so it is found as well). Each name has a number (from
/// `firstID` on), so a parser can tell which it has already seen without comparing strings.
///
/// A lookup reads the key's first 16 bytes as two words and compares them with the names
/// of the same length; only a longer name that agrees there has its remaining bytes
/// compared. Keys are looked up once per member of every record, so this is on ingest's
/// hot path.
struct NameTable: Sendable {
  /// The names, ordered by key length; `words[i]` is name i's first 16 bytes.
  private let words: [(UInt64, UInt64)]
  private let keys: [[UInt8]]
  private let names: [String]
  private let ids: [Int]
  /// `starts[n]..<starts[n + 1]`: the names whose key has n bytes.
  private let starts: [Int]

  init(_ names: [(key: String, name: String)], firstID: Int = 0) {
    let ordered = names.enumerated().sorted {
      ($0.element.key.utf8.count, $0.offset) < ($1.element.key.utf8.count, $1.offset)
    }
    let longest = names.map(\.key.utf8.count).max() ?? 0
    // starts[n]: the first name whose key has at least n bytes.
    self.starts = (0...longest + 1).map { n in
      ordered.firstIndex { $0.element.key.utf8.count >= n } ?? ordered.count
    }
    self.keys = ordered.map { Array($0.element.key.utf8) }
    self.words = keys.map { key in
      key.withUnsafeBufferPointer { (Self.word($0, at: 0), Self.word($0, at: 8)) }
    }
    self.names = ordered.map(\.element.name)
    self.ids = ordered.map { firstID + $0.offset }
  }

  var count: Int { names.count }

  func name(_ key: UnsafeBufferPointer<UInt8>) -> (id: Int, name: String)? {
    if let found = find(key) { return found }
    // No name has a backslash: a key with one is found once its escapes are decoded.
    guard JSONScanner.hasBackslash(key) else { return nil }
    var decoded = JSONScanner.decodeString(key, 0..<key.count)
    return decoded.withUTF8 { find($0) }
  }

  /// The 8 bytes of `key` from `offset` (fewer where it ends, the rest zero), little-endian.
  @inline(__always)
  static func word(_ key: UnsafeBufferPointer<UInt8>, at offset: Int) -> UInt64 {
    guard let base = key.baseAddress, offset < key.count else { return 0 }
    if key.count - offset >= 8 {
      return UInt64(
        littleEndian: UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self))
    }
    var word: UInt64 = 0
    for i in offset..<key.count { word |= UInt64(key[i]) << UInt64(8 * (i - offset)) }
    return word
  }

  private func find(_ key: UnsafeBufferPointer<UInt8>) -> (id: Int, name: String)? {
    let length = key.count
    guard length + 1 < starts.count, let base = key.baseAddress else { return nil }
    let first = Self.word(key, at: 0)
    let second = Self.word(key, at: 8)
    var i = starts[length]
    let end = starts[length + 1]
    while i < end {
      if words[i] == (first, second),
        length <= 16
          || keys[i].withUnsafeBufferPointer({ name in
            name.baseAddress.map { memcmp($0 + 16, base + 16, length - 16) == 0 } ?? false
          })
      {
        return (ids[i], names[i])
      }
      i += 1
    }
    return nil
  }
}

/// A log that cannot be parsed: what was wrong, for the ledger.
public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
