import FerryCore
import Foundation
import Logging

/// One object, from its bytes to committed events: download → decompress → parse →
/// batch → commit. Events are committed in chunks, each with the object's ledger row
/// (state `pending` and the offset reached), the last with `ingested`; an object whose
/// work stopped (a crash, a download cut mid-object) resumes after the offset its ledger
/// row records. The store enforces event identities, (object version, offset), whatever
/// the chunks (``LedgerCommit``): nothing is stored twice, and nothing is skipped.
public struct ObjectIngest: Sendable {
  public let store: any Store
  public let account: AccountID
  public let fetcher: Fetcher
  /// Events per commit at most.
  public let chunkEvents: Int
  /// Bytes of event text per commit, about (a commit holds its events in memory: with
  /// several objects in flight, this bounds what each holds, whatever its records' size).
  public let chunkBytes: Int
  /// Called before every commit; throws when this node no longer holds the fetcher's
  /// lease (fencing: another node may be reading the object now).
  public let fence: @Sendable () async throws -> Void
  /// The attempt count recorded for an object whose bytes cannot be read as a log
  /// (damaged, cut, binary): reading the same version again gives the same bytes, so it
  /// is not retried (an admin may reprocess it).
  public let finalAttempts: Int
  /// How much one object may expand to and hold.
  public let limits: ObjectLimits
  /// Gets a debug line per commit (the object, its state and offset): for an operator
  /// following one object, and for tests that stop the process on a commit.
  public let logger: Logger?

  public init(
    store: any Store, account: AccountID, fetcher: Fetcher, chunkEvents: Int = 10_000,
    chunkBytes: Int = 4 << 20, finalAttempts: Int = 5, limits: ObjectLimits = ObjectLimits(),
    logger: Logger? = nil, fence: @escaping @Sendable () async throws -> Void
  ) {
    self.logger = logger
    self.limits = limits
    self.chunkBytes = max(1, chunkBytes)
    self.finalAttempts = finalAttempts
    self.store = store
    self.account = account
    self.fetcher = fetcher
    self.chunkEvents = max(1, chunkEvents)
    self.fence = fence
  }

  /// What came of an object.
  public struct Outcome: Sendable, Equatable {
    public var entry: LedgerEntry
    /// Decompressed bytes read.
    public var bytes: Int64
  }

  /// The format to parse with: the fetcher's, or from the first bytes for `auto`.
  func format(for prefix: [UInt8]) -> LogFormat {
    LogFormat(rawValue: fetcher.logType) ?? LogFormat.detect(prefix)
  }

  /// Reads, parses and commits `object`, resuming after `previous` (its ledger row, if
  /// any). Failures of the object itself (damaged, not text, unparseable) are recorded in
  /// its ledger row and returned; AWS failures and lost leases are thrown.
  public func run(_ object: SourceObject, from source: any ObjectSource, previous: LedgerEntry?)
    async throws -> Outcome
  {
    var entry = LedgerEntry(
      fetcherID: fetcher.id, key: object.key, eTag: object.eTag, size: object.size,
      state: .pending, events: previous?.events ?? 0, offset: previous?.offset ?? 0,
      attempts: (previous?.attempts ?? 0) + 1)
    let resumeAt = previous?.state == .pending || previous?.state == .failed ? entry.offset : 0
    if resumeAt == 0 { entry.events = 0 }
    let fallbackTime = object.lastModified ?? Date()
    let bytes = try await source.open(key: object.key, eTag: object.eTag)
    var decompressor = AutoDecompressor()
    var parser: (any RecordParser)?
    var head: [UInt8] = []
    var batch: [Event] = []
    var batchBytes = 0
    var total: Int64 = 0
    var logType = fetcher.logType

    /// Whether this attempt committed events of its own.
    var progressed = false

    func commit(_ state: LedgerState) async throws {
      try await fence()
      if !batch.isEmpty { progressed = true }
      entry.state = state
      if let last = batch.last { entry.offset = max(entry.offset, last.sourceOffset + 1) }
      entry.updatedAt = Date()
      // The row as stored: the store drops events it holds already and counts the rest.
      entry = try await store.commitObject(entry, events: batch, of: account)
      logger?.debug(
        "ingest: committed",
        metadata: [
          "fetcher": "\(fetcher.id)", "key": "\(object.key)", "state": "\(state.rawValue)",
          "offset": "\(entry.offset)", "events": "\(entry.events)",
        ])
      batch.removeAll(keepingCapacity: true)
      batchBytes = 0
    }

    func event(_ record: ParsedRecord) {
      guard record.offset >= resumeAt else { return }
      batchBytes += record.text.utf8.count
      batch.append(
        Event(
          accountID: account, fetcherID: fetcher.id, logType: logType,
          time: record.time ?? fallbackTime, sourceKey: object.key, sourceOffset: record.offset,
          message: record.text, fields: record.fields))
    }

    /// Hands decompressed bytes to the parser, choosing it from the first 4 KiB.
    func parse(_ piece: [UInt8], final: Bool) throws {
      if parser == nil {
        head += piece
        guard head.count >= 4096 || final else { return }
        if let problem = Self.binaryProblem(head) { throw ParseError(problem) }
        let chosen = format(for: head)
        logType = chosen.rawValue
        parser = chosen.parser(
          multilineStart: try fetcher.multilineStart.map { pattern throws(ParseError) in
            try MultilineStart(pattern)
          })
        let first = head
        head = []
        try parser?.feed(first, emit: event)
        return
      }
      try parser?.feed(piece, emit: event)
    }

    var compressed: Int64 = 0
    let limits = self.limits
    /// Stops at the first limit the object passes (what came before it is committed).
    func checkLimits() throws {
      if let problem = limits.problem(
        decompressed: total, compressed: compressed, events: entry.events + batch.count)
      {
        throw problem
      }
    }

    // A retry reads the object from its start again (a compressed stream cannot be entered
    // midway), so each attempt gets twice the time of the one before: it passes the offset
    // the last one reached and goes on.
    let budget = limits.maxSeconds * pow(2, Double(min(10, max(0, entry.attempts - 1))))
    let deadline = Date().addingTimeInterval(budget)
    do {
      while let piece = try await bytes.next() {
        if Date() > deadline, progressed || !batch.isEmpty {
          // The slot goes back to the others; the next attempt resumes after this commit.
          // (Never before this attempt stored something: each attempt moves on.)
          try await commit(.pending)
          throw ObjectTimeBoxExceeded(seconds: budget)
        }
        compressed += Int64(piece.count)
        try decompressor.feed(piece) { out in
          total += Int64(out.count)
          try checkLimits()
          try parse(out, final: false)
        }
        if batch.count >= chunkEvents || batchBytes >= chunkBytes { try await commit(.pending) }
      }
      try decompressor.finish { out in
        total += Int64(out.count)
        try parse(out, final: false)
      }
      try parse([], final: true)
      try parser?.finish(emit: event)
      entry.error = parser?.notes ?? (total == 0 ? "the object is empty: it holds no events" : nil)
      try await commit(.ingested)
      return Outcome(entry: entry, bytes: total)
    } catch let problem as ObjectContentProblem {
      // What was read before the problem stays committed, with the problem recorded.
      entry.error = problem.description
      entry.attempts = max(entry.attempts, finalAttempts)
      try await commit(.failed)
      return Outcome(entry: entry, bytes: total)
    }
  }

  /// Why the first bytes of an object are not log text, if they are not: NUL bytes, or
  /// mostly bytes that are not UTF-8 text.
  static func binaryProblem(_ head: [UInt8]) -> String? {
    guard !head.isEmpty else { return nil }
    if head.contains(0) {
      return
        "the object is not text (it holds NUL bytes after decompression): it is binary data, or a compression Ferry does not read"
    }
    let text = String(decoding: head, as: UTF8.self)
    let replaced = text.unicodeScalars.filter { $0 == "\u{FFFD}" }.count
    if replaced * 10 > head.count {
      return
        "the object is not text (most of its first bytes are not UTF-8): it is binary data, or a compression Ferry does not read"
    }
    return nil
  }
}

/// Why an object's bytes cannot be read as a log (its compression or its format):
/// recorded in its ledger row, never a reason to stop the fetcher's other objects.
public protocol ObjectContentProblem: Error, CustomStringConvertible {}

extension DecompressionError: ObjectContentProblem {}
extension ParseError: ObjectContentProblem {}
