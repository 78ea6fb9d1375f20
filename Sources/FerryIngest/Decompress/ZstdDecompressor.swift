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
  /// zstd goes on to the next frame by itself: nothing to restart.
  var loop = DecompressLoop()

  public init() throws { stream = try Stream() }

  public mutating func feed(_ input: UnsafeRawBufferPointer, emit: ([UInt8]) throws -> Void)
    throws
  {
    let context = stream.context
    try loop.run(
      input, restart: {},
      step: { input, output in
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var target = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        let result = ZSTD_decompressStream(context, &target, &source)
        if ZSTD_isError(result) != 0 {
          throw DecompressionError(
            "the zstd data is damaged: \(String(cString: ZSTD_getErrorName(result)))")
        }
        // 0: a frame ended here.
        return DecompressStep(consumed: source.pos, produced: target.pos, streamEnded: result == 0)
      }, emit: emit)
  }

  public mutating func finish(emit: ([UInt8]) throws -> Void) throws {
    if loop.isCut {
      throw DecompressionError("the zstd file ends inside a frame: it is truncated")
    }
  }
}
