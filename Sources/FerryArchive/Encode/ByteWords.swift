/// Tests on eight bytes at once (SWAR), for the scans of JSON text: each finds, exactly,
/// the bytes of a little-endian word that are some byte or in some range, as the high bit
/// of each such byte (so `nonzeroBitCount` counts them and `trailingZeroBitCount / 8` is
/// the first one's place). No carry crosses from one byte into the next: every sum is of
/// a byte's low seven bits and a constant below 0x80.
enum ByteWords {
  static let ones: UInt64 = 0x0101_0101_0101_0101
  static let highs: UInt64 = 0x8080_8080_8080_8080
  static let lows: UInt64 = 0x7F7F_7F7F_7F7F_7F7F

  /// The bytes of `word` that are zero.
  @inline(__always)
  static func zeros(_ word: UInt64) -> UInt64 {
    ~(((word & lows) &+ lows) | word) & highs
  }

  /// The bytes of `word` equal to `byte`.
  @inline(__always)
  static func equal(_ word: UInt64, _ byte: UInt8) -> UInt64 {
    zeros(word ^ (ones &* UInt64(byte)))
  }

  /// The bytes of `word` below 0x20: JSON's control characters.
  @inline(__always)
  static func controls(_ word: UInt64) -> UInt64 {
    ~((word & lows) &+ (ones &* 0x60)) & ~word & highs
  }

  /// The bytes a JSON string escapes with one letter or as `\u00xx`: `"`, `\` and controls.
  @inline(__always)
  static func escaped(_ word: UInt64) -> UInt64 {
    equal(word, 0x22) | equal(word, 0x5C) | controls(word)
  }

  /// The place of the first byte at or after `start` that `test` finds, looking a word at
  /// a time; or the first place from which fewer than eight bytes are left before `end`
  /// (the caller goes on byte by byte from there).
  @inline(__always)
  static func skip(
    _ bytes: UnsafeRawPointer, from start: Int, before end: Int, until test: (UInt64) -> UInt64
  ) -> Int {
    var at = start
    while at + 8 <= end {
      let hits = test(load(bytes, at))
      if hits != 0 { return at + hits.trailingZeroBitCount / 8 }
      at += 8
    }
    return at
  }

  /// The word of eight bytes at `offset`, first byte lowest.
  @inline(__always)
  static func load(_ bytes: UnsafeRawPointer, _ offset: Int) -> UInt64 {
    UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
  }
}
