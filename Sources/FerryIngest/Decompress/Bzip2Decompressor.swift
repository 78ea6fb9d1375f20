import CBzip2

/// bzip2 through libbz2, streaming, every stream of a multi-stream file (`pbzip2` writes
/// those).
public struct Bzip2Decompressor: Decompressor {
  final class Stream {
    let z: UnsafeMutablePointer<bz_stream>
    var open = false
    init() throws {
      z = UnsafeMutablePointer<bz_stream>.allocate(capacity: 1)
      z.initialize(to: bz_stream())
      try start()
    }
    func start() throws {
      if open { BZ2_bzDecompressEnd(z) }
      z.pointee = bz_stream()
      let status = BZ2_bzDecompressInit(z, 0, 0)
      guard status == BZ_OK else { throw DecompressionError("bzip2 could not start (\(status))") }
      open = true
    }
    deinit {
      if open { BZ2_bzDecompressEnd(z) }
      z.deallocate()
    }
  }

  let stream: Stream
  var loop = DecompressLoop()

  public init() throws { stream = try Stream() }

  public mutating func feed(_ input: UnsafeRawBufferPointer, emit: ([UInt8]) throws -> Void)
    throws
  {
    let stream = self.stream
    try loop.run(
      input, restart: { try stream.start() },
      step: { input, output in
        let z = stream.z
        z.pointee.next_in = UnsafeMutablePointer(
          mutating: input.baseAddress?.assumingMemoryBound(to: CChar.self))
        z.pointee.avail_in = UInt32(min(input.count, Int(UInt32.max)))
        z.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: CChar.self)
        z.pointee.avail_out = UInt32(output.count)
        let before = Int(z.pointee.avail_in)
        let status = BZ2_bzDecompress(z)
        guard status == BZ_OK || status == BZ_STREAM_END else {
          throw DecompressionError("the bzip2 data is damaged (libbz2 error \(status))")
        }
        return DecompressStep(
          consumed: before - Int(z.pointee.avail_in),
          produced: output.count - Int(z.pointee.avail_out), streamEnded: status == BZ_STREAM_END)
      }, emit: emit)
  }

  public mutating func finish(emit: ([UInt8]) throws -> Void) throws {
    if loop.isCut {
      throw DecompressionError("the bzip2 file ends inside a stream: it is truncated")
    }
  }
}
