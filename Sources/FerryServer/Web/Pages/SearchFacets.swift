import FerryCore
import Foundation

/// The Search page's facets: the fields of the matching events with their most common
/// values and counts, each value a link that adds `field:"value"` to the query (or, the
/// second link, `-field:"value"`). Counted over the newest matches only (a sample of at
/// most ``sampleSize``), so that a page costs one bounded search more whatever the range.
enum SearchFacets {
  static let sampleSize = 1_000
  static let maxFields = 10
  static let maxValues = 5

  struct Value {
    var shown: String
    var count: Int
  }

  /// The facets of `events`, most present fields first. A field whose values are all
  /// different (an ID) is left out: it has no common value to filter on.
  static func data(
    _ events: [Event], q: String, from: String, to: String, keep: String, columns: [String]
  ) -> [[String: Any]] {
    var present: [String: Int] = [:]
    var values: [String: [String: Value]] = [:]
    for event in events {
      for (name, value) in event.fields {
        present[name, default: 0] += 1
        let key = value.lowercased()  // the query compares values in any case
        values[name, default: [:]][key, default: Value(shown: value, count: 0)].count += 1
      }
    }
    let fields = present.keys.filter { name in
      guard let count = present[name], let distinct = values[name]?.count else { return false }
      return name.allSatisfy { !$0.isWhitespace && $0 != "(" && $0 != ")" && $0 != ":" }
        && !(distinct == count && count > 3)
    }.sorted { (present[$0] ?? 0, $1) > (present[$1] ?? 0, $0) }
    return fields.prefix(maxFields).map { name in
      let top = (values[name] ?? [:]).values.sorted { ($0.count, $1.shown) > ($1.count, $0.shown) }
        .prefix(maxValues)
      // A link that shows the field as a column, or stops showing it.
      let shown = columns.contains(name)
      let toggled = shown ? columns.filter { $0 != name } : columns + [name]
      return [
        "name": name, "shown": shown,
        "column":
          "/search?q=\(WebPages.query(q))&from=\(WebPages.query(from))&to=\(WebPages.query(to))&cols=\(WebPages.query(toggled.joined(separator: ",")))",
        "values": top.map { value -> [String: Any] in
          let term = "\(name):\"\(escaped(value.shown))\""
          return [
            "value": value.shown.isEmpty ? "(empty)" : value.shown,
            "count": Quantity.count(value.count),
            "include": link(q.isEmpty ? term : "\(q) \(term)", from: from, to: to, keep: keep),
            "exclude": link(
              q.isEmpty ? "-\(term)" : "\(q) -\(term)", from: from, to: to, keep: keep),
          ]
        },
      ]
    }
  }

  /// The most common values of `level` among `events` (at most 5, as written most often),
  /// for the histogram's stacks; none when no event has a level.
  static func levels(_ events: [Event]) -> [String] {
    var counts: [String: Value] = [:]
    for event in events {
      guard let level = event.fields["level"], !level.isEmpty else { continue }
      counts[level.lowercased(), default: Value(shown: level, count: 0)].count += 1
    }
    return counts.values.sorted { ($0.count, $1.shown) > ($1.count, $0.shown) }.prefix(5)
      .map(\.shown)
  }

  /// A value inside the query language's quotes: `\` and `"` escaped.
  static func escaped(_ value: String) -> String {
    value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
  }

  static func link(_ q: String, from: String, to: String, keep: String) -> String {
    "/search?q=\(WebPages.query(q))&from=\(WebPages.query(from))&to=\(WebPages.query(to))\(keep)"
  }
}
