/// An event's fields, in the order its log gave them; each key once.
///
/// Reads like a `[String: String]` (subscript by key, `count`, iteration as `(key, value)`,
/// a dictionary literal), but is an array of pairs: a log event has a handful of fields,
/// so a lookup is a short scan, and ingest makes no hash table per event (hashing every
/// key of every event cost more than a tenth of ingest's time). The order is the log's,
/// so a block writes the names of one object's events in the same order event after event,
/// and a search shows fields as the log wrote them. Two values are equal when they hold
/// the same pairs, in whatever order.
public struct Fields: Sendable, Equatable, RandomAccessCollection, ExpressibleByDictionaryLiteral {
  public typealias Element = (key: String, value: String)
  public typealias Index = Int
  public typealias Key = String
  public typealias Value = String

  @usableFromInline var pairs: [Element]

  @inlinable public init() { pairs = [] }

  /// From a dictionary (its order is arbitrary: sorted by key here, so that the same
  /// dictionary always gives the same fields).
  public init(_ dictionary: [String: String]) {
    pairs = dictionary.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
  }

  /// From pairs in order; of a repeated key, the first pair is kept.
  public init<S: Sequence>(_ elements: S) where S.Element == (key: String, value: String) {
    pairs = []
    for (key, value) in elements where self[key] == nil { pairs.append((key, value)) }
  }

  /// Of a repeated key, the first pair is kept.
  public init(dictionaryLiteral elements: (String, String)...) {
    self.init(elements.lazy.map { (key: $0.0, value: $0.1) })
  }

  @inlinable public var startIndex: Int { pairs.startIndex }
  @inlinable public var endIndex: Int { pairs.endIndex }
  @inlinable public subscript(position: Int) -> Element { pairs[position] }
  @inlinable public var count: Int { pairs.count }
  @inlinable public var isEmpty: Bool { pairs.isEmpty }

  /// The value of `key`; setting nil removes it, setting a new key appends it.
  @inlinable public subscript(key: String) -> String? {
    get {
      for pair in pairs where pair.key == key { return pair.value }
      return nil
    }
    set {
      if let i = pairs.firstIndex(where: { $0.key == key }) {
        if let newValue { pairs[i].value = newValue } else { pairs.remove(at: i) }
      } else if let newValue {
        pairs.append((key, newValue))
      }
    }
  }

  /// Appends a pair whose key the caller knows is not there yet (a parser that checked).
  @inlinable public mutating func appendNew(_ key: String, _ value: String) {
    pairs.append((key, value))
  }

  @inlinable public mutating func reserveCapacity(_ n: Int) { pairs.reserveCapacity(n) }

  public var keys: [String] { pairs.map(\.key) }
  public var values: [String] { pairs.map(\.value) }

  /// The same fields as a dictionary.
  public var dictionary: [String: String] {
    Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
  }

  public static func == (lhs: Fields, rhs: Fields) -> Bool {
    guard lhs.pairs.count == rhs.pairs.count else { return false }
    // Nearly always in the same order: compare in place first.
    if lhs.pairs.elementsEqual(rhs.pairs, by: { $0.key == $1.key && $0.value == $1.value }) {
      return true
    }
    return lhs.pairs.allSatisfy { rhs[$0.key] == $0.value }
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
    for (key, value) in pairs { try container.encode(value, forKey: Name(stringValue: key)) }
  }

  public init(from decoder: any Decoder) throws {
    let dictionary = try [String: String](from: decoder)
    self.init(dictionary)
  }
}

extension Fields: CustomStringConvertible {
  public var description: String {
    "["
      + pairs.map { "\(String(reflecting: $0.key)): \(String(reflecting: $0.value))" }
      .joined(separator: ", ") + "]"
  }
}
