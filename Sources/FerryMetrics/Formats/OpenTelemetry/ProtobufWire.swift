import Foundation

/// The few protobuf wire-format reads that the generated messages do not give: a record's
/// length prefixes, and OpenTelemetry 0.7.0's string labels, which the 1.0.0 messages keep
/// as unknown fields (field 1 of a summary data point, `StringKeyValue {key = 1; value = 2}`).
enum ProtobufWire {
  /// An unsigned varint at `offset` (at most 10 bytes) and the offset after it.
  static func varint<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes, at offset: Bytes.Index)
    -> (UInt64, Bytes.Index)?
  {
    var value: UInt64 = 0
    var shift: UInt64 = 0
    var index = offset
    while index < bytes.endIndex, shift < 64 {
      let byte = bytes[index]
      value |= UInt64(byte & 0x7F) << shift
      index = bytes.index(after: index)
      if byte & 0x80 == 0 { return (value, index) }
      shift += 7
    }
    return nil
  }

  /// The fields of a message, in order: number, wire type and, for length-delimited ones,
  /// their bytes. Nil when the bytes are not a well-formed message.
  static func fields(_ bytes: Data) -> [(number: UInt64, wireType: UInt8, payload: Data)]? {
    var fields: [(number: UInt64, wireType: UInt8, payload: Data)] = []
    var index = bytes.startIndex
    while index < bytes.endIndex {
      guard let (tag, afterTag) = varint(bytes, at: index) else { return nil }
      let wireType = UInt8(tag & 7)
      var next: Data.Index
      var payload = Data()
      switch wireType {
      case 0:
        guard let (_, after) = varint(bytes, at: afterTag) else { return nil }
        next = after
      case 1:
        next = afterTag + 8
      case 5:
        next = afterTag + 4
      case 2:
        guard let (length, after) = varint(bytes, at: afterTag),
          length <= UInt64(bytes.endIndex - after)
        else { return nil }
        next = after + Int(length)
        payload = bytes[after..<next]
      default:
        return nil
      }
      guard next <= bytes.endIndex else { return nil }
      fields.append((tag >> 3, wireType, payload))
      index = next
    }
    return fields
  }

  /// Every `{key = 1; value = 2}` string pair in the length-delimited field `field`.
  static func stringPairs(field: UInt64, in bytes: Data) -> [(String, String)]? {
    guard let fields = fields(bytes) else { return nil }
    var pairs: [(String, String)] = []
    for entry in fields where entry.number == field {
      guard entry.wireType == 2, let inner = self.fields(entry.payload) else { return nil }
      var key: String?
      var value = ""
      for part in inner where part.wireType == 2 {
        if part.number == 1 { key = String(decoding: part.payload, as: UTF8.self) }
        if part.number == 2 { value = String(decoding: part.payload, as: UTF8.self) }
      }
      guard let key else { return nil }
      pairs.append((key, value))
    }
    return pairs
  }
}
