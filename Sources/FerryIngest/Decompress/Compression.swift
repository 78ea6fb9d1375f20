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
/// inside gzip), a second layer undoes that too.
public struct AutoDecompressor {
  var inner: (any Decompressor)?
  var pending: [UInt8] = []
  public private(set) var compression: Compression?
  /// The layer below, for gzip inside gzip.
  var nested: NestedLayer?
  let allowNested: Bool

  final class NestedLayer {
    var decompressor: AutoDecompressor
    init() { decompressor = AutoDecompressor(allowNested: false) }
  }

  public init() { self.init(allowNested: true) }
  init(allowNested: Bool) { self.allowNested = allowNested }

  public mutating func feed(_ input: [UInt8], emit: ([UInt8]) throws -> Void) throws {
    if inner == nil {
      pending += input
      guard pending.count >= 4 else { return }
      try start()
      let buffered = pending
      pending = []
      try push(buffered, emit: emit)
      return
    }
    try push(input, emit: emit)
  }

  public mutating func finish(emit: ([UInt8]) throws -> Void) throws {
    if inner == nil {
      if pending.isEmpty { return }
      try start()
      let buffered = pending
      pending = []
      try push(buffered, emit: emit)
    }
    var out: [[UInt8]] = []
    try inner?.finish { out.append($0) }
    for chunk in out { try pass(chunk, emit: emit) }
    if let nested { try nested.decompressor.finish(emit: emit) }
  }

  mutating func start() throws {
    let kind = Compression.detect(pending)
    compression = kind
    switch kind {
    case .gzip: inner = try GzipDecompressor()
    case .zstd: inner = try ZstdDecompressor()
    case .bzip2: inner = try Bzip2Decompressor()
    case .none: inner = PlainBytes()
    }
  }

  mutating func push(_ input: [UInt8], emit: ([UInt8]) throws -> Void) throws {
    var out: [[UInt8]] = []
    try input.withUnsafeBytes { raw in
      try inner?.feed(raw) { out.append($0) }
    }
    for chunk in out { try pass(chunk, emit: emit) }
  }

  /// Output of the first layer: handed on, or into a second layer when it is gzip again.
  mutating func pass(_ chunk: [UInt8], emit: ([UInt8]) throws -> Void) throws {
    if let nested {
      try nested.decompressor.feed(chunk, emit: emit)
      return
    }
    if allowNested, compression == .gzip, !decidedNesting {
      nestingProbe += chunk
      guard nestingProbe.count >= 4 else { return }
      decidedNesting = true
      let probe = nestingProbe
      nestingProbe = []
      if Compression.detect(probe) == .gzip {
        let layer = NestedLayer()
        nested = layer
        try layer.decompressor.feed(probe, emit: emit)
      } else {
        try emit(probe)
      }
      return
    }
    try emit(chunk)
  }

  var decidedNesting = false
  var nestingProbe: [UInt8] = []
}
