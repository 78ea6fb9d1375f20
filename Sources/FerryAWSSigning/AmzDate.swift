import Foundation

/// The two date forms SigV4 uses: `20150830T123600Z` and `20150830`.
struct AmzDate: Sendable, Equatable {
  let full: String
  let day: String

  init(_ date: Date) {
    let seconds = Int(date.timeIntervalSince1970.rounded(.down))
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let secondOfDay = seconds - days * 86_400
    // Civil date from days since the epoch (H. Hinnant's algorithm).
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
    var bytes = [UInt8](repeating: 0x30, count: 16)
    func put(_ value: Int, _ at: Int, _ width: Int) {
      var v = value
      for i in stride(from: at + width - 1, through: at, by: -1) {
        bytes[i] = 0x30 + UInt8(v % 10)
        v /= 10
      }
    }
    put(y, 0, 4)
    put(m, 4, 2)
    put(d, 6, 2)
    bytes[8] = UInt8(ascii: "T")
    put(secondOfDay / 3600, 9, 2)
    put(secondOfDay / 60 % 60, 11, 2)
    put(secondOfDay % 60, 13, 2)
    bytes[15] = UInt8(ascii: "Z")
    full = String(decoding: bytes, as: UTF8.self)
    day = String(decoding: bytes[0..<8], as: UTF8.self)
  }
}
