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

  /// The time ranges one click away: from 15 minutes to the account's retention.
  static func presets(retentionDays: Int) -> [(String, String)] {
    let all = [
      ("15m", "15 minutes", 0), ("1h", "1 hour", 0), ("4h", "4 hours", 0),
      ("24h", "24 hours", 1), ("7d", "7 days", 7), ("14d", "14 days", 14),
      ("30d", "30 days", 30), ("90d", "90 days", 90), ("365d", "365 days", 365),
    ]
    var presets = all.filter { $0.2 <= retentionDays }.map { ($0.0, $0.1) }
    if !all.contains(where: { $0.2 == retentionDays }) {
      presets.append(("\(retentionDays)d", "\(retentionDays) days (all kept)"))
    }
    return presets
  }

  @Sendable func search(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try caller(context)
    let parameters = request.formQuery
    let q = parameters.get("q") ?? ""
    let from = parameters.get("from") ?? "24h"
    let to = parameters.get("to") ?? "now"
    // Columns chosen (kept in the URL, so a search with its columns can be shared); every
    // link of the page carries them.
    let colsParam = parameters.get("cols")
    let keep = colsParam.map { "&cols=\(Self.query($0))" } ?? ""
    var data: [String: Any] = [
      "q": q, "from": from, "to": to,
      "presets": Self.presets(retentionDays: caller.account.retentionDays).map { value, label in
        [
          "label": label, "current": value == from && to == "now",
          "href": "/search?q=\(Self.query(q))&from=\(value)&to=now\(keep)",
        ] as [String: Any]
      },
    ]
    if let colsParam { data["colsParam"] = colsParam }
    do {
      let query = try SearchRoutes.query(
        q: q, from: from, to: to, cursor: parameters.get("cursor"), limit: 50)
      let fetchers = try await store.fetchers(of: caller.account.id)
      let page = try await store.search(query, of: caller.account.id)
      let columns =
        colsParam.map(SearchColumns.parse) ?? SearchColumns.defaults(for: page.events)
      data["columns"] = columns
      data["columnsClass"] = "cols-\(columns.count)"
      data["events"] = page.events.map {
        Self.eventData(
          $0, fetchers: fetchers, q: q, from: from, to: to, keep: keep, columns: columns)
      }
      data["searched"] = true
      if !page.events.isEmpty { data["hasEvents"] = true }
      if page.events.isEmpty {
        var empty: [String: Any] = [
          "from": WebPage.time(query.from), "to": WebPage.time(query.to),
          "retention": caller.account.retentionDays,
        ]
        if !fetchers.isEmpty, parameters.get("cursor") == nil {
          if let newest = try await SearchRoutes.newestMatch(
            query, retentionDays: caller.account.retentionDays, store: store,
            of: caller.account.id)
          {
            let around = ISO8601DateFormatter()
            empty["newest"] = [
              "time": WebPage.time(newest),
              "href":
                "/search?q=\(Self.query(q))&from=\(Self.query(around.string(from: newest.addingTimeInterval(-3600))))&to=\(Self.query(around.string(from: newest.addingTimeInterval(60))))\(keep)",
            ]
          } else {
            empty["noneKept"] = true
          }
        }
        data["noEvents"] = empty
      }
      data["problems"] = page.problems
      if let next = page.nextCursor {
        data["older"] =
          "/search?q=\(Self.query(q))&from=\(Self.query(from))&to=\(Self.query(to))&cursor=\(Self.query(next))\(keep)"
      }
      var levels: [String] = []
      if !page.events.isEmpty {
        // The facets, from the newest matches (the page's own when they are all there).
        var sample = query
        sample.cursor = nil
        sample.limit = SearchFacets.sampleSize
        let sampled =
          parameters.get("cursor") == nil && page.nextCursor == nil
          ? page.events : try await store.search(sample, of: caller.account.id).events
        let facets = SearchFacets.data(
          sampled, q: q, from: from, to: to, keep: keep, columns: columns)
        levels = SearchFacets.levels(sampled)
        if !facets.isEmpty {
          data["facets"] = facets
          data["hasFacets"] = true
          if sampled.count >= SearchFacets.sampleSize {
            data["facetsSampled"] = Quantity.count(sampled.count)
          }
        }
      }
      data["histogram"] = try await histogramData(
        query, q: q, keep: keep, levels: levels, caller: caller)
      data["noFetchers"] = fetchers.isEmpty
    } catch let problem as APIProblem {
      // In the form's words: no parameter name, no file path.
      let detail = Self.detail(problem)
      if problem.field == "q" {
        data["queryError"] = ["detail": detail]
      } else {
        var shown = WebPage.problem(problem)
        shown["detail"] = detail
        shown["fix"] = problem.fix.map { $0.replacingOccurrences(of: "For from, ", with: "") }
          .map { $0.replacingOccurrences(of: "For to, ", with: "") }.map(Self.capitalized)
        data["queryProblem"] = shown
      }
    }
    return try pages.page(
      "search", title: q.isEmpty ? "Search" : "Search: \(q)", context: context, data: data,
      section: .search)
  }

  /// A problem's detail as the form names things: `From`, `To`, the query.
  static func detail(_ problem: APIProblem) -> String {
    guard let field = problem.field, problem.detail.hasPrefix(field + ": ") else {
      return problem.detail
    }
    let rest = String(problem.detail.dropFirst(field.count + 2))
    switch field {
    case "from": return "From: " + rest
    case "to": return "To: " + rest
    default: return capitalized(rest)
    }
  }

  static func capitalized(_ text: String) -> String {
    text.prefix(1).uppercased() + text.dropFirst()
  }

  static func eventData(
    _ event: Event, fetchers: [Fetcher], q: String, from: String, to: String, keep: String,
    columns: [String]
  ) -> [String: Any] {
    let short = event.message.count > 300 ? String(event.message.prefix(300)) + "…" : event.message
    let pretty = JSONHighlight.pieces(event.message)
    return [
      "time": WebPage.time(event.time), "datetime": WebPage.machineTime(event.time),
      "logType": event.logType, "summary": short, "message": event.message,
      "fields": event.fields.sorted { $0.key < $1.key }.map { field -> [String: Any] in
        var row: [String: Any] = ["name": field.key, "value": field.value]
        // Filter on this value: the query and field:"value".
        if field.key.allSatisfy({ !$0.isWhitespace && $0 != "(" && $0 != ")" && $0 != ":" }) {
          let term = "\(field.key):\"\(SearchFacets.escaped(field.value))\""
          row["filter"] = SearchFacets.link(
            q.isEmpty ? term : "\(q) \(term)", from: from, to: to, keep: keep)
        }
        return row
      },
      "hasFields": !event.fields.isEmpty,
      "cells": columns.map { ["name": $0, "value": event.fields[$0] ?? "—"] },
      // A JSON message indented, its pieces coloured by kind.
      "pretty": pretty?.map { ["kind": $0.kind, "text": $0.text] } ?? [],
      "hasPretty": pretty != nil,
      "fetcher": fetchers.first { $0.id == event.fetcherID }?.name ?? event.fetcherID,
      "key": event.sourceKey, "offset": event.sourceOffset,
    ]
  }

  /// Round bar widths: the histogram takes the smallest that gives at most 60 bars.
  static let roundIntervals = [
    60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172_800, 604_800,
  ]

  /// The histogram's bars, in a 600×120 box, each as wide as a round interval and stacked by
  /// `level` (its most common values, from the facets' sample; the rest as "other"); each
  /// bar links to its own time range. Empty intervals stay empty.
  func histogramData(
    _ query: EventQuery, q: String, keep: String, levels: [String] = [], caller: Caller
  ) async throws -> [String: Any] {
    let span = query.to.timeIntervalSince(query.from)
    let seconds =
      Self.roundIntervals.first { Double($0) * 60 >= span }
      ?? max(1, Int((span / 60).rounded(.up)))
    let buckets = try await store.histogram(query, of: caller.account.id, bucketSeconds: seconds)
    // One count per level value and bucket (a bounded number of histograms: at most 5).
    var byLevel: [[Int]] = []
    for level in levels.prefix(5) {
      var part = query
      part.query = .and([query.query ?? .all, .field("level", .equals(level.lowercased()))])
      let counts = try await store.histogram(part, of: caller.account.id, bucketSeconds: seconds)
      byLevel.append(buckets.map { b in counts.first { $0.start == b.start }?.count ?? 0 })
    }
    let highest = max(1, buckets.map(\.count).max() ?? 0)
    let total = buckets.reduce(0) { $0 + $1.count }
    let width = 600.0
    let height = 120.0
    let slot = width * Double(seconds) / max(span, 1)
    var bars: [[String: Any]] = []
    for (n, b) in buckets.enumerated() where b.count > 0 {
      let x = width * b.start.timeIntervalSince(query.from) / max(span, 1)
      let end = b.start.addingTimeInterval(Double(seconds))
      // The stack, bottom up: each level's part, then what is left.
      var parts: [(String, Int)] = levels.prefix(5).enumerated().map {
        ("lvl-\($0.offset)", byLevel[$0.offset][n])
      }
      let known = parts.reduce(0) { $0 + $1.1 }
      parts.append(("lvl-other", max(0, b.count - known)))
      var bottom = height
      var rects: [[String: Any]] = []
      for (kind, count) in parts where count > 0 {
        let h = max(0.5, height * Double(count) / Double(highest))
        bottom -= h
        rects.append([
          "kind": kind, "y": String(format: "%.2f", max(0, bottom)), "h": String(format: "%.2f", h),
        ])
      }
      let detail = zip(levels.prefix(5), byLevel.map { $0[n] }).filter { $0.1 > 0 }
        .map { "\(WebPage.count($0.1)) \($0.0)" }.joined(separator: ", ")
      bars.append([
        "x": String(format: "%.2f", max(0, x)), "w": String(format: "%.2f", max(1, slot - 1)),
        "rects": rects,
        "label":
          "\(WebPage.count(b.count)) events from \(WebPage.time(b.start))"
          + (detail.isEmpty ? "" : " (\(detail))"),
        "href":
          "/search?q=\(Self.query(q))&from=\(Self.query(WebPage.machineTime(b.start)))&to=\(Self.query(WebPage.machineTime(end)))\(keep)",
      ])
    }
    var data: [String: Any] = [
      "bars": bars, "total": WebPage.count(total), "highest": WebPage.count(highest),
      "from": WebPage.time(query.from), "to": WebPage.time(query.to),
      "bucket": WebPage.duration(Double(seconds)),
    ]
    if !levels.isEmpty {
      data["legend"] =
        levels.prefix(5).enumerated().map { ["kind": "lvl-\($0.offset)", "label": $0.element] }
        + [["kind": "lvl-other", "label": "other"]]
    }
    return data
  }
}
