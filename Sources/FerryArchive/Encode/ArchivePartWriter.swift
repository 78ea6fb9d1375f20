import Crypto
import FerryBlocks
import FerryCore
import Foundation

/// An archive object being filled: the NDJSON lines of one partition's events, compressed
/// as they come into one zstd frame (a piece of ``pieceBytes`` at a time), so that it holds
/// the compressed object and one piece of text, not the whole text. gzip objects are
/// compressed whole when finished. The caller flushes by size (``rawBytes``) and age.
public struct ArchivePartWriter: Sendable {
  public let account: AccountID
  public let hour: Date
  public let lines: ArchiveLines
  public let compression: ArchiveCompression
  /// zstd's level (1 to 19); gzip uses zlib's default level.
  public let level: Int32
  /// 1: on archive lines both faster and smaller than zstd's default of 3 (measured in
  /// docs/archive-format.md).
  public static let defaultLevel: Int32 = 1
  /// Text compressed at once.
  static let pieceBytes = 1 << 20
  /// Text not compressed yet (all of it for gzip).
  private(set) var raw: [UInt8] = []
  /// Text already compressed into `stream`.
  private var compressedText = 0
  private var stream: ZstdStream?
  /// The IDs of the first and the last event, which name the object.
  private var firstID: String?
  private var lastSource: (fetcherID: String, sourceKey: String, eTag: String, offset: Int64)?
  public private(set) var events = 0
  /// Whether a line left its fields to its message.
  private var fieldsFromMessage = false
  public private(set) var minTime: Date?
  public private(set) var maxTime: Date?
  private var writer = ArchiveLineWriter()

  public init(
    account: AccountID, hour: Date, lines: ArchiveLines = .full,
    compression: ArchiveCompression = .zstd, level: Int32 = defaultLevel
  ) {
    self.account = account
    self.hour = hour
    self.lines = lines
    self.compression = compression
    self.level = level
  }

  /// Uncompressed bytes so far.
  public var rawBytes: Int { compressedText + raw.count }

  /// Adds an event of this partition's hour.
  public mutating func append(_ event: Event, eTag: String, sourceBucket: String) throws {
    try append(source: event, eTag: eTag, sourceBucket: sourceBucket)
  }

  /// Adds event `index` of a decompressed block (read by `fetcherID`), written from the
  /// block's bytes in place.
  public mutating func append(
    _ view: BlockView, _ index: Int, fetcherID: String, eTag: String, sourceBucket: String
  ) throws {
    try append(
      source: BlockEventSource(view: view, index: index, fetcherID: fetcherID), eTag: eTag,
      sourceBucket: sourceBucket)
  }

  mutating func append(source event: some ArchiveLineSource, eTag: String, sourceBucket: String)
    throws
  {
    if writer.append(event, eTag: eTag, sourceBucket: sourceBucket, lines: lines, to: &raw) {
      fieldsFromMessage = true
    }
    if compression == .zstd, raw.count >= Self.pieceBytes {
      if stream == nil { stream = try ZstdStream(level: level) }
      try stream?.feed(raw)
      compressedText += raw.count
      raw.removeAll(keepingCapacity: true)
    }
    let time = event.time
    lastSource = (event.fetcherID, event.sourceKey, eTag, event.sourceOffset)
    if firstID == nil { firstID = lastID }
    events += 1
    minTime = min(minTime ?? time, time)
    maxTime = max(maxTime ?? time, time)
  }

  /// The ID of the last event added.
  private var lastID: String? {
    lastSource.map {
      ArchiveLineWriter.eventID(
        fetcherID: $0.fetcherID, sourceKey: $0.sourceKey, eTag: $0.eTag, offset: $0.offset)
    }
  }

  /// The finished object: its key in `layout`, its bytes and what the manifest records.
  /// Called once: it ends the zstd frame the writer was filling.
  public func finish(layout: ArchiveLayout, sequence: Int) throws -> ArchivePart {
    let compressed: [UInt8]
    switch compression {
    case .zstd: compressed = try (stream ?? ZstdStream(level: level)).finish(raw)
    case .gzip: compressed = try Gzip.compress(raw)
    }
    // Named by content: the same events in the same order give the same key.
    var hasher = SHA256()
    for id in [firstID, lastID] { hasher.update(data: Data((id ?? "").utf8)) }
    hasher.update(data: Data(String(events).utf8))
    let id = hasher.finalize().prefix(6).map { String(format: "%02x", $0) }.joined()
    let key = layout.objectKey(
      account: account, hour: hour, sequence: sequence, id: id, compression: compression)
    let digest = SHA256.hash(data: compressed).map { String(format: "%02x", $0) }.joined()
    return ArchivePart(
      entry: ArchiveManifest.Object(
        key: key, events: events, minTime: minTime ?? hour, maxTime: maxTime ?? hour,
        bytes: compressed.count, rawBytes: rawBytes, sha256: digest,
        lines: lines == .compact ? ArchiveLines.compact.rawValue : nil,
        fieldsFrom: fieldsFromMessage ? "message" : nil),
      bytes: compressed)
  }
}

/// A finished archive object.
public struct ArchivePart: Sendable {
  public var entry: ArchiveManifest.Object
  public var bytes: [UInt8]
}
