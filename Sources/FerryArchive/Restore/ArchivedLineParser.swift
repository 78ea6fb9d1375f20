import FerryCore
import Foundation

/// Reads an archive line in the form ``ArchiveRecord`` writes it (its keys in their fixed
/// order, compact), straight from its bytes: no `Data`, no `JSONDecoder`, no date parser.
/// A line in any other form (valid JSON all the same: keys reordered, spaces) gives nil,
/// and the caller reads it with `JSONDecoder` (``ArchivedLine``), so every valid line is
/// read either way.
struct ArchivedLineParser {
  private let bytes: UnsafeBufferPointer<UInt8>
  private var at = 0

  /// The texts of the previous line that the lines of an object nearly always repeat (log
  /// type, bucket, key, ETag, fetcher): a line that has the same bytes gets the same string,
  /// not a new one.
  struct Repeats {
    var logType = ""
    var bucket = ""
    var key = ""
    var etag = ""
    var fetcher = ""
  }

  private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

  /// The line's parts, or nil when it is not in the writer's own form.
  static func parse(_ line: [UInt8]) -> ArchivedLine? {
    var repeats = Repeats()
    return line.withUnsafeBufferPointer { parse($0, repeats: &repeats) }
  }

  /// ``parse(_:)`` of bytes in place (a line of a decompressed slice, not copied), reusing
  /// the strings of the line before.
  static func parse(_ line: UnsafeBufferPointer<UInt8>, repeats: inout Repeats)
    -> ArchivedLine?
  {
    var parser = ArchivedLineParser(line)
    return parser.line(&repeats)
  }

  private mutating func line(_ repeats: inout Repeats) -> ArchivedLine? {
    guard literal(#"{"time":"#), let time = string() else { return nil }
    // Full lines carry the event ID; compact ones leave it to the reader.
    var eventId: String?
    if literal(#","eventId":"#) {
      guard let id = string() else { return nil }
      eventId = id
    }
    guard literal(#","logType":"#), let logType = string(reusing: &repeats.logType),
      literal(#","message":"#), let message = string()
    else { return nil }
    // Left out where the message gives them back.
    var fields: Fields?
    if literal(#","fields":{"#) {
      var read = Fields()
      if !literal("}") {
        repeat {
          guard let key = string(), literal(":"), let value = string() else { return nil }
          read.appendNew(key, value)
        } while literal(",")
        guard literal("}") else { return nil }
      }
      fields = read
    }
    guard literal(#","source":{"bucket":"#), let bucket = string(reusing: &repeats.bucket),
      literal(#","key":"#), let key = string(reusing: &repeats.key),
      literal(#","etag":"#), let etag = string(reusing: &repeats.etag),
      literal(#","offset":"#), let offset = integer(),
      literal(#"},"fetcher":"#), let fetcher = string(reusing: &repeats.fetcher),
      literal("}"), at == bytes.count
    else { return nil }
    return ArchivedLine(
      time: time, eventId: eventId, logType: logType, message: message, fields: fields,
      source: .init(bucket: bucket, key: key, etag: etag, offset: offset), fetcher: fetcher)
  }

  /// Consumes `text` if the bytes go on with it.
  private mutating func literal(_ text: StaticString) -> Bool {
    let count = text.utf8CodeUnitCount
    guard at + count <= bytes.count else { return false }
    let start = text.utf8Start
    for i in 0..<count where bytes[at + i] != start[i] { return false }
    at += count
    return true
  }

  private mutating func integer() -> Int64? {
    var value: Int64 = 0
    var digits = 0
    let negative = at < bytes.count && bytes[at] == UInt8(ascii: "-")
    if negative { at += 1 }
    while at < bytes.count, bytes[at] >= 0x30, bytes[at] <= 0x39, digits < 18 {
      value = value * 10 + Int64(bytes[at] - 0x30)
      at += 1
      digits += 1
    }
    return digits == 0 ? nil : (negative ? -value : value)
  }

  /// ``string()``, the same string as `last` (the line before's) when the bytes are the
  /// same (the common case: a plain string the line before had too; only plain strings are
  /// kept there, so equal bytes are the same string).
  private mutating func string(reusing last: inout String) -> String? {
    var previous = last
    let same = previous.withUTF8 { old -> Bool in
      let end = at + 1 + old.count
      guard end < bytes.count, bytes[at] == UInt8(ascii: "\""), bytes[end] == UInt8(ascii: "\""),
        let base = bytes.baseAddress, let oldBase = old.baseAddress
      else { return false }
      return memcmp(base + at + 1, oldBase, old.count) == 0
    }
    if same {
      at += previous.utf8.count + 2
      return previous
    }
    guard let text = string() else { return nil }
    // Kept only if its bytes are what a line holds for it (no escape, no quote), so that
    // the bytes above compare with the line's as they are.
    if text.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x22 && $0 != 0x5C }) {
      last = text
    }
    return text
  }

  /// A JSON string (its escapes decoded), or nil if the bytes do not hold one here.
  private mutating func string() -> String? {
    guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { return nil }
    at += 1
    let start = at
    // The common case: no escape, no control byte. Eight bytes at a time to the first
    // quote, backslash or control byte, then byte by byte.
    if let base = bytes.baseAddress {
      at = ByteWords.skip(base, from: at, before: bytes.count, until: ByteWords.escaped)
    }
    while at < bytes.count {
      let byte = bytes[at]
      if byte == UInt8(ascii: "\"") {
        let text = String(
          decoding: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
        at += 1
        return text
      }
      if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
      at += 1
    }
    // Escapes: find the closing quote first (the decoded text is never longer than the
    // escaped), then decode into the string's own storage in one pass.
    var close = at
    while close < bytes.count, bytes[close] != UInt8(ascii: "\"") {
      if bytes[close] == UInt8(ascii: "\\") {
        close += 2
        continue
      }
      close += 1
      // To the next quote or backslash, eight bytes at a time.
      if let base = bytes.baseAddress {
        close = ByteWords.skip(base, from: close, before: bytes.count) {
          ByteWords.equal($0, 0x22) | ByteWords.equal($0, 0x5C)
        }
      }
    }
    guard close < bytes.count else { return nil }
    var failed = false
    let input = bytes
    let text = String(unsafeUninitializedCapacity: close - start) { out in
      guard let to = out.baseAddress, let from = input.baseAddress else { return 0 }
      var written = at - start
      to.update(from: from + start, count: written)
      var i = at
      while i < close {
        // Eight bytes at a time.
        if i + 8 <= close {
          // Stored whole (the decoded text is never longer than the escaped, so a word
          // fits), kept up to the first byte that is not plain.
          let word = ByteWords.load(from, i)
          let hits = ByteWords.escaped(word)
          UnsafeMutableRawPointer(to + written).storeBytes(of: word.littleEndian, as: UInt64.self)
          let plain = hits == 0 ? 8 : hits.trailingZeroBitCount / 8
          written += plain
          i += plain
          if hits == 0 { continue }
        }
        let byte = input[i]
        guard byte != UInt8(ascii: "\\") else {
          let decoded: UInt8
          switch input[i + 1] {
          case UInt8(ascii: "\""): decoded = 0x22
          case UInt8(ascii: "\\"): decoded = 0x5C
          case UInt8(ascii: "/"): decoded = 0x2F
          case UInt8(ascii: "n"): decoded = 0x0A
          case UInt8(ascii: "r"): decoded = 0x0D
          case UInt8(ascii: "t"): decoded = 0x09
          case UInt8(ascii: "b"): decoded = 0x08
          case UInt8(ascii: "f"): decoded = 0x0C
          case UInt8(ascii: "u"):
            // Six bytes of escape give at most four of UTF-8: it fits.
            at = i + 2
            guard let scalar = unicodeEscape(before: close), let units = UTF8.encode(scalar)
            else {
              failed = true
              return 0
            }
            i = at
            for unit in units {
              to[written] = unit
              written += 1
            }
            continue
          default:
            failed = true
            return 0
          }
          to[written] = decoded
          written += 1
          i += 2
          continue
        }
        guard byte >= 0x20 else {
          failed = true
          return 0
        }
        // A plain byte of the last few, fewer than a word.
        to[written] = byte
        written += 1
        i += 1
      }
      return written
    }
    guard !failed else { return nil }
    at = close + 1
    return text
  }

  /// The scalar of a `\uXXXX` escape whose `\u` was just read (a surrogate pair takes the
  /// `\uXXXX` of its low half too), ending before `limit`; nil if it is not one.
  private mutating func unicodeEscape(before limit: Int) -> Unicode.Scalar? {
    guard at + 4 <= limit, var scalar = hex4() else { return nil }
    if (0xD800..<0xDC00).contains(scalar) {
      // A surrogate pair: the low half must follow.
      guard at + 6 <= limit, literal(#"\u"#), let low = hex4(), (0xDC00..<0xE000).contains(low)
      else { return nil }
      scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
    }
    return Unicode.Scalar(scalar)
  }

  private mutating func hex4() -> UInt32? {
    guard at + 4 <= bytes.count else { return nil }
    var value: UInt32 = 0
    for _ in 0..<4 {
      let byte = bytes[at]
      let digit: UInt32
      switch byte {
      case 0x30...0x39: digit = UInt32(byte - 0x30)
      case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
      case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
      default: return nil
      }
      value = value << 4 | digit
      at += 1
    }
    return value
  }

  /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, the writer's form of a time, as a date; nil for any other
  /// form (the caller then parses it as RFC 3339 with Foundation).
  static func time(_ text: String) -> Date? {
    var text = text
    return text.withUTF8 { b -> Date? in
      guard b.count == 24, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A,
        b[16] == 0x3A, b[19] == 0x2E, b[23] == 0x5A
      else { return nil }
      func number(_ from: Int, _ count: Int) -> Int? {
        var value = 0
        for i in from..<(from + count) {
          guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
          value = value * 10 + Int(b[i] - 0x30)
        }
        return value
      }
      guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
        let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
        let millis = number(20, 3), (1600...9999).contains(year), (1...12).contains(month),
        (1...31).contains(day), hour < 24, minute < 60, second < 60
      else { return nil }
      // Howard Hinnant's days-from-civil.
      let y = Int64(month <= 2 ? year - 1 : year)
      let era = (y >= 0 ? y : y - 399) / 400
      let yoe = y - era * 400
      let m = Int64(month)
      let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
      let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
      let days = era * 146_097 + doe - 719_468
      let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
      return Date(timeIntervalSince1970: Double(seconds * 1000 + Int64(millis)) / 1000)
    }
  }
}
