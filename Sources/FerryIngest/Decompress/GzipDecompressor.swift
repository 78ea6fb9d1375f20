import CZlib

/// gzip through zlib's `inflate`, streaming, with every member of a multi-member file
/// (`cat a.gz b.gz` is a valid gzip file, and AWS services write such files).
public struct GzipDecompressor: Decompressor {
  /// zlib keeps a pointer to its `z_stream`, so the stream lives at one address.
  final class Stream {
    let z: UnsafeMutablePointer<z_stream>
    init() throws {
      z = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
      z.initialize(to: z_stream())
      // 15 + 16: a gzip wrapper, the largest window.
      let status = inflateInit2_(z, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
      guard status == Z_OK else {
        z.deallocate()
        throw DecompressionError("zlib could not start (\(status))")
      }
    }
    deinit {
      inflateEnd(z)
      z.deallocate()
    }
  }

  let stream: Stream
  var loop = DecompressLoop(skipsZeroPadding: true)

  public init() throws { stream = try Stream() }

  public mutating func feed(_ input: UnsafeRawBufferPointer, emit: ([UInt8]) throws -> Void)
    throws
  {
    let z = stream.z
    try loop.run(
      input, restart: { inflateReset(z) },
      step: { input, output in
        z.pointee.next_in = UnsafeMutablePointer(
          mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        z.pointee.avail_in = UInt32(min(input.count, Int(UInt32.max)))
        z.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        z.pointee.avail_out = UInt32(output.count)
        let before = Int(z.pointee.avail_in)
        let status = inflate(z, Z_NO_FLUSH)
        let step = DecompressStep(
          consumed: before - Int(z.pointee.avail_in),
          produced: output.count - Int(z.pointee.avail_out), streamEnded: status == Z_STREAM_END)
        switch status {
        case Z_OK, Z_BUF_ERROR, Z_STREAM_END: return step
        case Z_DATA_ERROR:
          throw DecompressionError(
            "the gzip data is damaged (\(Self.message(z) ?? "invalid data")) after \(z.pointee.total_in) bytes of a member"
          )
        default:
          throw DecompressionError("zlib failed (\(status): \(Self.message(z) ?? "unknown"))")
        }
      }, emit: emit)
  }

  static func message(_ z: UnsafeMutablePointer<z_stream>) -> String? {
    z.pointee.msg.map { String(cString: $0) }
  }

  public mutating func finish(emit: ([UInt8]) throws -> Void) throws {
    if loop.isCut {
      throw DecompressionError(
        "the gzip file ends inside a member, after \(stream.z.pointee.total_out) bytes of its text: it is truncated"
      )
    }
  }
}
