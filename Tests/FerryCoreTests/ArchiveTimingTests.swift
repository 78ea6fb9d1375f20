import Foundation
import Testing

@testable import FerryCore

/// What the API, the CLI and the UI say of an archive's next flush and of a restore's
/// speed: derived from the flush rules (`--archive-flush-age`, `--archive-flush-mib`) and
/// the job's counters.
@Suite("Archive timing: the next flush and a restore's pace, in words")
struct ArchiveTimingTests {
  static let now = Date(timeIntervalSince1970: 1_796_000_000)

  func progress(pending: Int, bytes: Int64, since: Date?, open: Int? = nil) -> ArchiveProgress {
    var p = ArchiveProgress()
    p.pendingEvents = pending
    p.pendingBytes = bytes
    p.waitingSince = since
    p.openBatch = open
    return p
  }

  @Test func theNextFlushComesAtTheAgeOrTheSizeWhicheverIsFirst() {
    let waiting = progress(
      pending: 900, bytes: 1_258_291, since: Self.now.addingTimeInterval(-60))
    let next = NextFlush(progress: waiting, enabled: true, flushAge: 300, flushBytes: 32 << 20)
    #expect(next.at == Self.now.addingTimeInterval(240))
    #expect(next.sentence(now: Self.now) == "in 4 min, or when 32 MiB wait (1.2 MiB wait now)")
    #expect(next.sentence(now: Self.now.addingTimeInterval(241)).hasPrefix("due now"))
    let unseen = NextFlush(
      progress: progress(pending: 5, bytes: 700, since: nil), enabled: true, flushAge: 300,
      flushBytes: 1 << 20)
    #expect(unseen.sentence(now: Self.now) == "within 5 min, or when 1 MiB wait (700 B wait now)")
    let idle = NextFlush(
      progress: progress(pending: 0, bytes: 0, since: nil), enabled: true, flushAge: 3600,
      flushBytes: 32 << 20)
    #expect(idle.at == nil)
    #expect(
      idle.sentence(now: Self.now) == "nothing waits; 1 h after events arrive, or once 32 MiB wait")
    let open = NextFlush(
      progress: progress(pending: 10, bytes: 10, since: Self.now, open: 7), enabled: true,
      flushAge: 300, flushBytes: 1 << 20)
    #expect(open.sentence(now: Self.now) == "under way")
    let paused = NextFlush(
      progress: waiting, enabled: false, flushAge: 300, flushBytes: 32 << 20)
    #expect(paused.sentence(now: Self.now).contains("paused"))
  }

  @Test func durationsAndSizesReadAsPeopleWriteThem() {
    #expect(Quantity.duration(0) == "0 s")
    #expect(Quantity.duration(44.2) == "45 s")
    #expect(Quantity.duration(61) == "2 min")
    #expect(Quantity.duration(3600) == "1 h")
    #expect(Quantity.duration(3600 + 5 * 60) == "1 h 5 min")
    #expect(Quantity.duration(86_400 * 3 + 3600 * 4) == "3 d 4 h")
    #expect(Quantity.bytes(1023) == "1023 B")
    #expect(Quantity.bytes(12 * 1024) == "12 KiB")
    #expect(Quantity.bytes(1_572_864) == "1.5 MiB")
    #expect(Quantity.bytes(200 << 20) == "200 MiB")
    #expect(Quantity.bytes(Int64(3.5 * 1_073_741_824)) == "3.5 GiB")
  }

  @Test func aRestoresPaceIsAveragedSinceItBeganToRead() {
    var job = RestoreJob(
      accountID: AccountID(rawValue: "acc_1"), archiveID: "arc_1", from: Self.now,
      to: Self.now, state: .running, requestedBy: "alice")
    #expect(RestorePace(job, now: Self.now) == nil, "not begun")
    job.startedAt = Self.now.addingTimeInterval(-10)
    job.bytesTotal = 4_000_000
    job.bytesRead = 1_000_000
    job.eventsRead = 123_450
    let pace = try? #require(RestorePace(job, now: Self.now))
    #expect(pace?.eventsPerSecond == 12_345)
    // 3 MB left at 100 kB/s.
    #expect(pace?.secondsLeft == 30)
    #expect(pace?.sentence == "12,345 events/s, about 30 s left")
    job.bytesRead = 4_000_000
    #expect(RestorePace(job, now: Self.now)?.secondsLeft == nil, "nothing left to read")
    job.state = .succeeded
    #expect(RestorePace(job, now: Self.now) == nil, "ended")
  }
}
