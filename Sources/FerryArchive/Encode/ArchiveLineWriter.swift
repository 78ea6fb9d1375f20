import Crypto
import FerryCore
import Foundation

/// Writes archive records (``ArchiveRecord``) as bytes, straight into an object's buffer:
/// the same NDJSON, byte for byte, as ``ArchiveRecord/line(_:eTag:sourceBucket:)`` builds
/// through a JSON tree, at a fraction of the cost (no tree, no `String` per record, one
/// SHA-256 per event, the time's seconds formatted once per second).
struct ArchiveLineWriter: Sendable {
  private var lastSecond: Int64 = .min
  private var secondText: [UInt8] = []
  /// The positions of an event's fields in key order (reused from event to event).
  private var order: [Int] = []
  /// The keys, in the event's order, that `order` sorts.
  private var orderedKeys: [String] = []

  static let hex = Array("0123456789abcdef".utf8)
  /// The record's fixed parts, as bytes once.
  static let timeKey: [UInt8] = Array(#"{"time":""#.utf8)
  static let eventIdKey: [UInt8] = Array(#"","eventId":""#.utf8)
  static let logTypeKey: [UInt8] = Array(#"","logType":"#.utf8)
  static let messageKey: [UInt8] = Array(#","message":"#.utf8)
  static let fieldsKey: [UInt8] = Array(#","fields":{"#.utf8)
  static let sourceKey: [UInt8] = Array(#"},"source":{"bucket":"#.utf8)
  /// After a message whose fields are left out.
  static let sourceAfterMessage: [UInt8] = Array(#","source":{"bucket":"#.utf8)
  static let keyKey: [UInt8] = Array(#","key":"#.utf8)
  static let etagKey: [UInt8] = Array(#","etag":"#.utf8)
  static let offsetKey: [UInt8] = Array(#","offset":"#.utf8)
  static let fetcherKey: [UInt8] = Array(#"},"fetcher":"#.utf8)
  static let end: [UInt8] = Array("}\n".utf8)

  /// Appends `event`'s record and its newline to `out`: with its `eventId` for full lines,
  /// without it for compact ones, which also leave out `fields` where the message gives
  /// them back (``MessageFields``). Answers whether it left them out.
  @discardableResult mutating func append(
    _ event: some ArchiveLineSource, eTag: String, sourceBucket: String,
    lines: ArchiveLines = .full, to out: inout [UInt8]
  ) -> Bool {
    out.append(contentsOf: Self.timeKey)
    appendTime(event.time, to: &out)
    if lines == .full {
      out.append(contentsOf: Self.eventIdKey)
      out.append(
        contentsOf: Self.eventID(
          fetcherID: event.fetcherID, sourceKey: event.sourceKey, eTag: eTag,
          offset: event.sourceOffset
        ).utf8)
    }
    out.append(contentsOf: Self.logTypeKey)
    Self.string(event.logType, to: &out)
    out.append(contentsOf: Self.messageKey)
    event.withMessageUTF8 { Self.string(utf8: $0, to: &out) }
    let omitsFields = lines == .compact && event.fieldsFromMessage
    if omitsFields {
      out.append(contentsOf: Self.sourceAfterMessage)
    } else {
      appendFields(event, to: &out)
      out.append(contentsOf: Self.sourceKey)
    }
    Self.string(sourceBucket, to: &out)
    out.append(contentsOf: Self.keyKey)
    Self.string(event.sourceKey, to: &out)
    out.append(contentsOf: Self.etagKey)
    Self.string(eTag, to: &out)
    out.append(contentsOf: Self.offsetKey)
    out.append(contentsOf: String(event.sourceOffset).utf8)
    out.append(contentsOf: Self.fetcherKey)
    Self.string(event.fetcherID, to: &out)
    out.append(contentsOf: Self.end)
    return omitsFields
  }

  /// `"fields":{...}` without its closing brace.
  mutating func appendFields(_ event: some ArchiveLineSource, to out: inout [UInt8]) {
    out.append(contentsOf: Self.fieldsKey)
    // Keys sorted (as the JSON writer sorts them): the positions in key order, kept from
    // event to event, since the events of one source give the same keys in the same order
    // (sorted again, by insertion, when they do not). No pair and no value string is made.
    if !event.fieldKeys(equal: orderedKeys) {
      orderedKeys = (0..<event.fieldCount).map { event.fieldKey(at: $0) }
      order.removeAll(keepingCapacity: true)
      for position in orderedKeys.indices {
        let key = orderedKeys[position]
        var at = order.count
        while at > 0, key < orderedKeys[order[at - 1]] { at -= 1 }
        order.insert(position, at: at)
      }
    }
    for (n, position) in order.enumerated() {
      if n > 0 { out.append(UInt8(ascii: ",")) }
      Self.string(orderedKeys[position], to: &out)
      out.append(UInt8(ascii: ":"))
      event.withFieldValueUTF8(at: position) { Self.string(utf8: $0, to: &out) }
    }
  }

  /// ``ArchiveRecord/eventID(_:eTag:)``, hex-encoded from a table.
  static func eventID(_ event: Event, eTag: String) -> String {
    eventID(
      fetcherID: event.fetcherID, sourceKey: event.sourceKey, eTag: eTag,
      offset: event.sourceOffset)
  }

  /// ``ArchiveRecord/eventID(_:eTag:)`` of the event read from `offset` of `sourceKey`'s
  /// version `eTag` by `fetcherID`.
  static func eventID(fetcherID: String, sourceKey: String, eTag: String, offset: Int64)
    -> String
  {
    var hasher = SHA256()
    let nul: [UInt8] = [0]
    for part in [fetcherID, sourceKey, eTag] {
      var part = part
      part.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
      hasher.update(data: nul)
    }
    var offset = String(offset)
    offset.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
    var text = [UInt8]()
    text.reserveCapacity(32)
    for byte in hasher.finalize().prefix(16) {
      text.append(hex[Int(byte >> 4)])
      text.append(hex[Int(byte & 0x0F)])
    }
    return String(decoding: text, as: UTF8.self)
  }

  /// ``ArchiveRecord/time(_:)``: RFC 3339 in UTC with milliseconds.
  mutating func appendTime(_ date: Date, to out: inout [UInt8]) {
    let ms = Int64((date.timeIntervalSince1970 * 1000).rounded())
    let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
    if seconds != lastSecond {
      lastSecond = seconds
      secondText = Self.secondText(seconds)
    }
    out.append(contentsOf: secondText)
    let millis = Int(ms - seconds * 1000)
    out.append(UInt8(ascii: "."))
    out.append(UInt8(ascii: "0") + UInt8(millis / 100))
    out.append(UInt8(ascii: "0") + UInt8(millis / 10 % 10))
    out.append(UInt8(ascii: "0") + UInt8(millis % 10))
    out.append(UInt8(ascii: "Z"))
  }

  /// `YYYY-MM-DDTHH:MM:SS` of Unix seconds, in the Gregorian calendar (Howard Hinnant's
  /// days-to-civil); years before 1600 (where Foundation's calendar is Julian) or after 9999
  /// go through Foundation, as ``ArchiveRecord/time(_:)`` writes them.
  static func secondText(_ seconds: Int64) -> [UInt8] {
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let secondOfDay = Int(seconds - days * 86_400)
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = Int(doy - (153 * mp + 2) / 5 + 1)
    let month = Int(mp < 10 ? mp + 3 : mp - 9)
    let year = Int(yoe + era * 400 + (month <= 2 ? 1 : 0))
    guard (1600...9999).contains(year) else {
      let whole = ArchiveRecord.time(Date(timeIntervalSince1970: Double(seconds)))
      return Array(whole.utf8.prefix(whole.utf8.count - 5))
    }
    var out = [UInt8]()
    out.reserveCapacity(19)
    func digits(_ value: Int, _ count: Int) {
      var divisor = 1
      for _ in 1..<count { divisor *= 10 }
      while divisor > 0 {
        out.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
        divisor /= 10
      }
    }
    digits(year, 4)
    out.append(UInt8(ascii: "-"))
    digits(month, 2)
    out.append(UInt8(ascii: "-"))
    digits(day, 2)
    out.append(UInt8(ascii: "T"))
    digits(secondOfDay / 3600, 2)
    out.append(UInt8(ascii: ":"))
    digits(secondOfDay / 60 % 60, 2)
    out.append(UInt8(ascii: ":"))
    digits(secondOfDay % 60, 2)
    return out
  }

  /// A JSON string as Ferry's JSON writer escapes it: `"`, `\`, `\n`, `\r`, `\t` with a
  /// backslash, other control characters as `\u00xx`, everything else as its UTF-8.
  ///
  /// Two passes: the first counts what the escapes add, so `out` grows once per string
  /// (a log message in JSON holds dozens of quotes); the second writes straight into
  /// `out`'s storage, eight bytes at a time up to each byte that needs an escape.
  static func string(_ text: String, to out: inout [UInt8]) {
    var text = text
    text.withUTF8 { string(utf8: $0, to: &out) }
  }

  /// ``string(_:to:)`` of a string's UTF-8.
  static func string(utf8 bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
    let n = bytes.count
    var extra = 0
    if let source = bytes.baseAddress {
      var i = 0
      while i + 8 <= n {
        let word = ByteWords.load(source, i)
        let quotes = ByteWords.equal(word, 0x22) | ByteWords.equal(word, 0x5C)
        extra += quotes.nonzeroBitCount
        if ByteWords.controls(word) != 0 {
          // Rare: `\n`, `\r`, `\t` take one byte more, the others five.
          for k in i..<(i + 8) where source[k] < 0x20 { extra += escapedLength(source[k]) - 1 }
        }
        i += 8
      }
      while i < n {
        let byte = source[i]
        if byte < 0x20 || byte == 0x22 || byte == 0x5C { extra += escapedLength(byte) - 1 }
        i += 1
      }
    }
    let at = out.count
    // Eight bytes of room past the string: a word is stored whole wherever it starts.
    out.append(contentsOf: repeatElement(0, count: n + extra + 2 + 8))
    out.withUnsafeMutableBufferPointer { whole in
      guard let base = whole.baseAddress else { return }
      var to = base + at
      to.pointee = 0x22
      to += 1
      if let source = bytes.baseAddress, extra == 0 {
        to.update(from: source, count: n)
        to += n
      } else if let source = bytes.baseAddress {
        // Eight bytes at a time: the plain bytes between escapes are stored a word at a
        // time (the word's rest, shifted down), and each escape written after them, all the
        // escapes of a word from one load.
        var i = 0
        while i + 8 <= n {
          let word = ByteWords.load(source, i)
          var hits = ByteWords.escaped(word)
          var rest = word
          var consumed = 0
          while hits != 0 {
            let p = hits.trailingZeroBitCount >> 3
            UnsafeMutableRawPointer(to).storeBytes(of: rest.littleEndian, as: UInt64.self)
            to += p - consumed
            to = escape(source[i + p], to)
            consumed = p + 1
            rest = p == 7 ? 0 : word >> UInt64(8 * consumed)
            hits &= hits - 1
          }
          UnsafeMutableRawPointer(to).storeBytes(of: rest.littleEndian, as: UInt64.self)
          to += 8 - consumed
          i += 8
        }
        while i < n {
          let byte = source[i]
          if byte < 0x20 || byte == 0x22 || byte == 0x5C {
            to = escape(byte, to)
          } else {
            to.pointee = byte
            to += 1
          }
          i += 1
        }
      }
      to.pointee = 0x22
    }
    out.removeLast(8)
  }

  /// Writes the escape of `byte` (one that needs one) at `to`; returns where it ends.
  @inline(__always)
  static func escape(_ byte: UInt8, _ to: UnsafeMutablePointer<UInt8>)
    -> UnsafeMutablePointer<UInt8>
  {
    to.pointee = 0x5C
    switch byte {
    case 0x22: to[1] = 0x22
    case 0x5C: to[1] = 0x5C
    case 0x0A: to[1] = UInt8(ascii: "n")
    case 0x0D: to[1] = UInt8(ascii: "r")
    case 0x09: to[1] = UInt8(ascii: "t")
    default:
      to[1] = UInt8(ascii: "u")
      to[2] = UInt8(ascii: "0")
      to[3] = UInt8(ascii: "0")
      to[4] = hexDigit(byte >> 4)
      to[5] = hexDigit(byte & 0x0F)
    }
    return to + escapedLength(byte)
  }

  /// The lowercase hex digit of a value below 16.
  @inline(__always)
  static func hexDigit(_ value: UInt8) -> UInt8 {
    value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
  }

  /// The bytes an escaped byte takes: 2 for `\"`, `\\`, `\n`, `\r`, `\t`; 6 for `\u00xx`.
  @inline(__always)
  static func escapedLength(_ byte: UInt8) -> Int {
    switch byte {
    case 0x22, 0x5C, 0x0A, 0x0D, 0x09: 2
    default: 6
    }
  }
}
