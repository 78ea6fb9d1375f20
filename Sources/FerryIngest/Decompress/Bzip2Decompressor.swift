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
  var output = [UInt8](repeating: 0, count: 256 << 10)
  var streamEnded = false
  var sawInput = false

  public init() throws { stream = try Stream() }

  public mutating func feed(_ input: UnsafeRawBufferPointer, emit: ([UInt8]) throws -> Void)
    throws
  {
    guard let base = input.baseAddress, !input.isEmpty else { return }
    sawInput = true
    var offset = 0
    while offset < input.count {
      if streamEnded {
        try stream.start()
        streamEnded = false
      }
      let z = stream.z
      z.pointee.next_in = UnsafeMutablePointer(
        mutating: base.advanced(by: offset).assumingMemoryBound(to: CChar.self))
      z.pointee.avail_in = UInt32(min(input.count - offset, Int(UInt32.max)))
      let before = Int(z.pointee.avail_in)
      var status: Int32 = BZ_OK
      repeat {
        let produced = output.withUnsafeMutableBytes { out -> Int in
          z.pointee.next_out = out.baseAddress?.assumingMemoryBound(to: CChar.self)
          z.pointee.avail_out = UInt32(out.count)
          status = BZ2_bzDecompress(z)
          return out.count - Int(z.pointee.avail_out)
        }
        if produced > 0 { try emit(Array(output[0..<produced])) }
        if status == BZ_STREAM_END { streamEnded = true }
        if status != BZ_OK && status != BZ_STREAM_END {
          throw DecompressionError("the bzip2 data is damaged (libbz2 error \(status))")
        }
      } while status == BZ_OK && (z.pointee.avail_in > 0 || z.pointee.avail_out == 0)
      offset += before - Int(z.pointee.avail_in)
    }
  }

  public mutating func finish(emit: ([UInt8]) throws -> Void) throws {
    if sawInput && !streamEnded {
      throw DecompressionError("the bzip2 file ends inside a stream: it is truncated")
    }
  }
}
