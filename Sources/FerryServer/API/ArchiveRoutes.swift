import FerryArchive
import FerryCore
import FerryPolicy
import Foundation
import Hummingbird

/// `/api/v1/archives`: an archive is an archive connection (a role on the customer's
/// bucket) that the account's events are written into, in the open layout of
/// docs/archive-format.md. Admins create, pause, resume and delete them; everyone in the
/// account sees them with their progress.
struct ArchiveRoutes {
  let store: any Store
  /// The writer's flush rules (`--archive-flush-age`, `--archive-flush-mib`), to say when
  /// the next flush comes.
  var flushAge: TimeInterval = ArchiveSettings().flushAge
  var flushBytes = ArchiveSettings().flushBytes

  /// When the archive's next flush comes, from its progress.
  func nextFlush(_ archive: Archive, _ progress: ArchiveProgress) -> NextFlush {
    NextFlush(
      progress: progress, enabled: archive.enabled, flushAge: flushAge, flushBytes: flushBytes)
  }

  func add(to api: RouterGroup<FerryRequestContext>) {
    api.get("archives", use: list)
    api.post("archives", use: create)
    api.get("archives/{id}", use: show)
    api.delete("archives/{id}", use: remove)
    api.post("archives/{id}/pause", use: pause)
    api.post("archives/{id}/resume", use: resume)
  }

  static let archiveFields: Set<String> = [
    "connectionId", "name", "fetcherIds", "compression", "lines",
  ]

  /// Adds the archive `body` describes (admins only; audited).
  func createArchive(_ body: RequestBody, caller: Caller) async throws -> Archive {
    try caller.requireAdmin()
    let connectionID = try body.requiredString("connectionId", example: "con_0123456789abcdef")
    let name = try body.requiredString("name", example: "all-logs")
    let fetcherIDs = try body.strings("fetcherIds") ?? []
    let compressionName = try body.string("compression") ?? "zstd"
    guard let compression = ArchiveCompression(rawValue: compressionName) else {
      throw APIProblem.badInput(
        field: "compression", "\"\(compressionName)\" is not a compression Ferry writes",
        fix: "Use zstd (the default: smaller, faster) or gzip (for readers without zstd).")
    }
    let linesName = try body.string("lines") ?? ArchiveLines.compact.rawValue
    guard let lines = ArchiveLines(rawValue: linesName) else {
      throw APIProblem.badInput(
        field: "lines", "\"\(linesName)\" is not a line form Ferry writes",
        fix:
          "Use compact (the default: no eventId, which readers derive, and no fields for JSON lines and CloudTrail records, which their messages give back) or full (every line carries its eventId and fields)."
      )
    }
    let account = caller.account.id
    guard let connection = try await store.connection(connectionID, of: account) else {
      throw APIProblem.badInput(
        field: "connectionId", "there is no connection \(connectionID) in this account",
        fix:
          "List the account's connections with GET /api/v1/connections (or ferry connection list).")
    }
    guard connection.purpose == .archive else {
      throw APIProblem.badInput(
        field: "connectionId",
        "the connection \(connectionID) is for \(connection.purpose.rawValue), not archive: its role cannot write objects",
        fix:
          "Connect the archive bucket with purpose archive (POST /api/v1/connections with \"purpose\": \"archive\"), then use that connection."
      )
    }
    do {
      _ = try ArchiveLayout(prefix: connection.prefix)
    } catch {
      throw APIProblem.badInput(
        field: "connectionId",
        "the connection's prefix \"\(connection.prefix)\" cannot hold an archive: \(error.problem)",
        fix: error.fix)
    }
    let known = Set(try await store.fetchers(of: account).map(\.id))
    for id in fetcherIDs where !known.contains(id) {
      throw APIProblem.badInput(
        field: "fetcherIds", "there is no fetcher \(id) in this account",
        fix:
          "List the account's fetchers with GET /api/v1/fetchers, or leave fetcherIds out for all.")
    }
    let archive = Archive(
      accountID: account, connectionID: connectionID, name: name,
      fetcherIDs: Array(Set(fetcherIDs)).sorted(), compression: compression, lines: lines)
    try await StoreTimer.time("addArchive") {
      try await store.addArchive(archive, of: account, actor: caller.actor)
    }
    return archive
  }

  /// The archive's JSON view, with its bucket and progress.
  func view(_ archive: Archive, caller: Caller) async throws -> JSONValue {
    let account = caller.account.id
    let connection = try await store.connection(archive.connectionID, of: account)
    let progress = try await StoreTimer.time("archiveProgress") {
      try await store.archiveProgress(
        archiveID: archive.id, fetcherIDs: archive.fetcherIDs, of: account)
    }
    return JSONViews.archive(
      archive, connection: connection, progress: progress,
      nextFlush: nextFlush(archive, progress))
  }

  @Sendable func list(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let caller = try context.requireCaller()
    let archives = try await StoreTimer.time("archives") {
      try await store.archives(of: caller.account.id)
    }
    var views: [JSONValue] = []
    for archive in archives { views.append(try await view(archive, caller: caller)) }
    return JSONResponse.make(JSONViews.list("archives", views))
  }

  @Sendable func create(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let caller = try context.requireCaller()
    try caller.requireAdmin()
    let body = try await RequestBody.read(request, context: context, known: Self.archiveFields)
    let archive = try await createArchive(body, caller: caller)
    var response = JSONResponse.make(try await view(archive, caller: caller), status: .created)
    response.headers[.location] = "/api/v1/archives/\(archive.id)"
    return response
  }

  func owned(_ context: FerryRequestContext) async throws -> (Caller, Archive) {
    let caller = try context.requireCaller()
    let id = context.parameters.get("id") ?? ""
    guard
      let archive = try await store.archives(of: caller.account.id).first(where: { $0.id == id })
    else { throw APIProblem.notFound("archive", id) }
    return (caller, archive)
  }

  @Sendable func show(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let (caller, archive) = try await owned(context)
    return JSONResponse.make(try await view(archive, caller: caller))
  }

  @Sendable func remove(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let (caller, archive) = try await owned(context)
    try caller.requireAdmin()
    _ = try await store.removeArchive(archive.id, of: caller.account.id, actor: caller.actor)
    return Response(status: .noContent)
  }

  @Sendable func pause(_ request: Request, context: FerryRequestContext) async throws -> Response {
    try await setEnabled(false, context)
  }

  @Sendable func resume(_ request: Request, context: FerryRequestContext) async throws -> Response {
    try await setEnabled(true, context)
  }

  func setEnabled(_ enabled: Bool, _ context: FerryRequestContext) async throws -> Response {
    let (caller, archive) = try await owned(context)
    let changed = try await setEnabled(enabled, archive, caller: caller)
    return JSONResponse.make(try await view(changed, caller: caller))
  }

  /// Pauses or resumes an archive (admins only; audited when it changes).
  func setEnabled(_ enabled: Bool, _ archive: Archive, caller: Caller) async throws -> Archive {
    try caller.requireAdmin()
    var changed = archive
    changed.enabled = enabled
    if archive.enabled != enabled {
      guard
        try await store.updateArchive(changed, of: caller.account.id, actor: caller.actor)
      else { throw APIProblem.notFound("archive", archive.id) }
    }
    return changed
  }
}
