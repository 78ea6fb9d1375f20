import Foundation

/// Text whose events span several lines (a Java or Python stack trace under the line that
/// logged it): a line that matches the start pattern begins an event, and the lines after
/// it that do not match are joined to it with `\n`. Lines before the first match form one
/// event of their own, so nothing is dropped. An event holds at most ``maxLines`` lines
/// and ``ParseLimits/maxRecordBytes`` bytes; what goes past is skipped, not held, and the
/// event is marked `ferry.truncated`. Its offset is its first line's, its time the ISO
/// 8601 time its first line starts with (else the object's).
public struct MultilineTextParser: RecordParser {
  /// Lines joined into one event at most (Filebeat's `multiline.max_lines` default).
  public static let maxLines = 500
  /// Characters a pattern may have.
  public static let maxPatternLength = 512

  let start: MultilineStart
  var lines = LineSplitter()
  private var event: [UInt8] = []
  private var eventOffset: Int64 = 0
  private var eventLines = 0
  private var eventCut = false
  /// Blank lines seen after the event's last text line: kept only if text follows.
  private var pendingBlankLines = 0
  private var cutEvents = 0

  public init(start: MultilineStart) { self.start = start }

  public var notes: String? {
    var parts: [String] = []
    if lines.cutLines > 0 {
      parts.append(
        "\(lines.cutLines) lines were longer than \(ParseLimits.maxRecordBytes) bytes and were cut")
    }
    if cutEvents > 0 {
      parts.append(
        "\(cutEvents) multiline events were longer than \(Self.maxLines) lines or \(ParseLimits.maxRecordBytes) bytes and were cut"
      )
    }
    return parts.isEmpty ? nil : parts.joined(separator: "; ")
  }

  public mutating func feed(_ bytes: [UInt8], emit: (ParsedRecord) throws -> Void) throws {
    // The splitter is taken out while it calls back into this parser (no copy of its buffer).
    var splitter = LineSplitter()
    swap(&splitter, &lines)
    defer { swap(&splitter, &lines) }
    try splitter.feed(bytes) { line, offset, cut in try take(line, offset, cut, emit) }
  }

  public mutating func finish(emit: (ParsedRecord) throws -> Void) throws {
    var splitter = LineSplitter()
    swap(&splitter, &lines)
    defer { swap(&splitter, &lines) }
    try splitter.finish { line, offset, cut in try take(line, offset, cut, emit) }
    try flush(emit)
  }

  private mutating func take(
    _ line: ArraySlice<UInt8>, _ offset: Int64, _ cut: Bool, _ emit: (ParsedRecord) throws -> Void
  ) throws {
    let blank = !line.contains(where: { $0 != 0x20 && $0 != 0x09 })
    if eventLines == 0 {
      guard !blank else { return }
      begin(line, offset, cut)
      return
    }
    if blank {
      pendingBlankLines += 1
      return
    }
    if start.matches(line) {
      try flush(emit)
      begin(line, offset, cut)
      return
    }
    let room = ParseLimits.maxRecordBytes - event.count
    let needed = pendingBlankLines + 1 + line.count
    guard !eventCut, eventLines + pendingBlankLines < Self.maxLines, needed <= room else {
      eventCut = true
      pendingBlankLines = 0
      return
    }
    for _ in 0..<pendingBlankLines { event.append(0x0A) }
    eventLines += pendingBlankLines + 1
    pendingBlankLines = 0
    event.append(0x0A)
    event += line
    if cut { eventCut = true }
  }

  private mutating func begin(_ line: ArraySlice<UInt8>, _ offset: Int64, _ cut: Bool) {
    event.removeAll(keepingCapacity: event.capacity <= 64 << 10)
    event += line
    eventOffset = offset
    eventLines = 1
    eventCut = cut
    pendingBlankLines = 0
  }

  private mutating func flush(_ emit: (ParsedRecord) throws -> Void) throws {
    guard eventLines > 0 else { return }
    let time = event.withUnsafeBufferPointer { LogTime.iso8601($0) }
    var record = ParsedRecord(
      offset: eventOffset, text: String(decoding: event, as: UTF8.self), time: time)
    if eventCut {
      record.fields["ferry.truncated"] = "true"
      cutEvents += 1
    }
    eventLines = 0
    pendingBlankLines = 0
    try emit(record)
  }
}

/// The pattern that begins an event of a multiline text log: a regular expression
/// (``PatternParser``'s syntax: PCRE's without back-references or lookaround), searched in
/// the first KiB of each line; anchor it with `^` to match the line's start, as
/// `^\d{4}-\d{2}-\d{2}` for lines that start with a date. It is matched by an automaton
/// (``LinearPattern``) in time linear in the line, so no pattern a tenant writes can hold
/// a worker.
public struct MultilineStart: Sendable {
  private let automaton: LinearPattern
  public let pattern: String

  /// The pattern, or an error that says what is wrong with it.
  public init(_ pattern: String) throws(ParseError) {
    guard !pattern.isEmpty else {
      throw ParseError(
        "the multiline start pattern is empty; give a regular expression such as ^\\d{4}-")
    }
    guard pattern.count <= MultilineTextParser.maxPatternLength else {
      throw ParseError(
        "the multiline start pattern has \(pattern.count) characters; at most \(MultilineTextParser.maxPatternLength) are allowed"
      )
    }
    automaton = try LinearPattern(pattern)
    self.pattern = pattern
  }

  /// Bytes of a line the pattern is searched in: what begins an event is at its start.
  public static let searchedBytes = 1024

  func matches(_ line: ArraySlice<UInt8>) -> Bool {
    let text = String(decoding: line.prefix(Self.searchedBytes), as: UTF8.self)
    return automaton.firstMatch(in: text.unicodeScalars, textEnds: line.count <= Self.searchedBytes)
  }
}
