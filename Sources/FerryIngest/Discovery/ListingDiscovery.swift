import FerryCore
import Foundation

/// Which objects of a fetcher's prefix to read in a pass. The first pass lists the whole
/// prefix; later passes list only keys after the cursor (`start-after`), because the keys
/// of AWS's own log layouts sort by time. Every `fullListEvery` the whole prefix is
/// listed again, to catch keys that arrived behind the cursor; the ledger says which of
/// those are already done, so nothing is read twice.
public struct ListingDiscovery: Sendable {
  public var prefix: String
  public var cursor: String?
  public var fullList: Bool

  public init(prefix: String, status: FetcherStatus, fullListEvery: TimeInterval, now: Date) {
    self.prefix = prefix
    let due = status.lastFullListAt.map { now.timeIntervalSince($0) >= fullListEvery } ?? true
    fullList = status.listCursor == nil || due
    cursor = fullList ? nil : status.listCursor
  }

  /// Every object after the cursor, page by page, in key order; folder markers (keys that
  /// end in `/`) are left out.
  public func objects(
    from source: any ObjectSource, _ body: ([SourceObject]) async throws -> Bool
  ) async throws {
    var continuation: String?
    repeat {
      let page = try await source.list(
        prefix: prefix, startAfter: cursor, continuation: continuation)
      let objects = page.objects.filter { !$0.key.hasSuffix("/") }
      if !(try await body(objects)) { return }
      continuation = page.next
    } while continuation != nil
  }
}
