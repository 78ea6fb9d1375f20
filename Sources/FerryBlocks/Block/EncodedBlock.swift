import FerryCore
import Foundation

/// Events of one commit (one object, or one chunk of a large one) as the store keeps
/// them: zstd-compressed data, a filter of the block's words and `field=value` pairs, and
/// the index columns a search selects blocks by.
public struct EncodedBlock: Sendable, Equatable {
  public var minTime: Date
  public var maxTime: Date
  public var eventCount: Int
  /// The source offset of the block's first event: with the object version, the block's
  /// natural key (a repeated commit writes the same blocks, which the store ignores).
  public var firstOffset: Int64
  /// Bytes of the uncompressed payload.
  public var rawBytes: Int
  /// The zstd frame.
  public var data: [UInt8]
  /// ``BloomFilter/bytes``.
  public var filter: [UInt8]
}

/// What went wrong reading a block.
public struct BlockError: Error, Sendable, Equatable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// Writes and reads blocks. The payload, before zstd: `FRB1`, the event count, then per
/// event the time (microseconds, as a zigzag varint delta from the previous event), the
/// source offset, the log type, the source key, the message and the fields (count, then
/// key and value), each string a varint length and UTF-8.
public enum BlockCodec {
  /// About 1 MB of text per block.
  public static let targetBytes = 1 << 20
  /// A block never decompresses to more than this (a guard against a damaged or hostile
  /// frame).
  public static let maxRawBytes = 64 << 20
  static let magic: [UInt8] = Array("FRB1".utf8)

  /// The events in blocks of about `targetBytes` each, in the order given.
  public static func encode(_ events: [Event], targetBytes: Int = targetBytes) throws(BlockError)
    -> [EncodedBlock]
  {
    var blocks: [EncodedBlock] = []
    var start = 0
    while start < events.count {
      var end = start
      var size = 0
      while end < events.count && (end == start || size < targetBytes) {
        size += events[end].message.utf8.count + 64
        end += 1
      }
      blocks.append(try encodeBlock(events[start..<end]))
      start = end
    }
    return blocks
  }

  static func encodeBlock(_ events: ArraySlice<Event>) throws(BlockError) -> EncodedBlock {
    var out = magic
    out.reserveCapacity(events.reduce(64) { $0 + $1.message.utf8.count + 48 })
    Varint.write(UInt64(events.count), to: &out)
    var previous: Int64 = 0
    var hashes = Set<UInt64>()
    hashes.reserveCapacity(events.count * 8)
    var minTime = Int64.max
    var maxTime = Int64.min
    for event in events {
      let time = event.time.micros
      minTime = min(minTime, time)
      maxTime = max(maxTime, time)
      Varint.write(Varint.zigzag(time &- previous), to: &out)
      previous = time
      Varint.write(UInt64(bitPattern: event.sourceOffset), to: &out)
      Varint.writeString(event.logType, to: &out)
      Varint.writeString(event.sourceKey, to: &out)
      Varint.writeString(event.message, to: &out)
      Varint.write(UInt64(event.fields.count), to: &out)
      for (key, value) in event.fields.sorted(by: { $0.key < $1.key }) {
        Varint.writeString(key, to: &out)
        Varint.writeString(value, to: &out)
        hashes.insert(TokenHash.field(key, value))
      }
      hashes.insert(TokenHash.field("logtype", event.logType))
      Tokenizer.forEachTokenHash(event.message) { hashes.insert($0) }
    }
    var filter = BloomFilter(capacity: hashes.count)
    for hash in hashes { filter.insert(hash) }
    let data: [UInt8]
    do {
      data = try Zstd.compress(out)
    } catch {
      throw BlockError(error.description)
    }
    return EncodedBlock(
      minTime: Date(micros: minTime), maxTime: Date(micros: maxTime), eventCount: events.count,
      firstOffset: events.first?.sourceOffset ?? 0, rawBytes: out.count, data: data,
      filter: filter.bytes)
  }

  /// The events of a block, in the order they were written; `accountID` and `fetcherID`
  /// come from the block's row.
  public static func decode(_ data: [UInt8], accountID: AccountID, fetcherID: String)
    throws(BlockError) -> [Event]
  {
    let raw: [UInt8]
    do {
      raw = try Zstd.decompress(data, limit: maxRawBytes)
    } catch {
      throw BlockError(error.description)
    }
    var reader = Varint.Reader(bytes: raw)
    guard raw.count >= 4, Array(raw[0..<4]) == magic else {
      throw BlockError("the block does not start with FRB1")
    }
    reader.position = 4
    let count = try reader.int()
    guard count <= raw.count else { throw BlockError("the block claims \(count) events") }
    var events: [Event] = []
    events.reserveCapacity(count)
    var time: Int64 = 0
    for _ in 0..<count {
      time &+= Varint.unzigzag(try reader.uint())
      let offset = Int64(bitPattern: try reader.uint())
      let logType = try reader.string()
      let sourceKey = try reader.string()
      let message = try reader.string()
      let fieldCount = try reader.int()
      var fields: [String: String] = [:]
      for _ in 0..<fieldCount {
        let key = try reader.string()
        fields[key] = try reader.string()
      }
      events.append(
        Event(
          accountID: accountID, fetcherID: fetcherID, logType: logType, time: Date(micros: time),
          sourceKey: sourceKey, sourceOffset: offset, message: message, fields: fields))
    }
    guard reader.position == raw.count else {
      throw BlockError("the block has \(raw.count - reader.position) bytes after its events")
    }
    return events
  }
}

/// LEB128 varints and length-prefixed strings.
enum Varint {
  @inline(__always) static func write(_ value: UInt64, to out: inout [UInt8]) {
    var v = value
    while v >= 0x80 {
      out.append(UInt8(truncatingIfNeeded: v) | 0x80)
      v >>= 7
    }
    out.append(UInt8(v))
  }

  static func writeString(_ text: String, to out: inout [UInt8]) {
    var text = text
    text.withUTF8 { bytes in
      write(UInt64(bytes.count), to: &out)
      out.append(contentsOf: bytes)
    }
  }

  @inline(__always) static func zigzag(_ v: Int64) -> UInt64 {
    UInt64(bitPattern: (v << 1) ^ (v >> 63))
  }

  @inline(__always) static func unzigzag(_ v: UInt64) -> Int64 {
    Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
  }

  struct Reader {
    let bytes: [UInt8]
    var position = 0

    mutating func uint() throws(BlockError) -> UInt64 {
      var value: UInt64 = 0
      var shift: UInt64 = 0
      while true {
        guard position < bytes.count, shift < 64 else {
          throw BlockError("the block ends inside a number")
        }
        let byte = bytes[position]
        position += 1
        value |= UInt64(byte & 0x7F) << shift
        if byte < 0x80 { return value }
        shift += 7
      }
    }

    mutating func int() throws(BlockError) -> Int {
      let value = try uint()
      guard value <= UInt64(Int.max) else { throw BlockError("a length is out of range") }
      return Int(value)
    }

    mutating func string() throws(BlockError) -> String {
      let length = try int()
      guard length <= bytes.count - position else {
        throw BlockError("the block ends inside a string")
      }
      let text = String(decoding: bytes[position..<position + length], as: UTF8.self)
      position += length
      return text
    }
  }
}
