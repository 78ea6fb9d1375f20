import FerryCore
import Foundation
import NIOCore
import PostgresNIO

/// A value that can be bound to a query parameter (optionals bind as NULL).
protocol PGBindable: Sendable {
  func bind(into binds: inout PostgresBindings)
}

extension String: PGBindable {
  func bind(into binds: inout PostgresBindings) { binds.append(self) }
}
extension Int: PGBindable {
  func bind(into binds: inout PostgresBindings) { binds.append(self) }
}
extension Int64: PGBindable {
  func bind(into binds: inout PostgresBindings) { binds.append(self) }
}
extension Bool: PGBindable {
  func bind(into binds: inout PostgresBindings) { binds.append(self) }
}
extension Optional: PGBindable where Wrapped == String {
  func bind(into binds: inout PostgresBindings) {
    if let value = self { binds.append(value) } else { binds.appendNull() }
  }
}

/// Rows of `events` in COPY's text format, and the full-text forms both sides of a search
/// use. Ferry tokenizes (``SearchText``), not PostgreSQL's parser, so that PostgreSQL and
/// SQLite index and match the same words: the `search` column is a tsvector literal of the
/// normalized words, and a query is the same words joined by `&`.
enum CopyText {
  /// PostgreSQL refuses lexemes longer than this (in bytes).
  static let longestLexeme = 2047
  /// A tsvector must stay under 1 MiB: words past this many bytes are not indexed.
  static let indexedBytes = 512 * 1024

  static func appendRow(
    _ event: Event, eTag: String, account: AccountID, to buffer: inout ByteBuffer
  ) {
    appendField(account.rawValue, to: &buffer)
    buffer.writeInteger(UInt8(ascii: "\t"))
    appendField(event.fetcherID, to: &buffer)
    buffer.writeInteger(UInt8(ascii: "\t"))
    appendField(event.logType, to: &buffer)
    buffer.writeInteger(UInt8(ascii: "\t"))
    buffer.writeString(String(event.time.micros))
    buffer.writeInteger(UInt8(ascii: "\t"))
    appendField(event.sourceKey, to: &buffer)
    buffer.writeInteger(UInt8(ascii: "\t"))
    appendField(eTag, to: &buffer)
    buffer.writeInteger(UInt8(ascii: "\t"))
    buffer.writeString(String(event.sourceOffset))
    buffer.writeInteger(UInt8(ascii: "\t"))
    appendField(event.message, to: &buffer)
    buffer.writeInteger(UInt8(ascii: "\t"))
    appendField(StoreJSON.encode(event.fields), to: &buffer)
    buffer.writeInteger(UInt8(ascii: "\t"))
    appendField(tsvector(SearchText.normalize(event.message)), to: &buffer)
    buffer.writeInteger(UInt8(ascii: "\n"))
  }

  /// A tsvector literal: each word quoted (they hold only letters and digits).
  static func tsvector(_ normalized: String) -> String {
    var out = ""
    out.reserveCapacity(normalized.utf8.count + 32)
    var bytes = 0
    for word in normalized.split(separator: " ") where word.utf8.count <= longestLexeme {
      bytes += word.utf8.count + 3
      if bytes > indexedBytes { break }
      if !out.isEmpty { out.append(" ") }
      out.append("'")
      out.append(contentsOf: word)
      out.append("'")
    }
    return out
  }

  /// A tsquery that matches events holding every word.
  static func tsquery(_ words: [String]) -> String {
    words.map { "'\($0.utf8.count <= longestLexeme ? $0 : String($0.prefix(longestLexeme)))'" }
      .joined(separator: " & ")
  }

  /// One column's value, with COPY's text-format escapes.
  static func appendField(_ text: String, to buffer: inout ByteBuffer) {
    var text = text
    text.withUTF8 { bytes in
      var start = 0
      for (i, b) in bytes.enumerated() {
        let escape: UInt8
        switch b {
        case 0x5C: escape = 0x5C  // backslash
        case 0x09: escape = UInt8(ascii: "t")
        case 0x0A: escape = UInt8(ascii: "n")
        case 0x0D: escape = UInt8(ascii: "r")
        default: continue
        }
        buffer.writeBytes(
          UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<i]))
        buffer.writeInteger(UInt8(0x5C))
        buffer.writeInteger(escape)
        start = i + 1
      }
      buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start...]))
    }
  }
}
