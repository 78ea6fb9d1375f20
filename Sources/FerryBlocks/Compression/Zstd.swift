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

  static func errorName(_ code: Int) -> String {
    String(cString: ZSTD_getErrorName(code))
  }
}
