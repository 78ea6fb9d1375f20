import FerryCore
import Foundation
import Hummingbird

/// The web UI, served by `ferry serve` at `/`: server-rendered pages for the guide's whole
/// flow (connection info, add a bucket, buckets and fetchers, a fetcher's objects, search,
/// audit log, tokens and users), on the same actions as the REST API. Each page group is
/// an extension in `Pages/`; sessions and CSRF in `Session/`; templates in `Rendering/`.
struct WebRoutes {
  let store: any Store
  let connections: ConnectionRoutes
  let fetchers: FetcherRoutes
  let archives: ArchiveRoutes
  let restores: RestoreRoutes
  let migration: MigrationRoutes
  /// How long a browser session lasts.
  let sessionLifetime: TimeInterval
  /// `--secure-cookies`: nil follows the request.
  var secureCookies: Bool? = nil

  func add(to router: Router<FerryRequestContext>) {
    let pages: PageRenderer
    switch PageRenderer.shared {
    case .success(let loaded): pages = loaded
    case .failure(let error):
      let message = error.description
      router.get("/") { _, _ in
        Response(status: .internalServerError, body: .init(byteBuffer: .init(string: message)))
      }
      return
    }
    router.get("static/{file}") { _, context in try Self.asset(context, pages: pages) }
    let web = router.group().add(
      middleware: WebRequestMiddleware(store: store, pages: pages, secureCookies: secureCookies))
    let handlers = WebPages(
      store: store, connections: connections, fetchers: fetchers, archives: archives,
      restores: restores, migration: migration, pages: pages, sessionLifetime: sessionLifetime,
      signInGuard: SignInGuard())
    handlers.addSignIn(to: web)
    handlers.addConnect(to: web)
    handlers.addBuckets(to: web)
    handlers.addSearch(to: web)
    handlers.addMetrics(to: web)
    handlers.addArchives(to: web)
    handlers.addMigration(to: web)
    handlers.addAdmin(to: web)
  }

  static func asset(_ context: FerryRequestContext, pages: PageRenderer) throws -> Response {
    let name = context.parameters.get("file") ?? ""
    guard let asset = pages.assets[name] else { throw HTTPError(.notFound) }
    return Response(
      status: .ok,
      headers: [
        .contentType: asset.contentType, .cacheControl: "public, max-age=3600",
        .xContentTypeOptions: "nosniff",
      ],
      body: ResponseBody(byteBuffer: asset.bytes))
  }
}

/// The handlers of the web UI's pages; one extension per page group.
struct WebPages: Sendable {
  let store: any Store
  let connections: ConnectionRoutes
  let fetchers: FetcherRoutes
  let archives: ArchiveRoutes
  let restores: RestoreRoutes
  let migration: MigrationRoutes
  let pages: PageRenderer
  let sessionLifetime: TimeInterval
  /// Bounds what password sign-ins cost and how often they may fail.
  let signInGuard: SignInGuard

  /// The caller, who must be signed in (else the middleware sends them to sign in).
  func caller(_ context: FerryRequestContext) throws -> Caller { try context.requireCaller() }
}
