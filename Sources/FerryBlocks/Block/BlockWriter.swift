import FerryCore
import Foundation

/// The `FRB3` payload: a block's events as columns, each kept apart so that zstd finds
/// what repeats within it (a time column of small deltas, a column of field names that
/// is the same for every event of an object), and each field value kept once: where the
/// message holds the value's bytes (JSON lines and CloudTrail records nearly always do),
/// the field is a place in the message, not a copy.
///
/// Layout: `FRB3`, the event count, the dictionary (log types, source keys and field
/// names: count, then strings), the byte lengths of the eight streams below, the streams,
/// then every message back to back. Numbers are LEB128 varints.
///
/// | stream | per event |
/// | --- | --- |
/// | times | microseconds, zigzag delta from the previous event |
/// | offsets | source offset, zigzag delta from the previous event's end (offset + message length) |
/// | sources | log type and source key (dictionary indexes) |
/// | messages | flags (bit 0: bytes outside ASCII), message length |
/// | names | field count, then each field's name (dictionary index) |
/// | places | per field: `zigzag(start − cursor) << 2 \| implied << 1` for a value found in the message (the cursor is where the previous field found ended; `implied`: the value ends at the message's first stop byte from its start, see ``naturalEnd(of:from:)``), or 1 for a value kept as literal bytes |
/// | lengths | the byte length of each value whose end is not implied |
/// | literals | the bytes of the values kept literally, back to back |
enum BlockWriter {
  static let streamCount = 8

  /// The bytes that end a value in the text of a log: JSON's quote, comma and closing
  /// brackets, and the space of access logs.
  static let stops: [Bool] = (0..<256).map { b in
    [
      UInt8(ascii: "\""), UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"),
      UInt8(ascii: " "),
    ]
    .contains(UInt8(b))
  }

  /// Where a value found at `start` of `message` ends when its end is implied: at the
  /// first stop byte (``stops``) from `start`, or the message's end. A JSON string without
  /// spaces or commas, a number, a literal: each ends so, and its length costs nothing.
  @inline(__always) static func naturalEnd(of message: UnsafeBufferPointer<UInt8>, from start: Int)
    -> Int
  {
    var at = start
    stops.withUnsafeBufferPointer { stops in
      while at < message.count && !stops[Int(message[at])] { at += 1 }
    }
    return at
  }

  /// Whether a byte may be part of a word (ASCII letters and digits; any byte outside
  /// ASCII, conservatively): a value found in the message with a non-word byte (or the
  /// message's edge) on each side has exactly the words the message has there.
  @inline(__always) static func isWordByte(_ b: UInt8) -> Bool {
    b >= 0x80 || (b &- 0x30 < 10) || ((b | 0x20) &- 0x61 < 26)
  }

  /// Where `value` starts in `message`, at or after `cursor` if it is there, else
  /// anywhere, at word boundaries (see ``isWordByte(_:)``); nil if the message does not
  /// hold it so.
  @inline(__always) static func place(
    of value: UnsafeBufferPointer<UInt8>, in message: UnsafeBufferPointer<UInt8>, from cursor: Int
  ) -> Int? {
    guard let v = value.baseAddress, !value.isEmpty else { return cursor }
    guard let m = message.baseAddress, value.count <= message.count else { return nil }
    let first = value[0]
    let last = value[value.count - 1]
    let firstIsWord = isWordByte(first)
    let lastIsWord = isWordByte(last)
    func search(_ from: Int, _ to: Int) -> Int? {
      // Candidates where the first byte matches (memchr), then compared whole.
      var at = from
      let limit = to - value.count
      while at <= limit {
        guard let hit = memchr(m + at, Int32(first), limit - at + 1) else { return nil }
        let p = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)) - m
        if memcmp(m + p, v, value.count) == 0
          && !(firstIsWord && p > 0 && isWordByte(message[p - 1]))
          && !(lastIsWord && p + value.count < message.count
            && isWordByte(message[p + value.count]))
        {
          return p
        }
        at = p + 1
      }
      return nil
    }
    if cursor <= message.count, let p = search(cursor, message.count) { return p }
    return search(0, min(message.count, cursor + value.count - 1))
  }

  /// The payload of `events`; what the block's filter needs goes into `filterEntries`: the
  /// hash of every word of every message, of each `logtype=…`, and of `field=value` for
  /// each value that is not a place in an ASCII message (a search asks the filter for
  /// either that or every word of the value). `holdsNUL` is set when a text of the payload
  /// (name, value or message) holds a NUL byte.
  static func payload<Events: Collection<Event>>(
    _ events: Events, filterEntries words: inout HashSet64, holdsNUL: inout Bool
  ) -> [UInt8] {
    var dictionary: [String: Int] = [:]
    var names: [String] = []
    // Per dictionary entry, the filter's hash state after `name=` (nil: not computed yet).
    var keyStates: [PackedHash.State?] = []
    func index(_ name: String) -> UInt64 {
      if let known = dictionary[name] { return UInt64(known) }
      dictionary[name] = names.count
      names.append(name)
      keyStates.append(nil)
      return UInt64(names.count - 1)
    }
    let count = events.count
    var times: [UInt8] = []
    times.reserveCapacity(count * 3)
    var offsets: [UInt8] = []
    offsets.reserveCapacity(count)
    var sources: [UInt8] = []
    sources.reserveCapacity(count * 2)
    var heads: [UInt8] = []
    heads.reserveCapacity(count * 3)
    var fieldNames: [UInt8] = []
    fieldNames.reserveCapacity(count * 8)
    var places: [UInt8] = []
    places.reserveCapacity(count * 8)
    var lengths: [UInt8] = []
    lengths.reserveCapacity(count * 8)
    var literals: [UInt8] = []
    var messages: [UInt8] = []
    messages.reserveCapacity(events.reduce(0) { $0 + $1.message.utf8.count })
    var previousTime: Int64 = 0
    var previousEnd: Int64 = 0
    var previousLogType: String?
    var logTypeIndex: UInt64 = 0
    var previousSourceKey: String?
    var sourceKeyIndex: UInt64 = 0
    // The previous event's field names with their indexes: events of one object nearly
    // always have the same names in the same order, so most lookups are one comparison.
    var previousNames: [(name: String, index: UInt64)] = []
    var currentNames: [(name: String, index: UInt64)] = []
    var valuesHoldNUL = false
    for event in events {
      if event.logType != previousLogType {
        words.insert(PackedHash.field("logtype", event.logType))
        previousLogType = event.logType
        logTypeIndex = index(event.logType)
      }
      if event.sourceKey != previousSourceKey {
        previousSourceKey = event.sourceKey
        sourceKeyIndex = index(event.sourceKey)
      }
      let time = event.time.micros
      Varint.write(Varint.zigzag(time &- previousTime), to: &times)
      previousTime = time
      Varint.write(Varint.zigzag(event.sourceOffset &- previousEnd), to: &offsets)
      Varint.write(logTypeIndex, to: &sources)
      Varint.write(sourceKeyIndex, to: &sources)
      var message = event.message
      let ascii = Tokenizer.addTokenHashes(message, to: &words)
      Varint.write(UInt64(event.fields.count), to: &fieldNames)
      currentNames.removeAll(keepingCapacity: true)
      message.withUTF8 { text in
        Varint.write(ascii ? 0 : 1, to: &heads)
        Varint.write(UInt64(text.count), to: &heads)
        messages.append(contentsOf: text)
        previousEnd = event.sourceOffset &+ Int64(text.count)
        var cursor = 0
        // In the event's order, which is the log's: values are found in the message one
        // after another, each a few bytes after the cursor.
        event.fields.forEachUTF8 { key, value in
          let position = currentNames.count
          let keyIndex =
            position < previousNames.count && previousNames[position].name == key
            ? previousNames[position].index : index(key)
          currentNames.append((key, keyIndex))
          Varint.write(keyIndex, to: &fieldNames)
          if let start = place(of: value, in: text, from: cursor) {
            let end = start + value.count
            let implied = naturalEnd(of: text, from: start) == end
            Varint.write(
              Varint.zigzag(Int64(start - cursor)) << 2 | (implied ? 2 : 0), to: &places)
            if !implied { Varint.write(UInt64(value.count), to: &lengths) }
            cursor = end
            if ascii { return }
          } else {
            places.append(1)
            Varint.write(UInt64(value.count), to: &lengths)
            literals.append(contentsOf: value)
            valuesHoldNUL = valuesHoldNUL || value.contains(0)
          }
          let keyState = keyStates[Int(keyIndex)] ?? PackedHash.keyState(key)
          keyStates[Int(keyIndex)] = keyState
          words.insert(PackedHash.field(keyState, utf8: value))
        }
      }
      swap(&previousNames, &currentNames)
    }
    // A value found in a message holds a NUL only if the message does.
    holdsNUL =
      valuesHoldNUL || BlockCodec.hasNUL(messages) || names.contains { $0.utf8.contains(0) }
    let streams = [times, offsets, sources, heads, fieldNames, places, lengths, literals]
    var out = BlockCodec.magic
    out.reserveCapacity(64 + streams.reduce(messages.count) { $0 + $1.count })
    Varint.write(UInt64(count), to: &out)
    Varint.write(UInt64(names.count), to: &out)
    for name in names { Varint.writeString(name, to: &out) }
    for stream in streams { Varint.write(UInt64(stream.count), to: &out) }
    for stream in streams { out += stream }
    out += messages
    return out
  }
}
