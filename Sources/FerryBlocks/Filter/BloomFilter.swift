/// A block's filter of its words and `field=value` pairs: a Bloom filter of 16 bits per
/// distinct entry and 6 probes (VictoriaLogs' sizing: about 0.05% false positives), so a
/// search skips the blocks that cannot hold what it asks for without reading their data.
public struct BloomFilter: Sendable, Equatable {
  public static let bitsPerEntry = 16
  public static let probes = 6
  /// The filter's bits, 64 to a word.
  public private(set) var words: [UInt64]
  /// The bit count, as a divisor.
  private let bits: FastModulo

  /// A filter sized for `entries` distinct entries.
  public init(capacity entries: Int) {
    let bits = max(64, entries * Self.bitsPerEntry)
    words = [UInt64](repeating: 0, count: (bits + 63) / 64)
    self.bits = FastModulo(UInt64(words.count * 64))
  }

  /// A filter read back from ``bytes``; nil if they are not one.
  public init?(bytes: [UInt8]) {
    guard !bytes.isEmpty, bytes.count % 8 == 0 else { return nil }
    words = bytes.withUnsafeBytes { raw in
      (0..<raw.count / 8).map {
        UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))
      }
    }
    bits = FastModulo(UInt64(bytes.count * 8))
  }

  /// Little-endian words, for storage.
  public var bytes: [UInt8] {
    // A closure, not a key path: `map(\.littleEndian)` went through the runtime's key path
    // machinery per word (2% of ingest).
    words.map { $0.littleEndian }.withUnsafeBytes { Array($0) }
  }

  var bitCount: UInt64 { bits.divisor }

  /// Double hashing: probe i is h1 + i * h2, with h2 odd.
  @inline(__always) public mutating func insert(_ hash: UInt64) {
    let h2 = (hash >> 32 | hash << 32) | 1
    var probe = hash
    for _ in 0..<Self.probes {
      let bit = bits.remainder(probe)
      words[Int(bit >> 6)] |= 1 << (bit & 63)
      probe &+= h2
    }
  }

  /// False: the entry is certainly not in the block. True: it may be.
  @inline(__always) public func mayContain(_ hash: UInt64) -> Bool {
    let h2 = (hash >> 32 | hash << 32) | 1
    var probe = hash
    for _ in 0..<Self.probes {
      let bit = bits.remainder(probe)
      if words[Int(bit >> 6)] & (1 << (bit & 63)) == 0 { return false }
      probe &+= h2
    }
    return true
  }
}
