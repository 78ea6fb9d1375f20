import Foundation

/// The ends of a time range as people write them, wherever Ferry takes a time: `now`, a
/// span back from now (`30s`, `15m`, `24h`, `7d`, `2w`, also written as Grafana and Kibana
/// write it, `now-2d`), or an ISO 8601 date-time (`2026-12-01T10:00:00Z`, any offset).
public enum QueryTime {
  public static func parse(_ text: String, now: Date = Date()) -> Date? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if trimmed == "now" { return now }
    if let seconds = span(trimmed) { return now.addingTimeInterval(-seconds) }
    if trimmed.hasPrefix("now-"),
      let seconds = span(String(trimmed.dropFirst(4)).trimmingCharacters(in: .whitespaces))
    {
      return now.addingTimeInterval(-seconds)
    }
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let date = formatter.date(from: trimmed) { return date }
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.date(from: trimmed)
  }

  /// The longest span accepted: 1,000 years (a span is a distance back from now).
  public static let maxSpanSeconds: TimeInterval = 1000 * 366 * 86400

  /// The seconds of a span written `30s`, `15m`, `24h`, `7d` or `2w`, at most
  /// ``maxSpanSeconds``; nil for anything else.
  public static func span(_ text: String) -> TimeInterval? {
    let units: [(Character, Double)] = [
      ("s", 1), ("m", 60), ("h", 3600), ("d", 86400), ("w", 604_800),
    ]
    guard let last = text.last, let unit = units.first(where: { $0.0 == last }),
      text.dropLast().allSatisfy(\.isASCII), let count = Int(text.dropLast()), count >= 0
    else { return nil }
    let seconds = Double(count) * unit.1
    return seconds <= maxSpanSeconds ? seconds : nil
  }

  /// What to tell a person whose time did not parse.
  public static let help =
    "use now, a span back from now (30s, 15m, 24h, 7d, 2w, or now-2d; at most 1000 years) or an ISO 8601 time such as 2026-12-01T10:00:00Z"
}
