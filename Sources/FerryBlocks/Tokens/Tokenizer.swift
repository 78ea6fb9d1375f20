import FerryCore

/// The words of log text, as every search sees them: runs of letters and digits,
/// lowercased (``SearchText``'s rule). ASCII text, nearly all of a log, is read byte by
/// byte without making strings; text with other characters takes ``SearchText``'s
/// Unicode path, so both give the same words.
public enum Tokenizer {
  /// Calls `body` with the hash of each word of `text` (``PackedHash``), in order, repeats
  /// included; true when the text is ASCII.
  @discardableResult
  public static func forEachTokenHash(_ text: String, _ body: (UInt64) -> Void) -> Bool {
    var hashes: [UInt64] = []
    if asciiTokenHashes(text, { hashes.append($0) }) {
      for hash in hashes { body(hash) }
      return true
    }
    for word in SearchText.words(text) { body(PackedHash.of(word)) }
    return false
  }

  /// Adds the hash of each word of `text` (``PackedHash``) to `set`; true when the text is
  /// ASCII. This is ingest's hot path: no array, no string.
  @inline(__always)
  public static func addTokenHashes(_ text: String, to set: inout HashSet64) -> Bool {
    if asciiTokenHashes(text, { set.insert($0) }) { return true }
    // The words given before the first non-ASCII byte are words of the Unicode path too;
    // a set keeps each once.
    for word in SearchText.words(text) { set.insert(PackedHash.of(word)) }
    return false
  }

  /// Calls `body` with the ``PackedHash`` of each word of ASCII `text`; stops and answers
  /// false at the first eight bytes holding one outside ASCII (some words before them may
  /// have been given). Eight bytes at a time: which are word bytes and their lowercase
  /// are found for all eight at once (SWAR), and each run of word bytes goes into the hash
  /// whole, so a byte costs a fraction of an instruction and a word a few.
  @inline(__always)
  static func asciiTokenHashes(_ text: String, _ body: (UInt64) -> Void) -> Bool {
    var text = text
    return text.withUTF8 { asciiTokenHashes(utf8: $0, body) }
  }

  static let high: UInt64 = 0x8080_8080_8080_8080
  @inline(__always) static func spread(_ byte: UInt64) -> UInt64 { byte &* 0x0101_0101_0101_0101 }

  /// The high bit of each byte of `x` (all ASCII) in `lo...hi`.
  @inline(__always) static func inRange(_ x: UInt64, _ lo: UInt64, _ hi: UInt64) -> UInt64 {
    (x &+ spread(0x80 - lo)) & ~(x &+ spread(0x7F - hi)) & high
  }

  /// ``asciiTokenHashes(_:_:)`` of UTF-8 bytes.
  @inline(__always)
  static func asciiTokenHashes(utf8 bytes: UnsafeBufferPointer<UInt8>, _ body: (UInt64) -> Void)
    -> Bool
  {
    guard let base = bytes.baseAddress else { return true }
    let n = bytes.count
    var state = PackedHash.State()
    var i = 0
    while i < n {
      let x: UInt64
      var valid = ~UInt64(0)
      if i + 8 <= n {
        x = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
      } else {
        var tail: UInt64 = 0
        withUnsafeMutableBytes(of: &tail) {
          $0.copyMemory(from: UnsafeRawBufferPointer(start: base + i, count: n - i))
        }
        x = UInt64(littleEndian: tail)
        valid = (1 << UInt64(8 * (n - i))) &- 1
      }
      if x & high != 0 { return false }
      let upper = inRange(x, 0x41, 0x5A)
      let words = (inRange(x, 0x30, 0x39) | upper | inRange(x, 0x61, 0x7A)) & valid
      let lower = x | upper >> 2
      var k: UInt64 = 0
      while k < 8 {
        if state.started {
          // Inside a word: it runs to the next byte that is not a word byte.
          let ends = (~words & high) >> (8 &* k)
          if ends == 0 {
            state.append(lower >> (8 &* k), count: 8 &- k)
            k = 8
          } else {
            let end = k &+ UInt64(ends.trailingZeroBitCount >> 3)
            if end > k { state.append(lower >> (8 &* k), count: end &- k) }
            body(state.finish())
            state = PackedHash.State()
            k = end
          }
        } else {
          // Between words: the next one starts at the next word byte.
          let starts = words >> (8 &* k)
          if starts == 0 { break }
          k &+= UInt64(starts.trailingZeroBitCount >> 3)
          let ends = (~words & high) >> (8 &* k)
          let end = ends == 0 ? 8 : k &+ UInt64(ends.trailingZeroBitCount >> 3)
          state.append(lower >> (8 &* k), count: end &- k)
          if end < 8 {
            body(state.finish())
            state = PackedHash.State()
          }
          k = end
        }
      }
      i += 8
    }
    if state.started { body(state.finish()) }
    return true
  }
}

/// The hash a word is known by in the filters written since `FRB3` (filter hash 2): the
/// word's lowercase bytes packed eight to a 64-bit word, each word mixed in with one
/// multiply, the length at the end, then the same final mix as ``TokenHash``. It is
/// several times faster than FNV-1a's multiply per byte, which was ingest's largest cost.
/// `field=value` pairs are hashed as one text, the key as it is, the value lowercased.
public enum PackedHash {
  static let seed: UInt64 = 0x243F_6A88_85A3_08D3
  static let prime: UInt64 = 0x9E37_79B9_7F4A_7C15

  /// A hash in progress.
  public struct State: Sendable, Equatable {
    var hash = PackedHash.seed
    var pending: UInt64 = 0
    var shift: UInt64 = 0
    var chunks: UInt64 = 0

    public init() {}

    /// Whether any byte went in.
    var started: Bool { shift != 0 || chunks != 0 }

    @inline(__always) mutating func step(_ byte: UInt8) {
      pending |= UInt64(byte) << shift
      shift &+= 8
      if shift == 64 {
        hash = Self.mix(hash, pending)
        pending = 0
        shift = 0
        chunks &+= 1
      }
    }

    /// ``step(_:)`` of the `count` (1 to 8) low bytes of `bytes`, first byte lowest.
    @inline(__always) mutating func append(_ bytes: UInt64, count: UInt64) {
      let v = count == 8 ? bytes : bytes & ((1 << (count &* 8)) &- 1)
      pending |= v << shift
      let total = shift &+ count &* 8
      if total >= 64 {
        hash = Self.mix(hash, pending)
        chunks &+= 1
        pending = shift == 0 ? 0 : v >> (64 &- shift)
        shift = total &- 64
      } else {
        shift = total
      }
    }

    @inline(__always) static func mix(_ hash: UInt64, _ word: UInt64) -> UInt64 {
      let x = (hash ^ word) &* PackedHash.prime
      return x << 31 | x >> 33
    }

    @inline(__always) func finish() -> UInt64 {
      let length = chunks &* 8 &+ shift >> 3
      return TokenHash.finish(Self.mix(hash, pending) ^ length)
    }
  }

  /// The hash of one word (already lowercase).
  public static func of(_ word: String) -> UInt64 {
    var state = State()
    for byte in word.utf8 { state.step(byte) }
    return state.finish()
  }

  /// The hash of `key=value`, the key as it is, the value lowercased.
  public static func field(_ key: String, _ value: String) -> UInt64 {
    var value = value
    let state = keyState(key)
    return value.withUTF8 { field(state, utf8: $0) }
  }

  /// The state after `key=`: computed once per name.
  public static func keyState(_ key: String) -> State {
    var state = State()
    for byte in key.utf8 { state.step(byte) }
    state.step(UInt8(ascii: "="))
    return state
  }

  /// The hash of `key=value` from the key's ``keyState(_:)`` and the value's UTF-8 (valid).
  @inline(__always)
  public static func field(_ keyState: State, utf8 bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var state = keyState
    for byte in bytes {
      if byte >= 0x80 {
        // Not ASCII: lowercased as Unicode, from the start.
        state = keyState
        for byte in String(decoding: bytes, as: UTF8.self).lowercased().utf8 { state.step(byte) }
        return state.finish()
      }
      state.step(byte &- 0x41 < 26 ? byte | 0x20 : byte)
    }
    return state.finish()
  }
}

/// The hashes a block's filter may hold its entries by; the filter's header says which.
public enum FilterHash: UInt8, Sendable {
  /// ``TokenHash``: filters written before `FRB3`.
  case fnv1a = 1
  /// ``PackedHash``.
  case packed = 2

  public func word(_ word: String) -> UInt64 {
    switch self {
    case .fnv1a: TokenHash.of(word)
    case .packed: PackedHash.of(word)
    }
  }

  public func field(_ key: String, _ value: String) -> UInt64 {
    switch self {
    case .fnv1a: TokenHash.field(key, value)
    case .packed: PackedHash.field(key, value)
    }
  }
}

/// The hash a word is known by in the filters written before `FRB3` (filter hash 1):
/// 64-bit FNV-1a of its lowercase UTF-8, then a final mix so that the filter's probes are
/// spread. Kept to search those filters.
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
    field(keyState(key), value)
  }

  /// The hash state after `key=`: computed once per name, it is where each of that
  /// name's values starts (``field(_:_:)-(UInt64,String)``).
  public static func keyState(_ key: String) -> UInt64 {
    var key = key
    return key.withUTF8 { bytes in
      var hash = seed
      for byte in bytes { hash = step(hash, byte) }
      return step(hash, UInt8(ascii: "="))
    }
  }

  /// The hash of `key=value` from the key's ``keyState(_:)``.
  @inline(__always)
  public static func field(_ keyState: UInt64, _ value: String) -> UInt64 {
    var value = value
    return value.withUTF8 { field(keyState, utf8: $0) }
  }

  /// The hash of `key=value` from the key's ``keyState(_:)`` and the value's UTF-8 (valid).
  @inline(__always)
  public static func field(_ keyState: UInt64, utf8 bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var hash = keyState
    for byte in bytes {
      if byte >= 0x80 {
        // Not ASCII: lowercased as Unicode, from the start.
        hash = keyState
        for byte in String(decoding: bytes, as: UTF8.self).lowercased().utf8 {
          hash = step(hash, byte)
        }
        return finish(hash)
      }
      hash = step(hash, byte &- 0x41 < 26 ? byte | 0x20 : byte)
    }
    return finish(hash)
  }
}
