import Foundation

/// What the archive writer needs from the store: which committed blocks an archive still
/// lacks, their events, and its batches (each recorded before its objects are written and
/// finished, with its blocks marked archived, in one transaction after they are durable).
/// A block is archived once per archive; retention that rewrites a block keeps its marks.
public protocol ArchiveProgressStore: Sendable {
  /// Blocks of the account the archive does not hold yet, in the order they were stored,
  /// at most `limit`; only those of `fetcherIDs` unless it is empty.
  func unarchivedBlocks(
    archiveID: String, fetcherIDs: [String], of account: AccountID, limit: Int
  ) async throws -> [ArchivableBlock]
  /// The earliest event time among the blocks the archive does not hold yet (only those of
  /// `fetcherIDs` unless it is empty); nil when it holds them all. Retention never goes
  /// past it, so an archive is never missing what retention removed first.
  func oldestUnarchivedTime(archiveID: String, fetcherIDs: [String], of account: AccountID)
    async throws -> Date?
  /// A block's events in its own order; nil if retention removed it.
  func blockEvents(_ blockID: Int64, of account: AccountID) async throws -> [Event]?
  /// A block's stored bytes (the block codec's zstd frame), for a reader that works on its
  /// columns in place; nil if retention removed it.
  func storedBlock(_ blockID: Int64, of account: AccountID) async throws -> [UInt8]?
  /// What the archive held of the objects under `keys` before they were reprocessed (their
  /// events, read again, are stored in new blocks that the archive must not take twice).
  /// Recorded by ``EventStore/applyReprocessRequests(fetcherID:of:)``.
  func archivedSpans(archiveID: String, keys: [String], of account: AccountID) async throws
    -> [ArchivedSpan]
  /// The blocks of `ids` that still exist, as ``unarchivedBlocks`` describes them.
  func blocks(_ ids: [Int64], of account: AccountID) async throws -> [ArchivableBlock]
  /// The batch the archive started and did not finish, if any.
  func openArchiveBatch(archiveID: String, of account: AccountID) async throws -> ArchiveBatch?
  /// Records the next batch of the archive (its sequence is the last one plus one); refused
  /// while another is open, or if the archive is not the account's.
  func startArchiveBatch(archiveID: String, blockIDs: [Int64], of account: AccountID)
    async throws -> ArchiveBatch
  /// Finishes the open batch in one transaction: its blocks are marked archived, its
  /// objects, events and bytes are counted, and the archive's watermark moves to `through`
  /// (never back). False if the batch is not open (finished before, or never started).
  func finishArchiveBatch(
    _ batch: ArchiveBatch, objects: Int, events: Int, bytes: Int64, through: Date?,
    of account: AccountID
  ) async throws -> Bool
  /// Records whether the writer saw events waiting: the first look that sees some starts
  /// the flush's age clock, which later looks keep (whichever node looks, across
  /// restarts); a look that sees none stops it. Returns since when events wait (nil when
  /// none do, or the archive is not the account's).
  func archiveWaiting(archiveID: String, waiting: Bool, now: Date, of account: AccountID)
    async throws -> Date?
  /// Records how the writer's last run went (not audited: the writer's bookkeeping).
  func recordArchiveRun(archiveID: String, error: String?, at: Date, of account: AccountID)
    async throws
  func archiveProgress(archiveID: String, fetcherIDs: [String], of account: AccountID)
    async throws -> ArchiveProgress
}
