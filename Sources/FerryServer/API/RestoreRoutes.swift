import FerryArchive
import FerryCore
import FerryPolicy
import Foundation
import Hummingbird

/// `/api/v1/restores`: reading a time range of an archive back into search. A dry run
/// (`"dryRun": true`) prices the restore from the manifests alone (objects, bytes, events,
/// frozen objects) and starts nothing; without it the job is queued and runs in the
/// background, with no size cap. Admins start, pause, resume, cancel and keep restores;
/// everyone in the account sees them and their progress.
struct RestoreRoutes {
  let store: any Store
  /// Opens an archive's bucket through its connection's role (for dry runs).
  let open: ArchiveBucketOpener
  /// How long restored events stay in search by default, in days.
  let keepDays: Int

  func add(to api: RouterGroup<FerryRequestContext>) {
    api.get("restores", use: list)
    api.post("restores", use: create)
    api.get("restores/{id}", use: show)
    api.post("restores/{id}/pause", use: pause)
    api.post("restores/{id}/resume", use: resume)
    api.post("restores/{id}/cancel", use: cancel)
    api.post("restores/{id}/keep", use: keep)
  }

  static let fields: Set<String> = [
    "archiveId", "from", "to", "query", "dryRun", "keepDays", "thaw",
  ]

  /// What a request asks to restore, checked.
  struct Request: Sendable {
    var archive: Archive
    var connection: Connection
    var from: Date
    var to: Date
    var query: String?
    var keepDays: Int?
    var thaw: Bool
  }

  func request(_ body: RequestBody, caller: Caller) async throws -> Request {
    let now = Date()
    func time(_ name: String) throws -> Date {
      let text = try body.requiredString(name, example: "2026-11-30T00:00:00Z")
      guard let date = QueryTime.parse(text, now: now) else {
        throw APIProblem.badInput(
          field: name, "\"\(text)\" is not a time", fix: "For \(name), \(QueryTime.help).")
      }
      return date
    }
    let from = try time("from")
    let to = try time("to")
    guard from < to else {
      throw APIProblem.badInput(
        field: "from", "the range starts at or after its end", fix: "Give a from earlier than to.")
    }
    guard to.timeIntervalSince(from) <= RestorePlan.maxRange else {
      throw APIProblem.badInput(
        field: "from", "the range is longer than 100 years",
        fix:
          "Give a from and a to at most 100 years apart; an archive is read by the hours it holds, so a narrower range is also faster."
      )
    }
    let query = try body.string("query").flatMap { $0.isEmpty ? nil : $0 }
    if let query {
      do {
        _ = try LogQuery.parse(query)
      } catch {
        throw APIProblem.badInput(
          field: "query", "\(error)",
          fix: "See docs/query-language.md: words, \"phrases\", field:value, AND, OR, NOT, ( ).")
      }
    }
    let archiveID = try body.requiredString("archiveId", example: "arc_0123456789abcdef")
    let account = caller.account.id
    guard
      let archive = try await store.archives(of: account).first(where: { $0.id == archiveID })
    else {
      throw APIProblem.badInput(
        field: "archiveId", "there is no archive \(archiveID) in this account",
        fix: "List the account's archives with GET /api/v1/archives (or ferry archive list).")
    }
    guard let connection = try await store.connection(archive.connectionID, of: account) else {
      throw APIProblem.badInput(
        field: "archiveId", "the archive's connection \(archive.connectionID) no longer exists",
        fix: "Delete this archive and add one on an existing archive connection.")
    }
    return Request(
      archive: archive, connection: connection, from: from, to: to, query: query,
      keepDays: try body.int("keepDays", range: 0...3650), thaw: try body.bool("thaw") ?? false)
  }

  /// The dry run's answer: what the restore would read, from the manifests.
  func estimate(_ request: Request) async throws -> RestorePlan {
    let layout: ArchiveLayout
    do {
      layout = try ArchiveLayout(prefix: request.connection.prefix)
    } catch {
      throw APIProblem.badInput(field: "archiveId", error.problem, fix: error.fix)
    }
    let bucket: any ArchiveBucket
    do {
      bucket = try await open(request.connection)
    } catch {
      throw Self.awsProblem(
        "Ferry could not assume the archive connection's role (\(error))",
        fix: "Run `ferry connection check \(request.connection.id)` for the diagnosis.")
    }
    do {
      return try await RestorePlan.make(
        bucket: bucket, layout: layout, account: request.archive.accountID, from: request.from,
        to: request.to)
    } catch {
      throw Self.awsProblem(error.description, fix: nil)
    }
  }

  static func awsProblem(_ detail: String, fix: String?) -> APIProblem {
    APIProblem(
      status: .badGateway, name: "archive-unreadable",
      title: "Ferry could not read the archive bucket", detail: detail, fix: fix)
  }

  /// Queues a restore (admins only; audited).
  func start(_ request: Request, caller: Caller) async throws -> RestoreJob {
    try caller.requireAdmin()
    let days = request.keepDays ?? keepDays
    let job = RestoreJob(
      accountID: caller.account.id, archiveID: request.archive.id, from: request.from,
      to: request.to, query: request.query, requestedBy: caller.actor,
      expiresAt: days == 0 ? nil : Date().addingTimeInterval(Double(days) * 86_400),
      thaw: request.thaw)
    try await StoreTimer.time("createRestoreJob") {
      try await store.createRestoreJob(job, of: caller.account.id, actor: caller.actor)
    }
    return job
  }

  /// The objects of a job that could not be read, then those that wait in an archive
  /// storage class, the first `limit` of each (for the API and the web UI).
  func problems(of job: RestoreJob, caller: Caller, limit: Int = 100) async throws
    -> [RestoreObject]
  {
    var out: [RestoreObject] = []
    for state in [RestoreObjectState.failed, .frozen] {
      out += try await store.restoreObjects(
        jobID: job.id, state: state, afterKey: nil, limit: limit, of: caller.account.id)
    }
    return out
  }

  /// A job's JSON view, with its ``problems(of:caller:limit:)``.
  func view(_ job: RestoreJob, caller: Caller) async throws -> JSONValue {
    JSONViews.restore(job, problems: try await problems(of: job, caller: caller))
  }

  @Sendable func list(_ request: Hummingbird.Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try context.requireCaller()
    let jobs = try await StoreTimer.time("restoreJobs") {
      try await store.restoreJobs(of: caller.account.id)
    }
    return JSONResponse.make(
      JSONViews.list("restores", jobs.map { JSONViews.restore($0, problems: []) }))
  }

  @Sendable func create(_ request: Hummingbird.Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try context.requireCaller()
    try caller.requireAdmin()
    let body = try await RequestBody.read(request, context: context, known: Self.fields)
    let asked = try await self.request(body, caller: caller)
    if try body.bool("dryRun") == true {
      return JSONResponse.make(JSONViews.restoreEstimate(try await estimate(asked), asked))
    }
    let job = try await start(asked, caller: caller)
    var response = JSONResponse.make(try await view(job, caller: caller), status: .created)
    response.headers[.location] = "/api/v1/restores/\(job.id)"
    return response
  }

  func owned(_ context: FerryRequestContext) async throws -> (Caller, RestoreJob) {
    let caller = try context.requireCaller()
    let id = context.parameters.get("id") ?? ""
    guard let job = try await store.restoreJob(id, of: caller.account.id) else {
      throw APIProblem.notFound("restore", id)
    }
    return (caller, job)
  }

  @Sendable func show(_ request: Hummingbird.Request, context: FerryRequestContext) async throws
    -> Response
  {
    let (caller, job) = try await owned(context)
    return JSONResponse.make(try await view(job, caller: caller))
  }

  /// What an admin can do to a restore, for the API and the web UI alike.
  enum Action: String, CaseIterable {
    case pause, resume, cancel, keep

    /// Why it did not apply, after "it cannot be".
    var refusal: String {
      switch self {
      case .pause: "paused"
      case .resume: "resumed (only a paused restore is)"
      case .cancel: "cancelled (it has finished)"
      case .keep: "kept"
      }
    }

    /// What happened, for the web UI's notice.
    var done: String {
      switch self {
      case .pause: "Paused the restore; resuming goes on where it stopped."
      case .resume: "Resumed the restore."
      case .cancel: "Cancelled the restore; what it restored stays until it expires."
      case .keep: "The restored events stay in search for good."
      }
    }
  }

  /// Applies an admin's action to a job (audited by the store); false when it does not
  /// apply to the job's state.
  func apply(_ action: Action, to job: RestoreJob, caller: Caller) async throws -> Bool {
    try caller.requireAdmin()
    let account = caller.account.id
    switch action {
    case .pause, .resume:
      return try await store.setRestorePaused(
        action == .pause, jobID: job.id, of: account, actor: caller.actor)
    case .cancel:
      return try await store.cancelRestoreJob(job.id, of: account, actor: caller.actor)
    case .keep:
      return try await store.setRestoreExpiry(nil, jobID: job.id, of: account, actor: caller.actor)
    }
  }

  /// Runs an action on the job of the path, then answers with the job; an action that does
  /// not apply to the job's state is a 409 that says why.
  func change(_ context: FerryRequestContext, _ action: Action) async throws -> Response {
    let (caller, job) = try await owned(context)
    guard try await apply(action, to: job, caller: caller) else {
      throw APIProblem(
        status: .conflict, name: "rejected", title: "The change was refused",
        detail: "restore \(job.id) is \(job.state.rawValue): it cannot be \(action.refusal)")
    }
    let after = try await store.restoreJob(job.id, of: caller.account.id) ?? job
    return JSONResponse.make(try await view(after, caller: caller))
  }

  @Sendable func pause(_ request: Hummingbird.Request, context: FerryRequestContext) async throws
    -> Response
  { try await change(context, .pause) }

  @Sendable func resume(_ request: Hummingbird.Request, context: FerryRequestContext) async throws
    -> Response
  { try await change(context, .resume) }

  @Sendable func cancel(_ request: Hummingbird.Request, context: FerryRequestContext) async throws
    -> Response
  { try await change(context, .cancel) }

  @Sendable func keep(_ request: Hummingbird.Request, context: FerryRequestContext) async throws
    -> Response
  { try await change(context, .keep) }
}
