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
    func pad(_ v: Int, _ width: Int) -> String {
      let s = String(v)
      return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
    day = pad(y, 4) + pad(m, 2) + pad(d, 2)
    full =
      day + "T" + pad(secondOfDay / 3600, 2) + pad(secondOfDay / 60 % 60, 2)
      + pad(secondOfDay % 60, 2) + "Z"
  }
}
