import Foundation

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
    /// Where the reader's bytes end (a stream of a block ends before the payload does).
    var end: Int

    init(bytes: [UInt8], position: Int = 0, end: Int? = nil) {
      self.bytes = bytes
      self.position = position
      self.end = end ?? bytes.count
    }

    mutating func uint() throws(BlockError) -> UInt64 {
      var value: UInt64 = 0
      var shift: UInt64 = 0
      while true {
        guard position < end, shift < 64 else {
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
      guard length <= end - position else {
        throw BlockError("the block ends inside a string")
      }
      let text = String(decoding: bytes[position..<position + length], as: UTF8.self)
      position += length
      return text
    }
  }
}
