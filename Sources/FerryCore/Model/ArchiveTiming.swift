import Foundation

/// When an archive's next flush comes: once its oldest waiting events have waited the
/// flush age, or as soon as the flush size of text waits, whichever is first.
public struct NextFlush: Sendable, Equatable {
  /// When the age calls for a flush; nil when nothing waits or the writer has not looked.
  public var at: Date?
  /// Text waiting now, and the size that calls for a flush.
  public var pendingBytes: Int64
  public var flushBytes: Int64
  public var flushAge: TimeInterval
  /// Nothing waits to be archived.
  public var idle: Bool
  /// A batch is being written (or waits to be written again after a crash).
  public var underWay: Bool
  /// The archive is paused: no flush until it is resumed.
  public var paused: Bool

  public init(
    progress: ArchiveProgress, enabled: Bool, flushAge: TimeInterval, flushBytes: Int
  ) {
    at = progress.waitingSince.map { $0.addingTimeInterval(flushAge) }
    pendingBytes = progress.pendingBytes
    self.flushBytes = Int64(flushBytes)
    self.flushAge = flushAge
    idle = progress.pendingEvents == 0 && progress.openBatch == nil
    underWay = progress.openBatch != nil
    paused = !enabled
  }

  /// The next flush in words: "in 4 min, or when 32 MiB wait (1.2 MiB wait now)".
  public func sentence(now: Date = Date()) -> String {
    let size = Quantity.bytes(flushBytes)
    if paused { return "none while the archive is paused (resume it to write again)" }
    if underWay { return "under way" }
    if idle {
      return
        "nothing waits; \(Quantity.duration(flushAge)) after events arrive, or once \(size) wait"
    }
    let waiting = "\(Quantity.bytes(pendingBytes)) wait now"
    guard let at else {
      return "within \(Quantity.duration(flushAge)), or when \(size) wait (\(waiting))"
    }
    if at <= now { return "due now: the writer takes it at its next look (\(waiting))" }
    return "in \(Quantity.duration(at.timeIntervalSince(now))), or when \(size) wait (\(waiting))"
  }
}

/// How fast a restore goes and how long it has left, averaged since it began to read.
public struct RestorePace: Sendable, Equatable {
  public var eventsPerSecond: Double
  public var bytesPerSecond: Double
  /// nil until the restore has read something, or once it has nothing left to read.
  public var secondsLeft: Double?

  /// nil while the restore has not begun to read, or once it has ended.
  public init?(_ job: RestoreJob, now: Date = Date()) {
    guard job.state == .running, let started = job.startedAt else { return nil }
    let elapsed = now.timeIntervalSince(started)
    guard elapsed > 0 else { return nil }
    eventsPerSecond = Double(job.eventsRead) / elapsed
    bytesPerSecond = Double(job.bytesRead) / elapsed
    if let total = job.bytesTotal, job.bytesRead > 0, total > job.bytesRead {
      secondsLeft = Double(total - job.bytesRead) / bytesPerSecond
    } else {
      secondsLeft = nil
    }
  }

  /// "12,345 events/s, about 3 min left".
  public var sentence: String {
    let rate = Quantity.count(Int(eventsPerSecond.rounded()))
    guard let secondsLeft else { return "\(rate) events/s" }
    return "\(rate) events/s, about \(Quantity.duration(secondsLeft)) left"
  }
}
