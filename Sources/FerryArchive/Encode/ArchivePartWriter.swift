import Crypto
import FerryBlocks
import FerryCore
import Foundation

/// An archive object being filled: the NDJSON lines of one partition's events, compressed
/// with zstd into one frame when it is finished. The caller flushes by size (``rawBytes``)
/// and age, so memory stays bounded by the part size.
public struct ArchivePartWriter: Sendable {
  public let account: AccountID
  public let hour: Date
  public let lines: ArchiveLines
  private(set) var raw: [UInt8] = []
  /// The first and the last event (with their ETags), which name the object.
  private var first: (event: Event, eTag: String)?
  private var last: (event: Event, eTag: String)?
  public private(set) var events = 0
  public private(set) var minTime: Date?
  public private(set) var maxTime: Date?
  private var writer = ArchiveLineWriter()

  public init(account: AccountID, hour: Date, lines: ArchiveLines = .full) {
    self.account = account
    self.hour = hour
    self.lines = lines
  }

  /// Uncompressed bytes so far.
  public var rawBytes: Int { raw.count }

  /// Adds an event of this partition's hour.
  public mutating func append(_ event: Event, eTag: String, sourceBucket: String) {
    writer.append(event, eTag: eTag, sourceBucket: sourceBucket, lines: lines, to: &raw)
    if first == nil { first = (event, eTag) }
    last = (event, eTag)
    events += 1
    minTime = min(minTime ?? event.time, event.time)
    maxTime = max(maxTime ?? event.time, event.time)
  }

  /// The finished object: its key in `layout`, its bytes and what the manifest records.
  /// `level` is zstd's (1 to 19); gzip uses zlib's default level.
  public func finish(
    layout: ArchiveLayout, sequence: Int, level: Int32 = 3,
    compression: ArchiveCompression = .zstd
  ) throws -> ArchivePart {
    let compressed =
      compression == .zstd ? try Zstd.compress(raw, level: level) : try Gzip.compress(raw)
    // Named by content: the same events in the same order give the same key.
    var hasher = SHA256()
    for end in [first, last] {
      let id = end.map { ArchiveLineWriter.eventID($0.event, eTag: $0.eTag) } ?? ""
      hasher.update(data: Data(id.utf8))
    }
    hasher.update(data: Data(String(events).utf8))
    let id = hasher.finalize().prefix(6).map { String(format: "%02x", $0) }.joined()
    let key = layout.objectKey(
      account: account, hour: hour, sequence: sequence, id: id, compression: compression)
    let digest = SHA256.hash(data: compressed).map { String(format: "%02x", $0) }.joined()
    return ArchivePart(
      entry: ArchiveManifest.Object(
        key: key, events: events, minTime: minTime ?? hour, maxTime: maxTime ?? hour,
        bytes: compressed.count, rawBytes: raw.count, sha256: digest,
        lines: lines == .compact ? ArchiveLines.compact.rawValue : nil),
      bytes: compressed)
  }
}

/// A finished archive object.
public struct ArchivePart: Sendable {
  public var entry: ArchiveManifest.Object
  public var bytes: [UInt8]
}
