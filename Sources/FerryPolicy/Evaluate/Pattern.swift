/// A value from a policy, with its `*` and `?` wildcards and `${…}` policy variables
/// resolved against a request.
struct Pattern: Sendable {
  enum Token: Sendable, Equatable {
    case literal(Character)
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
    var tokens: [Token] = []
    let chars = Array(lowercase ? text.lowercased() : text)
    var i = 0
    while i < chars.count {
      let c = chars[i]
      if variables != nil, c == "$", i + 1 < chars.count, chars[i + 1] == "{",
        let close = chars[(i + 2)...].firstIndex(of: "}")
      {
        let inner = String(chars[(i + 2)..<close])
        guard let replacement = Self.resolve(inner, variables) else { return nil }
        tokens.append(
          contentsOf: (lowercase ? replacement.lowercased() : replacement).map(Token.literal))
        i = close + 1
        continue
      }
      if wildcards && c == "*" {
        if tokens.last != .anySequence { tokens.append(.anySequence) }
      } else if wildcards && c == "?" {
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

  /// Whether the pattern matches all of `text`.
  func matches(_ text: String, lowercase: Bool = false) -> Bool {
    let s = Array(lowercase ? text.lowercased() : text)
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

  /// The literal text before the first wildcard.
  var literalPrefix: String {
    var out = ""
    for token in tokens {
      guard case .literal(let c) = token else { break }
      out.append(c)
    }
    return out
  }

  var hasWildcards: Bool { tokens.contains { $0 == .anySequence || $0 == .anyOne } }
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
  guard let compiled = Pattern(pattern, variables: variables, lowercase: caseInsensitive) else {
    return false
  }
  return compiled.matches(text, lowercase: caseInsensitive)
}
