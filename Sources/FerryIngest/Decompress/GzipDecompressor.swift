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
  var output = [UInt8](repeating: 0, count: 256 << 10)
  /// Whether the current member has ended (more bytes start a new member).
  var memberEnded = false
  var sawInput = false

  public init() throws { stream = try Stream() }

  public mutating func feed(_ input: UnsafeRawBufferPointer, emit: ([UInt8]) throws -> Void)
    throws
  {
    guard let base = input.baseAddress, !input.isEmpty else { return }
    sawInput = true
    var offset = 0
    while offset < input.count {
      if memberEnded {
        // Bytes after a member: another member, or padding of zeros some writers add.
        if input[offset] == 0 {
          offset += 1
          continue
        }
        inflateReset(stream.z)
        memberEnded = false
      }
      stream.z.pointee.next_in = UnsafeMutablePointer(
        mutating: base.advanced(by: offset).assumingMemoryBound(to: UInt8.self))
      stream.z.pointee.avail_in = UInt32(min(input.count - offset, Int(UInt32.max)))
      let before = Int(stream.z.pointee.avail_in)
      var status: Int32 = Z_OK
      repeat {
        let produced = output.withUnsafeMutableBytes { out -> Int in
          stream.z.pointee.next_out = out.baseAddress?.assumingMemoryBound(to: UInt8.self)
          stream.z.pointee.avail_out = UInt32(out.count)
          status = inflate(stream.z, Z_NO_FLUSH)
          return out.count - Int(stream.z.pointee.avail_out)
        }
        if produced > 0 { try emit(Array(output[0..<produced])) }
        switch status {
        case Z_OK, Z_BUF_ERROR: break
        case Z_STREAM_END: memberEnded = true
        case Z_DATA_ERROR:
          throw DecompressionError(
            "the gzip data is damaged (\(message ?? "invalid data")) after \(stream.z.pointee.total_in) bytes of a member"
          )
        default:
          throw DecompressionError("zlib failed (\(status): \(message ?? "unknown"))")
        }
      } while status == Z_OK && (stream.z.pointee.avail_in > 0 || stream.z.pointee.avail_out == 0)
      offset += before - Int(stream.z.pointee.avail_in)
      if status == Z_BUF_ERROR && stream.z.pointee.avail_in == 0 { break }
    }
  }

  var message: String? { stream.z.pointee.msg.map { String(cString: $0) } }

  public mutating func finish(emit: ([UInt8]) throws -> Void) throws {
    if sawInput && !memberEnded {
      throw DecompressionError(
        "the gzip file ends inside a member, after \(stream.z.pointee.total_out) bytes of its text: it is truncated"
      )
    }
  }
}
