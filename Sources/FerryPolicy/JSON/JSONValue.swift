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

/// A document that is not well-formed JSON, or that AWS's policy parser would reject: where
/// (line and column) and what was wrong.
public struct JSONSyntaxError: Error, Sendable, CustomStringConvertible {
  public let message: String
  public var description: String { "malformed JSON: \(message)" }
}

extension JSONValue {
  /// Parses UTF-8 JSON text as strictly as AWS's policy parser (RFC 8259): no byte-order
  /// mark, no trailing commas, no comments, no duplicate keys in an object. Key order is
  /// kept.
  public static func parse(_ data: Data) throws(JSONSyntaxError) -> JSONValue {
    var parser = StrictJSONParser(bytes: [UInt8](data))
    return try parser.document()
  }

  /// Parses JSON text.
  public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
    try parse(Data(text.utf8))
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
