import FerryCore
import Foundation

/// A strict, allocation-light reader of one line of CloudWatch's JSON metric format: the
/// object's known keys read straight into a data point, unknown ones skipped. It accepts
/// only what JSON allows (RFC 8259: strings' escapes and UTF-8 checked, numbers' grammar
/// checked); a line it does not read (or a shape it does not expect, such as a timestamp
/// with a fraction) goes to Foundation's JSONDecoder, which stays the authority for the
/// answer and its error.
struct CloudWatchJSONLine {
  var metricStreamName: String?
  var namespace: String?
  var metricName: String?
  var dimensions: [String: String] = [:]
  var timestamp: Int64?
  var value: [String: Double] = [:]
  var unit: String?
  var sawDimensions = false
  var sawValue = false

  /// Reads `bytes` (one line, without its newline); nil when it is not a line this reader
  /// takes (the caller then asks JSONDecoder).
  static func read(_ bytes: UnsafeBufferPointer<UInt8>) -> CloudWatchJSONLine? {
    var scanner = Scanner(bytes: bytes)
    var line = CloudWatchJSONLine()
    guard
      scanner.object({ key, scanner in
        switch key {
        case "namespace":
          line.namespace = scanner.string()
          return line.namespace != nil
        case "metric_name":
          line.metricName = scanner.string()
          return line.metricName != nil
        case "metric_stream_name":
          line.metricStreamName = scanner.string()
          return line.metricStreamName != nil
        case "unit":
          line.unit = scanner.string()
          return line.unit != nil
        case "timestamp":
          line.timestamp = scanner.integer()
          return line.timestamp != nil
        case "dimensions":
          line.dimensions = [:]
          line.sawDimensions = true
          return scanner.object { name, scanner in
            guard let text = scanner.string() else { return false }
            line.dimensions[name] = text
            return true
          }
        case "value":
          line.value = [:]
          line.sawValue = true
          return scanner.object { name, scanner in
            guard let number = scanner.number(), number.isFinite else { return false }
            line.value[name] = number
            return true
          }
        default:
          return scanner.skipValue()
        }
      })
    else { return nil }
    scanner.skipSpace()
    return scanner.index == bytes.count ? line : nil
  }

  struct Scanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    mutating func skipSpace() {
      while index < bytes.count {
        switch bytes[index] {
        case 0x20, 0x09, 0x0A, 0x0D: index += 1
        default: return
        }
      }
    }

    mutating func take(_ byte: UInt8) -> Bool {
      skipSpace()
      guard index < bytes.count, bytes[index] == byte else { return false }
      index += 1
      return true
    }

    /// `{ "key": value, ... }`, each member handed to `member` (false: not taken).
    mutating func object(_ member: (String, inout Scanner) -> Bool) -> Bool {
      guard take(UInt8(ascii: "{")) else { return false }
      if take(UInt8(ascii: "}")) { return true }
      while true {
        guard let key = string(), take(UInt8(ascii: ":")) else { return false }
        skipSpace()
        guard member(key, &self) else { return false }
        if take(UInt8(ascii: ",")) { continue }
        return take(UInt8(ascii: "}"))
      }
    }

    /// A JSON string; nil if it is not one (bad escape, control character, invalid UTF-8).
    mutating func string() -> String? {
      skipSpace()
      guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
      index += 1
      let start = index
      var high: UInt8 = 0
      while index < bytes.count {
        let byte = bytes[index]
        if byte == UInt8(ascii: "\"") {
          let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
          index += 1
          // ASCII is valid UTF-8 as it is; anything else is checked.
          return high < 0x80
            ? String(decoding: slice, as: UTF8.self) : String(validating: slice, as: UTF8.self)
        }
        high |= byte
        if byte == UInt8(ascii: "\\") {
          index = start
          return escapedString()
        }
        if byte < 0x20 { return nil }
        index += 1
      }
      return nil
    }

    /// The rest of a string with escapes, from just after its opening quote.
    mutating func escapedString() -> String? {
      var out: [UInt8] = []
      while index < bytes.count {
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""):
          return String(validating: out, as: UTF8.self)
        case UInt8(ascii: "\\"):
          guard index < bytes.count else { return nil }
          let escape = bytes[index]
          index += 1
          switch escape {
          case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
          case UInt8(ascii: "b"): out.append(0x08)
          case UInt8(ascii: "f"): out.append(0x0C)
          case UInt8(ascii: "n"): out.append(0x0A)
          case UInt8(ascii: "r"): out.append(0x0D)
          case UInt8(ascii: "t"): out.append(0x09)
          case UInt8(ascii: "u"):
            guard var scalar = hex4() else { return nil }
            if (0xD800..<0xDC00).contains(scalar) {
              // A high surrogate must be followed by an escaped low one.
              guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                bytes[index + 1] == UInt8(ascii: "u")
              else { return nil }
              index += 2
              guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
              scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(scalar) {
              return nil
            }
            guard let unicode = Unicode.Scalar(scalar) else { return nil }
            out.append(contentsOf: Array(String(Character(unicode)).utf8))
          default:
            return nil
          }
        default:
          if byte < 0x20 { return nil }
          out.append(byte)
        }
      }
      return nil
    }

    mutating func hex4() -> UInt32? {
      guard index + 4 <= bytes.count else { return nil }
      var value: UInt32 = 0
      for _ in 0..<4 {
        let byte = bytes[index]
        index += 1
        let digit: UInt8
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
        default: return nil
        }
        value = value << 4 | UInt32(digit)
      }
      return value
    }

    /// A JSON number (its grammar checked) as a Double, correctly rounded: the exact fast
    /// path where the digits and the power of ten are both exact doubles, strtod otherwise.
    mutating func number() -> Double? {
      skipSpace()
      let start = index
      var negative = false
      if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
        negative = true
        index += 1
      }
      var mantissa: UInt64 = 0
      var digits = 0
      var exponent = 0
      guard index < bytes.count, isDigit(bytes[index]) else { return nil }
      if bytes[index] == UInt8(ascii: "0") {
        index += 1
      } else {
        while index < bytes.count, isDigit(bytes[index]) {
          if digits < 19 {
            mantissa = mantissa &* 10 &+ UInt64(bytes[index] - UInt8(ascii: "0"))
            if mantissa != 0 { digits += 1 }
          } else {
            exponent += 1
          }
          index += 1
        }
      }
      if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
        index += 1
        guard index < bytes.count, isDigit(bytes[index]) else { return nil }
        while index < bytes.count, isDigit(bytes[index]) {
          if digits < 19 {
            mantissa = mantissa &* 10 &+ UInt64(bytes[index] - UInt8(ascii: "0"))
            if mantissa != 0 { digits += 1 }
            exponent -= 1
          }
          index += 1
        }
      }
      if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
        index += 1
        var sign = 1
        if index < bytes.count,
          bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")
        {
          if bytes[index] == UInt8(ascii: "-") { sign = -1 }
          index += 1
        }
        guard index < bytes.count, isDigit(bytes[index]) else { return nil }
        var value = 0
        while index < bytes.count, isDigit(bytes[index]) {
          if value < 100_000 { value = value * 10 + Int(bytes[index] - UInt8(ascii: "0")) }
          index += 1
        }
        exponent += sign * value
      }
      if digits <= 15, (-22...22).contains(exponent) {
        var value = Double(mantissa)
        if exponent < 0 {
          value /= Self.powersOfTen[-exponent]
        } else {
          value *= Self.powersOfTen[exponent]
        }
        return negative ? -value : value
      }
      // Rare: many digits or a large exponent. strtod on a terminated copy.
      var text = Array(bytes[start..<index])
      text.append(0)
      return text.withUnsafeBufferPointer { buffer in
        buffer.baseAddress.map { pointer in
          pointer.withMemoryRebound(to: CChar.self, capacity: buffer.count) { strtod($0, nil) }
        }
      }
    }

    static let powersOfTen: [Double] = (0...22).map { exponent in
      var value = 1.0
      for _ in 0..<exponent { value *= 10 }
      return value
    }

    /// A JSON integer that fits an Int64 (no fraction, no exponent); nil otherwise.
    mutating func integer() -> Int64? {
      skipSpace()
      var negative = false
      if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
        negative = true
        index += 1
      }
      guard index < bytes.count, isDigit(bytes[index]) else { return nil }
      if bytes[index] == UInt8(ascii: "0"), index + 1 < bytes.count, isDigit(bytes[index + 1]) {
        return nil
      }
      var value: Int64 = 0
      var digits = 0
      while index < bytes.count, isDigit(bytes[index]) {
        value = value &* 10 &+ Int64(bytes[index] - UInt8(ascii: "0"))
        digits += 1
        index += 1
      }
      guard digits <= 18 else { return nil }
      if index < bytes.count,
        bytes[index] == UInt8(ascii: ".") || bytes[index] | 0x20 == UInt8(ascii: "e")
      {
        return nil
      }
      return negative ? -value : value
    }

    /// Any JSON value, skipped (checked as strictly as the rest).
    mutating func skipValue() -> Bool {
      skipSpace()
      guard index < bytes.count else { return false }
      switch bytes[index] {
      case UInt8(ascii: "\""): return string() != nil
      case UInt8(ascii: "{"): return object { _, scanner in scanner.skipValue() }
      case UInt8(ascii: "["):
        index += 1
        if take(UInt8(ascii: "]")) { return true }
        while true {
          guard skipValue() else { return false }
          if take(UInt8(ascii: ",")) { continue }
          return take(UInt8(ascii: "]"))
        }
      case UInt8(ascii: "t"): return literal("true")
      case UInt8(ascii: "f"): return literal("false")
      case UInt8(ascii: "n"): return literal("null")
      default: return number() != nil
      }
    }

    mutating func literal(_ word: StaticString) -> Bool {
      let length = word.utf8CodeUnitCount
      guard index + length <= bytes.count else { return false }
      for offset in 0..<length where bytes[index + offset] != word.utf8Start[offset] {
        return false
      }
      index += length
      return true
    }

    func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }
  }
}
