/// An event's fields, in the order its log gave them; each key once.
///
/// Reads like a `[String: String]` (subscript by key, `count`, iteration as `(key, value)`,
/// a dictionary literal), but is two arrays: the keys with where each value lies, and the
/// values' UTF-8 back to back. A log event has a handful of fields, so a lookup is a short
/// scan, and ingest makes no hash table and no string per value (a string per value and a
/// hash of every key cost more than a tenth of ingest's time). The order is the log's, so
/// a block writes the names of one object's events in the same order event after event,
/// and a search shows fields as the log wrote them. Two values are equal when they hold the
/// same pairs, in whatever order. The values' bytes are always valid UTF-8.
public struct Fields: Sendable, Equatable, RandomAccessCollection, ExpressibleByDictionaryLiteral {
  public typealias Element = (key: String, value: String)
  public typealias Index = Int
  public typealias Key = String
  public typealias Value = String

  @usableFromInline struct Entry: Sendable {
    @usableFromInline var key: String
    @usableFromInline var start: Int32
    @usableFromInline var count: Int32

    @inlinable init(key: String, start: Int32, count: Int32) {
      self.key = key
      self.start = start
      self.count = count
    }

    @inlinable var range: Range<Int> { Int(start)..<Int(start + count) }
  }

  @usableFromInline var entries: [Entry]
  /// Every value's UTF-8, back to back (a value replaced leaves its old bytes behind).
  @usableFromInline var text: [UInt8]

  @inlinable public init() {
    entries = []
    text = []
  }

  /// From a dictionary (its order is arbitrary: sorted by key here, so that the same
  /// dictionary always gives the same fields).
  public init(_ dictionary: [String: String]) {
    self.init()
    for (key, value) in dictionary.sorted(by: { $0.key < $1.key }) { appendNew(key, value) }
  }

  /// From pairs in order; of a repeated key, the first pair is kept.
  public init<S: Sequence>(_ elements: S) where S.Element == (key: String, value: String) {
    self.init()
    for (key, value) in elements where index(of: key) == nil { appendNew(key, value) }
  }

  /// Of a repeated key, the first pair is kept.
  public init(dictionaryLiteral elements: (String, String)...) {
    self.init(elements.lazy.map { (key: $0.0, value: $0.1) })
  }

  @inlinable public var startIndex: Int { entries.startIndex }
  @inlinable public var endIndex: Int { entries.endIndex }
  @inlinable public var count: Int { entries.count }
  @inlinable public var isEmpty: Bool { entries.isEmpty }

  public subscript(position: Int) -> Element {
    (entries[position].key, value(at: position))
  }

  /// The key of the field at `position`.
  @inlinable public func key(at position: Int) -> String { entries[position].key }

  /// The value of the field at `position`.
  public func value(at position: Int) -> String {
    let range = entries[position].range
    return text.withUnsafeBufferPointer {
      String(decoding: UnsafeBufferPointer(rebasing: $0[range]), as: UTF8.self)
    }
  }

  @inlinable func index(of key: String) -> Int? {
    entries.firstIndex { $0.key == key }
  }

  /// The value of `key`; setting nil removes it, setting a new key appends it.
  public subscript(key: String) -> String? {
    get { index(of: key).map { value(at: $0) } }
    set {
      if let i = index(of: key) {
        if let newValue {
          let start = text.count
          text += newValue.utf8
          entries[i].start = Int32(start)
          entries[i].count = Int32(text.count - start)
        } else {
          entries.remove(at: i)
        }
      } else if let newValue {
        appendNew(key, newValue)
      }
    }
  }

  /// Appends a pair whose key the caller knows is not there yet (a parser that checked).
  public mutating func appendNew(_ key: String, _ value: String) {
    let start = text.count
    text += value.utf8
    entries.append(Entry(key: key, start: Int32(start), count: Int32(text.count - start)))
  }

  /// Appends a pair whose key the caller knows is not there yet, its value given as UTF-8
  /// bytes; bytes that are not valid UTF-8 are repaired (U+FFFD), as `String(decoding:)`
  /// does. No string is made when the bytes are ASCII.
  public mutating func appendNew(_ key: String, utf8 value: UnsafeBufferPointer<UInt8>) {
    let start = appendText(value)
    entries.append(Entry(key: key, start: Int32(start), count: Int32(text.count - start)))
  }

  /// Appends `value` to the text, valid UTF-8; answers where it starts.
  private mutating func appendText(_ value: UnsafeBufferPointer<UInt8>) -> Int {
    let start = text.count
    if Self.isASCII(value) {
      text.append(contentsOf: value)
    } else {
      text += String(decoding: value, as: UTF8.self).utf8
    }
    return start
  }

  /// Sets `key` to a value given as UTF-8 bytes (repaired like ``appendNew(_:utf8:)``):
  /// replaces its value if it is there, appends it if not.
  public mutating func set(_ key: String, utf8 value: UnsafeBufferPointer<UInt8>) {
    guard let i = index(of: key) else {
      appendNew(key, utf8: value)
      return
    }
    let start = appendText(value)
    entries[i].start = Int32(start)
    entries[i].count = Int32(text.count - start)
  }

  @inline(__always) static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    var i = 0
    var bits: UInt64 = 0
    if let base = UnsafeRawPointer(bytes.baseAddress) {
      while i + 8 <= bytes.count {
        bits |= base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        i += 8
      }
    }
    while i < bytes.count {
      bits |= UInt64(bytes[i])
      i += 1
    }
    return bits & 0x8080_8080_8080_8080 == 0
  }

  /// Room for `n` fields whose values hold `valueBytes` bytes in all, so that a parser
  /// that knows its format's sizes fills the fields without growing them.
  @inlinable public mutating func reserveCapacity(_ n: Int, valueBytes: Int = 0) {
    entries.reserveCapacity(n)
    if valueBytes > 0 { text.reserveCapacity(valueBytes) }
  }

  /// Calls `body` with each field's key and the UTF-8 of its value, in order, making no
  /// string (a block's encoder copies and hashes the bytes).
  @inlinable public func forEachUTF8(_ body: (String, UnsafeBufferPointer<UInt8>) -> Void) {
    text.withUnsafeBufferPointer { bytes in
      for entry in entries { body(entry.key, UnsafeBufferPointer(rebasing: bytes[entry.range])) }
    }
  }

  /// Calls `body` with the UTF-8 of the value at `position`, making no string.
  @inlinable public func withValueUTF8<R>(
    at position: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R
  ) rethrows -> R {
    let range = entries[position].range
    return try text.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[range])) }
  }

  /// Whether a key or a value holds the byte `byte`.
  public func containsByte(_ byte: UInt8) -> Bool {
    entries.contains { entry in
      entry.key.utf8.contains(byte) || text[entry.range].contains(byte)
    }
  }

  public var keys: [String] { entries.map(\.key) }

  /// Whether the keys are `keys`, in this order (no array is made).
  @inlinable public func keys(equal keys: [String]) -> Bool {
    guard keys.count == entries.count else { return false }
    for i in entries.indices where entries[i].key != keys[i] { return false }
    return true
  }
  public var values: [String] { indices.map { value(at: $0) } }

  /// The same fields as a dictionary.
  public var dictionary: [String: String] {
    Dictionary(map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
  }

  private func sameValue(_ i: Int, _ other: Fields, _ j: Int) -> Bool {
    text[entries[i].range].elementsEqual(other.text[other.entries[j].range])
  }

  public static func == (lhs: Fields, rhs: Fields) -> Bool {
    guard lhs.entries.count == rhs.entries.count else { return false }
    // Nearly always in the same order: compare in place first.
    if lhs.entries.indices.allSatisfy({
      lhs.entries[$0].key == rhs.entries[$0].key && lhs.sameValue($0, rhs, $0)
    }) {
      return true
    }
    return lhs.entries.indices.allSatisfy { i in
      rhs.index(of: lhs.entries[i].key).map { lhs.sameValue(i, rhs, $0) } ?? false
    }
  }
}

extension Fields: Codable {
  struct Name: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  /// A JSON object, as `[String: String]` is written.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: Name.self)
    for (key, value) in self { try container.encode(value, forKey: Name(stringValue: key)) }
  }

  public init(from decoder: any Decoder) throws {
    let dictionary = try [String: String](from: decoder)
    self.init(dictionary)
  }
}

extension Fields: CustomStringConvertible {
  public var description: String {
    "["
      + map { "\(String(reflecting: $0.key)): \(String(reflecting: $0.value))" }
      .joined(separator: ", ") + "]"
  }
}
