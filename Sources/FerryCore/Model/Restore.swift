import Foundation

/// Where a restore job stands.
public enum RestoreState: String, Sendable, Codable, CaseIterable {
  /// Waiting for the restorer to pick it up (or to list its objects).
  case queued
  case running
  /// Stopped by an admin; resuming goes on from the first object not yet read.
  case paused
  /// Every object was read (``RestoreJob/objectsFailed`` counts those that could not be).
  case succeeded
  /// Stopped for good (the archive's role no longer works, …); ``RestoreJob/error`` says why.
  case failed
  case cancelled

  /// A finished job never changes again.
  public var isFinal: Bool { self == .succeeded || self == .failed || self == .cancelled }
  /// States in which an archive has a restore that is not finished.
  public static let unfinished: [RestoreState] = [.queued, .running, .paused]
}

/// A request to read a time range of an archive back into search, and its progress.
public struct RestoreJob: Sendable, Equatable, Codable {
  public var id: String
  public var accountID: AccountID
  public var archiveID: String
  /// The time range restored: `from` inclusive, `to` exclusive.
  public var from: Date
  public var to: Date
  /// Only events that match this query (the event store's query language) are restored;
  /// nil for all of them.
  public var query: String?
  public var state: RestoreState
  public var requestedBy: String
  /// Archive objects in the range, once listed (from the manifests).
  public var objectsTotal: Int?
  /// Their stored bytes and events, once listed.
  public var bytesTotal: Int64?
  public var eventsTotal: Int?
  /// Objects read (whether or not they could be), and those that could not be read.
  public var objectsDone: Int
  public var objectsFailed: Int
  /// Objects in an archive storage class (Glacier Flexible Retrieval, Deep Archive) that
  /// must be thawed with `RestoreObject` before they can be read.
  public var objectsFrozen: Int
  public var bytesRead: Int64
  /// Events read from the objects, those in the range that matched the query, and those
  /// stored (the others were in search already).
  public var eventsRead: Int
  public var eventsMatched: Int
  public var eventsRestored: Int
  /// When the restored events leave search; nil once kept.
  public var expiresAt: Date?
  /// Whether the restorer asks S3 to thaw frozen objects (`RestoreObject`) and reads them
  /// once they are.
  public var thaw: Bool
  /// Why the job failed (the step, the cause, the fix).
  public var error: String?
  public var createdAt: Date
  public var updatedAt: Date
  /// When the restorer listed the objects and began to read them (nil before).
  public var startedAt: Date?

  public init(
    id: String = RestoreJob.newID(), accountID: AccountID, archiveID: String, from: Date,
    to: Date, query: String? = nil, state: RestoreState = .queued, requestedBy: String,
    objectsTotal: Int? = nil, objectsDone: Int = 0, eventsRestored: Int = 0,
    expiresAt: Date? = nil, thaw: Bool = false, error: String? = nil,
    createdAt: Date = Date(), updatedAt: Date = Date()
  ) {
    self.id = id
    self.accountID = accountID
    self.archiveID = archiveID
    self.from = from
    self.to = to
    self.query = query
    self.state = state
    self.requestedBy = requestedBy
    self.objectsTotal = objectsTotal
    self.objectsDone = objectsDone
    self.objectsFailed = 0
    self.objectsFrozen = 0
    self.bytesRead = 0
    self.eventsRead = 0
    self.eventsMatched = 0
    self.eventsRestored = eventsRestored
    self.expiresAt = expiresAt
    self.thaw = thaw
    self.error = error
    self.createdAt = createdAt
    self.updatedAt = updatedAt
  }

  enum CodingKeys: String, CodingKey {
    case id, accountID, archiveID, from, to, query, state, requestedBy, objectsTotal, bytesTotal
    case eventsTotal, objectsDone, objectsFailed, objectsFrozen, bytesRead, eventsRead
    case eventsMatched, eventsRestored, expiresAt, thaw, error, createdAt, updatedAt, startedAt
  }

  /// Jobs stored before the progress counters existed read with zeros.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    id = try c.decode(String.self, forKey: .id)
    accountID = try c.decode(AccountID.self, forKey: .accountID)
    archiveID = try c.decode(String.self, forKey: .archiveID)
    from = try c.decode(Date.self, forKey: .from)
    to = try c.decode(Date.self, forKey: .to)
    query = try c.decodeIfPresent(String.self, forKey: .query)
    state = try c.decode(RestoreState.self, forKey: .state)
    requestedBy = try c.decode(String.self, forKey: .requestedBy)
    objectsTotal = try c.decodeIfPresent(Int.self, forKey: .objectsTotal)
    bytesTotal = try c.decodeIfPresent(Int64.self, forKey: .bytesTotal)
    eventsTotal = try c.decodeIfPresent(Int.self, forKey: .eventsTotal)
    objectsDone = try c.decodeIfPresent(Int.self, forKey: .objectsDone) ?? 0
    objectsFailed = try c.decodeIfPresent(Int.self, forKey: .objectsFailed) ?? 0
    objectsFrozen = try c.decodeIfPresent(Int.self, forKey: .objectsFrozen) ?? 0
    bytesRead = try c.decodeIfPresent(Int64.self, forKey: .bytesRead) ?? 0
    eventsRead = try c.decodeIfPresent(Int.self, forKey: .eventsRead) ?? 0
    eventsMatched = try c.decodeIfPresent(Int.self, forKey: .eventsMatched) ?? 0
    eventsRestored = try c.decodeIfPresent(Int.self, forKey: .eventsRestored) ?? 0
    expiresAt = try c.decodeIfPresent(Date.self, forKey: .expiresAt)
    thaw = try c.decodeIfPresent(Bool.self, forKey: .thaw) ?? false
    error = try c.decodeIfPresent(String.self, forKey: .error)
    createdAt = try c.decode(Date.self, forKey: .createdAt)
    updatedAt = try c.decode(Date.self, forKey: .updatedAt)
    startedAt = try c.decodeIfPresent(Date.self, forKey: .startedAt)
  }

  /// A new random restore job ID.
  public static func newID() -> String { "rst_" + RandomText.alphanumeric(16) }
}

/// Where one archive object of a restore stands.
public enum RestoreObjectState: String, Sendable, Codable, CaseIterable {
  /// Listed, not read yet.
  case planned
  /// Read; its matching events are in search.
  case done
  /// Could not be read (missing, corrupt, disagreeing with its manifest); `error` says why.
  case failed
  /// In an archive storage class: waits to be thawed (or for the admin to ask for it).
  case frozen
}

/// One archive object a restore reads, as its partition's manifest lists it.
public struct RestoreObject: Sendable, Equatable, Codable {
  public var key: String
  public var events: Int
  public var bytes: Int64
  public var minTime: Date
  public var maxTime: Date
  /// Hex SHA-256 of the stored bytes, from the manifest.
  public var sha256: String
  /// S3's storage class when it is not STANDARD (e.g. GLACIER, DEEP_ARCHIVE).
  public var storageClass: String?
  public var state: RestoreObjectState
  /// Why it could not be read.
  public var error: String?

  public init(
    key: String, events: Int, bytes: Int64, minTime: Date, maxTime: Date, sha256: String,
    storageClass: String? = nil, state: RestoreObjectState = .planned, error: String? = nil
  ) {
    self.key = key
    self.events = events
    self.bytes = bytes
    self.minTime = minTime
    self.maxTime = maxTime
    self.sha256 = sha256
    self.storageClass = storageClass
    self.state = state
    self.error = error
  }

  /// Storage classes S3 cannot read without a `RestoreObject` first.
  public static let frozenClasses: Set<String> = ["GLACIER", "DEEP_ARCHIVE"]
  public var isFrozenClass: Bool { storageClass.map(Self.frozenClasses.contains) ?? false }
}

/// What reading one object gave, recorded with its state in one step.
public struct RestoreObjectOutcome: Sendable, Equatable {
  public var state: RestoreObjectState
  public var bytesRead: Int64
  public var eventsRead: Int
  public var eventsMatched: Int
  public var error: String?

  public init(
    state: RestoreObjectState, bytesRead: Int64 = 0, eventsRead: Int = 0, eventsMatched: Int = 0,
    error: String? = nil
  ) {
    self.state = state
    self.bytesRead = bytesRead
    self.eventsRead = eventsRead
    self.eventsMatched = eventsMatched
    self.error = error
  }
}

/// An event read back from an archive, with the ETag of the object version it came from
/// (its identity: fetcher, key, ETag and offset).
public struct SourcedEvent: Sendable, Equatable {
  public var event: Event
  public var eTag: String

  public init(event: Event, eTag: String) {
    self.event = event
    self.eTag = eTag
  }
}
