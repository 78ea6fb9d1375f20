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
  static let magic: [UInt8] = Array("FRB2".utf8)
  static let legacyMagic: [UInt8] = Array("FRB1".utf8)

  /// The events in blocks of about `targetBytes` each, in the order given.
  public static func encode(_ events: [Event], targetBytes: Int = targetBytes) throws(BlockError)
    -> [EncodedBlock]
  {
    try encode(EventsInOrder(events, order: Array(events.indices)), targetBytes: targetBytes)
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

  static func encode(_ events: EventsInOrder, targetBytes: Int, refusingNUL: Bool)
    throws(BlockError) -> [EncodedBlock]?
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
      guard let block = try encodeBlock(events[start..<end], refusingNUL: refusingNUL) else {
        return nil
      }
      blocks.append(block)
      start = end
    }
    return blocks
  }

  static func encodeBlock(_ events: Slice<EventsInOrder>, refusingNUL: Bool = false)
    throws(BlockError) -> EncodedBlock?
  {
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
    let raw = payload(events, filterEntries: &hashes, holdsNUL: &holdsNUL)
    if refusingNUL && holdsNUL { return nil }
    var filter = BloomFilter(capacity: hashes.count)
    hashes.visit { filter.insert($0) }
    let data: [UInt8]
    do {
      data = try Zstd.compress(raw)
    } catch {
      throw BlockError(error.description)
    }
    return EncodedBlock(
      minTime: Date(micros: minTime), maxTime: Date(micros: maxTime), eventCount: events.count,
      firstOffset: events.first?.sourceOffset ?? 0, rawBytes: raw.count, data: data,
      filter: filter.bytes)
  }

  /// The uncompressed `FRB2` payload of `events`; what the block's filter holds goes into
  /// `filterEntries`: the hash of every word of every message, of every `field=value` and
  /// of each `logtype=…`.
  /// `holdsNUL` is set when a text of the payload (name, value or message) holds a NUL byte.
  static func payload<Events: Collection<Event>>(
    _ events: Events, filterEntries words: inout HashSet64, holdsNUL: inout Bool
  )
    -> [UInt8]
  {
    var dictionary: [String: Int] = [:]
    var names: [String] = []
    // Per dictionary entry, the filter's hash state after `name=` (0: not computed yet):
    // a field's key is hashed once per block, not once per event.
    var keyStates: [UInt64] = []
    func index(_ name: String) -> UInt64 {
      if let known = dictionary[name] { return UInt64(known) }
      dictionary[name] = names.count
      names.append(name)
      keyStates.append(0)
      return UInt64(names.count - 1)
    }
    var headers: [UInt8] = []
    headers.reserveCapacity(events.count * 16)
    var values: [UInt8] = []
    var messages: [UInt8] = []
    messages.reserveCapacity(events.reduce(0) { $0 + $1.message.utf8.count })
    var previousTime: Int64 = 0
    var previousOffset: Int64 = 0
    var previousLogType: String?
    var logTypeIndex: UInt64 = 0
    var previousSourceKey: String?
    var sourceKeyIndex: UInt64 = 0
    // The previous event's field names with their indexes: events of one object nearly
    // always have the same names in the same order, so most lookups are one comparison.
    var previousNames: [(name: String, index: UInt64)] = []
    var currentNames: [(name: String, index: UInt64)] = []
    for event in events {
      if event.logType != previousLogType {
        words.insert(TokenHash.field("logtype", event.logType))
        previousLogType = event.logType
        logTypeIndex = index(event.logType)
      }
      if event.sourceKey != previousSourceKey {
        previousSourceKey = event.sourceKey
        sourceKeyIndex = index(event.sourceKey)
      }
      let time = event.time.micros
      Varint.write(Varint.zigzag(time &- previousTime), to: &headers)
      previousTime = time
      Varint.write(Varint.zigzag(event.sourceOffset &- previousOffset), to: &headers)
      previousOffset = event.sourceOffset
      Varint.write(logTypeIndex, to: &headers)
      Varint.write(sourceKeyIndex, to: &headers)
      var message = event.message
      let ascii = Tokenizer.addTokenHashes(message, to: &words)
      message.withUTF8 { bytes in
        Varint.write(ascii ? 0 : 1, to: &headers)
        Varint.write(UInt64(bytes.count), to: &headers)
        messages.append(contentsOf: bytes)
      }
      Varint.write(UInt64(event.fields.count), to: &headers)
      // In the event's order, which is the log's: one object's events give their names
      // in the same order, so the previous event's names nearly always match.
      currentNames.removeAll(keepingCapacity: true)
      event.fields.forEachUTF8 { key, value in
        let position = currentNames.count
        let keyIndex =
          position < previousNames.count && previousNames[position].name == key
          ? previousNames[position].index : index(key)
        var keyState = keyStates[Int(keyIndex)]
        if keyState == 0 {
          keyState = TokenHash.keyState(key)
          keyStates[Int(keyIndex)] = keyState
        }
        words.insert(TokenHash.field(keyState, utf8: value))
        currentNames.append((key, keyIndex))
        Varint.write(keyIndex, to: &headers)
        Varint.write(UInt64(value.count), to: &headers)
        values.append(contentsOf: value)
      }
      swap(&previousNames, &currentNames)
    }
    holdsNUL =
      hasNUL(values) || hasNUL(messages) || names.contains { $0.utf8.contains(0) }
    var out = magic
    out.reserveCapacity(64 + headers.count + values.count + messages.count)
    Varint.write(UInt64(events.count), to: &out)
    Varint.write(UInt64(names.count), to: &out)
    for name in names { Varint.writeString(name, to: &out) }
    out += headers
    out += values
    out += messages
    return out
  }

  static func hasNUL(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { raw in
      guard let base = raw.baseAddress else { return false }
      return memchr(base, 0, raw.count) != nil
    }
  }

  /// A block's columns, decompressed, for a search to scan.
  public static func view(_ data: [UInt8]) throws(BlockError) -> BlockView {
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
        raw: payload(events[...], filterEntries: &unused, holdsNUL: &unusedNUL))
    }
    guard Array(raw[0..<4]) == magic else {
      throw BlockError("the block does not start with FRB2 (or FRB1)")
    }
    return try BlockView(raw: raw)
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
