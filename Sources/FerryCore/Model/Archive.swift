import Foundation

/// An archive: a role binding (a connection with purpose `archive`) that Ferry writes the
/// account's events into, and restores read back from.
public struct Archive: Sendable, Equatable, Codable {
  public var id: String
  public var accountID: AccountID
  public var connectionID: String
  /// Unique within the account.
  public var name: String
  public var enabled: Bool
  /// The fetchers whose events are archived; empty for every fetcher of the account.
  public var fetcherIDs: [String]
  /// How the archive's objects are compressed.
  public var compression: ArchiveCompression
  /// Which keys each line holds (docs/archive-format.md).
  public var lines: ArchiveLines
  /// The newest event time written to the bucket so far (the writer's watermark; events
  /// that arrive late are still written, under their own hour); nil until the first flush.
  public var archivedThrough: Date?
  public var createdAt: Date

  public init(
    id: String = Archive.newID(), accountID: AccountID, connectionID: String, name: String,
    enabled: Bool = true, fetcherIDs: [String] = [], compression: ArchiveCompression = .zstd,
    lines: ArchiveLines = .compact, archivedThrough: Date? = nil, createdAt: Date = Date()
  ) {
    self.compression = compression
    self.lines = lines
    self.id = id
    self.accountID = accountID
    self.connectionID = connectionID
    self.name = name
    self.enabled = enabled
    self.fetcherIDs = fetcherIDs
    self.archivedThrough = archivedThrough
    self.createdAt = createdAt
  }

  enum CodingKeys: String, CodingKey {
    case id, accountID, connectionID, name, enabled, fetcherIDs, compression, archivedThrough
    case createdAt, lines
  }

  /// Archives stored before `fetcherIDs` existed archive every fetcher, and those stored
  /// before `compression` existed use zstd; those stored before `lines` existed go on
  /// writing full lines, as they always did.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    id = try c.decode(String.self, forKey: .id)
    accountID = try c.decode(AccountID.self, forKey: .accountID)
    connectionID = try c.decode(String.self, forKey: .connectionID)
    name = try c.decode(String.self, forKey: .name)
    enabled = try c.decode(Bool.self, forKey: .enabled)
    fetcherIDs = try c.decodeIfPresent([String].self, forKey: .fetcherIDs) ?? []
    compression = try c.decodeIfPresent(ArchiveCompression.self, forKey: .compression) ?? .zstd
    lines = try c.decodeIfPresent(ArchiveLines.self, forKey: .lines) ?? .full
    archivedThrough = try c.decodeIfPresent(Date.self, forKey: .archivedThrough)
    createdAt = try c.decode(Date.self, forKey: .createdAt)
  }

  /// A new random archive ID.
  public static func newID() -> String { "arc_" + RandomText.alphanumeric(16) }
}

/// How archive objects are compressed: zstd (the default: smaller and faster) or gzip
/// (for readers that have no zstd).
public enum ArchiveCompression: String, Sendable, Codable, CaseIterable {
  case zstd, gzip

  /// The end of an object's key.
  public var suffix: String { self == .zstd ? ".json.zst" : ".json.gz" }
}

/// Which keys an archive line holds. `full` lines carry every documented key; `compact`
/// lines leave out `eventId`, which any reader derives from the line's fetcher, source key,
/// ETag and offset (docs/archive-format.md says how, in SQL too): it is 128 random bits,
/// the one key that does not compress, and a sixth of an archive's bytes.
public enum ArchiveLines: String, Sendable, Codable, CaseIterable {
  case compact, full
}

/// A block of committed events as the archive writer sees it: which object version it came
/// from and how much it holds (the events themselves are read separately).
public struct ArchivableBlock: Sendable, Equatable {
  /// The store's ID of the block.
  public var id: Int64
  public var fetcherID: String
  public var sourceKey: String
  public var eTag: String
  public var minTime: Date
  public var maxTime: Date
  public var eventCount: Int
  /// The events' text before compression.
  public var rawBytes: Int

  public init(
    id: Int64, fetcherID: String, sourceKey: String, eTag: String, minTime: Date,
    maxTime: Date, eventCount: Int, rawBytes: Int
  ) {
    self.id = id
    self.fetcherID = fetcherID
    self.sourceKey = sourceKey
    self.eTag = eTag
    self.minTime = minTime
    self.maxTime = maxTime
    self.eventCount = eventCount
    self.rawBytes = rawBytes
  }
}

/// One flush of an archive: the blocks whose events go into the next objects, recorded
/// before any object is written, so that a writer that crashed writes the same objects
/// again (same events, same keys) instead of different ones.
public struct ArchiveBatch: Sendable, Equatable {
  public var archiveID: String
  /// Increases by one per batch of the archive; it is the `<seq>` of the objects' keys.
  public var sequence: Int
  public var blockIDs: [Int64]
  public var startedAt: Date

  public init(archiveID: String, sequence: Int, blockIDs: [Int64], startedAt: Date) {
    self.archiveID = archiveID
    self.sequence = sequence
    self.blockIDs = blockIDs
    self.startedAt = startedAt
  }
}

/// What an archive holds so far, and what is still to write.
public struct ArchiveProgress: Sendable, Equatable {
  /// Finished batches, and the objects, events and stored bytes they wrote.
  public var batches = 0
  public var objects = 0
  public var events = 0
  public var bytes: Int64 = 0
  public var lastFlushAt: Date?
  /// Committed blocks not yet archived, and their events.
  public var pendingBlocks = 0
  public var pendingEvents = 0
  /// Their text before compression (what a flush by size counts).
  public var pendingBytes: Int64 = 0
  /// Since when the writer has seen events waiting (a flush by age counts from it).
  public var waitingSince: Date?
  /// A batch started and not finished (a writer is at it, or crashed in it).
  public var openBatch: Int?
  /// Why the writer's last run failed (the step, the cause, the fix); nil once it works.
  public var lastError: String?
  public var lastRunAt: Date?

  public init() {}
}

/// Offsets of a source object version whose events an archive held before the object was
/// reprocessed: reading it again gives the same events (the same fetcher, version and
/// offsets), and the archive does not take them twice.
public struct ArchivedSpan: Sendable, Equatable {
  public var fetcherID: String
  public var sourceKey: String
  public var eTag: String
  public var offsets: Range<Int64>

  public init(fetcherID: String, sourceKey: String, eTag: String, offsets: Range<Int64>) {
    self.fetcherID = fetcherID
    self.sourceKey = sourceKey
    self.eTag = eTag
    self.offsets = offsets
  }

  /// The spans by object version, for a lookup per block.
  public static func byObject(_ spans: [ArchivedSpan]) -> [String: [Range<Int64>]] {
    Dictionary(grouping: spans) {
      objectName(fetcherID: $0.fetcherID, key: $0.sourceKey, eTag: $0.eTag)
    }
    .mapValues { $0.map(\.offsets) }
  }

  /// How ``byObject(_:)`` names an object version.
  public static func objectName(fetcherID: String, key: String, eTag: String) -> String {
    fetcherID + "\u{0}" + key + "\u{0}" + eTag
  }
}
