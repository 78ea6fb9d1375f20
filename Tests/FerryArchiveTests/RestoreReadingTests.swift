import FerryCore
import FerryIngest
import FerryTesting
import Foundation
import Testing

@testable import FerryArchive

/// What a restore reads, without a bucket: archived lines come back as the events they
/// were written from (times to the millisecond, as docs/archive-format.md says), a line
/// whose event ID does not match its content is refused, the filter keeps the range and
/// the query, days and hours of a range are the layout's. The AWS refusals the emulator
/// cannot produce on Hive keys (S3's documented AccessDenied, 403, and NoSuchBucket, 404:
/// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html) are worded with
/// the step, the cause and the fix.
@Suite("Restore reading")
struct RestoreReadingTests {
  let account = AccountID(rawValue: "acct_r")

  func event(_ offset: Int64, message: String, fields: Fields) -> Event {
    Event(
      accountID: AccountID(rawValue: "acct_elsewhere"), fetcherID: "fet_1", logType: "json",
      time: Date(timeIntervalSince1970: 1_795_910_400.123), sourceKey: "app/a b/ü.json",
      sourceOffset: offset, message: message, fields: fields)
  }

  @Test func anArchivedLineReadsBackAsItsEvent() throws {
    let original = event(
      4096, message: "quote \" backslash \\ tab \t newline-free ☃", fields: ["status": "500"])
    let line = ArchiveRecord.line(original, eTag: "\"abc\"", sourceBucket: "logs")
    #expect(line.hasSuffix("\n"))
    let back = try ArchivedLine.event(Array(line.utf8.dropLast()), account: account).get()
    #expect(back.eTag == "\"abc\"")
    #expect(back.event.accountID == account, "restored into the job's account")
    #expect(back.event.message == original.message && back.event.fields == original.fields)
    #expect(back.event.sourceKey == original.sourceKey && back.event.sourceOffset == 4096)
    #expect(back.event.fetcherID == "fet_1" && back.event.logType == "json")
    #expect(abs(back.event.time.timeIntervalSince(original.time)) < 0.0005, "to the millisecond")
  }

  @Test func newlinesAreCountedAsAPlainLoopCountsThem() {
    // Bytes near the newline (0x0A) in value and in bit pattern (0x0B, 0x8A, 0x09, 0xFF,
    // 0x00), at every length and alignment the word-at-a-time count handles.
    var rng = SeededGenerator(seed: 10)
    let alphabet: [UInt8] = [0x0A, 0x0B, 0x8A, 0x09, 0xFF, 0x00, 0x7F, 0x80, 0x41]
    for length in Array(0..<40) + [1000, 4097] {
      for _ in 0..<20 {
        let bytes = (0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
        var plain = 0
        for byte in bytes where byte == 0x0A { plain += 1 }
        #expect(ArchiveObjectReader.newlines(in: bytes) == plain, "\(bytes)")
      }
    }
  }

  @Test func aChangedLineIsRefused() {
    let line = ArchiveRecord.line(
      event(10, message: "m", fields: [:]), eTag: "\"abc\"", sourceBucket: "logs")
    let moved = line.replacingOccurrences(of: #""offset":10"#, with: #""offset":11"#)
    #expect(moved != line)
    guard case .failure(let problem) = ArchivedLine.event(Array(moved.utf8), account: account)
    else {
      Issue.record("a line whose offset changed was accepted")
      return
    }
    #expect(problem.description.contains("eventId"))
    guard case .failure = ArchivedLine.event(Array("{\"time\":1}".utf8), account: account) else {
      Issue.record("a line that is not an archived event was accepted")
      return
    }
  }

  @Test func theFilterKeepsTheRangeAndTheQuery() throws {
    let from = Date(timeIntervalSince1970: 1_795_910_400)
    let filter = RestoreFilter(
      from: from, to: from.addingTimeInterval(60), query: try LogQuery.parse("status:500 timeout"))
    var e = event(1, message: "upstream timeout", fields: ["status": "500"])
    e.time = from
    #expect(filter.matches(e), "the start is in the range")
    e.time = from.addingTimeInterval(60)
    #expect(!filter.matches(e), "the end is not")
    e.time = from.addingTimeInterval(1)
    e.fields["status"] = "200"
    #expect(!filter.matches(e))
    e.fields["status"] = "500"
    e.message = "fine"
    #expect(!filter.matches(e))
  }

  @Test func aRangeIsReadDayByDay() throws {
    let from = Date(timeIntervalSince1970: 1_795_910_400 + 23 * 3600)  // 2026-11-29 23:00
    let days = ArchiveLayout.days(from: from, to: from.addingTimeInterval(3600 + 1))
    #expect(days.map { $0.timeIntervalSince1970 } == [1_795_910_400, 1_795_996_800])
    let layout = try ArchiveLayout(prefix: "archive")
    #expect(
      layout.dayFolder(account: account, day: from)
        == "archive/account=acct_r/year=2026/month=11/day=29/")
    #expect(
      layout.manifestKey(account: account, hour: ArchiveLayout.hour(of: from))
        .hasPrefix(layout.dayFolder(account: account, day: from)))
  }

  @Test func refusalsNameTheStepTheCauseAndTheFix() {
    let denied = ArchiveReadError(
      step: "listing archive/account=a/ in acme", permission: "s3:ListBucket",
      failure: AWSFailure(
        kind: .service, operation: "S3.ListObjectsV2", code: "AccessDenied",
        message: "Access Denied", statusCode: 403), bucket: "acme")
    #expect(denied.description.hasPrefix("listing archive/account=a/ in acme was refused"))
    #expect(denied.description.contains("s3:ListBucket") && denied.description.contains("Fix:"))
    #expect(!denied.isTransient)
    let missing = ArchiveReadError(
      step: "listing x", permission: "s3:ListBucket",
      failure: AWSFailure(
        kind: .service, operation: "S3.ListObjectsV2", code: "NoSuchBucket", message: "gone",
        statusCode: 404), bucket: "acme")
    #expect(missing.description.contains("does not exist") && !missing.isTransient)
    let down = ArchiveReadError(
      step: "listing x", permission: "s3:ListBucket",
      failure: AWSFailure(kind: .unreachable, operation: "S3.ListObjectsV2", message: "timeout"),
      bucket: "acme")
    #expect(down.isTransient && down.description.contains("tries again"))
  }

  /// An object is read the same whether its text is kept after the check (decompressed
  /// once) or is too large to keep (decompressed again): every event once, in order. The
  /// bucket is the in-memory double
  /// of `ArchiveFairnessTests` (what is checked is the reading, not S3).
  /// Compact lines (no eventId) and full ones read back the same: the reader derives the
  /// IDs, and the compact object is named as the full one would be (its key comes from its
  /// first and last event IDs), is smaller, and its manifest entry says so at schema 2.
  @Test(arguments: [(48 << 20, ArchiveLines.full), (0, .full), (48 << 20, .compact), (0, .compact)])
  func anObjectReadsTheSameWhetherItsTextIsKeptOrNot(keep: Int, lines: ArchiveLines)
    async throws
  {
    let account = AccountID(rawValue: "acct_x")
    var rng = SeededGenerator(seed: 77)
    let hour = Date(timeIntervalSince1970: 1_796_083_200)
    var part = ArchivePartWriter(account: account, hour: hour, lines: lines)
    var other = ArchivePartWriter(
      account: account, hour: hour, lines: lines == .full ? .compact : .full)
    var written: [Int64] = []
    for n in 0..<20_000 {
      let offset = Int64(n) * 97
      written.append(offset)
      let message = #"{"id":"\#(rng.next())","ms":\#(rng.next() % 900),"msg":"a \"quoted\" word"}"#
      try part.append(
        Event(
          accountID: account, fetcherID: "fch_1", logType: "json",
          time: hour.addingTimeInterval(Double(n) / 10), sourceKey: "app/a.json",
          sourceOffset: offset, message: message,
          fields: try #require(MessageFields.fields(logType: "json", message: message))),
        eTag: "\"e\"", sourceBucket: "logs")
    }
    // Several pieces of text (more than a MiB), each compressed as it came.
    let finished = try part.finish(layout: try ArchiveLayout(prefix: "ferry"), sequence: 1)
    #expect(finished.entry.rawBytes > 2 * ArchivePartWriter.pieceBytes)
    var text: [UInt8] = []
    try ArchiveObjectReader.decompress(finished.bytes, key: finished.entry.key) {
      text += $0
    }
    #expect(text.count == finished.entry.rawBytes)
    for line in String(decoding: text, as: UTF8.self).split(separator: "\n") {
      let event = try ArchivedLine.event(Array(line.utf8), account: account).get().event
      try other.append(event, eTag: "\"e\"", sourceBucket: "logs")
    }
    let twin = try other.finish(layout: try ArchiveLayout(prefix: "ferry"), sequence: 1)
    #expect(finished.entry.key == twin.entry.key, "the same events give the same key")
    #expect(
      lines == .compact
        ? finished.entry.rawBytes < twin.entry.rawBytes
        : finished.entry.rawBytes > twin.entry.rawBytes)
    #expect(finished.entry.lines == (lines == .compact ? "compact" : nil))
    let manifest = ArchiveManifest(account: account, hour: hour).adding(finished.entry)
    // Compact lines of JSON leave their fields to the message too: schema 3.
    #expect(manifest.schemaVersion == (lines == .compact ? 3 : 1))
    #expect(try ArchiveManifest.decode(try manifest.encoded()) == manifest)
    let bucket = ArchiveFairnessTests.MemoryBucket(name: "archive", slow: false)
    try await bucket.put(key: finished.entry.key, bytes: finished.bytes, contentType: "x")
    var reader = ArchiveObjectReader(bucket: bucket, account: account)
    reader.maxKeptText = keep
    let object = RestoreObject(
      key: finished.entry.key, events: finished.entry.events, bytes: Int64(finished.bytes.count),
      minTime: finished.entry.minTime, maxTime: finished.entry.maxTime,
      sha256: finished.entry.sha256)
    var restored: [Int64] = []
    let outcome = try await reader.read(
      object, filter: RestoreFilter(from: hour, to: hour.addingTimeInterval(3600))
    ) { batch in restored += batch.map(\.event.sourceOffset) }
    #expect(outcome.state == .done && outcome.eventsRead == 20_000, "\(outcome)")
    #expect(restored == written)
  }

}
