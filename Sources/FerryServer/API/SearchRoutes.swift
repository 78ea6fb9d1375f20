import FerryCore
import FerryPolicy
import Foundation
import Hummingbird

/// `/api/v1/search` and `/api/v1/search/histogram`: the account's events in Ferry's query
/// language (docs/query-language.md), newest first, and their counts over time.
struct SearchRoutes {
  let store: any Store

  func add(to api: RouterGroup<FerryRequestContext>) {
    api.get("search", use: search)
    api.get("search/histogram", use: histogram)
  }

  /// The query and time range of a request: `q`, `from` (default 24h), `to` (default now).
  static func query(_ request: Request, limit: Int = 100) throws -> EventQuery {
    let parameters = request.uri.queryParameters
    return try query(
      q: parameters.get("q") ?? "", from: parameters.get("from"), to: parameters.get("to"),
      cursor: parameters.get("cursor"), limit: limit)
  }

  /// The query and time range from their texts (the web UI's search form too).
  static func query(q text: String, from: String?, to: String?, cursor: String?, limit: Int)
    throws -> EventQuery
  {
    let parsed: LogQuery
    do {
      parsed = try LogQuery.parse(text)
    } catch {
      throw APIProblem.badInput(
        field: "q", "\(error)",
        fix:
          "Write words, \"phrases\", field:value, AND, OR, NOT and ( ); the query language is described in docs/query-language.md."
      )
    }
    let now = Date()
    func time(_ name: String, _ value: String?, _ fallback: Date) throws -> Date {
      guard let value else { return fallback }
      guard let date = QueryTime.parse(value, now: now) else {
        throw APIProblem.badInput(
          field: name, "\"\(value)\" is not a time", fix: "For \(name), \(QueryTime.help).")
      }
      return date
    }
    let start = try time("from", from, now.addingTimeInterval(-86400))
    let end = try time("to", to, now)
    guard start < end else {
      throw APIProblem.badInput(
        field: "from", "the range starts at or after its end", fix: "Give a from earlier than to.")
    }
    return EventQuery(from: start, to: end, limit: limit, cursor: cursor, query: parsed)
  }

  @Sendable func search(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let caller = try context.requireCaller()
    let limit = try request.intQuery("limit", default: 100, range: 1...1000)
    let query = try Self.query(request, limit: limit)
    let page: EventPage
    do {
      page = try await StoreTimer.time("search") {
        try await store.search(query, of: caller.account.id)
      }
    } catch StoreError.rejected(let detail) where query.cursor != nil {
      throw APIProblem.badInput(field: "cursor", detail, fix: "Start again without a cursor.")
    }
    var fields: [(String, JSONValue)] = [
      ("from", JSONViews.date(query.from)), ("to", JSONViews.date(query.to)),
      ("events", .array(page.events.map(JSONViews.event))),
      ("nextCursor", JSONViews.optional(page.nextCursor)),
      ("problems", .array(page.problems.map(JSONValue.string))),
    ]
    if page.events.isEmpty, query.cursor == nil {
      let newest = try await Self.newestMatch(
        query, retentionDays: caller.account.retentionDays, store: store, of: caller.account.id)
      fields.append(("newestMatch", newest.map(JSONViews.date) ?? .null))
    }
    return JSONResponse.make(.object(fields))
  }

  /// When a range holds no match: the time of the newest event that matches the same query
  /// anywhere in the account's retention (one search of one event), so that an empty answer
  /// can say where the events are. Nil when none matches in the whole retention.
  static func newestMatch(
    _ query: EventQuery, retentionDays: Int, store: any Store, of account: AccountID,
    now: Date = Date()
  ) async throws -> Date? {
    var whole = query
    whole.from = now.addingTimeInterval(-Double(max(retentionDays, 1)) * 86400 - 3600)
    whole.to = now.addingTimeInterval(3600)
    whole.limit = 1
    whole.cursor = nil
    return try await store.search(whole, of: account).events.first?.time
  }

  @Sendable func histogram(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try context.requireCaller()
    let count = try request.intQuery("buckets", default: 60, range: 1...1000)
    let query = try Self.query(request)
    let seconds = max(1, Int((query.to.timeIntervalSince(query.from) / Double(count)).rounded(.up)))
    let buckets = try await StoreTimer.time("histogram") {
      try await store.histogram(query, of: caller.account.id, bucketSeconds: seconds)
    }
    return JSONResponse.make(
      .object([
        ("from", JSONViews.date(query.from)), ("to", JSONViews.date(query.to)),
        ("bucketSeconds", .number(Double(seconds))),
        (
          "buckets",
          .array(
            buckets.map {
              .object([("start", JSONViews.date($0.start)), ("count", .number(Double($0.count)))])
            })
        ),
      ]))
  }
}
