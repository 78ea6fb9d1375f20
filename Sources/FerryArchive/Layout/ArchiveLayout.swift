import FerryCore
import FerryPolicy
import Foundation

/// Where archived events go in the customer's bucket: Hive-style partitions by account and
/// UTC hour, so Athena, DuckDB, Spark and Trino read them as a partitioned table:
///
///     PREFIX/account=ID/year=YYYY/month=MM/day=DD/hour=HH/part-<seq>-<id>.json.zst
///     PREFIX/account=ID/year=YYYY/month=MM/day=DD/hour=HH/manifest.json
///
/// No partition value has a colon and no path segment starts with `_` or `.` (Athena's
/// partition discovery skips or breaks on both); the prefix is checked against the same
/// rules. docs/archive-format.md documents the layout.
public struct ArchiveLayout: Sendable, Equatable {
  /// Empty, or ends with `/`.
  public let prefix: String

  public init(prefix: String = "") throws(InputError) {
    var prefix = prefix
    if !prefix.isEmpty, !prefix.hasSuffix("/") { prefix += "/" }
    for segment in prefix.split(separator: "/") {
      if let problem = Self.segmentProblem(String(segment)) {
        throw InputError(
          field: "prefix", problem: "the segment \"\(segment)\" \(problem)",
          fix: "Use letters, digits, - and _ inside segments, e.g. ferry-archive/.")
      }
    }
    self.prefix = prefix
  }

  /// Why a path segment would break partition discovery, if it would.
  static func segmentProblem(_ segment: String) -> String? {
    if segment.hasPrefix("_") || segment.hasPrefix(".") {
      return "starts with \(segment.prefix(1)), which Athena treats as hidden and skips"
    }
    if segment.contains(":") { return "has a colon, which Hive partition paths cannot hold" }
    if segment.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
      return "has control characters"
    }
    return nil
  }

  /// The UTC hour an event time falls in.
  public static func hour(of time: Date) -> Date {
    Date(timeIntervalSince1970: (time.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
  }

  /// The partition folder of an account's hour, ending with `/`.
  public func partition(account: AccountID, hour: Date) -> String {
    let c = Calendar.utc.dateComponents([.year, .month, .day, .hour], from: hour)
    func two(_ n: Int?) -> String { String(format: "%02d", n ?? 0) }
    return
      "\(prefix)account=\(account.rawValue)/year=\(String(format: "%04d", c.year ?? 0))/month=\(two(c.month))/day=\(two(c.day))/hour=\(two(c.hour))/"
  }

  /// An archive object's key: its sequence in the partition and a short ID that names its
  /// content (the same events give the same key, so writing again after a crash replaces
  /// rather than duplicates).
  public func objectKey(
    account: AccountID, hour: Date, sequence: Int, id: String,
    compression: ArchiveCompression = .zstd
  ) -> String {
    partition(account: account, hour: hour)
      + "part-\(String(format: "%06d", sequence))-\(id)\(compression.suffix)"
  }

  /// The folder of an account's UTC day (its hours' partitions are under it), ending with
  /// `/`.
  public func dayFolder(account: AccountID, day: Date) -> String {
    let c = Calendar.utc.dateComponents([.year, .month, .day], from: day)
    return
      "\(prefix)account=\(account.rawValue)/year=\(String(format: "%04d", c.year ?? 0))/month=\(String(format: "%02d", c.month ?? 0))/day=\(String(format: "%02d", c.day ?? 0))/"
  }

  /// The folder of an account's archive (its years are under it), ending with `/`.
  public func accountFolder(account: AccountID) -> String {
    "\(prefix)account=\(account.rawValue)/"
  }

  /// The number a partition folder names (`year=2026/` under its parent), or nil for a
  /// folder that is not one of `name`.
  public static func partitionNumber(_ folder: String, name: String, under parent: String) -> Int? {
    guard folder.hasPrefix(parent), folder.hasSuffix("/") else { return nil }
    let segment = folder.dropFirst(parent.count).dropLast()
    guard segment.hasPrefix("\(name)="), !segment.contains("/") else { return nil }
    let digits = segment.dropFirst(name.count + 1)
    guard !digits.isEmpty, digits.count <= 4, digits.allSatisfy(\.isASCII) else { return nil }
    return Int(digits)
  }

  /// The midnight (UTC) of a day, if it exists.
  public static func day(year: Int, month: Int, day: Int) -> Date? {
    let components = DateComponents(year: year, month: month, day: day)
    guard let date = Calendar.utc.date(from: components),
      Calendar.utc.dateComponents([.year, .month, .day], from: date)
        == DateComponents(year: year, month: month, day: day)
    else { return nil }
    return date
  }

  /// The UTC days that meet `[from, to)`, as their midnights.
  public static func days(from: Date, to: Date) -> [Date] {
    var days: [Date] = []
    var day = Calendar.utc.startOfDay(for: from)
    while day < to {
      days.append(day)
      guard let next = Calendar.utc.date(byAdding: .day, value: 1, to: day) else { break }
      day = next
    }
    return days
  }

  public func manifestKey(account: AccountID, hour: Date) -> String {
    partition(account: account, hour: hour) + "manifest.json"
  }
}

extension Calendar {
  static let utc: Calendar = {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC") ?? .gmt
    return calendar
  }()
}
