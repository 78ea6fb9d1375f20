import FerryCore
import Foundation

/// One object of a fetcher's listing.
public struct SourceObject: Sendable, Equatable {
  public var key: String
  public var eTag: String
  public var size: Int64
  public var lastModified: Date?
  public var storageClass: String?

  public init(
    key: String, eTag: String, size: Int64, lastModified: Date? = nil, storageClass: String? = nil
  ) {
    self.key = key
    self.eTag = eTag
    self.size = size
    self.lastModified = lastModified
    self.storageClass = storageClass
  }

  /// Objects in these classes must be restored before they can be read.
  public var isArchived: Bool { ["GLACIER", "DEEP_ARCHIVE"].contains(storageClass ?? "") }
}

/// A customer's bucket as the fetcher reads it, through the connection's role: list
/// under a prefix after a key, and stream an object. Implemented by the server over the
/// AWS layer; failures are ``AWSFailure``s, so the fetcher can tell a denied object from a
/// broken role.
public protocol ObjectSource: Sendable {
  /// One page of the keys under `prefix` that sort after `startAfter`, in key order, and
  /// the token of the next page (nil at the end).
  func list(prefix: String, startAfter: String?, continuation: String?) async throws(AWSFailure)
    -> (objects: [SourceObject], next: String?)
  /// The bytes of one object version (pinned to its ETag), pulled piece by piece.
  func open(key: String, eTag: String) async throws(AWSFailure) -> any ObjectBytes
}

/// An object's bytes, pulled as the fetcher consumes them (so memory stays bounded).
public protocol ObjectBytes: Sendable {
  /// The next piece; nil at the end.
  func next() async throws(AWSFailure) -> [UInt8]?
}
