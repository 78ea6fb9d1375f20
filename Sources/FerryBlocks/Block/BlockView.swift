import FerryCore
import Foundation

/// A decompressed block's columns: every event's time, its place in the payload and its
/// fields, read in one pass over the headers, so that a search tests times and scans
/// messages as bytes and makes strings only for the events it returns.
public struct BlockView: Sendable {
  public let raw: [UInt8]
  public private(set) var count = 0
  /// Microseconds since 1970, per event.
  public private(set) var times: [Int64] = []
  var offsets: [Int64] = []
  var logTypes: [Int32] = []
  var sourceKeys: [Int32] = []
  /// Where each message starts in `raw`, and its length.
  var messageStarts: [Int] = []
  var messageLengths: [Int32] = []
  /// Messages with bytes outside ASCII (whose words follow Unicode's rules).
  var nonASCII: [Bool] = []
  /// Each event's fields are `fieldNames/fieldStarts/fieldLengths[firstField[i] ..<
  /// firstField[i + 1]]`.
  var firstField: [Int32] = []
  var fieldNames: [Int32] = []
  var fieldStarts: [Int] = []
  var fieldLengths: [Int32] = []
  /// Log types, source keys and field names.
  var dictionary: [String] = []

  /// A `FRB3` payload (``BlockWriter``). Its fields are read unless `skipsFields`, given
  /// the dictionary and the indexes of the log types the events have, says a reader does
  /// not want them (every event then has none).
  init(
    raw: [UInt8],
    skipsFields: (_ dictionary: [String], _ logTypes: Set<Int32>) -> Bool = { _, _ in false }
  ) throws(BlockError) {
    self.raw = raw
    var header = Varint.Reader(bytes: raw, position: 4)
    let count = try header.int()
    guard count <= raw.count else { throw BlockError("the block claims \(count) events") }
    let names = try header.int()
    guard names <= raw.count else { throw BlockError("the block claims \(names) names") }
    for _ in 0..<names { dictionary.append(try header.string()) }
    var bounds: [Int] = []
    for _ in 0..<BlockWriter.streamCount {
      let length = try header.int()
      guard length <= raw.count else { throw BlockError("a stream length is out of range") }
      bounds.append(length)
    }
    var starts: [Int] = []
    var at = header.position
    for length in bounds {
      starts.append(at)
      at += length
    }
    guard at <= raw.count else { throw BlockError("the block's streams run past its end") }
    func stream(_ n: Int) -> Varint.Reader {
      Varint.Reader(bytes: raw, position: starts[n], end: starts[n] + bounds[n])
    }
    var times = stream(0)
    var offsets = stream(1)
    var sources = stream(2)
    var heads = stream(3)
    var fieldNames = stream(4)
    var places = stream(5)
    var lengths = stream(6)
    var literal = starts[7]
    let literalsEnd = starts[7] + bounds[7]
    let messagesStart = at
    reserve(count)
    func name(_ reader: inout Varint.Reader) throws(BlockError) -> Int32 {
      let index = try reader.int()
      guard index < names else { throw BlockError("a name index is out of range") }
      return Int32(index)
    }
    var time: Int64 = 0
    var end: Int64 = 0
    var message = messagesStart
    var seenLogTypes = Set<Int32>()
    // The events' own columns first, then their fields.
    for _ in 0..<count {
      time &+= Varint.unzigzag(try times.uint())
      self.times.append(time)
      let offset = end &+ Varint.unzigzag(try offsets.uint())
      self.offsets.append(offset)
      let logType = try name(&sources)
      logTypes.append(logType)
      seenLogTypes.insert(logType)
      sourceKeys.append(try name(&sources))
      nonASCII.append(try heads.uint() & 1 == 1)
      let length = try heads.int()
      guard length <= raw.count - message else {
        throw BlockError("a message runs past the block's end")
      }
      messageStarts.append(message)
      messageLengths.append(Int32(length))
      end = offset &+ Int64(length)
      message += length
    }
    guard message == raw.count else {
      throw BlockError(
        "the block's text is \(raw.count - messagesStart) bytes, not the \(message - messagesStart) its headers add up to"
      )
    }
    if skipsFields(dictionary, seenLogTypes) {
      firstField = [Int32](repeating: 0, count: count + 1)
      return
    }
    for event in 0..<count {
      let message = messageStarts[event]
      let length = Int(messageLengths[event])
      firstField.append(Int32(self.fieldNames.count))
      let fields = try fieldNames.int()
      guard fields <= raw.count else { throw BlockError("a field count is out of range") }
      var cursor = 0
      for _ in 0..<fields {
        self.fieldNames.append(try name(&fieldNames))
        let place = try places.uint()
        var valueLength = 0
        if place & 1 == 1 {
          valueLength = try lengths.int()
          guard valueLength <= literalsEnd - literal else {
            throw BlockError("a field value runs past the block's literals")
          }
          fieldStarts.append(literal)
          literal += valueLength
        } else {
          let start = Int64(cursor) &+ Varint.unzigzag(place >> 2)
          guard start >= 0, start <= Int64(length) else {
            throw BlockError("a field's place is outside its message")
          }
          if place & 2 == 2 {
            valueLength = Self.naturalLength(raw, from: message + Int(start), end: message + length)
          } else {
            valueLength = try lengths.int()
            guard valueLength <= length - Int(start) else {
              throw BlockError("a field's value runs past its message")
            }
          }
          fieldStarts.append(message + Int(start))
          cursor = Int(start) + valueLength
        }
        fieldLengths.append(Int32(valueLength))
      }
    }
    firstField.append(Int32(self.fieldNames.count))
    guard literal == literalsEnd else {
      throw BlockError("the block's literals are not the bytes its fields add up to")
    }
  }

  /// Sets the event count and makes room in the per-event columns.
  private mutating func reserve(_ count: Int) {
    self.count = count
    times.reserveCapacity(count)
    offsets.reserveCapacity(count)
    logTypes.reserveCapacity(count)
    sourceKeys.reserveCapacity(count)
    messageStarts.reserveCapacity(count)
    messageLengths.reserveCapacity(count)
    nonASCII.reserveCapacity(count)
    firstField.reserveCapacity(count + 1)
  }

  /// The length of a value at `start` whose end is implied (``BlockWriter/naturalEnd(of:from:)``),
  /// looking no further than `end`.
  static func naturalLength(_ raw: [UInt8], from start: Int, end: Int) -> Int {
    raw.withUnsafeBufferPointer { bytes in
      BlockWriter.naturalEnd(of: UnsafeBufferPointer(rebasing: bytes[start..<end]), from: 0)
    }
  }

  /// A `FRB2` payload: one header per event (time and offset deltas, log type, source
  /// key, flags, message length, each field's name and value length), then every field
  /// value, then every message.
  init(v2 raw: [UInt8]) throws(BlockError) {
    self.raw = raw
    var reader = Varint.Reader(bytes: raw)
    reader.position = 4
    let count = try reader.int()
    guard count <= raw.count else { throw BlockError("the block claims \(count) events") }
    let names = try reader.int()
    guard names <= raw.count else { throw BlockError("the block claims \(names) names") }
    for _ in 0..<names { dictionary.append(try reader.string()) }
    reserve(count)
    var time: Int64 = 0
    var offset: Int64 = 0
    var messageBytes = 0
    var valueBytes = 0
    func name(_ reader: inout Varint.Reader) throws(BlockError) -> Int32 {
      let index = try reader.int()
      guard index < names else { throw BlockError("a name index is out of range") }
      return Int32(index)
    }
    for _ in 0..<count {
      time &+= Varint.unzigzag(try reader.uint())
      times.append(time)
      offset &+= Varint.unzigzag(try reader.uint())
      offsets.append(offset)
      logTypes.append(try name(&reader))
      sourceKeys.append(try name(&reader))
      nonASCII.append(try reader.uint() & 1 == 1)
      let length = try reader.int()
      guard length <= raw.count else { throw BlockError("a message length is out of range") }
      messageStarts.append(messageBytes)
      messageLengths.append(Int32(length))
      messageBytes += length
      firstField.append(Int32(fieldNames.count))
      let fields = try reader.int()
      guard fields <= raw.count else { throw BlockError("a field count is out of range") }
      for _ in 0..<fields {
        fieldNames.append(try name(&reader))
        let length = try reader.int()
        guard length <= raw.count else { throw BlockError("a value length is out of range") }
        fieldStarts.append(valueBytes)
        fieldLengths.append(Int32(length))
        valueBytes += length
      }
    }
    firstField.append(Int32(fieldNames.count))
    let valuesStart = reader.position
    guard valuesStart + valueBytes + messageBytes == raw.count else {
      throw BlockError(
        "the block's text is \(raw.count - valuesStart) bytes, not the \(valueBytes + messageBytes) its headers add up to"
      )
    }
    let messagesStart = valuesStart + valueBytes
    for i in 0..<fieldStarts.count { fieldStarts[i] += valuesStart }
    for i in 0..<count { messageStarts[i] += messagesStart }
  }

  func text(_ start: Int, _ length: Int32) -> String {
    raw.withUnsafeBufferPointer { buffer in
      String(
        decoding: UnsafeBufferPointer(rebasing: buffer[start..<start + Int(length)]),
        as: UTF8.self)
    }
  }

  /// The byte offset of event `i` in its source object.
  public func offset(_ i: Int) -> Int64 { offsets[i] }

  public func message(_ i: Int) -> String { text(messageStarts[i], messageLengths[i]) }

  /// Event `i`'s fields, in the order they were written (a block holds each key once per
  /// event).
  public func fields(_ i: Int) -> Fields {
    var out = Fields()
    let range = Int(firstField[i])..<Int(firstField[i + 1])
    out.reserveCapacity(range.count)
    raw.withUnsafeBufferPointer { buffer in
      for f in range {
        let start = fieldStarts[f]
        out.appendNew(
          dictionary[Int(fieldNames[f])],
          utf8: UnsafeBufferPointer(rebasing: buffer[start..<start + Int(fieldLengths[f])]))
      }
    }
    return out
  }

  /// The event at `i`; the account and fetcher come from the block's row.
  public func event(_ i: Int, accountID: AccountID, fetcherID: String) -> Event {
    Event(
      accountID: accountID, fetcherID: fetcherID, logType: dictionary[Int(logTypes[i])],
      time: Date(micros: times[i]), sourceKey: dictionary[Int(sourceKeys[i])],
      sourceOffset: offsets[i], message: message(i), fields: fields(i))
  }

  /// Calls `body` with event `i`'s message as UTF-8, in place.
  public func withMessageUTF8<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    let start = messageStarts[i]
    return raw.withUnsafeBufferPointer {
      body(UnsafeBufferPointer(rebasing: $0[start..<start + Int(messageLengths[i])]))
    }
  }

  /// Event `i`'s time.
  public func time(_ i: Int) -> Date { Date(micros: times[i]) }
  /// Event `i`'s log type.
  public func logType(_ i: Int) -> String { dictionary[Int(logTypes[i])] }
  /// The key of the object event `i` was read from.
  public func sourceKey(_ i: Int) -> String { dictionary[Int(sourceKeys[i])] }
  /// How many fields event `i` has.
  public func fieldCount(_ i: Int) -> Int { Int(firstField[i + 1] - firstField[i]) }
  /// The name of event `i`'s field at `position` (the same string for every event with it).
  public func fieldName(_ i: Int, _ position: Int) -> String {
    dictionary[Int(fieldNames[Int(firstField[i]) + position])]
  }
  /// Calls `body` with the value of event `i`'s field at `position` as UTF-8, in place.
  public func withFieldValueUTF8<R>(
    _ i: Int, _ position: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R
  ) -> R {
    let f = Int(firstField[i]) + position
    let start = fieldStarts[f]
    return raw.withUnsafeBufferPointer {
      body(UnsafeBufferPointer(rebasing: $0[start..<start + Int(fieldLengths[f])]))
    }
  }

  /// The dictionary index of a field name, if any event of the block has that field.
  func nameIndex(_ name: String) -> Int32? {
    dictionary.firstIndex(of: name).map(Int32.init)
  }
}
