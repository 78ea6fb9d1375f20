/// What one call into a C decompressor did with the input and output it was given.
struct DecompressStep {
  var consumed: Int
  var produced: Int
  /// A stream (gzip member, bzip2 stream, zstd frame) ended with this call.
  var streamEnded: Bool
}

/// The loop zlib, libbz2 and libzstd share: hand the library what is left of the input,
/// emit each buffer of output as it fills, go on while input is left or the output buffer
/// came back full, and start a new stream where one ended and bytes remain (files made by
/// `cat a.gz b.gz`, pbzip2, several zstd frames).
struct DecompressLoop {
  var output = [UInt8](repeating: 0, count: 256 << 10)
  /// The last stream ended (and nothing has started since).
  private(set) var ended = false
  private(set) var sawInput = false
  /// Zero bytes between streams are padding, skipped (some gzip writers add them).
  let skipsZeroPadding: Bool

  init(skipsZeroPadding: Bool = false) { self.skipsZeroPadding = skipsZeroPadding }

  mutating func run(
    _ input: UnsafeRawBufferPointer, restart: () throws -> Void,
    step: (UnsafeRawBufferPointer, UnsafeMutableRawBufferPointer) throws -> DecompressStep,
    emit: ([UInt8]) throws -> Void
  ) throws {
    guard !input.isEmpty else { return }
    sawInput = true
    var offset = 0
    var full = false
    repeat {
      if ended {
        guard offset < input.count else { return }
        if skipsZeroPadding && input[offset] == 0 {
          offset += 1
          continue
        }
        try restart()
        ended = false
      }
      let rest = UnsafeRawBufferPointer(rebasing: input[offset...])
      let result = try output.withUnsafeMutableBytes { try step(rest, $0) }
      offset += result.consumed
      if result.produced > 0 { try emit(Array(output[0..<result.produced])) }
      if result.streamEnded { ended = true }
      full = result.produced == output.count
      // No progress and room left: the library needs more input than this piece holds.
      if !full && result.consumed == 0 && !result.streamEnded { return }
    } while offset < input.count || full
  }

  /// Whether the input stopped inside a stream (a cut file).
  var isCut: Bool { sawInput && !ended }
}
