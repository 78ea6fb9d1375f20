import FerryCore

/// The words of log text, as every search sees them: runs of letters and digits,
/// lowercased (``SearchText``'s rule). ASCII text, nearly all of a log, is read byte by
/// byte without making strings; text with other characters takes ``SearchText``'s
/// Unicode path, so both give the same words.
public enum Tokenizer {
  /// Calls `body` with the hash of each word of `text` (repeats included); true when the
  /// text is ASCII.
  @inline(__always) @discardableResult
  public static func forEachTokenHash(_ text: String, _ body: (UInt64) -> Void) -> Bool {
    var text = text
    let handled: Bool? = text.withUTF8 { bytes -> Bool in
      var hash = TokenHash.seed
      var inWord = false
      for byte in bytes {
        if byte >= 0x80 { return false }
        var b = byte
        let isUpper = b &- 0x41 < 26
        let isLower = b &- 0x61 < 26
        let isDigit = b &- 0x30 < 10
        if isUpper || isLower || isDigit {
          if isUpper { b |= 0x20 }
          hash = TokenHash.step(hash, b)
          inWord = true
        } else if inWord {
          body(TokenHash.finish(hash))
          hash = TokenHash.seed
          inWord = false
        }
      }
      if inWord { body(TokenHash.finish(hash)) }
      return true
    }
    if handled == true { return true }
    for word in SearchText.words(text) { body(TokenHash.of(word)) }
    return false
  }
}

/// The hash a word is known by in a block's filter: 64-bit FNV-1a of its lowercase UTF-8,
/// then a final mix so that the filter's probes are spread.
public enum TokenHash {
  static let seed: UInt64 = 0xcbf2_9ce4_8422_2325
  static let prime: UInt64 = 0x0000_0100_0000_01b3

  @inline(__always) static func step(_ hash: UInt64, _ byte: UInt8) -> UInt64 {
    (hash ^ UInt64(byte)) &* prime
  }

  @inline(__always) static func finish(_ hash: UInt64) -> UInt64 {
    var x = hash
    x ^= x >> 33
    x &*= 0xff51_afd7_ed55_8ccd
    x ^= x >> 33
    x &*= 0xc4ce_b9fe_1a85_ec53
    x ^= x >> 33
    return x
  }

  /// The hash of one word (already lowercase) or of a `field=value` pair.
  public static func of(_ word: String) -> UInt64 {
    var hash = seed
    for byte in word.utf8 { hash = step(hash, byte) }
    return finish(hash)
  }

  /// The hash of a field's value, as a block's filter knows it: `key=value`, the key as it
  /// is, the value lowercased.
  public static func field(_ key: String, _ value: String) -> UInt64 {
    of("\(key)=\(value.lowercased())")
  }
}
