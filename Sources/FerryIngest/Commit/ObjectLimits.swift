import Foundation

/// How much one object may put into the shared store: a compressed object that expands
/// without bound (a "zip bomb", or a gigabyte of gzip of short lines) fails with the cause
/// once it passes a limit, keeping what was read before, instead of filling the store for
/// every tenant. Configurable per server (`--max-object-gib`, `--max-compression-ratio`,
/// `--max-object-events`).
public struct ObjectLimits: Sendable, Equatable {
  /// Decompressed bytes of one object at most.
  public var maxBytes: Int64 = 16 << 30
  /// Decompressed bytes per compressed byte at most, once the object has expanded past
  /// ``ratioFloor`` (text logs compress 5 to 50 times; zstd and bzip2 bombs, far more; gzip
  /// cannot pass about 1,032, so its bombs meet ``maxEvents`` or ``maxBytes`` instead).
  public var maxRatio: Int64 = 2000
  public var ratioFloor: Int64 = 64 << 20
  /// Events of one object at most.
  public var maxEvents = 100_000_000
  /// How long the first attempt at an object may read: past it the attempt commits what it
  /// read and gives its slot back; the next attempt, with twice the time, goes on from there
  /// (`--max-object-minutes`).
  public var maxSeconds: TimeInterval = 1800

  public init() {}

  /// Why an object past a limit fails, if it is.
  func problem(decompressed: Int64, compressed: Int64, events: Int) -> ObjectLimitExceeded? {
    if decompressed > maxBytes {
      return ObjectLimitExceeded(
        "the object expands past \(maxBytes >> 20) MiB when decompressed, Ferry's limit for one object (--max-object-gib); what was read before the limit is kept. Fix: write smaller objects, or ask the operator to raise the limit, then reprocess it"
      )
    }
    if decompressed > ratioFloor, decompressed > compressed * maxRatio {
      return ObjectLimitExceeded(
        "the object expands more than \(maxRatio) times (\(compressed) compressed bytes gave \(decompressed) so far), which no log does: it is treated as a decompression bomb (--max-compression-ratio); what was read before the limit is kept"
      )
    }
    if events > maxEvents {
      return ObjectLimitExceeded(
        "the object holds more than \(maxEvents) events, Ferry's limit for one object (--max-object-events); what was read before the limit is kept. Fix: write smaller objects, or ask the operator to raise the limit, then reprocess it"
      )
    }
    return nil
  }
}

/// An object past one of its ``ObjectLimits``.
public struct ObjectLimitExceeded: ObjectContentProblem, Sendable {
  public let description: String
  init(_ description: String) { self.description = description }
}

/// An attempt at an object that read longer than ``ObjectLimits/maxSeconds``: what it read
/// is committed, and the object is tried again later from there (not a problem of its
/// content, so not failed for good).
public struct ObjectTimeBoxExceeded: Error, Sendable, CustomStringConvertible {
  public let seconds: TimeInterval
  public var description: String {
    "reading the object took longer than \(Int(seconds)) s, Ferry's limit for this attempt (--max-object-minutes, doubled per attempt); what was read is kept and the next attempt goes on from there"
  }
}
