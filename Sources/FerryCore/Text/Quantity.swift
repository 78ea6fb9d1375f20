import Foundation

/// Quantities as the API's sentences, the CLI and the web UI show them to people.
public enum Quantity {
  /// "300 B", "12 KiB", "1.2 MiB", "3.5 GiB" (powers of 1024; "0 B", never "Zero KB").
  public static func bytes(_ n: Int64) -> String {
    if n < 1024 { return "\(n) B" }
    let units = ["KiB", "MiB", "GiB", "TiB"]
    var value = Double(n) / 1024
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    let shown =
      value < 10 && value != value.rounded()
      ? String(format: "%.1f", value) : String(Int(value.rounded()))
    return "\(shown) \(units[unit])"
  }

  /// "12,345": digits grouped by the locale.
  public static func count(_ n: Int) -> String { n.formatted(.number.grouping(.automatic)) }

  /// "45 s", "4 min", "2 h 5 min", "3 d 4 h": rounded up, two units at most.
  public static func duration(_ seconds: TimeInterval) -> String {
    let s = Int(max(0, seconds.rounded(.up)))
    if s < 60 { return "\(s) s" }
    let minutes = (s + 59) / 60
    if minutes < 60 { return "\(minutes) min" }
    let hours = minutes / 60
    if hours < 24 { return minutes % 60 == 0 ? "\(hours) h" : "\(hours) h \(minutes % 60) min" }
    return hours % 24 == 0 ? "\(hours / 24) d" : "\(hours / 24) d \(hours % 24) h"
  }
}
