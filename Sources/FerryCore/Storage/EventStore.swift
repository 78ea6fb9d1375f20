import Foundation

/// The ledger of objects each fetcher has seen and the events they held, committed
/// together, searched and retired by retention.
public protocol EventStore: Sendable {
  // MARK: Ledger and events
  func ledgerEntry(of account: AccountID, fetcherID: String, key: String, eTag: String) async throws
    -> LedgerEntry?
  /// Records an object and its events in one transaction: both or neither.
  func commitObject(_ entry: LedgerEntry, events: [Event], of account: AccountID) async throws
  func search(_ query: EventQuery, of account: AccountID) async throws -> EventPage
  /// How many events match in each interval of `bucketSeconds` from the query's start
  /// (its cursor and limit do not apply): for drawing matches over time.
  func histogram(_ query: EventQuery, of account: AccountID, bucketSeconds: Int) async throws
    -> [HistogramBucket]
  func eventCount(of account: AccountID) async throws -> Int
  /// Deletes events older than `cutoff`, `batchSize` rows per transaction; returns how many.
  func deleteEvents(of account: AccountID, olderThan cutoff: Date, batchSize: Int) async throws
    -> Int
}
