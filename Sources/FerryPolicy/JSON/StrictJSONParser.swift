/// A JSON parser that accepts exactly RFC 8259 and, like AWS's policy parser, refuses a
/// byte-order mark, duplicate keys in one object, trailing commas and comments. Errors name
/// the line and column.
struct StrictJSONParser {
  let bytes: [UInt8]
  var index = 0
  /// Deeper nesting than this is refused rather than risking the stack.
  static let maxDepth = 512

  init(bytes: [UInt8]) { self.bytes = bytes }

  mutating func document() throws(JSONSyntaxError) -> JSONValue {
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
      throw JSONSyntaxError(
        message:
          "the document begins with a byte-order mark (BOM), which AWS rejects; save it as UTF-8 without a BOM"
      )
    }
    guard String(validating: bytes, as: UTF8.self) != nil else {
      throw JSONSyntaxError(message: "the document is not valid UTF-8 text")
    }
    skipWhitespace()
    if index == bytes.count { throw JSONSyntaxError(message: "the document is empty") }
    let value = try self.value(depth: 0)
    skipWhitespace()
    if index < bytes.count {
      throw failure("unexpected text after the end of the document")
    }
    return value
  }

  // MARK: Values

  private mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONValue {
    guard depth < Self.maxDepth else { throw failure("the document is nested too deeply") }
    guard index < bytes.count else { throw failure("the document ends where a value was expected") }
    switch bytes[index] {
    case UInt8(ascii: "{"): return try object(depth: depth)
    case UInt8(ascii: "["): return try array(depth: depth)
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"): return try literal("true", .bool(true))
    case UInt8(ascii: "f"): return try literal("false", .bool(false))
    case UInt8(ascii: "n"): return try literal("null", .null)
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
    case UInt8(ascii: "/"): throw failure("comments are not allowed in JSON")
    case UInt8(ascii: "'"):
      throw failure("strings are written in double quotes (\"), not single quotes")
    default:
      throw failure("expected a value (a string, number, object, array, true, false or null)")
    }
  }

  private mutating func object(depth: Int) throws(JSONSyntaxError) -> JSONValue {
    index += 1
    var pairs: [(key: String, value: JSONValue)] = []
    // Keys compare as AWS compares them: byte for byte.
    var seen: Set<[UInt8]> = []
    skipWhitespace()
    if peek(UInt8(ascii: "}")) {
      index += 1
      return .object([])
    }
    while true {
      skipWhitespace()
      guard peek(UInt8(ascii: "\"")) else {
        if peek(UInt8(ascii: "}")) {
          throw failure("trailing comma before \"}\", which AWS rejects; remove the comma")
        }
        if peek(UInt8(ascii: "/")) { throw failure("comments are not allowed in JSON") }
        throw failure("expected a key in double quotes")
      }
      let keyStart = index
      let key = try string()
      guard seen.insert(Array(key.utf8)).inserted else {
        index = keyStart
        throw failure(
          "the key \"\(key)\" appears twice in one object, which AWS rejects; keep one of them")
      }
      skipWhitespace()
      guard peek(UInt8(ascii: ":")) else { throw failure("expected \":\" after the key") }
      index += 1
      skipWhitespace()
      pairs.append((key, try value(depth: depth + 1)))
      skipWhitespace()
      if peek(UInt8(ascii: ",")) {
        index += 1
        continue
      }
      if peek(UInt8(ascii: "}")) {
        index += 1
        return .object(pairs)
      }
      throw failure("expected \",\" or \"}\" in the object")
    }
  }

  private mutating func array(depth: Int) throws(JSONSyntaxError) -> JSONValue {
    index += 1
    var items: [JSONValue] = []
    skipWhitespace()
    if peek(UInt8(ascii: "]")) {
      index += 1
      return .array([])
    }
    while true {
      skipWhitespace()
      if peek(UInt8(ascii: "]")) {
        throw failure("trailing comma before \"]\", which AWS rejects; remove the comma")
      }
      items.append(try value(depth: depth + 1))
      skipWhitespace()
      if peek(UInt8(ascii: ",")) {
        index += 1
        continue
      }
      if peek(UInt8(ascii: "]")) {
        index += 1
        return .array(items)
      }
      throw failure("expected \",\" or \"]\" in the array")
    }
  }

  private mutating func literal(_ word: String, _ value: JSONValue) throws(JSONSyntaxError)
    -> JSONValue
  {
    let w = Array(word.utf8)
    guard index + w.count <= bytes.count, Array(bytes[index..<(index + w.count)]) == w else {
      throw failure("expected a value (did you mean \(word)?)")
    }
    index += w.count
    return value
  }

  private mutating func number() throws(JSONSyntaxError) -> JSONValue {
    let start = index
    if peek(UInt8(ascii: "-")) { index += 1 }
    guard index < bytes.count, isDigit(bytes[index]) else { throw failure("expected a digit") }
    if bytes[index] == UInt8(ascii: "0") {
      index += 1
      if index < bytes.count, isDigit(bytes[index]) {
        throw failure("numbers do not begin with 0")
      }
    } else {
      while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }
    if peek(UInt8(ascii: ".")) {
      index += 1
      guard index < bytes.count, isDigit(bytes[index]) else {
        throw failure("expected a digit after the decimal point")
      }
      while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }
    if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
      index += 1
      if peek(UInt8(ascii: "+")) || peek(UInt8(ascii: "-")) { index += 1 }
      guard index < bytes.count, isDigit(bytes[index]) else {
        throw failure("expected a digit in the exponent")
      }
      while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }
    let text = String(decoding: bytes[start..<index], as: UTF8.self)
    guard let number = Double(text), number.isFinite else {
      index = start
      throw failure("the number \(text) is out of range")
    }
    return .number(number)
  }

  private mutating func string() throws(JSONSyntaxError) -> String {
    index += 1
    var out: [UInt8] = []
    while true {
      guard index < bytes.count else { throw failure("the string is not closed with \"") }
      let c = bytes[index]
      switch c {
      case UInt8(ascii: "\""):
        index += 1
        return String(decoding: out, as: UTF8.self)
      case UInt8(ascii: "\\"):
        index += 1
        guard index < bytes.count else { throw failure("the string is not closed with \"") }
        let e = bytes[index]
        index += 1
        switch e {
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "/"): out.append(0x2F)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
          var scalar = try hex4()
          if (0xD800...0xDBFF).contains(scalar) {
            guard peek(UInt8(ascii: "\\")), index + 1 < bytes.count,
              bytes[index + 1] == UInt8(ascii: "u")
            else { throw failure("a \\u surrogate escape is not followed by its pair") }
            index += 2
            let low = try hex4()
            guard (0xDC00...0xDFFF).contains(low) else {
              throw failure("a \\u surrogate escape is not followed by its pair")
            }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
          } else if (0xDC00...0xDFFF).contains(scalar) {
            throw failure("a \\u escape names half of a surrogate pair")
          }
          guard let u = Unicode.Scalar(scalar) else { throw failure("invalid \\u escape") }
          out.append(contentsOf: Array(String(Character(u)).utf8))
        default:
          index -= 2
          throw failure("invalid escape in a string; write a backslash as \\\\")
        }
      case 0x00..<0x20:
        throw failure("a control character (such as a newline) inside a string must be escaped")
      default:
        out.append(c)
        index += 1
      }
    }
  }

  private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
    guard index + 4 <= bytes.count,
      let v = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16)
    else { throw failure("expected four hexadecimal digits after \\u") }
    index += 4
    return v
  }

  // MARK: Helpers

  private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

  private func peek(_ c: UInt8) -> Bool { index < bytes.count && bytes[index] == c }

  private mutating func skipWhitespace() {
    while index < bytes.count {
      switch bytes[index] {
      case 0x20, 0x09, 0x0A, 0x0D: index += 1
      default: return
      }
    }
  }

  /// An error at the current position, as line and column (columns count characters).
  private func failure(_ message: String) -> JSONSyntaxError {
    var line = 1
    var column = 1
    for byte in bytes.prefix(index) {
      if byte == 0x0A {
        line += 1
        column = 1
      } else if byte & 0xC0 != 0x80 {
        column += 1
      }
    }
    return JSONSyntaxError(message: "\(message) (line \(line), column \(column))")
  }
}
