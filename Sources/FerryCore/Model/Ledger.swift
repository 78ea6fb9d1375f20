import Foundation

/// Where an object stands in ingestion.
public enum LedgerState: String, Sendable, Codable, CaseIterable {
  /// Seen, not yet ingested.
  case pending
  /// All its events are stored.
  case ingested
  /// Could not be read or parsed; `error` says why.
  case failed
}

/// One S3 object version a fetcher has seen: the source of truth for "already ingested".
public struct LedgerEntry: Sendable, Equatable, Codable {
  public var fetcherID: String
  public var key: String
  public var eTag: String
  public var versionID: String?
  public var size: Int64
  public var state: LedgerState
  public var events: Int
  /// Bytes of the (decompressed) object consumed so far.
  public var offset: Int64
  public var error: String?
  public var attempts: Int
  public var updatedAt: Date

  public init(
    fetcherID: String, key: String, eTag: String, versionID: String? = nil, size: Int64,
    state: LedgerState, events: Int = 0, offset: Int64 = 0, error: String? = nil, attempts: Int = 0,
    updatedAt: Date = Date()
  ) {
    self.fetcherID = fetcherID
    self.key = key
    self.eTag = eTag
    self.versionID = versionID
    self.size = size
    self.state = state
    self.events = events
    self.offset = offset
    self.error = error
    self.attempts = attempts
    self.updatedAt = updatedAt
  }
}

/// How a fetcher's ledger stands.
/// What a compaction of a fetcher's ledger removed: rows of object versions, and the
/// events those objects held (still stored; only the rows go).
public struct LedgerCompaction: Sendable, Equatable {
  public var objects: Int
  public var events: Int

  public init(objects: Int = 0, events: Int = 0) {
    self.objects = objects
    self.events = events
  }
}

public struct LedgerSummary: Sendable, Equatable {
  public var objects: [LedgerState: Int]
  /// Events of the objects in the ledger.
  public var events: Int
  /// Rows of the ledger, and about how many bytes they take (keys, ETags, errors and the
  /// fixed columns): the state "already ingested" costs per fetcher.
  public var rows: Int
  public var bytes: Int

  public init(objects: [LedgerState: Int] = [:], events: Int = 0, rows: Int = 0, bytes: Int = 0) {
    self.objects = objects
    self.events = events
    self.rows = rows
    self.bytes = bytes
  }

  /// The fixed columns of a row, in bytes (IDs, sizes, offsets, times).
  public static let fixedRowBytes = 64
}

/// One log event.
public struct Event: Sendable, Equatable, Codable {
  /// Assigned by the store; nil before insertion.
  public var id: Int64?
  public var accountID: AccountID
  public var fetcherID: String
  public var logType: String
  public var time: Date
  public var sourceKey: String
  public var sourceOffset: Int64
  public var message: String
  public var fields: Fields
  /// The restore job that read the event back from an archive; nil for ingested events.
  public var restoredBy: String?

  public init(
    id: Int64? = nil, accountID: AccountID, fetcherID: String, logType: String, time: Date,
    sourceKey: String, sourceOffset: Int64, message: String, fields: Fields = [:],
    restoredBy: String? = nil
  ) {
    self.restoredBy = restoredBy
    self.id = id
    self.accountID = accountID
    self.fetcherID = fetcherID
    self.logType = logType
    self.time = time
    self.sourceKey = sourceKey
    self.sourceOffset = sourceOffset
    self.message = message
    self.fields = fields
  }
}

/// A search over one account's events: a time range, words that must all appear, exact
/// field values; newest first.
public struct EventQuery: Sendable, Equatable {
  public var from: Date
  public var to: Date
  public var text: String
  public var fields: [String: String]
  public var limit: Int
  /// From a previous page's `nextCursor`.
  public var cursor: String?
  /// A query in Ferry's query language (docs/query-language.md), on top of `text` and
  /// `fields`.
  public var query: LogQuery?

  public init(
    from: Date, to: Date, text: String = "", fields: [String: String] = [:], limit: Int = 100,
    cursor: String? = nil, query: LogQuery? = nil
  ) {
    self.query = query
    self.from = from
    self.to = to
    self.text = text
    self.fields = fields
    self.limit = limit
    self.cursor = cursor
  }
}

/// Matching events in one interval of a histogram.
public struct HistogramBucket: Sendable, Equatable {
  public var start: Date
  public var count: Int

  public init(start: Date, count: Int) {
    self.start = start
    self.count = count
  }

  /// Every bucket from `from` to `to`, zeros included, from counts by bucket index.
  public static func fill(from: Date, to: Date, bucketSeconds: Int, counts: [Int: Int])
    -> [HistogramBucket]
  {
    let width = Double(max(1, bucketSeconds))
    let total = max(1, Int(((to.timeIntervalSince(from)) / width).rounded(.up)))
    return (0..<min(total, 10_000)).map { i in
      HistogramBucket(start: from.addingTimeInterval(Double(i) * width), count: counts[i] ?? 0)
    }
  }
}

/// One page of search results.
public struct EventPage: Sendable, Equatable {
  public var events: [Event]
  /// Pass back for the next page; nil on the last page.
  public var nextCursor: String?
  /// Blocks that could not be read and were left out, each with its fetcher and time range.
  public var problems: [String]

  public init(events: [Event], nextCursor: String?, problems: [String] = []) {
    self.events = events
    self.nextCursor = nextCursor
    self.problems = problems
  }
}

/// An entry of the audit log: who changed what, when, before and after. Never a secret.
public struct AuditEntry: Sendable, Equatable, Codable {
  public var id: Int64?
  public var accountID: AccountID
  public var actor: String
  public var action: String
  public var target: String
  public var before: String?
  public var after: String?
  public var at: Date

  public init(
    id: Int64? = nil, accountID: AccountID, actor: String, action: String, target: String,
    before: String? = nil, after: String? = nil, at: Date = Date()
  ) {
    self.id = id
    self.accountID = accountID
    self.actor = actor
    self.action = action
    self.target = target
    self.before = before
    self.after = after
    self.at = at
  }
}

/// A time-limited claim on a piece of work (a fetcher), so that several nodes never do it
/// at once. `version` changes on every acquisition: renewals compare and set it.
public struct Lease: Sendable, Equatable {
  public var name: String
  public var holder: String
  public var expiresAt: Date
  public var version: Int64

  public init(name: String, holder: String, expiresAt: Date, version: Int64) {
    self.name = name
    self.holder = holder
    self.expiresAt = expiresAt
    self.version = version
  }
}
