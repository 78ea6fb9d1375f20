import Foundation

/// An S3 fetcher: a role binding (a connection with purpose `fetcher`) and the log type of
/// the objects under its prefix, which Ferry discovers and ingests.
public struct Fetcher: Sendable, Equatable, Codable {
  public var id: String
  public var accountID: AccountID
  public var connectionID: String
  /// Unique within the account; what users see and type.
  public var name: String
  /// How the objects' lines are parsed (`alb`, `cloudtrail`, `vpcflow`, ...).
  public var logType: String
  /// An SQS queue that receives the bucket's S3 notifications; nil to discover new objects
  /// by listing the prefix every `pollInterval` seconds.
  public var queueURL: String?
  /// For text logs: a regular expression that begins an event; the lines after a match
  /// that do not match are joined to it (stack traces). nil: one event per line.
  public var multilineStart: String?
  public var pollInterval: Int
  /// A disabled fetcher keeps its ledger and resumes where it stopped when enabled.
  public var enabled: Bool
  public var createdAt: Date
  /// How its runs went: written by the ingest scheduler, not a configuration change.
  public var status: FetcherStatus

  public init(
    id: String = Fetcher.newID(), accountID: AccountID, connectionID: String, name: String,
    logType: String, queueURL: String? = nil, multilineStart: String? = nil,
    pollInterval: Int = 300, enabled: Bool = true, createdAt: Date = Date(),
    status: FetcherStatus = FetcherStatus()
  ) {
    self.multilineStart = multilineStart
    self.id = id
    self.accountID = accountID
    self.connectionID = connectionID
    self.name = name
    self.logType = logType
    self.queueURL = queueURL
    self.pollInterval = pollInterval
    self.enabled = enabled
    self.createdAt = createdAt
    self.status = status
  }

  /// A new random fetcher ID.
  public static func newID() -> String { "fch_" + RandomText.alphanumeric(16) }
}

/// The outcome of a fetcher's runs so far.
public struct FetcherStatus: Sendable, Equatable, Codable {
  public var lastRunAt: Date?
  public var lastSuccessAt: Date?
  /// Why the last run failed (the step, the cause, the fix); nil after a success.
  public var lastError: String?
  public var objectsIngested: Int
  public var eventsIngested: Int
  /// Decompressed bytes of the objects ingested.
  public var bytesIngested: Int64?
  /// Objects recorded as failed (their errors are in the ledger).
  public var objectsFailed: Int?
  /// The listing cursor: every key up to it is done (ingested, or failed for good), so
  /// the next pass lists only keys after it (`start-after`).
  public var listCursor: String?
  /// When the last full re-list ran (it catches keys that arrived late, behind the cursor).
  public var lastFullListAt: Date?
  /// Objects seen but not yet ingested at the end of the last pass.
  public var objectsPending: Int?
  /// What the fetcher's ledger takes: rows and about how many bytes.
  public var ledgerRows: Int?
  public var ledgerBytes: Int?
  /// Seconds between the newest object ingested being written to the bucket and Ferry
  /// having committed it.
  public var lagSeconds: Double?
  /// Ledger rows removed by compaction (object versions ingested long ago, behind the
  /// cursor) and the events they held: counted in the totals, no longer stored one by one.
  public var compactedObjects: Int?
  public var compactedEvents: Int?
  /// Keys an admin asked to have read again: the next full listing reads the keys in it
  /// even where compaction removed their rows (nil: none).
  public var reprocessKeys: KeySpan?
  /// Events the fetcher stored on the UTC day `eventsDay` (a `yyyy-MM-dd`): its share of
  /// its account's daily limit.
  public var eventsToday: Int?
  public var eventsDay: String?
  /// Set when the account reached its daily event limit: the fetcher reads nothing until
  /// then (the next UTC day), and `lastError` says why.
  public var limitedUntil: Date?

  public init(
    lastRunAt: Date? = nil, lastSuccessAt: Date? = nil, lastError: String? = nil,
    objectsIngested: Int = 0, eventsIngested: Int = 0
  ) {
    self.lastRunAt = lastRunAt
    self.lastSuccessAt = lastSuccessAt
    self.lastError = lastError
    self.objectsIngested = objectsIngested
    self.eventsIngested = eventsIngested
  }
}

/// A span of keys, both ends included (a JSON-friendly `ClosedRange<String>`).
public struct KeySpan: Sendable, Equatable, Codable {
  public var from: String
  public var to: String

  public init(from: String, to: String) {
    self.from = min(from, to)
    self.to = max(from, to)
  }

  public func contains(_ key: String) -> Bool { from <= key && key <= to }

  /// The smallest span that holds both.
  public func union(_ other: KeySpan) -> KeySpan {
    KeySpan(from: min(from, other.from), to: max(to, other.to))
  }
}
