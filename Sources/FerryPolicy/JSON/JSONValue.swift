import Foundation

/// A JSON value that keeps the order of object keys, so that documents Ferry writes read
/// the way AWS prints them (`Version` before `Statement`, `Effect` before `Action`).
public enum JSONValue: Sendable, Hashable {
  case string(String)
  case number(Double)
  case bool(Bool)
  case null
  case array([JSONValue])
  case object([(key: String, value: JSONValue)])

  public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
    switch (lhs, rhs) {
    case (.string(let a), .string(let b)): return a == b
    case (.number(let a), .number(let b)): return a == b
    case (.bool(let a), .bool(let b)): return a == b
    case (.null, .null): return true
    case (.array(let a), .array(let b)): return a == b
    case (.object(let a), .object(let b)):
      // Key order carries no meaning in JSON: compare as dictionaries.
      guard a.count == b.count else { return false }
      let bd = Dictionary(b.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
      return a.allSatisfy { bd[$0.key] == $0.value }
    default: return false
    }
  }

  public func hash(into hasher: inout Hasher) {
    switch self {
    case .string(let s): hasher.combine(s)
    case .number(let n): hasher.combine(n)
    case .bool(let b): hasher.combine(b)
    case .null: hasher.combine(0)
    case .array(let a): hasher.combine(a)
    case .object(let o): hasher.combine(o.count)
    }
  }

  /// The value under `key` of an object, or nil.
  public subscript(key: String) -> JSONValue? {
    guard case .object(let pairs) = self else { return nil }
    return pairs.first { $0.key == key }?.value
  }

  /// A short name of the value's JSON type, for error messages.
  public var typeName: String {
    switch self {
    case .string: "a string"
    case .number: "a number"
    case .bool: "a boolean"
    case .null: "null"
    case .array: "an array"
    case .object: "an object"
    }
  }
}

// MARK: - Parsing

/// A document that is not well-formed JSON.
public struct JSONSyntaxError: Error, Sendable, CustomStringConvertible {
  public let message: String
  public var description: String { "malformed JSON: \(message)" }
}

extension JSONValue {
  /// Parses UTF-8 JSON text.
  public static func parse(_ data: Data) throws(JSONSyntaxError) -> JSONValue {
    do {
      let wrapper = try JSONDecoder().decode(Decoded.self, from: data)
      return wrapper.value
    } catch {
      throw JSONSyntaxError(message: Self.describeSyntaxError(in: data))
    }
  }

  /// Parses JSON text.
  public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
    try parse(Data(text.utf8))
  }

  /// JSONDecoder does not say where the text went wrong; JSONSerialization gives a character
  /// offset, which a person needs as a line and column.
  private static func describeSyntaxError(in data: Data) -> String {
    if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
      return "the document is empty"
    }
    var message = "not valid JSON"
    do {
      _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    } catch {
      if let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String {
        message = detail.hasSuffix(".") ? String(detail.dropLast()) : detail
      }
    }
    if let range = message.range(of: "around character "),
      let offset = Int(message[range.upperBound...].prefix { $0.isNumber })
    {
      var line = 1
      var column = 1
      for byte in data.prefix(offset) {
        if byte == 0x0A {
          line += 1
          column = 1
        } else if byte & 0xC0 != 0x80 {
          column += 1
        }
      }
      message =
        message[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
        + " at line \(line), column \(column)"
    }
    return message
  }

  private struct Decoded: Decodable {
    let value: JSONValue

    struct AnyKey: CodingKey {
      var stringValue: String
      var intValue: Int? { nil }
      init(stringValue: String) { self.stringValue = stringValue }
      init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
      value = try Self.decode(decoder)
    }

    static func decode(_ decoder: any Decoder) throws -> JSONValue {
      if let keyed = try? decoder.container(keyedBy: AnyKey.self) {
        // JSONDecoder does not promise key order; sort for a stable result.
        let keys = keyed.allKeys.sorted { $0.stringValue < $1.stringValue }
        var pairs: [(key: String, value: JSONValue)] = []
        for key in keys {
          pairs.append((key.stringValue, try keyed.decode(Decoded.self, forKey: key).value))
        }
        return .object(pairs)
      }
      if var unkeyed = try? decoder.unkeyedContainer() {
        var items: [JSONValue] = []
        while !unkeyed.isAtEnd { items.append(try unkeyed.decode(Decoded.self).value) }
        return .array(items)
      }
      let single = try decoder.singleValueContainer()
      if single.decodeNil() { return .null }
      if let b = try? single.decode(Bool.self) { return .bool(b) }
      if let n = try? single.decode(Double.self) { return .number(n) }
      return .string(try single.decode(String.self))
    }
  }
}

// MARK: - Serializing

extension JSONValue {
  /// JSON text: pretty-printed with two-space indentation, or compact on one line.
  public func serialized(pretty: Bool = true) -> String {
    var out = ""
    write(to: &out, indent: pretty ? 0 : nil)
    return out
  }

  private func write(to out: inout String, indent: Int?) {
    switch self {
    case .string(let s): Self.writeString(s, to: &out)
    case .number(let n):
      if n.rounded() == n, abs(n) < 1e15 { out += String(Int64(n)) } else { out += "\(n)" }
    case .bool(let b): out += b ? "true" : "false"
    case .null: out += "null"
    case .array(let items):
      if items.isEmpty {
        out += "[]"
        return
      }
      out += "["
      for (i, item) in items.enumerated() {
        if i > 0 { out += "," }
        Self.newline(&out, indent.map { $0 + 1 })
        item.write(to: &out, indent: indent.map { $0 + 1 })
      }
      Self.newline(&out, indent)
      out += "]"
    case .object(let pairs):
      if pairs.isEmpty {
        out += "{}"
        return
      }
      out += "{"
      for (i, pair) in pairs.enumerated() {
        if i > 0 { out += "," }
        Self.newline(&out, indent.map { $0 + 1 })
        Self.writeString(pair.key, to: &out)
        out += indent == nil ? ":" : ": "
        pair.value.write(to: &out, indent: indent.map { $0 + 1 })
      }
      Self.newline(&out, indent)
      out += "}"
    }
  }

  private static func newline(_ out: inout String, _ indent: Int?) {
    guard let indent else { return }
    out += "\n" + String(repeating: "  ", count: indent)
  }

  private static func writeString(_ s: String, to out: inout String) {
    out += "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20:
        out += String(format: "\\u%04x", scalar.value)
      default: out.unicodeScalars.append(scalar)
      }
    }
    out += "\""
  }
}
