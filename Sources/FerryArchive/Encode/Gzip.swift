import CZlib

/// gzip through zlib's `deflate` (a gzip wrapper: window bits 15 + 16), for archives whose
/// readers have no zstd.
enum Gzip {
  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  static func compress(_ input: [UInt8], level: Int32 = Z_DEFAULT_COMPRESSION) throws -> [UInt8] {
    let z = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    z.initialize(to: z_stream())
    defer { z.deallocate() }
    let status = deflateInit2_(
      z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
      Int32(MemoryLayout<z_stream>.size))
    guard status == Z_OK else { throw Failure(description: "zlib could not start (\(status))") }
    defer { deflateEnd(z) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(z, UInt(input.count))) + 64)
    let result = input.withUnsafeBufferPointer { source in
      output.withUnsafeMutableBufferPointer { target in
        z.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
        z.pointee.avail_in = UInt32(source.count)
        z.pointee.next_out = target.baseAddress
        z.pointee.avail_out = UInt32(target.count)
        return deflate(z, Z_FINISH)
      }
    }
    guard result == Z_STREAM_END else {
      throw Failure(description: "zlib could not compress the object (\(result))")
    }
    output.removeSubrange(Int(z.pointee.total_out)...)
    return output
  }
}
