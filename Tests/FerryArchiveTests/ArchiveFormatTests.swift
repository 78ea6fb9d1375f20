import FerryBlocks
import FerryCore
import FerryIngest
import FerryTesting
import Foundation
import Testing

@testable import FerryArchive

/// The archive's open format, checked by independent readers: the layout against Hive's
/// and Athena's rules, each NDJSON line by Foundation's JSON parser, each object by the
/// `zstd` and `sha256sum` commands, and the whole tree by DuckDB (PyPI) with
/// `hive_partitioning`.
@Suite("Archive format")
struct ArchiveFormatTests {
  static let account = AccountID(rawValue: "acct_archive0test0000")
  /// 2026-12-02 05:33:20 UTC.
  static let base = Date(timeIntervalSince1970: 1_796_189_600)

  static func event(_ n: Int, minutes: Double = 0, message: String? = nil) -> Event {
    Event(
      accountID: account, fetcherID: "fet_app", logType: "json",
      time: base.addingTimeInterval(minutes * 60 + Double(n) / 1000),
      sourceKey: "app/2026-12-02.json", sourceOffset: Int64(n * 100),
      message: message ?? #"{"level":"info","msg":"request \#(n)"}"#,
      fields: ["level": "info", "n": String(n)])
  }

  /// The byte writer the archive uses writes each record exactly as the documented JSON
  /// form (``ArchiveRecord/line(_:eTag:sourceBucket:)``, through Ferry's JSON writer), on
  /// events with quotes, backslashes, control characters, non-ASCII text, times before
  /// 1970 and in far years, and empty or many fields; Foundation's JSON reader reads each.
  @Test func theByteWriterWritesTheDocumentedRecordsExactly() throws {
    var rng = SeededGenerator(seed: 35)
    let pieces = [
      "plain", "with \"quotes\"", "back\\slash", "tab\there", "new\nline", "cr\r",
      "bell\u{7}", "nul\u{0}", "unit\u{1F}", "déjà vu", "日本語", "emoji 🚢", "\u{2028}", "",
    ]
    var writer = ArchiveLineWriter()
    for n in 0..<2_000 {
      let seconds = [
        -62_135_596_800.0, -1.5, 0, 1_796_083_200.123, 253_402_300_799.999,
        Double(Int64(rng.next() % 4_000_000_000)) + Double(rng.next() % 1000) / 1000,
      ][n % 6]
      var fields: [String: String] = [:]
      for _ in 0..<Int(rng.next() % 5) {
        fields[pieces[Int(rng.next() % UInt64(pieces.count))] + String(rng.next() % 100)] =
          pieces[Int(rng.next() % UInt64(pieces.count))]
      }
      let event = Event(
        accountID: AccountID(rawValue: "acct_x"), fetcherID: "fch_\(rng.next() % 9)",
        // Log types whose fields are their own (JSON lines and CloudTrail, whose fields the
        // message gives back, are the next test's).
        logType: n % 2 == 0 ? "alb" : "text", time: Date(timeIntervalSince1970: seconds),
        sourceKey: "app/" + pieces[n % pieces.count] + "/\(n).json",
        sourceOffset: Int64(rng.next() % 1_000_000_000),
        message: pieces[Int(rng.next() % UInt64(pieces.count))] + " \(rng.next())",
        fields: Fields(fields))
      var bytes: [UInt8] = []
      // Both forms: full lines (with eventId) and compact ones (without).
      let lines: ArchiveLines = n % 3 == 0 ? .compact : .full
      writer.append(
        event, eTag: "\"e\(n)\"", sourceBucket: "logs-\(n % 3)", lines: lines, to: &bytes)
      let expected = ArchiveRecord.line(
        event, eTag: "\"e\(n)\"", sourceBucket: "logs-\(n % 3)", lines: lines)
      #expect(String(decoding: bytes, as: UTF8.self) == expected, "event \(n)")
      let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
      #expect(
        object?["eventId"] as? String
          == (lines == .full ? ArchiveRecord.eventID(event, eTag: "\"e\(n)\"") : nil))
      #expect(object?.count == (lines == .full ? 7 : 6))
      // And it reads back as the same event, through the restore's reader.
      let line = Array(bytes.dropLast())
      let back = try ArchivedLine.event(line, account: event.accountID).get()
      #expect(back.event.message == event.message && back.event.sourceKey == event.sourceKey)
      #expect(back.event.fields == Fields(event.fields.sorted { $0.key < $1.key }))
      #expect(back.eTag == "\"e\(n)\"")
      let ms = (event.time.timeIntervalSince1970 * 1000).rounded()
      #expect(
        back.event.time.timeIntervalSince1970 * 1000 == ms
          || abs(back.event.time.timeIntervalSince1970 * 1000 - ms) < 0.01)
    }
  }

  /// Compact lines of JSON lines and CloudTrail records leave out `fields`, which the
  /// parser reads from the message: such a line has no `fields` key (Foundation's parser
  /// says so), its object's manifest entry says `"fieldsFrom": "message"` at schema 3, and
  /// the restore's reader gives back every field the parser gave at ingest. Full lines,
  /// and records the parser cut, keep them.
  @Test func compactLinesLeaveOutFieldsTheMessageGivesBack() throws {
    let records: [(String, String, Fields)] = [
      (
        "json",
        #"{"ts":"2026-12-02T05:33:20Z","level":"warn","http":{"status":503,"path":"/a b"},"msg":"déjà "vu"","tags":["x"]}"#,
        [:]
      ),
      ("json", "not an object", [:]),
      (
        "cloudtrail",
        #"{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s"},"eventTime":"2026-12-02T05:33:20Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-west-1","errorCode":"AccessDenied"}"#,
        [:]
      ),
      ("json", #"{"cut":"#, ["ferry.truncated": "true"]),
    ]
    let layout = try ArchiveLayout(prefix: "archive/")
    for lines in [ArchiveLines.compact, .full] {
      var part = ArchivePartWriter(account: Self.account, hour: Self.base, lines: lines)
      for (n, (logType, message, extra)) in records.enumerated() {
        var fields = try #require(MessageFields.fields(logType: logType, message: message))
        for (key, value) in extra { fields[key] = value }
        if logType == "cloudtrail" {
          #expect(fields["eventName"] == "GetObject" && fields["userIdentity.arn"] != nil)
        }
        let event = Event(
          accountID: Self.account, fetcherID: "fet_app", logType: logType,
          time: Self.base.addingTimeInterval(Double(n)), sourceKey: "app/k", sourceOffset: Int64(n),
          message: message, fields: fields)
        let line = ArchiveRecord.line(event, eTag: "\"e\"", sourceBucket: "logs", lines: lines)
        let object = try #require(
          try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let omitted = lines == .compact && extra.isEmpty
        #expect((object["fields"] == nil) == omitted, "\(line)")
        let back = try ArchivedLine.event(Array(line.utf8.dropLast()), account: Self.account).get()
        #expect(back.event == event, "\(line)")
        try part.append(event, eTag: "\"e\"", sourceBucket: "logs")
      }
      let finished = try part.finish(layout: layout, sequence: 1)
      #expect(finished.entry.fieldsFrom == (lines == .compact ? "message" : nil))
      let manifest = ArchiveManifest(account: Self.account, hour: Self.base).adding(finished.entry)
      #expect(manifest.schemaVersion == (lines == .compact ? 3 : 1))
      #expect(try ArchiveManifest.decode(try manifest.encoded()) == manifest)
    }
    // A line without fields whose log type does not derive them is refused, with why.
    let bare =
      #"{"time":"2026-12-02T05:33:20.000Z","logType":"alb","message":"m","source":{"bucket":"b","key":"k","etag":"e","offset":1},"fetcher":"f"}"#
    switch ArchivedLine.event(Array(bare.utf8), account: Self.account) {
    case .success: Issue.record("a line of alb without fields was read")
    case .failure(let problem): #expect(problem.description.contains("alb"))
    }
  }

  /// The archive writer reads the store's blocks in place (no event, no string): each line
  /// written from a block's bytes is the documented record of the event the block holds,
  /// byte for byte, whatever its text (quotes, controls, NUL, non-ASCII, field values the
  /// message holds and ones it does not), and the object's key and digest are the same
  /// as when written from the events.
  @Test func linesWrittenFromABlockInPlaceAreTheDocumentedRecords() throws {
    var rng = SeededGenerator(seed: 350)
    let pieces = [
      "plain", "with \"quotes\"", "back\\slash", "tab\there", "new\nline", "nul\u{0}",
      "déjà vu", "日本語", "emoji 🚢", "", "GET", "200", "a,b",
    ]
    var events: [Event] = []
    for n in 0..<1_500 {
      var fields: [(key: String, value: String)] = []
      var message = "{"
      for k in 0..<Int(rng.next() % 6) {
        let value = pieces[Int(rng.next() % UInt64(pieces.count))] + String(rng.next() % 50)
        let key = ["level", "msg", "k\(k)", "status", "é"][k % 5]
        // Most values are in the message, as a parser finds them; some are not.
        if rng.next() % 4 != 0 { message += "\"\(key)\":\"\(value)\"," }
        fields.append((key, value))
      }
      message += "\"n\":\(n)}"
      events.append(
        Event(
          // The first object's blocks JSON lines alone, the others mixed.
          accountID: Self.account, fetcherID: "fet_app",
          logType: n < 500 || n % 2 == 0 ? "json" : "alb",
          time: Self.base.addingTimeInterval(Double(n) * 0.0137),
          sourceKey: "app/\(n / 500).json", sourceOffset: Int64(n * 97),
          message: message, fields: Fields(fields)))
    }
    let blocks = try BlockCodec.encode(events, targetBytes: 40_000)
    #expect(blocks.count > 1)
    let layout = try ArchiveLayout(prefix: "archive/")
    for lines in [ArchiveLines.full, .compact] {
      var fromEvents = ArchivePartWriter(account: Self.account, hour: Self.base, lines: lines)
      var inPlace = ArchivePartWriter(account: Self.account, hour: Self.base, lines: lines)
      var n = 0
      var skipped = 0
      for block in blocks {
        let view = try BlockCodec.view(block.data)
        // As the writer reads it: without its fields where every line leaves them out.
        let lean = try BlockCodec.view(block.data) {
          ArchiveWriter.skipsFields(lines: lines, $0, $1)
        }
        if (0..<lean.count).allSatisfy({ lean.fieldCount($0) == 0 }) { skipped += 1 }
        for i in 0..<view.count {
          var leanLine: [UInt8] = []
          var leanWriter = ArchiveLineWriter()
          leanWriter.append(
            BlockEventSource(view: lean, index: i, fetcherID: "fet_app"), eTag: "\"e\"",
            sourceBucket: "logs", lines: lines, to: &leanLine)
          // The event as the store holds it (its time to the microsecond).
          let event = view.event(i, accountID: Self.account, fetcherID: "fet_app")
          #expect(event.message == events[n].message && event.fields == events[n].fields)
          #expect(abs(event.time.timeIntervalSince(events[n].time)) < 0.000_001)
          var line: [UInt8] = []
          var writer = ArchiveLineWriter()
          writer.append(
            BlockEventSource(view: view, index: i, fetcherID: "fet_app"), eTag: "\"e\"",
            sourceBucket: "logs", lines: lines, to: &line)
          let expected = ArchiveRecord.line(
            event, eTag: "\"e\"", sourceBucket: "logs", lines: lines)
          #expect(String(decoding: line, as: UTF8.self) == expected, "event \(n)")
          #expect(leanLine == line, "event \(n)")
          try fromEvents.append(event, eTag: "\"e\"", sourceBucket: "logs")
          try inPlace.append(view, i, fetcherID: "fet_app", eTag: "\"e\"", sourceBucket: "logs")
          n += 1
        }
      }
      #expect(n == events.count)
      // Compact lines spare the reading of the JSON-only blocks' fields, full ones none.
      #expect(lines == .compact ? skipped > 0 && skipped < blocks.count : skipped == 0)
      let a = try fromEvents.finish(layout: layout, sequence: 1)
      let b = try inPlace.finish(layout: layout, sequence: 1)
      #expect(a.entry == b.entry && a.bytes == b.bytes)
    }
  }

  /// Long strings (where the writer and the reader work eight bytes at a time) with escapes
  /// at every place in a word: written as Ferry's JSON writer writes them, read back as
  /// they were.
  @Test func longStringsWithEscapesAnywhereWriteAndReadExactly() throws {
    var rng = SeededGenerator(seed: 8)
    let pieces = [
      "a", "bcdefgh", "\"", "\\", "\n", "\u{1}", "\u{1F}", "\t", "é", "🚢", " ", "{\"k\":",
    ]
    var writer = ArchiveLineWriter()
    for n in 0..<1_500 {
      let message = (0..<Int(rng.next() % 60)).map { _ in
        pieces[Int(rng.next() % UInt64(pieces.count))]
      }.joined()
      let event = Self.event(n, message: message)
      var bytes: [UInt8] = []
      writer.append(event, eTag: "\"e\"", sourceBucket: "logs", lines: .compact, to: &bytes)
      let expected = ArchiveRecord.line(event, eTag: "\"e\"", sourceBucket: "logs", lines: .compact)
      #expect(String(decoding: bytes, as: UTF8.self) == expected, "\(message.debugDescription)")
      let back = try ArchivedLine.event(Array(bytes.dropLast()), account: Self.account).get()
      #expect(back.event.message == message, "\(message.debugDescription)")
    }
  }

  /// The word-at-a-time tests find exactly the bytes a byte-at-a-time test finds.
  @Test func wordTestsFindExactlyTheBytesAByteTestFinds() {
    var rng = SeededGenerator(seed: 64)
    let interesting: [UInt8] = [
      0x00, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x5B, 0x5C, 0x5D, 0x7F, 0x80, 0x9F, 0xA0, 0xA2, 0xDC,
      0xFF, 0x0A,
    ]
    for _ in 0..<20_000 {
      let bytes = (0..<8).map { _ in
        rng.next() % 2 == 0
          ? interesting[Int(rng.next() % UInt64(interesting.count))]
          : UInt8(truncatingIfNeeded: rng.next())
      }
      let word = bytes.withUnsafeBytes { ByteWords.load($0.baseAddress!, 0) }
      func mask(_ test: (UInt8) -> Bool) -> UInt64 {
        var out: UInt64 = 0
        for (i, byte) in bytes.enumerated() where test(byte) { out |= 0x80 << (8 * UInt64(i)) }
        return out
      }
      #expect(ByteWords.zeros(word) == mask { $0 == 0 }, "\(bytes)")
      #expect(ByteWords.equal(word, 0x22) == mask { $0 == 0x22 }, "\(bytes)")
      #expect(ByteWords.controls(word) == mask { $0 < 0x20 }, "\(bytes)")
      #expect(ByteWords.escaped(word) == mask { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }, "\(bytes)")
    }
  }

  /// The restore's fast reader and JSONDecoder agree on every line in the writer's form,
  /// and a line in another valid JSON form (keys reordered, spaces, escapes the writer
  /// does not use) is still read, through JSONDecoder.
  @Test func archivedLinesInAnyValidFormReadTheSame() throws {
    let event = Self.event(7, message: "a \"quoted\" \\ line\twith\u{1}control")
    var writer = ArchiveLineWriter()
    var bytes: [UInt8] = []
    writer.append(event, eTag: "\"e\"", sourceBucket: "logs", to: &bytes)
    let line = Array(bytes.dropLast())
    let fast = try #require(ArchivedLineParser.parse(line))
    let slow = try JSONDecoder().decode(ArchivedLine.self, from: Data(line))
    #expect(fast.message == slow.message && fast.fields == slow.fields)
    #expect(fast.time == slow.time && fast.eventId == slow.eventId)
    #expect(fast.source.offset == slow.source.offset && fast.source.key == slow.source.key)
    // Reordered, with spaces and a \u escape of a plain letter: not the writer's form.
    let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
    let other = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted])
    let otherLine = Array(
      String(decoding: other, as: UTF8.self).replacingOccurrences(of: "\n", with: " ").utf8)
    #expect(ArchivedLineParser.parse(otherLine) == nil)
    let read = try ArchivedLine.event(otherLine, account: event.accountID).get()
    #expect(read.event.message == event.message && read.event.sourceOffset == event.sourceOffset)
    // A line whose source no longer matches its event ID is refused (its message is
    // covered by the object's SHA-256 in the manifest, checked before any line is read).
    let changed = Array(
      String(decoding: line, as: UTF8.self).replacingOccurrences(
        of: #""offset":700"#, with: #""offset":701"#
      ).utf8)
    #expect(throws: (any Error).self) {
      try ArchivedLine.event(changed, account: event.accountID).get()
    }
  }

  /// The reader keeps the strings a line repeats from the line before (log type, bucket,
  /// key, ETag, fetcher): lines read one after another give what each gives read alone
  /// and what JSONDecoder reads, whatever changes from line to line (a value one byte
  /// longer or shorter, one with escapes or quotes, an empty one).
  @Test func repeatedStringsReadAsEachLineAlone() throws {
    var rng = SeededGenerator(seed: 4242)
    let values = ["a", "ab", "abc", "", "a\"b", "a\\b", "tab\t", "déjà", "ab\"", "\"ab"]
    var repeats = ArchivedLineParser.Repeats()
    for _ in 0..<3_000 {
      func pick() -> String { values[Int(rng.next() % UInt64(values.count))] }
      let event = Event(
        accountID: Self.account, fetcherID: pick(), logType: pick(), time: Self.base,
        sourceKey: pick(), sourceOffset: Int64(rng.next() % 1000), message: pick(),
        fields: ["k": pick()])
      let text = ArchiveRecord.line(event, eTag: pick(), sourceBucket: pick(), lines: .compact)
      let line = Array(text.utf8.dropLast())
      let inTurn = try #require(
        line.withUnsafeBufferPointer { ArchivedLineParser.parse($0, repeats: &repeats) })
      let alone = try JSONDecoder().decode(ArchivedLine.self, from: Data(line))
      #expect(
        inTurn.logType == alone.logType && inTurn.fetcher == alone.fetcher
          && inTurn.source.bucket == alone.source.bucket && inTurn.source.key == alone.source.key
          && inTurn.source.etag == alone.source.etag && inTurn.message == alone.message
          && inTurn.fields == alone.fields, "\(text)")
      #expect(inTurn.logType == event.logType && inTurn.source.key == event.sourceKey)
    }
  }

  @Test func everyJSONEscapeReadsAsJSONDecoderReadsIt() throws {
    // Lines in the writer's form whose strings hold every escape JSON allows (RFC 8259
    // section 7), which other tools write: the fast parser must read what JSONDecoder reads,
    // and refuse (nil, so the caller falls back) what JSONDecoder refuses.
    let event = Self.event(3, message: "M")
    var writer = ArchiveLineWriter()
    var bytes: [UInt8] = []
    writer.append(event, eTag: "\"e\"", sourceBucket: "logs", lines: .compact, to: &bytes)
    let line = String(decoding: bytes.dropLast(), as: UTF8.self)
    #expect(line.contains(#""message":"M""#))
    let good = [
      #"\u00e9t\u00E9"#, #"ship \ud83d\udea2!"#, #"a\/b"#, #"\b\f\n\r\t"#, #"\"\\"#,
      #"\u0000nul"#, #"plain then \" then plain"#, #"\u20ac"#, #"日本 \u65e5"#,
      String(repeating: #"x\""#, count: 500),
    ]
    for escaped in good {
      let text = line.replacingOccurrences(
        of: #""message":"M""#, with: #""message":""# + escaped + "\"")
      let fast = try #require(ArchivedLineParser.parse(Array(text.utf8)), "\(escaped)")
      let slow = try JSONDecoder().decode(ArchivedLine.self, from: Data(text.utf8))
      #expect(fast.message == slow.message, "\(escaped)")
      #expect(fast.source.offset == slow.source.offset && fast.fetcher == slow.fetcher)
    }
    let bad = [#"\ud83d alone"#, #"\u12"#, #"\x41"#, #"tab\#(Character("\t"))raw"#, #"\udea2"#]
    for escaped in bad {
      let text = line.replacingOccurrences(
        of: #""message":"M""#, with: #""message":""# + escaped + "\"")
      #expect(ArchivedLineParser.parse(Array(text.utf8)) == nil, "\(escaped)")
    }
  }

  @Test func partitionsAreHiveStyleByAccountAndUTCHour() throws {
    let layout = try ArchiveLayout(prefix: "ferry-archive")
    #expect(layout.prefix == "ferry-archive/")
    let hour = ArchiveLayout.hour(of: Self.base)
    #expect(hour.timeIntervalSince1970 == 1_796_187_600)
    #expect(
      layout.partition(account: Self.account, hour: hour)
        == "ferry-archive/account=acct_archive0test0000/year=2026/month=12/day=02/hour=05/")
    let key = layout.objectKey(account: Self.account, hour: hour, sequence: 7, id: "abc123")
    #expect(key.hasSuffix("/hour=05/part-000007-abc123.json.zst"))
    #expect(
      layout.manifestKey(account: Self.account, hour: hour).hasSuffix("/hour=05/manifest.json"))
    for segment in key.split(separator: "/") {
      #expect(!segment.hasPrefix("_") && !segment.hasPrefix("."))
      #expect(!segment.contains(":"))
    }
    #expect(try ArchiveLayout().partition(account: Self.account, hour: hour).hasPrefix("account="))
  }

  @Test func prefixesThatBreakPartitionDiscoveryAreRefused() {
    for bad in ["_tmp/", "logs/_staging/", ".hidden/", "a:b/", "x/\u{1}/"] {
      #expect(throws: (any Error).self, "\(bad)") { try ArchiveLayout(prefix: bad) }
    }
    do {
      _ = try ArchiveLayout(prefix: "logs/_staging")
    } catch {
      #expect(error.field == "prefix")
      #expect(error.problem.contains("_staging"))
    }
  }

  @Test func eachRecordIsOneJSONLineThatKeepsTheEventExactly() async throws {
    let hostile = "quote \" backslash \\ tab \t newline \n </script> é 東京 🚢 \u{1}"
    let event = Self.event(1, message: hostile)
    let line = ArchiveRecord.line(event, eTag: "\"e1\"", sourceBucket: "cust-logs")
    #expect(line.hasSuffix("\n"))
    #expect(line.dropLast().contains("\n") == false, "one line per event")
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    #expect(json["message"] as? String == hostile)
    #expect(json["logType"] as? String == "json")
    #expect(json["fetcher"] as? String == "fet_app")
    #expect(json["fields"] as? [String: String] == ["level": "info", "n": "1"])
    let source = try #require(json["source"] as? [String: Any])
    #expect(source["bucket"] as? String == "cust-logs")
    #expect(source["key"] as? String == "app/2026-12-02.json")
    #expect((source["offset"] as? NSNumber)?.int64Value == 100)
    let time = try #require(json["time"] as? String)
    #expect(time == "2026-12-02T05:33:20.001Z")
    #expect(source["etag"] as? String == "\"e1\"")
    // The ID as documented (docs/archive-format.md), computed by sha256sum: fetcher, key,
    // ETag and offset, NUL between them, the first 16 bytes in hex.
    let sum = try await Subprocess.runOffPool(
      "sh", ["-c", #"printf 'fet_app\000app/2026-12-02.json\000"e1"\000%s' 100 | sha256sum"#])
    let expected = String(sum.stdout.prefix(32))
    #expect(expected.count == 32)
    #expect(json["eventId"] as? String == expected)
    // Stable for the same event; different for another offset or another object version.
    #expect(ArchiveRecord.eventID(Self.event(1), eTag: "\"e1\"") == expected)
    #expect(ArchiveRecord.eventID(Self.event(2), eTag: "\"e1\"") != expected)
    #expect(ArchiveRecord.eventID(event, eTag: "\"e2\"") != expected)
  }

  func part(_ events: [Event], sequence: Int = 1) throws -> ArchivePart {
    var writer = ArchivePartWriter(
      account: Self.account, hour: ArchiveLayout.hour(of: events[0].time))
    for event in events { try writer.append(event, eTag: "\"e1\"", sourceBucket: "cust-logs") }
    return try writer.finish(layout: try ArchiveLayout(prefix: "arch"), sequence: sequence)
  }

  @Test func anObjectDecompressesWithZstdAndItsDigestIsSHA256() async throws {
    let events = (0..<1000).map { Self.event($0) }
    let part = try part(events)
    #expect(part.entry.events == 1000)
    #expect(part.entry.minTime == events[0].time && part.entry.maxTime == events[999].time)
    let dir = try TestPaths.temporaryDirectory("ferry-archive-part")
    let file = dir.appendingPathComponent("part.json.zst")
    try Data(part.bytes).write(to: file)
    let unzipped = try await Subprocess.runOffPool("zstd", ["-dc", file.path])
    try #require(unzipped.status == 0, "\(unzipped.stderr)")
    let expected = events.map { ArchiveRecord.line($0, eTag: "\"e1\"", sourceBucket: "cust-logs") }
      .joined()
    #expect(unzipped.stdout == expected)
    #expect(part.entry.rawBytes == expected.utf8.count)
    let sum = try await Subprocess.runOffPool("sha256sum", [file.path])
    #expect(sum.stdout.split(separator: " ").first.map(String.init) == part.entry.sha256)
    #expect(part.entry.bytes == part.bytes.count)
    #expect(part.entry.bytes * 5 < part.entry.rawBytes, "log lines compress well")
    // The same events give the same key (a rewrite replaces); others a different one.
    #expect(try self.part(events).entry.key == part.entry.key)
    #expect(try self.part(Array(events.dropLast())).entry.key != part.entry.key)
  }

  @Test func theGzipOptionWritesObjectsThatGzipReads() async throws {
    let events = (0..<500).map { Self.event($0) }
    var writer = ArchivePartWriter(
      account: Self.account, hour: ArchiveLayout.hour(of: events[0].time), compression: .gzip)
    for event in events { try writer.append(event, eTag: "\"e1\"", sourceBucket: "cust-logs") }
    let part = try writer.finish(layout: try ArchiveLayout(prefix: "arch"), sequence: 1)
    #expect(part.entry.key.hasSuffix(".json.gz"), "\(part.entry.key)")
    let file = try TestPaths.temporaryDirectory("ferry-archive-gzip").appendingPathComponent(
      "part.json.gz")
    try Data(part.bytes).write(to: file)
    let unzipped = try await Subprocess.runOffPool("gzip", ["-dc", file.path])
    try #require(unzipped.status == 0, "\(unzipped.stderr)")
    let expected = events.map { ArchiveRecord.line($0, eTag: "\"e1\"", sourceBucket: "cust-logs") }
      .joined()
    #expect(unzipped.stdout == expected)
    #expect(part.entry.rawBytes == expected.utf8.count && part.entry.bytes == part.bytes.count)
    // A restore picks the decompressor by the key's end.
    var back: [UInt8] = []
    try ArchiveObjectReader.decompress(part.bytes, key: part.entry.key) { back += $0 }
    #expect(String(decoding: back, as: UTF8.self) == expected)
  }

  @Test func aManifestListsEachObjectOnceAndReadsBack() throws {
    let a = try part((0..<10).map { Self.event($0) })
    let b = try part((10..<30).map { Self.event($0) }, sequence: 2)
    let hour = ArchiveLayout.hour(of: Self.base)
    let manifest = ArchiveManifest(account: Self.account, hour: hour)
      .adding(a.entry).adding(b.entry).adding(a.entry)
    #expect(manifest.objects.map(\.key) == [a.entry.key, b.entry.key])
    #expect(manifest.events == 30)
    let data = try manifest.encoded()
    let text = String(decoding: data, as: UTF8.self)
    #expect(text.contains(#""schemaVersion" : 1"#))
    #expect(text.contains(#""hour" : "2026-12-02T05:00:00.000Z""#))
    // Times are kept to the millisecond: what reads back writes the same document.
    let decoded = try ArchiveManifest.decode(data)
    let again = try decoded.encoded()
    #expect(again == data, "\(String(decoding: again, as: UTF8.self)) vs \(text)")
    #expect(decoded.objects.map(\.sha256) == manifest.objects.map(\.sha256))
    #expect(decoded.hour == hour)
    let newer = text.replacingOccurrences(
      of: #""schemaVersion" : 1"#, with: #""schemaVersion" : 9"#)
    #expect(throws: ManifestError.self) { try ArchiveManifest.decode(Data(newer.utf8)) }
  }

  static var duckDBMissing: Bool {
    (try? Subprocess.run("python3", ["-c", "import duckdb"]))?.status != 0
  }

  /// DuckDB reads the tree as a Hive-partitioned table: the partition columns come from
  /// the paths, the counts from the objects, and a hostile message comes back exactly.
  @Test(.enabled(if: !duckDBMissing, "DuckDB is not installed (scripts/install-test-tools)"))
  func duckDBReadsTheArchiveWithHivePartitioning() async throws {
    let root = try TestPaths.temporaryDirectory("ferry-archive-tree")
    let layout = try ArchiveLayout(prefix: "arch")
    let hostile = "she said \"hi\"\nand left 🚢"
    var counts: [String: Int] = [:]
    for (hourOffset, count) in [(0, 120), (1, 45), (25, 7)] {
      var events = (0..<count).map {
        Self.event($0 + hourOffset * 1000, minutes: Double(hourOffset * 60))
      }
      if hourOffset == 1 { events[3].message = hostile }
      let part = try part(events)
      let file = root.appendingPathComponent(part.entry.key)
      try FileManager.default.createDirectory(
        at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
      try Data(part.bytes).write(to: file)
      let hour = ArchiveLayout.hour(of: events[0].time)
      try ArchiveManifest(account: Self.account, hour: hour).adding(part.entry).encoded().write(
        to: root.appendingPathComponent(layout.manifestKey(account: Self.account, hour: hour)))
      let c = Calendar.utc.dateComponents([.day, .hour], from: hour)
      counts["\(c.day ?? 0)/\(c.hour ?? 0)"] = count
    }
    let script = """
      import duckdb, json, sys
      rows = duckdb.sql(\"\"\"
        SELECT account, year, month, day, hour, count(*) AS n,
               count_if(message = ?) AS hostile
        FROM read_json_auto(?, hive_partitioning = true, format = 'newline_delimited')
        GROUP BY ALL ORDER BY day, hour\"\"\", params=[sys.argv[2], sys.argv[1] + '/arch/**/*.json.zst']).fetchall()
      print(json.dumps([[str(v) for v in r] for r in rows]))
      """
    let ran = try await Subprocess.runOffPool("python3", ["-c", script, root.path, hostile])
    try #require(ran.status == 0, "\(ran.stderr)")
    let rows = try #require(
      try JSONSerialization.jsonObject(with: Data(ran.stdout.utf8)) as? [[String]])
    #expect(rows.count == 3, "\(rows)")
    for row in rows {
      #expect(row[0] == Self.account.rawValue && row[1] == "2026" && row[2] == "12")
      #expect(Int(row[5]) == counts["\(Int(row[3]) ?? 0)/\(Int(row[4]) ?? 0)"], "\(row)")
    }
    #expect(rows.map { $0[6] } == ["0", "1", "0"], "the hostile message reads back exactly")
  }
}
