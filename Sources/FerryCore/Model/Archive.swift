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
  /// Events before this time are written to the bucket (the archiver's watermark); nil
  /// until the first archive file lands.
  public var archivedThrough: Date?
  public var createdAt: Date

  public init(
    id: String = Archive.newID(), accountID: AccountID, connectionID: String, name: String,
    enabled: Bool = true, archivedThrough: Date? = nil, createdAt: Date = Date()
  ) {
    self.id = id
    self.accountID = accountID
    self.connectionID = connectionID
    self.name = name
    self.enabled = enabled
    self.archivedThrough = archivedThrough
    self.createdAt = createdAt
  }

  /// A new random archive ID.
  public static func newID() -> String { "arc_" + RandomText.alphanumeric(16) }
}

/// Where a restore job stands.
public enum RestoreState: String, Sendable, Codable, CaseIterable {
  case queued, running, succeeded, failed, cancelled

  /// A finished job never changes again.
  public var isFinal: Bool { self == .succeeded || self == .failed || self == .cancelled }
}

/// A request to read a time range of an archive back into search, and its progress.
public struct RestoreJob: Sendable, Equatable, Codable {
  public var id: String
  public var accountID: AccountID
  public var archiveID: String
  /// The time range restored: `from` inclusive, `to` exclusive.
  public var from: Date
  public var to: Date
  public var state: RestoreState
  public var requestedBy: String
  /// Archive files in the range, once listed.
  public var objectsTotal: Int?
  public var objectsDone: Int
  public var eventsRestored: Int
  /// Why the job failed (the step, the cause, the fix).
  public var error: String?
  public var createdAt: Date
  public var updatedAt: Date

  public init(
    id: String = RestoreJob.newID(), accountID: AccountID, archiveID: String, from: Date,
    to: Date, state: RestoreState = .queued, requestedBy: String, objectsTotal: Int? = nil,
    objectsDone: Int = 0, eventsRestored: Int = 0, error: String? = nil,
    createdAt: Date = Date(), updatedAt: Date = Date()
  ) {
    self.id = id
    self.accountID = accountID
    self.archiveID = archiveID
    self.from = from
    self.to = to
    self.state = state
    self.requestedBy = requestedBy
    self.objectsTotal = objectsTotal
    self.objectsDone = objectsDone
    self.eventsRestored = eventsRestored
    self.error = error
    self.createdAt = createdAt
    self.updatedAt = updatedAt
  }

  /// A new random restore job ID.
  public static func newID() -> String { "rst_" + RandomText.alphanumeric(16) }
}
