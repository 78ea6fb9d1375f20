import Foundation

/// How an object's bytes are compressed, told by their first bytes (magic numbers), never
/// by the key's name: a `.gz` key may hold plain text and a `.log` key gzip.
public enum Compression: String, Sendable, Equatable, CaseIterable {
  case gzip
  case zstd
  case bzip2
  case none

  /// The compression of a stream that starts with `prefix` (at least 4 bytes when the
  /// stream has them).
  public static func detect(_ prefix: some Collection<UInt8>) -> Compression {
    let b = Array(prefix.prefix(4))
    if b.count >= 2, b[0] == 0x1F, b[1] == 0x8B { return .gzip }
    if b.count >= 4, b == [0x28, 0xB5, 0x2F, 0xFD] { return .zstd }
    if b.count >= 3, b[0] == 0x42, b[1] == 0x5A, b[2] == 0x68 { return .bzip2 }
    return .none
  }
}

/// An object that cannot be decompressed: what was wrong, in words for the ledger.
public struct DecompressionError: Error, Sendable, Equatable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// A streaming decompressor: bytes in, in pieces of any size, bytes out through `emit`
/// as they come, so memory stays bounded whatever the object's size.
public protocol Decompressor {
  mutating func feed(_ input: UnsafeRawBufferPointer, emit: ([UInt8]) throws -> Void) throws
  /// The input is over: fails if it ended inside a compressed stream (a truncated file).
  mutating func finish(emit: ([UInt8]) throws -> Void) throws
}

/// Passes bytes through.
public struct PlainBytes: Decompressor {
  public init() {}
  public mutating func feed(_ input: UnsafeRawBufferPointer, emit: ([UInt8]) throws -> Void)
    throws
  {
    if !input.isEmpty { try emit(Array(input)) }
  }
  public mutating func finish(emit: ([UInt8]) throws -> Void) throws {}
}

/// Decompresses whatever the stream turns out to be: the first bytes choose, and when
/// what comes out is itself gzip (CloudWatch Logs exported through Firehose arrive gzip
/// inside gzip), a second layer undoes that too. Output is handed on buffer by buffer as
/// the library fills it, never gathered.
public struct AutoDecompressor {
  var inner: (any Decompressor)?
  /// The first bytes, until there are enough to tell the compression.
  var head: [UInt8] = []
  public private(set) var compression: Compression?
  /// What comes out of the first layer, until it tells whether it is gzip again.
  var probe: [UInt8] = []
  var probing: Bool
  /// The second layer, for gzip inside gzip.
  var nested: (any Decompressor)?

  /// zlib instead of ISA-L for gzip, when `FERRY_GZIP=zlib` (a fallback, should ISA-L
  /// ever refuse a file that zlib reads).
  static let gzipThroughZlib = ProcessInfo.processInfo.environment["FERRY_GZIP"] == "zlib"

  /// The gzip decoder: ISA-L, or zlib as the fallback.
  static func gzipDecoder() throws -> any Decompressor {
    gzipThroughZlib ? try GzipDecompressor() : IsalGzipDecompressor()
  }

  public init() { self.init(allowNested: true) }
  init(allowNested: Bool) { probing = allowNested }

  public mutating func feed(_ input: [UInt8], emit: ([UInt8]) throws -> Void) throws {
    guard inner == nil else { return try push(input, emit: emit) }
    head += input
    guard head.count >= 4 else { return }
    try start(emit: emit)
  }

  public mutating func finish(emit: ([UInt8]) throws -> Void) throws {
    if inner == nil {
      guard !head.isEmpty else { return }
      try start(emit: emit)
    }
    guard var decoder = inner else { return }
    inner = nil
    defer { inner = decoder }
    try decoder.finish { try pass($0, emit: emit) }
    // Output shorter than a gzip header is not gzip: it is the text.
    if probing, !probe.isEmpty {
      probing = false
      try emit(probe)
      probe = []
    }
    try nested?.finish(emit: emit)
  }

  mutating func start(emit: ([UInt8]) throws -> Void) throws {
    let kind = Compression.detect(head)
    compression = kind
    switch kind {
    case .gzip: inner = try Self.gzipDecoder()
    case .zstd: inner = try ZstdDecompressor()
    case .bzip2: inner = try Bzip2Decompressor()
    case .none: inner = PlainBytes()
    }
    probing = probing && kind == .gzip
    let first = head
    head = []
    try push(first, emit: emit)
  }

  mutating func push(_ input: [UInt8], emit: ([UInt8]) throws -> Void) throws {
    // The decoder is taken out while it runs, so that its output goes straight on.
    guard var decoder = inner else { return }
    inner = nil
    defer { inner = decoder }
    try input.withUnsafeBytes { raw in try decoder.feed(raw) { try pass($0, emit: emit) } }
  }

  /// Output of the first layer: handed on, or into the second when it is gzip again.
  mutating func pass(_ chunk: [UInt8], emit: ([UInt8]) throws -> Void) throws {
    if probing {
      probe += chunk
      guard probe.count >= 4 else { return }
      probing = false
      let first = probe
      probe = []
      if Compression.detect(first) == .gzip { nested = try Self.gzipDecoder() }
      return try pass(first, emit: emit)
    }
    guard nested != nil else { return try emit(chunk) }
    try chunk.withUnsafeBytes { raw in try nested?.feed(raw, emit: emit) }
  }
}
