import Foundation

/// Cuts bytes into lines (`\n`, with a `\r` before it dropped), tracking each line's
/// offset in the stream and cutting lines longer than the limit without holding them.
public struct LineSplitter {
  let limit: Int
  private var line: [UInt8] = []
  private var lineStart: Int64 = 0
  private var position: Int64 = 0
  /// Bytes of the current line past the limit, skipped.
  private var skipping = false
  public private(set) var cutLines = 0

  public init(limit: Int = ParseLimits.maxRecordBytes) { self.limit = limit }

  /// Calls `body` with each complete line (without its end), its offset and whether it
  /// was cut.
  public mutating func feed(
    _ bytes: [UInt8],
    _ body: (_ line: ArraySlice<UInt8>, _ offset: Int64, _ cut: Bool) throws
      -> Void
  ) throws {
    var start = 0
    let count = bytes.count
    while start < count {
      let end = Self.newline(in: bytes, from: start)
      let stop = end ?? count
      if !skipping {
        let room = limit - line.count
        if stop - start > room {
          line += bytes[start..<start + room]
          skipping = true
          cutLines += 1
        } else if line.isEmpty, end != nil {
          // The whole line is in this piece: no copy.
          try body(trimmed(bytes[start..<stop]), lineStart, false)
          position += Int64(stop - start + 1)
          lineStart = position
          start = stop + 1
          continue
        } else {
          line += bytes[start..<stop]
        }
      }
      position += Int64(stop - start)
      if end != nil {
        position += 1
        try body(trimmed(line[...]), lineStart, skipping)
        line.removeAll(keepingCapacity: line.count <= 64 << 10)
        skipping = false
        lineStart = position
        start = stop + 1
      } else {
        start = count
      }
    }
  }

  public mutating func finish(
    _ body: (_ line: ArraySlice<UInt8>, _ offset: Int64, _ cut: Bool) throws -> Void
  ) throws {
    if !line.isEmpty || skipping {
      try body(trimmed(line[...]), lineStart, skipping)
      line = []
      skipping = false
    }
  }

  /// The place of the first `\n` of `bytes` at or after `start`, found by `memchr` (many
  /// bytes per step, where a loop over the slice takes one).
  static func newline(in bytes: [UInt8], from start: Int) -> Int? {
    bytes.withUnsafeBufferPointer { buffer in
      guard let base = buffer.baseAddress, start < buffer.count,
        let hit = memchr(base + start, 0x0A, buffer.count - start)
      else { return nil }
      return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
    }
  }

  private func trimmed(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    line.last == 0x0D ? line.dropLast() : line
  }
}
