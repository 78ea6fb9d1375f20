import FerryCore
import Foundation

/// The `manifest.json` of one partition (one account's hour): every object in it with its
/// event count, time range, size and SHA-256, so a restore can price itself from manifests
/// alone and check each object it reads. Adding an object whose key is already listed
/// replaces that entry, so writing again after a crash never lists an object twice.
public struct ArchiveManifest: Sendable, Equatable, Codable {
  /// 2: objects may hold compact lines (`"lines": "compact"`, no `eventId`); 3: their
  /// lines may leave out `fields` where the message gives them back (`"fieldsFrom":
  /// "message"`). A manifest lists such an object only at that schema, so a Ferry that
  /// cannot read them says so.
  public static let currentSchema = 3

  public var schemaVersion: Int
  public var account: String
  /// The partition's hour, UTC.
  public var hour: Date
  public var objects: [Object]

  public struct Object: Sendable, Equatable, Codable {
    public var key: String
    public var events: Int
    public var minTime: Date
    public var maxTime: Date
    /// Compressed bytes, as stored.
    public var bytes: Int
    /// NDJSON bytes before compression.
    public var rawBytes: Int
    /// Hex SHA-256 of the stored bytes.
    public var sha256: String
    /// `"compact"` when the object's lines leave out `eventId` (readers derive it); absent
    /// for full lines, the form of every object written before it existed.
    public var lines: String?
    /// `"message"` when lines without `fields` take them from their message (JSON lines
    /// and CloudTrail records: ``MessageFields``); absent when every line has its fields.
    public var fieldsFrom: String?

    public init(
      key: String, events: Int, minTime: Date, maxTime: Date, bytes: Int, rawBytes: Int,
      sha256: String, lines: String? = nil, fieldsFrom: String? = nil
    ) {
      self.fieldsFrom = fieldsFrom
      self.key = key
      self.events = events
      self.minTime = minTime
      self.maxTime = maxTime
      self.bytes = bytes
      self.rawBytes = rawBytes
      self.sha256 = sha256
      self.lines = lines
    }
  }

  public init(account: AccountID, hour: Date, objects: [Object] = []) {
    self.schemaVersion = 1
    self.account = account.rawValue
    self.hour = hour
    self.objects = objects
  }

  public var events: Int { objects.reduce(0) { $0 + $1.events } }
  public var bytes: Int { objects.reduce(0) { $0 + $1.bytes } }

  /// The manifest with `object` in it, once, objects in key order.
  public func adding(_ object: Object) -> ArchiveManifest {
    var copy = self
    copy.objects.removeAll { $0.key == object.key }
    copy.objects.append(object)
    copy.objects.sort { $0.key < $1.key }
    if object.lines != nil { copy.schemaVersion = max(copy.schemaVersion, 2) }
    if object.fieldsFrom != nil { copy.schemaVersion = max(copy.schemaVersion, 3) }
    return copy
  }

  public func encoded() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.dateEncodingStrategy = .custom { date, encoder in
      var container = encoder.singleValueContainer()
      try container.encode(ArchiveRecord.time(date))
    }
    return try encoder.encode(self)
  }

  /// Reads a manifest; a newer schema or a malformed file is an error that says so.
  public static func decode(_ data: Data) throws -> ArchiveManifest {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .custom { decoder in
      let text = try decoder.singleValueContainer().decode(String.self)
      guard let date = try? Date(text, strategy: ArchiveRecord.timeFormat) else {
        throw DecodingError.dataCorrupted(
          .init(codingPath: decoder.codingPath, debugDescription: "\(text) is not an RFC 3339 time")
        )
      }
      return date
    }
    let manifest = try decoder.decode(ArchiveManifest.self, from: data)
    guard manifest.schemaVersion <= currentSchema else {
      throw ManifestError(
        description:
          "the manifest has schema version \(manifest.schemaVersion), newer than this Ferry's \(currentSchema): upgrade Ferry to read it"
      )
    }
    return manifest
  }
}

public struct ManifestError: Error, Sendable, CustomStringConvertible {
  public var description: String
}
