import CIsal

/// gzip through ISA-L's `isal_inflate` (Debian's libisal-dev), streaming, every member of
/// a multi-member file, each member's CRC-32 checked: the fetcher's gzip decoder, about
/// twice as fast as zlib. ``GzipDecompressor`` (zlib) decodes the same files and stays as
/// the fallback (`FERRY_GZIP=zlib`) and as the independent reading the tests compare with.
public struct IsalGzipDecompressor: Decompressor {
  /// ISA-L keeps pointers into its state, so the state lives at one address.
  final class Stream {
    let state: UnsafeMutablePointer<inflate_state>
    init() {
      state = UnsafeMutablePointer<inflate_state>.allocate(capacity: 1)
      isal_inflate_init(state)
      state.pointee.crc_flag = UInt32(ISAL_GZIP)
    }
    func reset() {
      isal_inflate_reset(state)
      state.pointee.crc_flag = UInt32(ISAL_GZIP)
    }
    deinit { state.deallocate() }
  }

  let stream = Stream()
  var loop = DecompressLoop(skipsZeroPadding: true)
  /// Output of the members before this one, for the messages.
  var totalOut = 0

  public init() {}

  public mutating func feed(_ input: UnsafeRawBufferPointer, emit: ([UInt8]) throws -> Void)
    throws
  {
    let stream = self.stream
    let base = totalOut
    var produced = 0
    defer { totalOut += produced }
    try loop.run(
      input, restart: { stream.reset() },
      step: { input, output in
        let s = stream.state
        s.pointee.next_in = UnsafeMutablePointer(
          mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        s.pointee.avail_in = UInt32(min(input.count, Int(UInt32.max)))
        s.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        s.pointee.avail_out = UInt32(output.count)
        let before = Int(s.pointee.avail_in)
        let status = isal_inflate(s)
        guard status >= 0 else { throw Self.problem(status, after: base + produced) }
        let step = DecompressStep(
          consumed: before - Int(s.pointee.avail_in),
          produced: output.count - Int(s.pointee.avail_out),
          streamEnded: s.pointee.block_state == ISAL_BLOCK_FINISH)
        produced += step.produced
        return step
      }, emit: emit)
  }

  static func problem(_ status: Int32, after bytes: Int) -> DecompressionError {
    let what: String
    switch status {
    case ISAL_INVALID_WRAPPER: what = "its gzip header is not valid"
    case ISAL_UNSUPPORTED_METHOD: what = "it names a compression method other than deflate"
    case ISAL_INCORRECT_CHECKSUM: what = "a member's CRC-32 does not match its text"
    case ISAL_INVALID_BLOCK, ISAL_INVALID_SYMBOL, ISAL_INVALID_LOOKBACK:
      what = "its deflate data is invalid"
    default: what = "ISA-L failed (\(status))"
    }
    return DecompressionError(
      "the gzip data is damaged (\(what)) after \(bytes) bytes of text")
  }

  public mutating func finish(emit: ([UInt8]) throws -> Void) throws {
    if loop.isCut {
      throw DecompressionError(
        "the gzip file ends inside a member, after \(totalOut) bytes of its text: it is truncated"
      )
    }
  }
}
