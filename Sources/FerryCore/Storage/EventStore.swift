import Foundation

/// The ledger of objects each fetcher has seen and the events they held, committed
/// together, searched and retired by retention.
public protocol EventStore: Sendable {
  // MARK: Ledger and events
  func ledgerEntry(of account: AccountID, fetcherID: String, key: String, eTag: String) async throws
    -> LedgerEntry?
  /// A fetcher's object versions in key order (then ETag), after `afterKey`, at most
  /// `limit` (1 to 1000); only those in `state` when it is given.
  func ledger(
    of account: AccountID, fetcherID: String, state: LedgerState?, afterKey: String?, limit: Int
  ) async throws -> [LedgerEntry]
  /// How a fetcher's ledger stands: object versions by state, their events, and what the
  /// ledger takes (its rows, and about how many bytes).
  func ledgerSummary(of account: AccountID, fetcherID: String) async throws -> LedgerSummary
  /// Asks a fetcher to read again the objects whose keys are in `keys`. The request is a
  /// row, kept until the fetcher's next pass applies it under the fetcher's lease
  /// (``applyReprocessRequests(fetcherID:of:)``), so a pass under way is never cut into
  /// and no request is lost. Audited (`fetcher.reprocess`); returns how many ledger rows
  /// the keys hold now, nil if there is no such fetcher in the account.
  func reprocess(
    fetcherID: String, keys: ClosedRange<String>, of account: AccountID, actor: String
  ) async throws -> Int?
  /// Applies the fetcher's waiting reprocess requests, in one transaction, at the start of a
  /// pass under the fetcher's lease: the rows of their keys start over
  /// (``StoreRules/reprocessed(_:)``), the events those objects gave are deleted (so that
  /// reading them again stores each event once), and the fetcher's status asks the pass to
  /// list its whole prefix and read the keys (``StoreRules/reprocessing(_:keys:)``).
  /// What archives held of those objects is kept as ``ArchivedSpan``s (an archive takes each
  /// event once), and the totals stop counting what compaction had removed of them
  /// (``StoreRules/uncompacted(_:by:)``: they count again once read). Returns the fetcher's status after them; nil when no request waited.
  func applyReprocessRequests(fetcherID: String, of account: AccountID) async throws
    -> FetcherStatus?
  /// Removes at most `limit` rows of a fetcher's object versions that were ingested before
  /// `updatedBefore` and whose keys sort at or before `throughKey` (nil: any key), oldest
  /// keys first; failed and pending rows stay. In the same transaction the fetcher's status
  /// counts them (``StoreRules/compacted(_:by:)``). Returns what was removed.
  func compactLedger(
    of account: AccountID, fetcherID: String, throughKey: String?, updatedBefore: Date,
    limit: Int
  ) async throws -> LedgerCompaction
  /// Records an object and its events in one transaction: both or neither. The store
  /// enforces each event's identity (``LedgerCommit``): events before the offset the
  /// object's row has reached are stored already and are dropped, and the row never moves
  /// backwards. Returns the row as stored.
  @discardableResult
  func commitObject(_ entry: LedgerEntry, events: [Event], of account: AccountID) async throws
    -> LedgerEntry
  func search(_ query: EventQuery, of account: AccountID) async throws -> EventPage
  /// How many events match in each interval of `bucketSeconds` from the query's start
  /// (its cursor and limit do not apply): for drawing matches over time.
  func histogram(_ query: EventQuery, of account: AccountID, bucketSeconds: Int) async throws
    -> [HistogramBucket]
  func eventCount(of account: AccountID) async throws -> Int
  /// Deletes events older than `cutoff`, `batchSize` rows per transaction; returns how many.
  func deleteEvents(of account: AccountID, olderThan cutoff: Date, batchSize: Int) async throws
    -> Int
  /// Rewrites in the current layout up to `limit` blocks written in an older one whose ID
  /// is above `after` (in ID order, in one transaction): the same events in the same order
  /// under the same IDs, so searches, cursors and archives are unchanged. Returns the IDs
  /// of the older blocks it came to (a damaged one is left as it is: searches name it in
  /// their problems); none when no older block is left above `after`.
  func upgradeBlocks(after: Int64, limit: Int) async throws -> [Int64]
}
