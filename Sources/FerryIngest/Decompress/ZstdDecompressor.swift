import CZstd

/// zstd frames, streaming (`ZSTD_decompressStream`), one frame after another.
public struct ZstdDecompressor: Decompressor {
  final class Stream {
    let context: OpaquePointer
    init() throws {
      guard let context = ZSTD_createDStream() else {
        throw DecompressionError("zstd could not start")
      }
      self.context = context
      ZSTD_initDStream(context)
    }
    deinit { ZSTD_freeDStream(context) }
  }

  let stream: Stream
  var output = [UInt8](repeating: 0, count: 256 << 10)
  /// 0 when the last frame ended exactly at the end of the input so far.
  var hint = 0
  var sawInput = false

  public init() throws { stream = try Stream() }

  public mutating func feed(_ input: UnsafeRawBufferPointer, emit: ([UInt8]) throws -> Void)
    throws
  {
    guard let base = input.baseAddress, !input.isEmpty else { return }
    sawInput = true
    var source = ZSTD_inBuffer(src: base, size: input.count, pos: 0)
    while true {
      var produced = 0
      let result = output.withUnsafeMutableBytes { out -> Int in
        var target = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
        let result = ZSTD_decompressStream(stream.context, &target, &source)
        produced = target.pos
        return result
      }
      if ZSTD_isError(result) != 0 {
        throw DecompressionError(
          "the zstd data is damaged: \(String(cString: ZSTD_getErrorName(result)))")
      }
      hint = result
      if produced > 0 { try emit(Array(output[0..<produced])) }
      if source.pos == source.size && produced < output.count { return }
    }
  }

  public mutating func finish(emit: ([UInt8]) throws -> Void) throws {
    if sawInput && hint != 0 {
      throw DecompressionError("the zstd file ends inside a frame: it is truncated")
    }
  }
}
