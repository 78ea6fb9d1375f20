/// A value from a policy, with its `*` and `?` wildcards and `${…}` policy variables
/// resolved against a request. Works on UTF-8 bytes: `?` matches one character, so a
/// multi-byte character is skipped whole.
struct Pattern: Sendable {
  enum Token: Sendable, Equatable {
    case literal(UInt8)
    case anySequence
    case anyOne
  }

  var tokens: [Token]

  /// Compiles `text`. Policy variables (`${aws:username}`, `${aws:username, 'default'}`, and
  /// the escapes `${*}`, `${?}`, `${$}`) are replaced by literal text when `variables` is
  /// given (policy version 2012-10-17). Returns nil when a variable has no value and no
  /// default: AWS then treats the element as not matching.
  init?(_ text: String, wildcards: Bool = true, variables: RequestContext?, lowercase: Bool = false)
  {
    let bytes = Array((lowercase ? text.lowercased() : text).utf8)
    var tokens: [Token] = []
    tokens.reserveCapacity(bytes.count)
    var i = 0
    while i < bytes.count {
      let c = bytes[i]
      if variables != nil, c == UInt8(ascii: "$"), i + 1 < bytes.count,
        bytes[i + 1] == UInt8(ascii: "{"),
        let close = bytes[(i + 2)...].firstIndex(of: UInt8(ascii: "}"))
      {
        let inner = String(decoding: bytes[(i + 2)..<close], as: UTF8.self)
        guard let replacement = Self.resolve(inner, variables) else { return nil }
        tokens.append(
          contentsOf: (lowercase ? replacement.lowercased() : replacement).utf8.map(Token.literal))
        i = close + 1
        continue
      }
      if wildcards && c == UInt8(ascii: "*") {
        if tokens.last != .anySequence { tokens.append(.anySequence) }
      } else if wildcards && c == UInt8(ascii: "?") {
        tokens.append(.anyOne)
      } else {
        tokens.append(.literal(c))
      }
      i += 1
    }
    self.tokens = tokens
  }

  private static func resolve(_ inner: String, _ variables: RequestContext?) -> String? {
    switch inner {
    case "*", "?", "$": return inner
    default: break
    }
    var name = Substring(inner)
    var fallback: String?
    if let comma = inner.firstIndex(of: ",") {
      name = inner[..<comma]
      let rest = inner[inner.index(after: comma)...].trimmingSpaces
      if rest.count >= 2, rest.first == "'", rest.last == "'" {
        fallback = String(rest.dropFirst().dropLast())
      }
    }
    if let value = variables?.values(String(name.trimmingSpaces))?.first { return value }
    return fallback
  }

  /// Whether the pattern matches all of `text` (already lowercased when comparing without
  /// case).
  func matches(_ text: String) -> Bool {
    var text = text
    return text.withUTF8 { matches(bytes: $0) }
  }

  func matches(bytes s: UnsafeBufferPointer<UInt8>) -> Bool {
    var p = 0
    var i = 0
    var starP = -1
    var starI = 0
    while i < s.count {
      if p < tokens.count {
        switch tokens[p] {
        case .literal(let c) where c == s[i]:
          p += 1
          i += 1
          continue
        case .anyOne:
          p += 1
          i += 1
          // One character: skip UTF-8 continuation bytes.
          while i < s.count, s[i] & 0xC0 == 0x80 { i += 1 }
          continue
        case .anySequence:
          starP = p
          starI = i
          p += 1
          continue
        default: break
        }
      }
      guard starP >= 0 else { return false }
      p = starP + 1
      starI += 1
      i = starI
    }
    while p < tokens.count, tokens[p] == .anySequence { p += 1 }
    return p == tokens.count
  }
}

extension Substring {
  var trimmingSpaces: Substring {
    var s = self
    while s.first == " " { s.removeFirst() }
    while s.last == " " { s.removeLast() }
    return s
  }
}

/// Matches `text` against a policy pattern (actions: case-insensitive; resources: exact).
func wildcardMatch(
  _ pattern: String, _ text: String, caseInsensitive: Bool = false, variables: RequestContext? = nil
) -> Bool {
  // Most policy values are plain literals: compare them without compiling a pattern.
  let special = pattern.utf8.contains {
    $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "$")
  }
  if !special {
    return caseInsensitive ? asciiCaseInsensitiveEquals(pattern, text) : bytesEqual(pattern, text)
  }
  guard let compiled = Pattern(pattern, variables: variables, lowercase: caseInsensitive) else {
    return false
  }
  return compiled.matches(caseInsensitive ? text.lowercased() : text)
}

/// Case-insensitive equality that avoids allocating for ASCII text (actions, keys).
func asciiCaseInsensitiveEquals(_ a: String, _ b: String) -> Bool {
  var a = a
  var b = b
  return a.withUTF8 { x in
    b.withUTF8 { y in
      guard x.count == y.count else { return false }
      for k in 0..<x.count where x[k] != y[k] {
        let l = x[k] | 0x20
        guard l == (y[k] | 0x20), l >= UInt8(ascii: "a"), l <= UInt8(ascii: "z") else {
          return false
        }
      }
      return true
    }
  }
}
