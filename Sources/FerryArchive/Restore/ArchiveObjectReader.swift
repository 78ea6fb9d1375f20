import Crypto
import FerryCore
import FerryIngest
import Foundation

/// Which archived events a restore brings back: those in its range that match its query.
public struct RestoreFilter: Sendable {
  public var from: Date
  public var to: Date
  public var query: LogQuery?

  public init(from: Date, to: Date, query: LogQuery? = nil) {
    self.from = from
    self.to = to
    self.query = query
  }

  public func matches(_ event: Event) -> Bool {
    guard event.time >= from, event.time < to else { return false }
    guard let query else { return true }
    return query.matches(words: SearchText.words(event.message), fields: event.fields)
  }
}

/// Reads one archive object back: checks it against its manifest entry (its SHA-256, then
/// its event count) before anything of it is restored, then decompresses it a slice at a
/// time and hands the matching events over in batches. An object that is missing, corrupt
/// or disagrees with its manifest ends as a failed object with why; the restore goes on.
public struct ArchiveObjectReader: Sendable {
  public let bucket: any ArchiveBucket
  public let account: AccountID
  /// Events handed over per call.
  public var batchSize = 5000
  /// Compressed bytes decompressed per step (or decompressed bytes read, when kept).
  static let slice = 1 << 20
  /// An object's text is kept after its check, and read from memory, up to this size;
  /// a larger one is decompressed again to be read.
  public var maxKeptText = 48 << 20
  /// The longest line read: an event of the fetcher's longest record, with its fields,
  /// all JSON-escaped at six bytes a character, fits.
  static let maxLineBytes = 16 * ParseLimits.maxRecordBytes

  /// The waits between attempts at an object AWS could not give for a passing reason (no
  /// answer, a reset, a cut answer, a 5xx, throttling). Past them the read throws the
  /// transient ``ArchiveReadError``: the object stays planned and the restore tries again
  /// on a later sweep.
  public var retryDelays: [Duration] = [
    .milliseconds(500), .seconds(1), .seconds(2), .seconds(4),
  ]

  public init(bucket: any ArchiveBucket, account: AccountID) {
    self.bucket = bucket
    self.account = account
  }

  /// The object's bytes, retrying transient failures; nil if it is gone. Throws the
  /// transient error once the retries are spent; returns a permanent one (refused, no such
  /// bucket) as a failure.
  func fetch(_ object: RestoreObject) async throws -> Result<[UInt8]?, ArchiveReadError> {
    var attempt = 0
    while true {
      do {
        return .success(try await bucket.get(key: object.key))
      } catch {
        let problem = ArchiveReadError(
          step: "reading \(object.key)", permission: "s3:GetObject", failure: error,
          bucket: bucket.name)
        guard problem.isTransient else { return .failure(problem) }
        guard attempt < retryDelays.count else { throw problem }
        try await Task.sleep(for: retryDelays[attempt])
        attempt += 1
      }
    }
  }

  public func read(
    _ object: RestoreObject, filter: RestoreFilter,
    restore: ([SourcedEvent]) async throws -> Void
  ) async throws -> RestoreObjectOutcome {
    let bytes: [UInt8]?
    switch try await fetch(object) {
    case .success(let got): bytes = got
    case .failure(let problem): return failed(object, problem.description)
    }
    guard let bytes else {
      return failed(
        object,
        "the object is gone: its manifest lists it, the bucket does not have it (deleted, or expired by a lifecycle rule). Its events cannot be restored; the others are"
      )
    }
    let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    guard digest == object.sha256 else {
      return failed(
        object,
        "the object is corrupt: its SHA-256 is \(digest), its manifest says \(object.sha256). Nothing of it was restored",
        bytesRead: Int64(bytes.count))
    }
    // First the count, so that nothing of an object that disagrees with its manifest is
    // restored.
    // The text is kept for the reading below while it is small enough (an archive part is
    // about --archive-flush-mib), so that an object is decompressed once, not twice.
    var lines = 0
    var text: [UInt8]? = []
    do {
      try Self.decompress(bytes, key: object.key) { chunk in
        lines += Self.newlines(in: chunk)
        // (No binding of `text` here: a second reference would make the append copy it.)
        if let kept = text?.count, kept + chunk.count <= maxKeptText {
          text?.append(contentsOf: chunk)
        } else {
          text = nil
        }
      }
    } catch {
      return failed(
        object, "the object cannot be decompressed (\(error)). Nothing of it was restored",
        bytesRead: Int64(bytes.count))
    }
    guard lines == object.events else {
      return failed(
        object,
        "the object holds \(lines) events, its manifest says \(object.events): they disagree, so nothing of it was restored. The manifest or the object was changed outside Ferry",
        bytesRead: Int64(bytes.count))
    }

    var read = 0
    var matched = 0
    var pending: [SourcedEvent] = []
    var splitter = LineSplitter(limit: Self.maxLineBytes)
    var state = ArchivedLine.ReadState()
    var problem: String?
    // Slices of the kept text as they are, or of the compressed bytes decompressed again.
    let source = text ?? bytes
    var decompressor: any Decompressor =
      text == nil ? try Self.decompressor(for: object.key) : PlainBytes()
    var start = 0
    while start < source.count, problem == nil {
      let end = min(start + Self.slice, source.count)
      try source[start..<end].withUnsafeBytes { input in
        try decompressor.feed(input) { chunk in
          try splitter.feed(chunk) { line, _, cut in
            guard problem == nil else { return }
            guard !cut else {
              problem = "line \(read + 1) is longer than any event Ferry writes"
              return
            }
            switch line.withUnsafeBufferPointer({
              ArchivedLine.event($0, account: account, state: &state)
            }) {
            case .success(let item):
              read += 1
              if filter.matches(item.event) {
                matched += 1
                pending.append(item)
              }
            case .failure(let why):
              problem = "line \(read + 1) is not an archived event (\(why))"
            }
          }
        }
      }
      start = end
      // Matching events go into search a batch at a time, between slices.
      if pending.count >= batchSize || start >= source.count {
        if !pending.isEmpty { try await restore(pending) }
        pending.removeAll(keepingCapacity: true)
      }
    }
    if let problem {
      if !pending.isEmpty { try await restore(pending) }
      return RestoreObjectOutcome(
        state: .failed, bytesRead: Int64(bytes.count), eventsRead: read, eventsMatched: matched,
        error: "the object is damaged: \(problem); the events before it were restored")
    }
    return RestoreObjectOutcome(
      state: .done, bytesRead: Int64(bytes.count), eventsRead: read, eventsMatched: matched)
  }

  /// The newlines in `bytes`, counted eight bytes at a time (``ByteWords``).
  static func newlines(in bytes: [UInt8]) -> Int {
    bytes.withUnsafeBytes { raw in
      guard let base = raw.baseAddress else { return 0 }
      var count = 0
      var i = 0
      while i + 8 <= raw.count {
        count += ByteWords.equal(ByteWords.load(base, i), 0x0A).nonzeroBitCount
        i += 8
      }
      while i < raw.count {
        if raw[i] == 0x0A { count += 1 }
        i += 1
      }
      return count
    }
  }

  func failed(_ object: RestoreObject, _ why: String, bytesRead: Int64 = 0)
    -> RestoreObjectOutcome
  {
    RestoreObjectOutcome(state: .failed, bytesRead: bytesRead, error: why)
  }

  /// The decompressor of an object, by its key's end (`.json.gz`: gzip; else zstd).
  static func decompressor(for key: String) throws -> any Decompressor {
    key.hasSuffix(ArchiveCompression.gzip.suffix)
      ? try GzipDecompressor() : try ZstdDecompressor()
  }

  /// Decompresses a whole object a slice at a time, handing each piece to `body`.
  static func decompress(_ bytes: [UInt8], key: String, _ body: ([UInt8]) throws -> Void)
    throws
  {
    var decompressor = try decompressor(for: key)
    var start = 0
    while start < bytes.count {
      let end = min(start + slice, bytes.count)
      try bytes[start..<end].withUnsafeBytes { try decompressor.feed($0, emit: body) }
      start = end
    }
    try decompressor.finish(emit: body)
  }
}

/// One NDJSON line of an archive object, as ``ArchiveRecord`` writes it.
struct ArchivedLine: Decodable {
  var time: String
  /// Absent from compact lines: derived from the fetcher, source key, ETag and offset.
  var eventId: String?
  var logType: String
  var message: String
  /// Absent where the message gives them back (``MessageFields``).
  var fields: Fields?
  var source: Source
  var fetcher: String

  struct Source: Decodable {
    var bucket: String
    var key: String
    var etag: String
    var offset: Int64
  }

  struct Problem: Error, CustomStringConvertible {
    var description: String
  }

  private static let decoder = JSONDecoder()

  /// The event a line holds, in `account`; a line whose event ID does not match its
  /// content is refused (it was changed after it was written).
  static func event(_ bytes: [UInt8], account: AccountID) -> Result<SourcedEvent, Problem> {
    bytes.withUnsafeBufferPointer { event($0, account: account) }
  }

  /// ``event(_:account:)`` of bytes in place.
  static func event(_ bytes: UnsafeBufferPointer<UInt8>, account: AccountID) -> Result<
    SourcedEvent, Problem
  > {
    var state = ReadState()
    return event(bytes, account: account, state: &state)
  }

  /// What a reader of an object's lines keeps from line to line: the JSON keys of the
  /// messages whose fields it reads, and the texts each line repeats.
  struct ReadState {
    var derived = MessageFields()
    var repeats = ArchivedLineParser.Repeats()
  }

  /// ``event(_:account:)`` of bytes in place, with what the lines before left in `state`.
  static func event(
    _ bytes: UnsafeBufferPointer<UInt8>, account: AccountID, state: inout ReadState
  ) -> Result<SourcedEvent, Problem> {
    let line: ArchivedLine
    if let fast = ArchivedLineParser.parse(bytes, repeats: &state.repeats) {
      line = fast
    } else {
      do {
        line = try decoder.decode(ArchivedLine.self, from: Data(bytes))
      } catch {
        return .failure(Problem(description: "it is not the JSON of an archived event"))
      }
    }
    guard
      let time = ArchivedLineParser.time(line.time)
        ?? (try? Date(line.time, strategy: ArchiveRecord.timeFormat))
    else {
      return .failure(Problem(description: "its time \(line.time) is not RFC 3339"))
    }
    guard
      let fields = line.fields
        ?? state.derived.fields(logType: line.logType, message: line.message)
    else {
      return .failure(
        Problem(
          description:
            "it has no fields, and its log type \(line.logType) does not give them from the message"
        ))
    }
    let event = Event(
      accountID: account, fetcherID: line.fetcher, logType: line.logType, time: time,
      sourceKey: line.source.key, sourceOffset: line.source.offset, message: line.message,
      fields: fields)
    if let id = line.eventId, ArchiveLineWriter.eventID(event, eTag: line.source.etag) != id {
      return .failure(
        Problem(description: "its eventId does not match its fetcher, source and offset"))
    }
    return .success(SourcedEvent(event: event, eTag: line.source.etag))
  }
}
