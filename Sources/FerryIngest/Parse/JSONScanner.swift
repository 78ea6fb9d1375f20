import FerryCore

/// Reads the top level of one JSON object from its bytes without building a tree: each
/// member's key and where its value lies, strings decoded only when asked. Ingest reads a
/// few fields per record this way; a general JSON parser costs more than all the rest of
/// the pipeline together.
struct JSONScanner {
  enum Kind { case string, number, literal, object, array }

  struct Member {
    var key: String
    var kind: Kind
    /// The value's bytes (a string's without its quotes, still escaped).
    var value: Range<Int>
  }

  /// The top-level members of the object in `bytes`, or nil if it is not a JSON object
  /// (malformed input is not an error here: the record is kept as text).
  static func members(_ bytes: UnsafeBufferPointer<UInt8>) -> [Member]? {
    var out: [Member] = []
    let complete = forEachMember(bytes) { keyRange, kind, value in
      out.append(Member(key: decodeString(bytes, keyRange), kind: kind, value: value))
    }
    return complete ? out : nil
  }

  /// Calls `body` with each top-level member of the object in `bytes`: its key's bytes
  /// (still escaped), its kind and its value's bytes, making no string. False if `bytes`
  /// is not a JSON object (the members before the fault were given).
  @inline(__always)
  static func forEachMember(
    _ bytes: UnsafeBufferPointer<UInt8>,
    _ body: (_ key: Range<Int>, _ kind: Kind, _ value: Range<Int>) -> Void
  ) -> Bool {
    objectEnd(bytes, forEachMember: body) != nil
  }

  /// ``forEachMember(_:_:)``, answering where the object ends (the index just past its
  /// `}`): the object may be followed by more bytes. Nil if the bytes do not hold a whole
  /// JSON object from their start.
  @inline(__always)
  static func objectEnd(
    _ bytes: UnsafeBufferPointer<UInt8>,
    forEachMember body: (_ key: Range<Int>, _ kind: Kind, _ value: Range<Int>) -> Void
  ) -> Int? {
    var i = skipSpace(bytes, 0)
    guard i < bytes.count, bytes[i] == UInt8(ascii: "{") else { return nil }
    i += 1
    while true {
      i = skipSpace(bytes, i)
      guard i < bytes.count else { return nil }
      if bytes[i] == UInt8(ascii: "}") { return i + 1 }
      if bytes[i] == UInt8(ascii: ",") {
        i += 1
        continue
      }
      guard bytes[i] == UInt8(ascii: "\""), let keyEnd = stringEnd(bytes, i + 1) else {
        return nil
      }
      let key = (i + 1)..<keyEnd
      i = skipSpace(bytes, keyEnd + 1)
      guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return nil }
      i = skipSpace(bytes, i + 1)
      guard i < bytes.count else { return nil }
      switch bytes[i] {
      case UInt8(ascii: "\""):
        guard let end = stringEnd(bytes, i + 1) else { return nil }
        body(key, .string, (i + 1)..<end)
        i = end + 1
      case UInt8(ascii: "{"), UInt8(ascii: "["):
        let kind: Kind = bytes[i] == UInt8(ascii: "{") ? .object : .array
        guard let end = containerEnd(bytes, i) else { return nil }
        body(key, kind, i..<end)
        i = end
      default:
        var end = i
        while end < bytes.count, !isDelimiter(bytes[end]) { end += 1 }
        let first = bytes[i]
        let kind: Kind = (first == UInt8(ascii: "-") || first &- 0x30 < 10) ? .number : .literal
        body(key, kind, i..<end)
        i = end
      }
    }
  }

  /// Where each element of the array whose bytes are `array` (from `[` to `]`) lies;
  /// empty if it is not an array. Objects and arrays are skipped whole, strings with
  /// their quotes.
  static func elements(_ bytes: UnsafeBufferPointer<UInt8>, _ array: Range<Int>) -> [Range<Int>] {
    var i = skipSpace(bytes, array.lowerBound)
    guard i < array.upperBound, bytes[i] == UInt8(ascii: "[") else { return [] }
    i += 1
    var out: [Range<Int>] = []
    while true {
      i = skipSpace(bytes, i)
      guard i < array.upperBound else { return out }
      switch bytes[i] {
      case UInt8(ascii: "]"): return out
      case UInt8(ascii: ","): i += 1
      case UInt8(ascii: "{"), UInt8(ascii: "["):
        guard let end = containerEnd(bytes, i), end <= array.upperBound else { return out }
        out.append(i..<end)
        i = end
      case UInt8(ascii: "\""):
        guard let end = stringEnd(bytes, i + 1) else { return out }
        out.append(i..<(end + 1))
        i = end + 1
      default:
        var end = i
        while end < array.upperBound, !isDelimiter(bytes[end]) { end += 1 }
        out.append(i..<end)
        i = max(end, i + 1)
      }
    }
  }

  @inline(__always) static func isDelimiter(_ b: UInt8) -> Bool {
    b == UInt8(ascii: ",") || b == UInt8(ascii: "}") || b == UInt8(ascii: "]") || b == 0x20
      || b == 0x09 || b == 0x0A || b == 0x0D
  }

  @inline(__always) static func skipSpace(_ bytes: UnsafeBufferPointer<UInt8>, _ from: Int) -> Int {
    var i = from
    while i < bytes.count,
      bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D
    {
      i += 1
    }
    return i
  }

  /// The index of the quote that ends a string whose text starts at `from`.
  ///
  /// Strings are most of a record's bytes, so they are read 8 bytes at a time: a word
  /// without a quote or a backslash is skipped whole (``matches(_:_:)``).
  static func stringEnd(_ bytes: UnsafeBufferPointer<UInt8>, _ from: Int) -> Int? {
    guard let base = UnsafeRawPointer(bytes.baseAddress) else { return nil }
    let count = bytes.count
    var i = from
    while i < count {
      if i + 8 <= count {
        let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
        let found = matches(word, UInt8(ascii: "\"")) | matches(word, UInt8(ascii: "\\"))
        if found == 0 {
          i += 8
          continue
        }
        i += found.trailingZeroBitCount >> 3
      }
      let b = bytes[i]
      if b == UInt8(ascii: "\\") {
        i += 2
        continue
      }
      if b == UInt8(ascii: "\"") { return i }
      i += 1
    }
    return nil
  }

  /// The index just past the `}` or `]` that closes the container opening at `from`.
  /// Read 8 bytes at a time, like ``stringEnd(_:_:)``: a word without a quote or a bracket
  /// is skipped whole.
  static func containerEnd(_ bytes: UnsafeBufferPointer<UInt8>, _ from: Int) -> Int? {
    guard let base = UnsafeRawPointer(bytes.baseAddress) else { return nil }
    let count = bytes.count
    var depth = 0
    var i = from
    while i < count {
      if i + 8 <= count {
        let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
        // With bit 5 set, `[` (0x5B) reads as `{` (0x7B) and `]` (0x5D) as `}` (0x7D), and
        // no other byte reads as either.
        let folded = word | 0x2020_2020_2020_2020
        let found =
          matches(word, UInt8(ascii: "\"")) | matches(folded, UInt8(ascii: "{"))
          | matches(folded, UInt8(ascii: "}"))
        if found == 0 {
          i += 8
          continue
        }
        i += found.trailingZeroBitCount >> 3
      }
      switch bytes[i] {
      case UInt8(ascii: "\""):
        guard let end = stringEnd(bytes, i + 1) else { return nil }
        i = end
      case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
      case UInt8(ascii: "}"), UInt8(ascii: "]"):
        depth -= 1
        if depth == 0 { return i + 1 }
      default: break
      }
      i += 1
    }
    return nil
  }

  /// The bytes of `word` (little-endian: its first byte lowest) that equal `byte`, as
  /// their high bits. The lowest bit set is exactly the first such byte; bits above it
  /// can be wrong (a borrow carries upward), so only the lowest is read.
  @inline(__always) static func matches(_ word: UInt64, _ byte: UInt8) -> UInt64 {
    let x = word ^ (0x0101_0101_0101_0101 &* UInt64(byte))
    return (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
  }

  /// Whether `bytes` hold a backslash (a string with escapes), 8 bytes at a time.
  @inline(__always) static func hasBackslash(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let base = UnsafeRawPointer(bytes.baseAddress) else { return false }
    var i = 0
    while i + 8 <= bytes.count {
      let word = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
      if matches(word, UInt8(ascii: "\\")) != 0 { return true }
      i += 8
    }
    while i < bytes.count {
      if bytes[i] == UInt8(ascii: "\\") { return true }
      i += 1
    }
    return false
  }

  /// A string's text with its escapes undone (`\uXXXX` included, surrogate pairs joined).
  static func decodeString(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
    let slice = UnsafeBufferPointer(rebasing: bytes[range])
    guard hasBackslash(slice) else { return String(decoding: slice, as: UTF8.self) }
    var out: [UInt8] = []
    out.reserveCapacity(slice.count)
    var i = 0
    func hex4(_ at: Int) -> UInt32? {
      guard at + 4 <= slice.count else { return nil }
      var v: UInt32 = 0
      for b in slice[at..<at + 4] {
        guard let d = hexValue(b) else { return nil }
        v = v << 4 | UInt32(d)
      }
      return v
    }
    while i < slice.count {
      let b = slice[i]
      guard b == UInt8(ascii: "\\"), i + 1 < slice.count else {
        out.append(b)
        i += 1
        continue
      }
      let e = slice[i + 1]
      i += 2
      switch e {
      case UInt8(ascii: "n"): out.append(0x0A)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "r"): out.append(0x0D)
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0C)
      case UInt8(ascii: "u"):
        guard var scalar = hex4(i) else { continue }
        i += 4
        if (0xD800..<0xDC00).contains(scalar), i + 6 <= slice.count,
          slice[i] == UInt8(ascii: "\\"), slice[i + 1] == UInt8(ascii: "u"),
          let low = hex4(i + 2), (0xDC00..<0xE000).contains(low)
        {
          scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
          i += 6
        }
        out += Array(String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8)
      default: out.append(e)
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  @inline(__always) static func hexValue(_ b: UInt8) -> UInt8? {
    switch b {
    case 0x30...0x39: return b - 0x30
    case 0x41...0x46: return b - 0x41 + 10
    case 0x61...0x66: return b - 0x61 + 10
    default: return nil
    }
  }

  /// Puts a value (as ``forEachMember`` gives it) into `fields` under `key`: appended when
  /// the caller knows the key is new, set otherwise. A string without escapes, a number
  /// or a literal goes in as its bytes, with no string made.
  static func store(
    _ bytes: UnsafeBufferPointer<UInt8>, _ kind: Kind, _ value: Range<Int>, as key: String,
    in fields: inout Fields, new: Bool
  ) {
    let slice = UnsafeBufferPointer(rebasing: bytes[value])
    if kind == .string, hasBackslash(slice) {
      let text = decodeString(bytes, value)
      if new { fields.appendNew(key, text) } else { fields[key] = text }
    } else if new {
      fields.appendNew(key, utf8: slice)
    } else {
      fields.set(key, utf8: slice)
    }
  }

  /// A member's value as text: a string decoded, a number or literal as written.
  static func text(_ bytes: UnsafeBufferPointer<UInt8>, _ member: Member) -> String {
    text(bytes, member.kind, member.value)
  }

  /// A value as text, from its kind and bytes (as ``forEachMember`` gives them).
  static func text(_ bytes: UnsafeBufferPointer<UInt8>, _ kind: Kind, _ value: Range<Int>)
    -> String
  {
    kind == .string
      ? decodeString(bytes, value)
      : String(decoding: UnsafeBufferPointer(rebasing: bytes[value]), as: UTF8.self)
  }
}
