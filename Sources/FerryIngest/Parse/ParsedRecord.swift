import FerryCore
import Foundation

/// One record of a log, as a parser reads it: where it starts in the decompressed object
/// (its offset, with the object version its identity), its text, kept as it was, and the
/// few fields its format documents.
public struct ParsedRecord: Sendable, Equatable {
  public var offset: Int64
  public var text: String
  /// From the record; nil when it has none (the object's time is used).
  public var time: Date?
  public var fields: Fields

  public init(offset: Int64, text: String, time: Date? = nil, fields: Fields = [:]) {
    self.offset = offset
    self.text = text
    self.time = time
    self.fields = fields
  }
}

/// Reads records from decompressed bytes that arrive in pieces of any size.
public protocol RecordParser {
  mutating func feed(_ bytes: [UInt8], emit: (ParsedRecord) throws -> Void) throws
  /// The object is over: the last record, if it had no newline, comes out here.
  mutating func finish(emit: (ParsedRecord) throws -> Void) throws
  /// What was cut or skipped, for the object's ledger row (nil: nothing).
  var notes: String? { get }
}

/// Limits that keep memory bounded whatever an object holds.
public enum ParseLimits {
  /// A line (or a CloudTrail record) longer than this is cut here: its first bytes are
  /// kept as the event, marked `ferry.truncated`, and the rest is skipped, not loaded.
  public static let maxRecordBytes = 1 << 20
}
