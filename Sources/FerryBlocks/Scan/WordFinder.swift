/// Finds one word in ASCII text the way every search sees words (``SearchText``: runs of
/// letters and digits, compared without regard to case), scanning 16 bytes at a time: a
/// window is looked at closely only where its first and last letters both fit (the
/// "generic SIMD" substring search), so a scan runs at memory speed, not per byte.
struct WordFinder: Sendable {
  /// Lowercase ASCII letters and digits, at least one.
  let word: [UInt8]

  /// A finder for `word`, if it is a word of ASCII letters and digits in lowercase.
  init?(_ word: String) {
    let bytes = Array(word.utf8)
    guard !bytes.isEmpty, bytes.allSatisfy({ $0 &- 0x61 < 26 || $0 &- 0x30 < 10 }) else {
      return nil
    }
    self.word = bytes
  }

  @inline(__always) static func isWordByte(_ b: UInt8) -> Bool {
    b &- 0x41 < 26 || b &- 0x61 < 26 || b &- 0x30 < 10
  }

  @inline(__always) static func lower(_ b: UInt8) -> UInt8 { b &- 0x41 < 26 ? b | 0x20 : b }

  /// Whether the word is a whole word of the ASCII text `base[start ..< start + length]`.
  func occurs(in base: UnsafePointer<UInt8>, start: Int, length: Int) -> Bool {
    let k = word.count
    guard length >= k else { return false }
    let end = start + length
    let lastStart = end - k
    return word.withUnsafeBufferPointer { w -> Bool in
      func verify(_ p: Int) -> Bool {
        for j in 1..<k where Self.lower(base[p + j]) != w[j] { return false }
        if p > start && Self.isWordByte(base[p - 1]) { return false }
        if p + k < end && Self.isWordByte(base[p + k]) { return false }
        return true
      }
      let first = SIMD16<UInt8>(repeating: w[0])
      let last = SIMD16<UInt8>(repeating: w[k - 1])
      let fold = SIMD16<UInt8>(repeating: 0x20)
      let raw = UnsafeRawPointer(base)
      var i = start
      while i + 15 <= lastStart {
        let a = raw.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self) | fold
        let b = raw.loadUnaligned(fromByteOffset: i + k - 1, as: SIMD16<UInt8>.self) | fold
        let hits = (a .== first) .& (b .== last)
        if any(hits) {
          for j in 0..<16 where hits[j] && Self.lower(base[i + j]) == w[0] && verify(i + j) {
            return true
          }
        }
        i += 16
      }
      while i <= lastStart {
        if Self.lower(base[i]) == w[0] && verify(i) { return true }
        i += 1
      }
      return false
    }
  }
}
