import FerryArchive
import FerryCore
import FerryPolicy
import Foundation
import Hummingbird

/// The archives page (archives with their progress, restores, and the forms to add an
/// archive and to price and start a restore) and a restore's own page (progress, the
/// objects it could not read, pause, resume, cancel, keep). The forms run the API's own
/// checks (``ArchiveRoutes``, ``RestoreRoutes``).
extension WebPages {
  func addArchives(to web: RouterGroup<FerryRequestContext>) {
    web.get("archives", use: archivesPage)
    web.post("archives", use: addArchive)
    web.post("restores", use: startRestore)
    web.get("restores/{id}", use: restorePage)
    web.post("restores/{id}/{action}", use: changeRestore)
  }

  func archivesData(_ caller: Caller) async throws -> [String: Any] {
    let account = caller.account.id
    let connections = try await store.connections(of: account)
    var archives: [[String: Any]] = []
    for a in try await store.archives(of: account) {
      let p = try await store.archiveProgress(
        archiveID: a.id, fetcherIDs: a.fetcherIDs, of: account)
      let c = connections.first { $0.id == a.connectionID }
      var row: [String: Any] = [
        "id": a.id, "name": a.name, "location": c.map { "s3://\($0.bucket)/\($0.prefix)" } ?? "?",
        "state": a.enabled ? (p.lastError == nil ? "running" : "retrying") : "paused",
        "objects": WebPage.count(p.objects), "events": WebPage.count(p.events),
        "bytes": WebPage.bytes(p.bytes), "waiting": WebPage.count(p.pendingEvents),
        "nextFlush": self.archives.nextFlush(a, p).sentence(),
        "through": WebPage.time(a.archivedThrough),
      ]
      if let error = p.lastError { row["lastError"] = error }
      archives.append(row)
    }
    let restores = try await store.restoreJobs(of: account).prefix(50).map(Self.restoreData)
    return [
      "archives": archives, "noArchives": archives.isEmpty,
      "archiveConnections": connections.filter { $0.purpose == .archive }.map {
        ["id": $0.id, "location": "s3://\($0.bucket)/\($0.prefix)"]
      },
      "restores": Array(restores), "noRestores": restores.isEmpty,
    ]
  }

  static func restoreData(_ j: RestoreJob) -> [String: Any] {
    var data: [String: Any] = [
      "id": j.id, "archiveId": j.archiveID, "from": WebPage.time(j.from),
      "to": WebPage.time(j.to), "query": j.query ?? "", "state": j.state.rawValue,
      "objects": "\(WebPage.count(j.objectsDone))/\(j.objectsTotal.map(WebPage.count) ?? "?")",
      "objectsFailed": WebPage.count(j.objectsFailed),
      "objectsFrozen": WebPage.count(j.objectsFrozen),
      "bytes":
        "\(WebPage.bytes(j.bytesRead)) of \(j.bytesTotal.map(WebPage.bytes) ?? "?")",
      "eventsRead": WebPage.count(j.eventsRead), "eventsMatched": WebPage.count(j.eventsMatched),
      "eventsRestored": WebPage.count(j.eventsRestored),
      "expires": j.expiresAt.map { WebPage.time($0) } ?? "never (kept)",
      "canPause": j.state == .queued || j.state == .running, "canResume": j.state == .paused,
      "canCancel": !j.state.isFinal, "canKeep": j.expiresAt != nil,
      "requestedBy": j.requestedBy,
    ]
    if let error = j.error { data["error"] = error }
    if let pace = RestorePace(j) { data["pace"] = pace.sentence }
    return data
  }

  func archivesResponse(
    _ context: FerryRequestContext, caller: Caller, extra: [String: Any] = [:],
    status: HTTPResponse.Status = .ok
  ) async throws -> Response {
    var data = try await archivesData(caller)
    for (key, value) in extra { data[key] = value }
    return try pages.page(
      "archives", title: "Archives", context: context, data: data, section: .archives,
      status: status)
  }

  @Sendable func archivesPage(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    try await archivesResponse(context, caller: try caller(context))
  }

  @Sendable func addArchive(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try caller(context)
    try caller.requireAdmin()
    let form = try await WebForm.read(request, context: context)
    do {
      let archive = try await archives.createArchive(
        form.body(known: ["connectionId", "name", "compression", "lines"]), caller: caller)
      return WebRequestMiddleware.redirect(
        to: "/archives", notice: "Created the archive \(archive.name): it writes within minutes.")
    } catch let problem as APIProblem {
      return try await archivesResponse(
        context, caller: caller,
        extra: ["archiveProblem": WebPage.problem(problem), "archiveForm": form.values],
        status: problem.status)
    }
  }

  /// The restore form as a request body: its texts, the days as a number, thaw as a flag.
  static func restoreBody(_ form: WebForm) -> RequestBody {
    var fields: [(key: String, value: JSONValue)] = []
    for name in ["archiveId", "from", "to", "query"] {
      if let value = form.value(name) { fields.append((name, .string(value))) }
    }
    if let days = form.value("keepDays") {
      fields.append(("keepDays", Double(days).map(JSONValue.number) ?? .string(days)))
    }
    if form.value("thaw") != nil { fields.append(("thaw", .bool(true))) }
    return RequestBody(fields: fields, known: RestoreRoutes.fields)
  }

  @Sendable func startRestore(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try caller(context)
    try caller.requireAdmin()
    let form = try await WebForm.read(request, context: context)
    do {
      let asked = try await restores.request(Self.restoreBody(form), caller: caller)
      if form.value("action") == "estimate" {
        let plan = try await restores.estimate(asked)
        return try await archivesResponse(
          context, caller: caller,
          extra: [
            "estimate": [
              "objects": WebPage.count(plan.readable.count),
              "bytes": WebPage.bytes(plan.bytes), "events": WebPage.count(plan.events),
              "frozen": WebPage.count(plan.frozen.count), "hasFrozen": !plan.frozen.isEmpty,
              "problems": (plan.problems + plan.frozen).prefix(20).map {
                ["key": $0.key, "error": $0.error ?? ""]
              },
            ],
            "restoreForm": form.values,
          ])
      }
      let job = try await restores.start(asked, caller: caller)
      return WebRequestMiddleware.redirect(
        to: "/restores/\(job.id)", notice: "Started the restore \(job.id).")
    } catch let problem as APIProblem {
      return try await archivesResponse(
        context, caller: caller,
        extra: ["restoreProblem": WebPage.problem(problem), "restoreForm": form.values],
        status: problem.status)
    }
  }

  @Sendable func restorePage(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let (caller, job) = try await restores.owned(context)
    let problems = try await restores.problems(of: job, caller: caller, limit: 200)
    return try pages.page(
      "restore", title: "Restore \(job.id)", context: context,
      data: [
        "restore": Self.restoreData(job),
        "problems": problems.map {
          ["key": $0.key, "state": $0.state.rawValue, "error": $0.error ?? ""]
        },
        "hasProblems": !problems.isEmpty,
      ], section: .archives)
  }

  @Sendable func changeRestore(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let (caller, job) = try await restores.owned(context)
    guard let action = RestoreRoutes.Action(rawValue: context.parameters.get("action") ?? "")
    else { throw HTTPError(.notFound) }
    let changed = try await restores.apply(action, to: job, caller: caller)
    return WebRequestMiddleware.redirect(
      to: "/restores/\(job.id)",
      notice: changed ? action.done : "Nothing changed: the restore is \(job.state.rawValue).")
  }
}
