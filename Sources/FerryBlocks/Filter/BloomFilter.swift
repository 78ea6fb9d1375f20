import FerryCore

/// A block's filter of its words and `field=value` pairs, so that a search skips the
/// blocks that cannot hold what it asks for without reading their data.
///
/// Filters written since the `FRB3` blocks have a 4-byte header (`F`, version 2, the hash
/// (``FilterHash``: 2, ``PackedHash``), probe count) before their 64-bit words and are sized at
/// ``bitsPerEntry`` bits per distinct entry with ``probes`` probes; filters written before
/// are the words alone (a length that is a multiple of 8), 16 bits per entry with 6 probes
/// (VictoriaLogs' sizing). Both are read.
public struct BloomFilter: Sendable, Equatable {
  /// 10 bits and 7 probes: about 0.8% false positives (Bloom's bound), each costing a
  /// block's decompression; measured in docs/storage.md against the 16 bits of before.
  public static let bitsPerEntry = 10
  public static let probes = 7
  static let header: [UInt8] = [0x46, 2]
  /// The filter's bits, 64 to a word.
  public private(set) var words: [UInt64]
  /// Probes per entry.
  public let probes: Int
  /// What the entries are hashed by.
  public let hash: FilterHash
  /// The bit count, as a divisor.
  private let bits: FastModulo

  /// A filter sized for `entries` distinct entries.
  public init(
    capacity entries: Int, bitsPerEntry: Int = Self.bitsPerEntry, probes: Int = Self.probes,
    hash: FilterHash = .packed
  ) {
    self.hash = hash
    let bits = max(64, entries * bitsPerEntry)
    words = [UInt64](repeating: 0, count: (bits + 63) / 64)
    self.probes = probes
    self.bits = FastModulo(UInt64(words.count * 64))
  }

  /// A filter read back from ``bytes`` (either layout); nil if they are not one.
  public init?(bytes: [UInt8]) {
    let start: Int
    switch bytes.count % 8 {
    case 0:
      start = 0
      probes = 6
      hash = .fnv1a
    case 4:
      guard Array(bytes[0..<2]) == Self.header, let kind = FilterHash(rawValue: bytes[2]),
        (1...16).contains(Int(bytes[3]))
      else { return nil }
      start = 4
      probes = Int(bytes[3])
      hash = kind
    default: return nil
    }
    guard bytes.count > start else { return nil }
    words = bytes.withUnsafeBytes { raw in
      (0..<(raw.count - start) / 8).map {
        UInt64(
          littleEndian: raw.loadUnaligned(fromByteOffset: start + $0 * 8, as: UInt64.self))
      }
    }
    bits = FastModulo(UInt64((bytes.count - start) * 8))
  }

  /// The header and little-endian words, for storage.
  public var bytes: [UInt8] {
    // A closure, not a key path: `map(\.littleEndian)` went through the runtime's key path
    // machinery per word (2% of ingest).
    Self.header + [hash.rawValue, UInt8(probes)]
      + words.map { $0.littleEndian }.withUnsafeBytes { Array($0) }
  }

  var bitCount: UInt64 { bits.divisor }

  /// Double hashing: probe i is h1 + i * h2, with h2 odd.
  @inline(__always) public mutating func insert(_ hash: UInt64) {
    let h2 = (hash >> 32 | hash << 32) | 1
    var probe = hash
    for _ in 0..<probes {
      let bit = bits.remainder(probe)
      words[Int(bit >> 6)] |= 1 << (bit & 63)
      probe &+= h2
    }
  }

  /// False: the entry is certainly not in the block. True: it may be.
  @inline(__always) public func mayContain(_ hash: UInt64) -> Bool {
    let h2 = (hash >> 32 | hash << 32) | 1
    var probe = hash
    for _ in 0..<probes {
      let bit = bits.remainder(probe)
      if words[Int(bit >> 6)] & (1 << (bit & 63)) == 0 { return false }
      probe &+= h2
    }
    return true
  }

  /// False: no event of the block has the field `key` equal to `value` (as the query
  /// language compares them, case aside). A block's filter holds `key=value` for the
  /// values it keeps apart from the message, and the words of every message, which hold
  /// every word of a value the block keeps as a place in its message (found there at
  /// word boundaries); so the block may hold the value when either is there.
  public func mayContainField(_ key: String, _ value: String) -> Bool {
    mayContain(hash.field(key, value))
      || SearchText.words(value).allSatisfy { mayContain(hash.word($0)) }
  }

  /// False: no message of the block has the word `word` (lowercase, as ``SearchText``
  /// gives it).
  public func mayContainWord(_ word: String) -> Bool { mayContain(hash.word(word)) }
}
