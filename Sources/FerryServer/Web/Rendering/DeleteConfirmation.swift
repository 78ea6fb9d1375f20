import Foundation
import Hummingbird

/// The page that asks before anything is deleted: what goes, what that does, and what
/// stops it (a connection that fetchers still use cannot be deleted).
struct DeleteConfirmation {
  var title: String
  /// What is deleted, as a phrase: "the fetcher app-logs".
  var what: String
  /// Where the form posts to delete it.
  var action: String
  var consequences: [String]
  var blockers: [String] = []

  func page(_ pages: PageRenderer, context: FerryRequestContext, section: WebPage.Section)
    throws -> Response
  {
    try pages.page(
      "confirm-delete", title: title, context: context,
      data: [
        "what": what, "action": action, "consequences": consequences, "blockers": blockers,
        "blocked": !blockers.isEmpty,
      ], section: section)
  }
}
