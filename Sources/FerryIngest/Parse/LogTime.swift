import Foundation

/// Times as logs write them, read from bytes: ISO 8601 / RFC 3339
/// (`2024-11-24T10:00:01Z`, with a fraction, an offset, or a space for the `T`), and Unix
/// epochs in seconds or milliseconds (numbers, as JSON logs often have them).
enum LogTime {
  static func parse(_ text: String) -> Date? {
    var text = text
    return text.withUTF8 { parse($0) }
  }

  static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Date? {
    if let iso = iso8601(b) { return iso }
    return epoch(b)
  }

  @inline(__always) static func digits(_ b: UnsafeBufferPointer<UInt8>, _ at: Int, _ n: Int)
    -> Int?
  {
    guard at + n <= b.count else { return nil }
    var v = 0
    for i in at..<at + n {
      let d = b[i] &- 0x30
      guard d < 10 else { return nil }
      v = v * 10 + Int(d)
    }
    return v
  }

  /// Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm).
  static func days(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }

  static func iso8601(_ b: UnsafeBufferPointer<UInt8>) -> Date? {
    guard b.count >= 19, let year = digits(b, 0, 4), b[4] == UInt8(ascii: "-"),
      let month = digits(b, 5, 2), b[7] == UInt8(ascii: "-"), let day = digits(b, 8, 2),
      b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: " "), let hour = digits(b, 11, 2),
      b[13] == UInt8(ascii: ":"), let minute = digits(b, 14, 2), b[16] == UInt8(ascii: ":"),
      let second = digits(b, 17, 2), (1...12).contains(month), (1...31).contains(day),
      hour < 24, minute < 60, second <= 60
    else { return nil }
    var i = 19
    var fraction = 0.0
    if i < b.count, b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: ",") {
      i += 1
      // Up to nanoseconds, as one integer (summing digit by digit would round).
      var digits = 0
      var value = 0
      while i < b.count, b[i] &- 0x30 < 10 {
        if digits < 9 {
          value = value * 10 + Int(b[i] - 0x30)
          digits += 1
        }
        i += 1
      }
      var scale = 1.0
      for _ in 0..<digits { scale *= 10 }
      fraction = Double(value) / scale
    }
    var offset = 0
    if i < b.count {
      switch b[i] {
      case UInt8(ascii: "Z"), UInt8(ascii: "z"): i += 1
      case UInt8(ascii: "+"), UInt8(ascii: "-"):
        let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
        guard let h = digits(b, i + 1, 2) else { return nil }
        var m = 0
        if let mm = digits(b, i + 4, 2), b[i + 3] == UInt8(ascii: ":") {
          m = mm
          i += 6
        } else if let mm = digits(b, i + 3, 2) {
          m = mm
          i += 5
        } else {
          i += 3
        }
        offset = sign * (h * 3600 + m * 60)
      default: break
      }
    }
    let seconds =
      days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60
      + second - offset
    return Date(timeIntervalSince1970: Double(seconds) + fraction)
  }

  /// Milliseconds since 1970, as CloudWatch Logs writes `timestamp`.
  static func epochMilliseconds(_ b: UnsafeBufferPointer<UInt8>) -> Date? {
    guard let number = Double(String(decoding: b, as: UTF8.self)), number.isFinite, number >= 0
    else { return nil }
    return Date(timeIntervalSince1970: number / 1000)
  }

  /// Seconds (10 digits, with an optional fraction) or milliseconds (13 digits) since 1970.
  static func epoch(_ b: UnsafeBufferPointer<UInt8>) -> Date? {
    guard let number = Double(String(decoding: b, as: UTF8.self)), number.isFinite, number > 0
    else { return nil }
    if number >= 1e11 && number < 1e14 { return Date(timeIntervalSince1970: number / 1000) }
    if number >= 1e8 && number < 1e11 { return Date(timeIntervalSince1970: number) }
    return nil
  }
}
