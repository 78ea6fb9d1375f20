import FerryCore
import Foundation
import Hummingbird

/// Search: a time range, a query in Ferry's query language, the matching events newest
/// first (each expands to its fields) and a histogram of them over time, drawn by Ferry as
/// SVG. The URL holds the query, so a search can be shared.
extension WebPages {
  func addSearch(to web: RouterGroup<FerryRequestContext>) {
    web.get("search", use: search)
  }

  /// The time ranges one click away.
  static let presets = [
    ("15m", "15 minutes"), ("1h", "1 hour"), ("24h", "24 hours"), ("7d", "7 days"),
  ]

  @Sendable func search(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try caller(context)
    let parameters = request.uri.queryParameters
    let q = parameters.get("q") ?? ""
    let from = parameters.get("from") ?? "24h"
    let to = parameters.get("to") ?? "now"
    var data: [String: Any] = [
      "q": q, "from": from, "to": to,
      "presets": Self.presets.map { value, label in
        [
          "label": label, "current": value == from && to == "now",
          "href": "/search?q=\(Self.query(q))&from=\(value)&to=now",
        ] as [String: Any]
      },
    ]
    do {
      let query = try SearchRoutes.query(
        q: q, from: from, to: to, cursor: parameters.get("cursor"), limit: 50)
      let fetchers = try await store.fetchers(of: caller.account.id)
      let page = try await store.search(query, of: caller.account.id)
      data["events"] = page.events.map { Self.eventData($0, fetchers: fetchers) }
      data["searched"] = true
      data["noEvents"] = page.events.isEmpty
      data["problems"] = page.problems
      if let next = page.nextCursor {
        data["older"] =
          "/search?q=\(Self.query(q))&from=\(Self.query(from))&to=\(Self.query(to))&cursor=\(Self.query(next))"
      }
      data["histogram"] = try await histogramData(query, q: q, caller: caller)
      data["noFetchers"] = fetchers.isEmpty
    } catch let problem as APIProblem {
      data["queryProblem"] = WebPage.problem(problem)
    }
    return try pages.page(
      "search", title: q.isEmpty ? "Search" : "Search: \(q)", context: context, data: data,
      section: .search)
  }

  static func eventData(_ event: Event, fetchers: [Fetcher]) -> [String: Any] {
    let short = event.message.count > 300 ? String(event.message.prefix(300)) + "…" : event.message
    return [
      "time": WebPage.time(event.time), "datetime": WebPage.machineTime(event.time),
      "logType": event.logType, "summary": short, "message": event.message,
      "fields": event.fields.sorted { $0.key < $1.key }.map {
        ["name": $0.key, "value": $0.value]
      },
      "hasFields": !event.fields.isEmpty,
      "fetcher": fetchers.first { $0.id == event.fetcherID }?.name ?? event.fetcherID,
      "key": event.sourceKey, "offset": event.sourceOffset,
    ]
  }

  /// The histogram's bars, in a 600×120 box; each bar links to its own time range.
  func histogramData(_ query: EventQuery, q: String, caller: Caller) async throws
    -> [String: Any]
  {
    let count = 60
    let span = query.to.timeIntervalSince(query.from)
    let seconds = max(1, Int((span / Double(count)).rounded(.up)))
    let buckets = try await store.histogram(query, of: caller.account.id, bucketSeconds: seconds)
    let highest = max(1, buckets.map(\.count).max() ?? 0)
    let total = buckets.reduce(0) { $0 + $1.count }
    let width = 600.0
    let height = 120.0
    let slot = width * Double(seconds) / max(span, 1)
    let bars: [[String: Any]] = buckets.filter { $0.count > 0 }.map { b in
      let x = width * b.start.timeIntervalSince(query.from) / max(span, 1)
      let h = max(1, height * Double(b.count) / Double(highest))
      let end = b.start.addingTimeInterval(Double(seconds))
      return [
        "x": String(format: "%.2f", max(0, x)), "y": String(format: "%.2f", height - h),
        "w": String(format: "%.2f", max(1, slot - 1)), "h": String(format: "%.2f", h),
        "label": "\(WebPage.count(b.count)) events from \(WebPage.time(b.start))",
        "href":
          "/search?q=\(Self.query(q))&from=\(Self.query(WebPage.machineTime(b.start)))&to=\(Self.query(WebPage.machineTime(end)))",
      ]
    }
    return [
      "bars": bars, "total": WebPage.count(total), "highest": WebPage.count(highest),
      "from": WebPage.time(query.from), "to": WebPage.time(query.to),
      "bucket": WebPage.duration(Double(seconds)),
    ]
  }
}
