import CZstd

/// zstd frames through the system's libzstd: one call per block, in memory (blocks are
/// about 1 MB of text, so this is bounded).
public enum Zstd {
  /// Why a frame could not be made or read.
  public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
  }

  /// Level 1: on log text it compresses about as well as level 3, and faster.
  public static let defaultLevel: Int32 = 1

  public static func compress(_ input: [UInt8], level: Int32 = defaultLevel) throws(Failure)
    -> [UInt8]
  {
    let bound = ZSTD_compressBound(input.count)
    var output = [UInt8](repeating: 0, count: bound)
    let written = input.withUnsafeBytes { source in
      output.withUnsafeMutableBytes { target in
        ZSTD_compress(
          target.baseAddress, bound, source.baseAddress, input.count, level)
      }
    }
    if ZSTD_isError(written) != 0 {
      throw Failure(description: "zstd could not compress: \(errorName(written))")
    }
    output.removeLast(output.count - written)
    return output
  }

  /// Decompresses one frame whose content size is recorded in it and at most `limit`.
  public static func decompress(_ input: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
    let size = input.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, input.count) }
    // ZSTD_CONTENTSIZE_UNKNOWN and ZSTD_CONTENTSIZE_ERROR are the two largest values.
    guard size < UInt64.max - 1 else {
      throw Failure(description: "not a zstd frame with a recorded size")
    }
    guard size <= UInt64(limit) else {
      throw Failure(description: "the frame holds \(size) bytes, more than the \(limit) allowed")
    }
    var output = [UInt8](repeating: 0, count: Int(size))
    let read = input.withUnsafeBytes { source in
      output.withUnsafeMutableBytes { target in
        ZSTD_decompress(target.baseAddress, Int(size), source.baseAddress, input.count)
      }
    }
    if ZSTD_isError(read) != 0 {
      throw Failure(description: "the zstd frame is damaged: \(errorName(read))")
    }
    guard read == Int(size) else {
      throw Failure(description: "the zstd frame held \(read) bytes, not the \(size) it records")
    }
    return output
  }

  /// The start of one frame's content, decompressed a piece at a time until `enough` says
  /// the bytes so far are enough (or the frame ends), never more than `limit`: a reader
  /// that wants a block's first columns does not decompress its text.
  public static func decompressPrefix(
    _ input: [UInt8], limit: Int, piece: Int = 64 << 10, enough: ([UInt8]) -> Bool
  ) throws(Failure) -> [UInt8] {
    guard let context = ZSTD_createDCtx() else {
      throw Failure(description: "zstd could not make a decompression context")
    }
    defer { ZSTD_freeDCtx(context) }
    var output: [UInt8] = []
    var scratch = [UInt8](repeating: 0, count: piece)
    var consumed = 0
    while true {
      var code = 0
      var produced = 0
      input.withUnsafeBytes { source in
        scratch.withUnsafeMutableBytes { target in
          var inBuffer = ZSTD_inBuffer(src: source.baseAddress, size: input.count, pos: consumed)
          var outBuffer = ZSTD_outBuffer(dst: target.baseAddress, size: piece, pos: 0)
          code = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
          consumed = inBuffer.pos
          produced = outBuffer.pos
        }
      }
      if ZSTD_isError(code) != 0 {
        throw Failure(description: "the zstd frame is damaged: \(errorName(code))")
      }
      output.append(contentsOf: scratch[0..<produced])
      guard output.count <= limit else {
        throw Failure(description: "the frame holds more than the \(limit) bytes allowed")
      }
      // 0: the frame is complete.
      if code == 0 || enough(output) { return output }
      if produced == 0 && consumed == input.count {
        throw Failure(description: "the zstd frame is cut short")
      }
    }
  }

  static func errorName(_ code: Int) -> String {
    String(cString: ZSTD_getErrorName(code))
  }
}

/// One zstd frame made a piece at a time (`ZSTD_compressStream2`), so that the text of a
/// large object is never held whole: only what was compressed so far and the piece fed.
/// Owned by one writer at a time (a value type holds it and is not shared between tasks):
/// its context is not safe to use from two threads at once.
public final class ZstdStream: @unchecked Sendable {
  private let context: OpaquePointer
  private var scratch: [UInt8]
  /// The frame so far.
  public private(set) var output: [UInt8] = []

  public init(level: Int32 = Zstd.defaultLevel) throws(Zstd.Failure) {
    guard let context = ZSTD_createCCtx() else {
      throw Zstd.Failure(description: "zstd could not make a compression context")
    }
    self.context = context
    scratch = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())
    let set = ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
    if ZSTD_isError(set) != 0 {
      throw Zstd.Failure(description: "zstd refused level \(level): \(Zstd.errorName(set))")
    }
  }

  deinit { ZSTD_freeCCtx(context) }

  /// Compresses `input` into the frame.
  public func feed(_ input: [UInt8]) throws(Zstd.Failure) {
    try run(input, ZSTD_e_continue)
  }

  /// Compresses `input`, ends the frame and gives it whole.
  public func finish(_ input: [UInt8] = []) throws(Zstd.Failure) -> [UInt8] {
    try run(input, ZSTD_e_end)
    return output
  }

  private func run(_ input: [UInt8], _ directive: ZSTD_EndDirective) throws(Zstd.Failure) {
    let failure: Int? = input.withUnsafeBytes { source in
      var inBuffer = ZSTD_inBuffer(src: source.baseAddress, size: source.count, pos: 0)
      while true {
        var written = 0
        let left = scratch.withUnsafeMutableBytes { target in
          var outBuffer = ZSTD_outBuffer(dst: target.baseAddress, size: target.count, pos: 0)
          let left = ZSTD_compressStream2(context, &outBuffer, &inBuffer, directive)
          written = outBuffer.pos
          return left
        }
        if ZSTD_isError(left) != 0 { return left }
        output.append(contentsOf: scratch[0..<written])
        // Fed: every input byte taken (with room left in the output, nothing is held
        // back); ended: nothing left to flush.
        let done =
          directive == ZSTD_e_end
          ? left == 0 : inBuffer.pos == inBuffer.size && written < scratch.count
        if done { return nil }
      }
    }
    if let failure {
      throw Zstd.Failure(description: "zstd could not compress: \(Zstd.errorName(failure))")
    }
  }
}
