import FerryCore
import FerryIngest
import FerryPolicy
import Foundation
import Hummingbird

/// `/api/v1/fetchers`: a fetcher is a fetch connection, a log type and how often to look
/// for new objects. Admins create, pause, resume and delete them; everyone in the account
/// sees them with their progress.
struct FetcherRoutes {
  let store: any Store

  func add(to api: RouterGroup<FerryRequestContext>) {
    api.get("fetchers", use: list)
    api.post("fetchers", use: create)
    api.get("fetchers/{id}", use: show)
    api.delete("fetchers/{id}", use: remove)
    api.post("fetchers/{id}/pause", use: pause)
    api.post("fetchers/{id}/resume", use: resume)
    api.get("fetchers/{id}/objects", use: objects)
    api.post("fetchers/{id}/reprocess", use: reprocess)
  }

  /// The fetcher's ledger: each object version, its state, events and error.
  @Sendable func objects(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let (caller, fetcher) = try await owned(context)
    let limit = try request.intQuery("limit", default: 100, range: 1...1000)
    let parameters = request.uri.queryParameters
    var state: LedgerState?
    if let text = parameters.get("state") {
      guard let parsed = LedgerState(rawValue: text) else {
        throw APIProblem.badInput(
          field: "state", "\"\(text)\" is not a state",
          fix: "Use pending, ingested or failed, or leave it out for all.")
      }
      state = parsed
    }
    let after = parameters.get("after")
    // One more than asked, to know whether another page follows.
    let rows = try await StoreTimer.time("ledger") {
      try await store.ledger(
        of: caller.account.id, fetcherID: fetcher.id, state: state, afterKey: after,
        limit: min(limit + 1, 1000))
    }
    let page = Array(rows.prefix(limit))
    return JSONResponse.make(
      .object([
        ("objects", .array(page.map(JSONViews.ledgerEntry))),
        ("nextAfter", rows.count > limit ? JSONViews.optional(page.last?.key) : .null),
      ]))
  }

  /// Reads objects again: one key, or every key from `fromKey` to `toKey`.
  @Sendable func reprocess(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let (caller, fetcher) = try await owned(context)
    try caller.requireAdmin()
    let body = try await RequestBody.read(
      request, context: context, known: ["key", "fromKey", "toKey"])
    let keys: ClosedRange<String>
    switch (try body.string("key"), try body.string("fromKey"), try body.string("toKey")) {
    case (let key?, nil, nil): keys = key...key
    case (nil, let from?, let to?) where from <= to: keys = from...to
    case (nil, .some, .some):
      throw APIProblem.badInput(
        field: "fromKey", "the range starts after its end", fix: "Give a fromKey before toKey.")
    default:
      throw APIProblem.badInput(
        field: "key", "give either key, or both fromKey and toKey",
        fix:
          "For one object: {\"key\": \"logs/a.json.gz\"}; for a range: {\"fromKey\": ..., \"toKey\": ...}."
      )
    }
    guard
      let count = try await store.reprocess(
        fetcherID: fetcher.id, keys: keys, of: caller.account.id, actor: caller.actor)
    else { throw APIProblem.notFound("fetcher", fetcher.id) }
    return JSONResponse.make(.object([("objects", .number(Double(count)))]))
  }

  @Sendable func list(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let caller = try context.requireCaller()
    let fetchers = try await StoreTimer.time("fetchers") {
      try await store.fetchers(of: caller.account.id)
    }
    return JSONResponse.make(JSONViews.list("fetchers", fetchers.map(JSONViews.fetcher)))
  }

  /// The fields a new fetcher reads.
  static let fetcherFields: Set<String> = [
    "connectionId", "name", "logType", "pollIntervalSeconds", "queueUrl", "multilineStart",
    "allowDuplicate",
  ]

  /// Adds the fetcher `body` describes (admins only; audited).
  func createFetcher(_ body: RequestBody, caller: Caller) async throws -> Fetcher {
    try caller.requireAdmin()
    let queueURL: String?
    do {
      queueURL = try (try body.string("queueUrl")).map { try QueueURL.validate($0) }
    } catch let error as InputError {
      throw APIProblem.badInput(error)
    }
    let logType = try body.string("logType") ?? "auto"
    guard FerryIngest.LogFormat.choices.contains(logType) else {
      throw APIProblem.badInput(
        field: "logType",
        "\"\(logType)\" is not a log type Ferry reads; it reads \(FerryIngest.LogFormat.choices.joined(separator: ", "))",
        fix: "Use auto to tell the format from each object's content.")
    }
    let multilineStart = try body.string("multilineStart")
    if let multilineStart {
      guard logType == "text" || logType == "auto" else {
        throw APIProblem.badInput(
          field: "multilineStart",
          "a multiline start pattern joins the lines of text logs; \(logType) records have their own boundaries",
          fix: "Use logType text (or auto), or leave multilineStart out.")
      }
      do {
        _ = try MultilineStart(multilineStart)
      } catch {
        throw APIProblem.badInput(
          field: "multilineStart", error.description,
          fix:
            "Give a regular expression that matches the first line of each event, e.g. ^\\d{4}-\\d{2}-\\d{2} for lines that start with a date."
        )
      }
    }
    let connectionID = try body.requiredString("connectionId", example: "con_0123456789abcdef")
    let name = try body.requiredString("name", example: "cloudtrail-main")
    let fetcher = Fetcher(
      accountID: caller.account.id, connectionID: connectionID, name: name, logType: logType,
      queueURL: queueURL, multilineStart: multilineStart,
      pollInterval: try body.int("pollIntervalSeconds", range: 10...86_400) ?? 300)
    guard try await store.connection(connectionID, of: caller.account.id) != nil else {
      throw APIProblem.badInput(
        field: "connectionId", "there is no connection \(connectionID) in this account",
        fix:
          "List the account's connections with GET /api/v1/connections (or ferry connection list).")
    }
    if try body.bool("allowDuplicate") != true,
      let existing = try await store.fetchers(of: caller.account.id).first(where: {
        $0.connectionID == connectionID
      })
    {
      throw APIProblem.duplicate(
        "fetcher", existing: existing.id,
        detail:
          "fetcher \(existing.id) (\(existing.name)) already reads connection \(connectionID): a second one would store every event once more",
        fix:
          "Use \(existing.id) (change it rather than adding one); to add a second one anyway, send allowDuplicate: true (ferry fetcher create --allow-duplicate)."
      )
    }
    try await StoreTimer.time("addFetcher") {
      try await store.addFetcher(fetcher, of: caller.account.id, actor: caller.actor)
    }
    return fetcher
  }

  @Sendable func create(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let caller = try context.requireCaller()
    try caller.requireAdmin()
    let body = try await RequestBody.read(request, context: context, known: Self.fetcherFields)
    let fetcher = try await createFetcher(body, caller: caller)
    var response = JSONResponse.make(JSONViews.fetcher(fetcher), status: .created)
    response.headers[.location] = "/api/v1/fetchers/\(fetcher.id)"
    return response
  }

  func owned(_ context: FerryRequestContext) async throws -> (Caller, Fetcher) {
    let caller = try context.requireCaller()
    let id = context.parameters.get("id") ?? ""
    guard
      let fetcher = try await store.fetchers(of: caller.account.id).first(where: { $0.id == id })
    else { throw APIProblem.notFound("fetcher", id) }
    return (caller, fetcher)
  }

  @Sendable func show(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let (_, fetcher) = try await owned(context)
    return JSONResponse.make(JSONViews.fetcher(fetcher))
  }

  @Sendable func remove(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let (caller, fetcher) = try await owned(context)
    try caller.requireAdmin()
    _ = try await store.removeFetcher(fetcher.id, of: caller.account.id, actor: caller.actor)
    return Response(status: .noContent)
  }

  @Sendable func pause(_ request: Request, context: FerryRequestContext) async throws -> Response {
    try await setEnabled(false, context)
  }

  @Sendable func resume(_ request: Request, context: FerryRequestContext) async throws -> Response {
    try await setEnabled(true, context)
  }

  func setEnabled(_ enabled: Bool, _ context: FerryRequestContext) async throws -> Response {
    let (caller, fetcher) = try await owned(context)
    return JSONResponse.make(
      JSONViews.fetcher(try await setEnabled(enabled, fetcher, caller: caller)))
  }

  /// Pauses or resumes a fetcher (admins only; audited when it changes).
  func setEnabled(_ enabled: Bool, _ fetcher: Fetcher, caller: Caller) async throws -> Fetcher {
    try caller.requireAdmin()
    var changed = fetcher
    changed.enabled = enabled
    if fetcher.enabled != enabled {
      _ = try await store.updateFetcher(changed, of: caller.account.id, actor: caller.actor)
    }
    return changed
  }
}
