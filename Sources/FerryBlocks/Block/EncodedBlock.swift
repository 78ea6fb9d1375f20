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

/// Writes and reads blocks.
///
/// The payload (`FRB2`), before zstd, is columnar so that a search scans the messages of
/// a block as one run of text without making a string per event:
/// `FRB2`, the event count, a dictionary of the block's log types, source keys and field
/// names (count, then strings), then one header per event — time (microseconds, zigzag
/// delta from the previous event), source offset (zigzag delta), log type and source key
/// (dictionary indexes), flags (bit 0: the message has non-ASCII bytes), message length,
/// field count and per field its name (dictionary index) and value length — then every
/// field value, then every message, back to back. Numbers are LEB128 varints, strings
/// UTF-8. Blocks written before (`FRB1`, one row per event) are still read.
public enum BlockCodec {
  /// About 1 MB of text per block.
  public static let targetBytes = 1 << 20
  /// A block never decompresses to more than this (a guard against a damaged or hostile
  /// frame).
  public static let maxRawBytes = 64 << 20
  static let magic: [UInt8] = Array("FRB3".utf8)
  static let v2Magic: [UInt8] = Array("FRB2".utf8)
  static let legacyMagic: [UInt8] = Array("FRB1".utf8)

  /// The events in blocks of about `targetBytes` each, in the order given, compressed at
  /// zstd `level` (the store's is ``Zstd/defaultLevel``; the benchmarks measure others).
  public static func encode(
    _ events: [Event], targetBytes: Int = targetBytes, level: Int32 = Zstd.defaultLevel
  ) throws(BlockError) -> [EncodedBlock] {
    try encode(
      EventsInOrder(events, order: Array(events.indices)), targetBytes: targetBytes,
      refusingNUL: false, level: level) ?? []
  }

  /// The events at `order`'s indexes, in that order, in blocks of about `targetBytes` each:
  /// the store puts one object's events in time order without copying them.
  public static func encode(_ events: EventsInOrder, targetBytes: Int = targetBytes)
    throws(BlockError) -> [EncodedBlock]
  {
    // Never nil: NUL bytes are allowed here.
    try encode(events, targetBytes: targetBytes, refusingNUL: false) ?? []
  }

  /// The events in blocks, as ``encode(_:targetBytes:)-(EventsInOrder,_)`` packs them, or
  /// nil as soon as a message, field name, field value, log type or source key holds a
  /// NUL byte (the store replaces those first). One check per block's columns instead of
  /// one per text: nearly no event has a NUL byte.
  public static func encodeRefusingNUL(_ events: EventsInOrder, targetBytes: Int = targetBytes)
    throws(BlockError) -> [EncodedBlock]?
  {
    try encode(events, targetBytes: targetBytes, refusingNUL: true)
  }

  static func encode(
    _ events: EventsInOrder, targetBytes: Int, refusingNUL: Bool,
    level: Int32 = Zstd.defaultLevel
  ) throws(BlockError) -> [EncodedBlock]? {
    var blocks: [EncodedBlock] = []
    var start = 0
    while start < events.count {
      var end = start
      var size = 0
      while end < events.count && (end == start || size < targetBytes) {
        size += events[end].message.utf8.count + 64
        end += 1
      }
      guard
        let block = try encodeBlock(events[start..<end], refusingNUL: refusingNUL, level: level)
      else {
        return nil
      }
      blocks.append(block)
      start = end
    }
    return blocks
  }

  static func encodeBlock(
    _ events: Slice<EventsInOrder>, refusingNUL: Bool = false, level: Int32 = Zstd.defaultLevel
  ) throws(BlockError) -> EncodedBlock? {
    var hashes = HashSet64(capacity: events.count * 16)
    var minTime = Int64.max
    var maxTime = Int64.min
    // By position, so that each event is read in place, not copied (a copy retains and
    // releases every string it holds).
    for position in events.indices {
      let time = events[position].time.micros
      minTime = min(minTime, time)
      maxTime = max(maxTime, time)
    }
    var holdsNUL = false
    let raw = BlockWriter.payload(events, filterEntries: &hashes, holdsNUL: &holdsNUL)
    if refusingNUL && holdsNUL { return nil }
    var filter = BloomFilter(capacity: hashes.count)
    hashes.visit { filter.insert($0) }
    let data: [UInt8]
    do {
      data = try Zstd.compress(raw, level: level)
    } catch {
      throw BlockError(error.description)
    }
    return EncodedBlock(
      minTime: Date(micros: minTime), maxTime: Date(micros: maxTime), eventCount: events.count,
      firstOffset: events.first?.sourceOffset ?? 0, rawBytes: raw.count, data: data,
      filter: filter.bytes)
  }

  static func hasNUL(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { raw in
      guard let base = raw.baseAddress else { return false }
      return memchr(base, 0, raw.count) != nil
    }
  }

  /// A block's columns, decompressed, for a search to scan. `skipsFields` (given the
  /// block's dictionary and the indexes of its events' log types) may spare a reader that
  /// does not want the fields of a `FRB3` block the work of reading them.
  public static func view(
    _ data: [UInt8],
    skipsFields: (_ dictionary: [String], _ logTypes: Set<Int32>) -> Bool = { _, _ in false }
  ) throws(BlockError) -> BlockView {
    let raw: [UInt8]
    do {
      raw = try Zstd.decompress(data, limit: maxRawBytes)
    } catch {
      throw BlockError(error.description)
    }
    guard raw.count >= 4 else { throw BlockError("the block is shorter than its header") }
    if Array(raw[0..<4]) == legacyMagic {
      let events = try legacyEvents(raw)
      var unused = HashSet64(capacity: 0)
      var unusedNUL = false
      return try BlockView(
        raw: BlockWriter.payload(events[...], filterEntries: &unused, holdsNUL: &unusedNUL))
    }
    let head = Array(raw[0..<4])
    if head == v2Magic { return try BlockView(v2: raw) }
    guard head == magic else {
      throw BlockError("the block does not start with FRB3 (or FRB2, FRB1)")
    }
    return try BlockView(raw: raw, skipsFields: skipsFields)
  }

  /// The source offsets of a block's events, in their order, read from as little of it as
  /// they need: a `FRB3` block is decompressed only up to the end of its message lengths
  /// (its times, offsets, sources and heads columns, a few percent of it), not through its
  /// messages. A restore reads the offsets of every stored block of an object version for
  /// each batch it commits; reading their text too made the restore of a large object
  /// decompress all it had stored again for every batch.
  public static func offsets(_ data: [UInt8]) throws(BlockError) -> [Int64] {
    let prefix: [UInt8]
    do {
      prefix = try Zstd.decompressPrefix(data, limit: maxRawBytes) { offsetsEnd(in: $0) != nil }
    } catch {
      throw BlockError(error.description)
    }
    guard prefix.count >= 4, Array(prefix[0..<4]) == magic, let ends = offsetsEnd(in: prefix)
    else {
      // An older layout, or a block too short to say: read whole.
      let whole = try view(data)
      return (0..<whole.count).map { whole.offset($0) }
    }
    var offsets = Varint.Reader(
      bytes: prefix, position: ends.offsets, end: ends.offsets + ends.offsetsLength)
    var heads = Varint.Reader(
      bytes: prefix, position: ends.heads, end: ends.heads + ends.headsLength)
    var out: [Int64] = []
    out.reserveCapacity(ends.count)
    var end: Int64 = 0
    for _ in 0..<ends.count {
      let offset = end &+ Varint.unzigzag(try offsets.uint())
      _ = try heads.uint()
      end = offset &+ Int64(try heads.int())
      out.append(offset)
    }
    return out
  }

  /// Where a `FRB3` payload's offsets and heads columns are, once `prefix` holds them both
  /// (nil: not yet, or not `FRB3`).
  static func offsetsEnd(in prefix: [UInt8]) -> (
    count: Int, offsets: Int, offsetsLength: Int, heads: Int, headsLength: Int
  )? {
    guard prefix.count >= 4, Array(prefix[0..<4]) == magic else { return nil }
    var reader = Varint.Reader(bytes: prefix, position: 4)
    do {
      let count = try reader.int()
      let names = try reader.int()
      guard names <= prefix.count else { return nil }
      for _ in 0..<names { _ = try reader.string() }
      var lengths: [Int] = []
      for _ in 0..<BlockWriter.streamCount { lengths.append(try reader.int()) }
      let times = reader.position
      let offsets = times + lengths[0]
      let heads = offsets + lengths[1] + lengths[2]
      guard heads + lengths[3] <= prefix.count else { return nil }
      return (count, offsets, lengths[1], heads, lengths[3])
    } catch {
      return nil
    }
  }

  /// The events of a block, in the order they were written; `accountID` and `fetcherID`
  /// come from the block's row.
  public static func decode(_ data: [UInt8], accountID: AccountID, fetcherID: String)
    throws(BlockError) -> [Event]
  {
    let view = try view(data)
    return (0..<view.count).map { view.event($0, accountID: accountID, fetcherID: fetcherID) }
  }

  /// `FRB1`, as written before the columnar layout: per event the time (zigzag delta), the
  /// source offset, the log type, the source key, the message and the fields.
  static func legacyEvents(_ raw: [UInt8]) throws(BlockError) -> [Event] {
    var reader = Varint.Reader(bytes: raw)
    reader.position = 4
    let count = try reader.int()
    guard count <= raw.count else { throw BlockError("the block claims \(count) events") }
    var events: [Event] = []
    events.reserveCapacity(count)
    var time: Int64 = 0
    let nobody = AccountID(rawValue: "")
    for _ in 0..<count {
      time &+= Varint.unzigzag(try reader.uint())
      let offset = Int64(bitPattern: try reader.uint())
      let logType = try reader.string()
      let sourceKey = try reader.string()
      let message = try reader.string()
      let fieldCount = try reader.int()
      var fields = Fields()
      for _ in 0..<fieldCount {
        let key = try reader.string()
        fields[key] = try reader.string()
      }
      events.append(
        Event(
          accountID: nobody, fetcherID: "", logType: logType, time: Date(micros: time),
          sourceKey: sourceKey, sourceOffset: offset, message: message, fields: fields))
    }
    guard reader.position == raw.count else {
      throw BlockError("the block has \(raw.count - reader.position) bytes after its events")
    }
    return events
  }
}

/// Events of an array read in another order, by index, without copying them.
public struct EventsInOrder: RandomAccessCollection {
  public let events: [Event]
  public let order: [Int]

  /// - Parameter order: indexes of `events`.
  public init(_ events: [Event], order: [Int]) {
    self.events = events
    self.order = order
  }

  public var startIndex: Int { order.startIndex }
  public var endIndex: Int { order.endIndex }
  public subscript(position: Int) -> Event {
    _read { yield events[order[position]] }
  }
}
