import FerryCore
import FerryIngest
import Foundation
import Hummingbird

/// The buckets page (connections and their fetchers, with state and ingest progress),
/// re-check, pause, resume, delete with a confirmation, and a fetcher's objects.
extension WebPages {
  func addBuckets(to web: RouterGroup<FerryRequestContext>) {
    web.get("buckets", use: buckets)
    web.get("buckets/progress", use: progress)
    web.post("connections/{id}/check", use: recheck)
    web.get("connections/{id}/delete", use: confirmConnectionDelete)
    web.post("connections/{id}/delete", use: deleteConnection)
    web.post("connections/{id}/fetchers", use: addFetcher)
    web.get("fetchers/{id}", use: fetcherPage)
    web.post("fetchers/{id}/pause", use: pause)
    web.post("fetchers/{id}/resume", use: resume)
    web.get("fetchers/{id}/delete", use: confirmFetcherDelete)
    web.post("fetchers/{id}/delete", use: deleteFetcher)
    web.post("fetchers/{id}/reprocess", use: reprocess)
  }

  /// A fetcher as the pages show it.
  static func fetcherData(_ f: Fetcher, connection: Connection?) -> [String: Any] {
    let s = f.status
    var data: [String: Any] = [
      "id": f.id, "name": f.name, "logType": f.logType, "enabled": f.enabled,
      "connectionId": f.connectionID,
      "state": !f.enabled
        ? "paused"
        : (s.limitedUntil.map { $0 > Date() } == true
          ? "limited" : (s.lastError == nil ? "running" : "retrying")),
      "objectsIngested": WebPage.count(s.objectsIngested),
      "objectsSeen": WebPage.count(
        s.objectsIngested + (s.objectsFailed ?? 0) + (s.objectsPending ?? 0)),
      "objectsFailed": WebPage.count(s.objectsFailed ?? 0),
      "hasFailed": (s.objectsFailed ?? 0) > 0,
      "objectsPending": WebPage.count(s.objectsPending ?? 0),
      "events": WebPage.count(s.eventsIngested),
      "bytes": WebPage.bytes(s.bytesIngested ?? 0),
      "lastRun": WebPage.time(s.lastRunAt),
      "lag": s.lagSeconds.map(WebPage.duration) ?? "none",
      "stateBytes": WebPage.bytes(Int64(s.ledgerBytes ?? 0)),
      "eventsToday": WebPage.count(DailyLimit.today(s, now: Date())),
    ]
    if let until = s.limitedUntil, until > Date() { data["limitedUntil"] = WebPage.time(until) }
    if let multiline = f.multilineStart { data["multilineStart"] = multiline }
    if let error = s.lastError { data["lastError"] = error }
    if let connection { data["location"] = "s3://\(connection.bucket)/\(connection.prefix)" }
    return data
  }

  func bucketsData(_ caller: Caller) async throws -> [String: Any] {
    let account = caller.account.id
    let connections = try await store.connections(of: account)
    let statuses = try await store.connectionStatuses(of: account)
    let fetchers = try await store.fetchers(of: account)
    let rows: [[String: Any]] = connections.map { c in
      let status = statuses.first { $0.connectionID == c.id }
      var row: [String: Any] = [
        "id": c.id, "purpose": c.purpose.rawValue, "isFetch": c.purpose == .fetcher,
        "location": "s3://\(c.bucket)/\(c.prefix)", "region": c.region, "roleArn": c.roleARN,
        "state": (status?.state ?? .unchecked).rawValue,
        "failing": status?.state == .failing, "legacy": c.usesLegacyExternalID,
      ]
      if let check = status?.lastCheck { row["check"] = CheckView.data(check) }
      let own = fetchers.filter { $0.connectionID == c.id }
      row["fetchers"] = own.map { Self.fetcherData($0, connection: c) }
      row["needsFetcher"] = c.purpose == .fetcher && own.isEmpty
      return row
    }
    return [
      "connections": rows, "empty": rows.isEmpty,
      "fetchers": fetchers.map { f in
        Self.fetcherData(f, connection: connections.first { $0.id == f.connectionID })
      },
      "noFetchers": fetchers.isEmpty,
      "logTypes": FerryIngest.LogFormat.choices.map { ["value": $0, "selected": $0 == "auto"] },
    ]
  }

  @Sendable func buckets(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try caller(context)
    var data = try await bucketsData(caller)
    return try pages.page(
      "buckets", title: "Buckets", context: context, data: data, section: .buckets)
  }

  /// The fetchers' table alone, which the page's script fetches every few seconds.
  @Sendable func progress(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try caller(context)
    var data = try await bucketsData(caller)
    data["isAdmin"] = caller.isAdmin
    if let secret = context.sessionSecret { data["csrf"] = CSRF.token(forSession: secret) }
    return pages.html(try pages.render("fetcher-rows", data))
  }

  func ownedConnection(_ context: FerryRequestContext) async throws -> (Caller, Connection) {
    try await connections.owned(context)
  }

  @Sendable func recheck(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let (caller, connection) = try await ownedConnection(context)
    try caller.requireAdmin()
    let form = try await WebForm.read(request, context: context)
    let check = try await connections.checker.check(connection, of: caller.account)
    _ = try await store.recordConnectionCheck(check, of: caller.account.id)
    let notice =
      check.succeeded
      ? "Every check of s3://\(connection.bucket)/\(connection.prefix) passed."
      : "The check of s3://\(connection.bucket)/\(connection.prefix) failed: see its diagnosis on the Buckets page."
    return WebRequestMiddleware.redirect(to: Self.back(form.value("back")), notice: (notice))
  }

  static func query(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
  }

  @Sendable func confirmConnectionDelete(_ request: Request, context: FerryRequestContext)
    async throws -> Response
  {
    let (caller, connection) = try await ownedConnection(context)
    try caller.requireAdmin()
    let users = try await store.fetchers(of: caller.account.id).filter {
      $0.connectionID == connection.id
    }
    return try DeleteConfirmation(
      title: "Delete a connection",
      what: "the connection to s3://\(connection.bucket)/\(connection.prefix)",
      action: "/connections/\(connection.id)/delete",
      consequences: [
        "Ferry forgets the role \(connection.roleARN) and stops using it.",
        "Nothing changes in your AWS account: delete the role there if nothing else uses it.",
        "Events already ingested stay searchable until the account's retention removes them.",
      ],
      blockers: users.map { "fetcher \($0.name)" }
    ).page(pages, context: context, section: .buckets)
  }

  @Sendable func deleteConnection(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let (caller, connection) = try await ownedConnection(context)
    try caller.requireAdmin()
    _ = try await store.removeConnection(connection.id, of: caller.account.id, actor: caller.actor)
    return WebRequestMiddleware.redirect(
      to: "/buckets",
      notice: ("Deleted the connection to s3://\(connection.bucket)/\(connection.prefix)."))
  }

  @Sendable func addFetcher(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let (caller, connection) = try await ownedConnection(context)
    let form = try await WebForm.read(request, context: context)
    var pairs = [
      ("connectionId", connection.id), ("name", form.value("name") ?? connection.bucket),
      ("logType", form.value("logType") ?? "auto"),
    ]
    if let multiline = form.value("multilineStart"), !multiline.isEmpty {
      pairs.append(("multilineStart", multiline))
    }
    let body = WebForm(pairs: pairs).body(known: [
      "connectionId", "name", "logType", "multilineStart",
    ])
    let fetcher = try await fetchers.createFetcher(body, caller: caller)
    return WebRequestMiddleware.redirect(to: "/fetchers/\(fetcher.id)")
  }

  func ownedFetcher(_ context: FerryRequestContext) async throws -> (Caller, Fetcher) {
    try await fetchers.owned(context)
  }

  @Sendable func fetcherPage(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let (caller, fetcher) = try await ownedFetcher(context)
    let parameters = request.formQuery
    var state: LedgerState?
    if let text = parameters.get("state"), !text.isEmpty {
      guard let parsed = LedgerState(rawValue: text) else {
        throw APIProblem.badInput(
          field: "state", "\"\(text)\" is not a state", fix: "Choose pending, ingested or failed.")
      }
      state = parsed
    }
    let after = parameters.get("after")
    let limit = 100
    let rows = try await store.ledger(
      of: caller.account.id, fetcherID: fetcher.id, state: state, afterKey: after,
      limit: limit + 1)
    let page = Array(rows.prefix(limit))
    let connection = try await store.connection(fetcher.connectionID, of: caller.account.id)
    var data: [String: Any] = [
      "fetcher": Self.fetcherData(fetcher, connection: connection),
      "objects": page.map { e in
        var row: [String: Any] = [
          "key": e.key, "size": WebPage.bytes(e.size), "state": e.state.rawValue,
          "events": WebPage.count(e.events), "updated": WebPage.time(e.updatedAt),
          "attempts": e.attempts, "failed": e.state == .failed,
        ]
        if let error = e.error { row["error"] = error }
        return row
      },
      "noObjects": page.isEmpty,
      "states": [("", "every state")].map {
        ["value": $0.0, "label": $0.1, "selected": state == nil] as [String: Any]
      }
        + LedgerState.allCases.map {
          ["value": $0.rawValue, "label": $0.rawValue, "selected": $0 == state] as [String: Any]
        },
    ]
    if rows.count > limit, let last = page.last {
      data["next"] =
        "/fetchers/\(fetcher.id)?state=\(state?.rawValue ?? "")&after=" + Self.query(last.key)
    }
    return try pages.page(
      "fetcher", title: "Fetcher \(fetcher.name)", context: context, data: data, section: .buckets)
  }

  @Sendable func pause(_ request: Request, context: FerryRequestContext) async throws -> Response {
    try await setEnabled(false, request, context)
  }

  @Sendable func resume(_ request: Request, context: FerryRequestContext) async throws -> Response {
    try await setEnabled(true, request, context)
  }

  func setEnabled(_ enabled: Bool, _ request: Request, _ context: FerryRequestContext)
    async throws -> Response
  {
    let (caller, fetcher) = try await ownedFetcher(context)
    let form = try await WebForm.read(request, context: context)
    _ = try await fetchers.setEnabled(enabled, fetcher, caller: caller)
    return WebRequestMiddleware.redirect(
      to: Self.back(form.value("back")),
      notice: ("\(enabled ? "Resumed" : "Paused") fetcher \(fetcher.name)."))
  }

  /// Where a form of the buckets' controls goes back to: a fetcher's page when it came from
  /// one (only such a path: no redirect elsewhere), the Buckets page otherwise.
  static func back(_ path: String?) -> String {
    guard let path, path.hasPrefix("/fetchers/"),
      path.dropFirst("/fetchers/".count).allSatisfy({
        $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_")
      }), path.count > "/fetchers/".count
    else { return "/buckets" }
    return path
  }

  @Sendable func confirmFetcherDelete(_ request: Request, context: FerryRequestContext)
    async throws -> Response
  {
    let (caller, fetcher) = try await ownedFetcher(context)
    try caller.requireAdmin()
    return try DeleteConfirmation(
      title: "Delete a fetcher", what: "the fetcher \(fetcher.name)",
      action: "/fetchers/\(fetcher.id)/delete",
      consequences: [
        "Ferry stops fetching new objects for it and forgets its ledger (which objects it read).",
        "Events already ingested stay searchable until the account's retention removes them.",
        "A new fetcher on the same bucket would read every object again.",
      ]
    ).page(pages, context: context, section: .buckets)
  }

  @Sendable func deleteFetcher(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let (caller, fetcher) = try await ownedFetcher(context)
    try caller.requireAdmin()
    _ = try await store.removeFetcher(fetcher.id, of: caller.account.id, actor: caller.actor)
    return WebRequestMiddleware.redirect(
      to: "/buckets", notice: ("Deleted fetcher \(fetcher.name)."))
  }

  @Sendable func reprocess(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let (caller, fetcher) = try await ownedFetcher(context)
    try caller.requireAdmin()
    let form = try await WebForm.read(request, context: context)
    guard let key = form.pairs.first(where: { $0.name == "key" })?.value, !key.isEmpty else {
      throw APIProblem.badInput(field: "key", "is required", fix: "Choose an object to read again.")
    }
    let count =
      try await store.reprocess(
        fetcherID: fetcher.id, keys: key...key, of: caller.account.id, actor: caller.actor) ?? 0
    return WebRequestMiddleware.redirect(
      to: "/fetchers/\(fetcher.id)",
      notice: ("\(key) will be read again (\(count) object\(count == 1 ? "" : "s")) at the fetcher's next pass.")
    )
  }
}
