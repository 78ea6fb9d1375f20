/// The regular expressions a multiline start pattern may use, parsed into a tree. They are
/// the part of PCRE's syntax that an automaton can match in time linear in the line: no
/// back-references, lookaround, atomic groups or possessive quantifiers (each of which can
/// take exponential time on a backtracking engine, and the patterns are written by
/// tenants). What is not supported is refused with what to write instead.
///
/// Supported: literals; `.`; classes `[a-z_]`, `[^…]`, with `\d \w \s` and POSIX names
/// (`[[:digit:]]`) inside; `\d \D \w \W \s \S` (ASCII); escapes `\t \n \r \f \v \xHH
/// \u{H…}` and any escaped punctuation; anchors `^ $ \A \z \Z \b \B`; groups `( )`,
/// `(?: )`, `(?<name> )`, `(?P<name> )`; alternation `|`; quantifiers `* + ? {n} {n,}
/// {n,m}` and their lazy forms (which match the same lines); `(?i)` at the start for
/// ASCII case-insensitivity.
indirect enum PatternNode: Sendable, Equatable {
  case empty
  case scalars(ScalarSet)
  case assertion(PatternAssertion)
  case sequence([PatternNode])
  case alternatives([PatternNode])
  case repeated(PatternNode, min: Int, max: Int?)
}

/// A position test that consumes nothing.
enum PatternAssertion: Sendable, Equatable {
  /// The start of the line (`^`, `\A`).
  case start
  /// The end of the line (`$`, `\z`, `\Z`).
  case end
  case wordBoundary
  case notWordBoundary
}

/// A set of Unicode scalar values, as sorted, disjoint, closed ranges.
struct ScalarSet: Sendable, Equatable {
  private(set) var ranges: [ClosedRange<UInt32>]

  init(_ ranges: [ClosedRange<UInt32>]) {
    let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
    var merged: [ClosedRange<UInt32>] = []
    for range in sorted {
      if let last = merged.last, range.lowerBound <= last.upperBound &+ 1 {
        merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
      } else {
        merged.append(range)
      }
    }
    self.ranges = merged
  }

  static func scalar(_ value: UInt32) -> ScalarSet { ScalarSet([value...value]) }
  static let digit = ScalarSet([0x30...0x39])
  static let word = ScalarSet([0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A])
  static let space = ScalarSet([0x09...0x0D, 0x20...0x20])
  /// Every scalar but the newline (`.`).
  static let anyButNewline = ScalarSet([0...0x09, 0x0B...0x10_FFFF])

  func union(_ other: ScalarSet) -> ScalarSet { ScalarSet(ranges + other.ranges) }

  var inverted: ScalarSet {
    var result: [ClosedRange<UInt32>] = []
    var next: UInt32 = 0
    for range in ranges {
      if range.lowerBound > next { result.append(next...(range.lowerBound - 1)) }
      next = range.upperBound &+ 1
    }
    if next <= 0x10_FFFF { result.append(next...0x10_FFFF) }
    return ScalarSet(result)
  }

  /// The set with both cases of every ASCII letter in it.
  var ignoringASCIICase: ScalarSet {
    var extra: [ClosedRange<UInt32>] = []
    for (letters, shift) in [(UInt32(0x41)...0x5A, Int64(32)), (UInt32(0x61)...0x7A, Int64(-32))] {
      for range in ranges where range.overlaps(letters) {
        let low = max(range.lowerBound, letters.lowerBound)
        let high = min(range.upperBound, letters.upperBound)
        extra.append(UInt32(Int64(low) + shift)...UInt32(Int64(high) + shift))
      }
    }
    return ScalarSet(ranges + extra)
  }

  func contains(_ value: UInt32) -> Bool {
    var low = 0
    var high = ranges.count - 1
    while low <= high {
      let middle = (low + high) / 2
      let range = ranges[middle]
      if value < range.lowerBound {
        high = middle - 1
      } else if value > range.upperBound {
        low = middle + 1
      } else {
        return true
      }
    }
    return false
  }
}

/// Why a pattern is refused: the 1-based column and what to do.
struct PatternSyntaxError: Error, Sendable, CustomStringConvertible {
  let column: Int
  let message: String
  var description: String { "at column \(column): \(message)" }
}

/// Parses a pattern (at most 512 characters, groups nested at most 32 deep).
struct PatternParser {
  static let maxGroupDepth = 32
  /// Counted repetitions larger than this are refused (`{1000}` is not a start pattern).
  static let maxCount = 1000

  private let scalars: [Unicode.Scalar]
  private var index = 0
  private var depth = 0
  private(set) var ignoreCase = false

  init(_ pattern: String) { scalars = Array(pattern.unicodeScalars) }

  mutating func parse() throws(PatternSyntaxError) -> PatternNode {
    if scalars.starts(with: "(?i)".unicodeScalars) {
      ignoreCase = true
      index = 4
    }
    let node = try alternatives()
    if index < scalars.count {
      throw fail("a ')' without its '('")
    }
    return node
  }

  private var peek: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

  private func fail(_ message: String, at position: Int? = nil) -> PatternSyntaxError {
    PatternSyntaxError(column: (position ?? index) + 1, message: message)
  }

  private mutating func alternatives() throws(PatternSyntaxError) -> PatternNode {
    var options = [try sequence()]
    while peek == "|" {
      index += 1
      options.append(try sequence())
    }
    return options.count == 1 ? options[0] : .alternatives(options)
  }

  private mutating func sequence() throws(PatternSyntaxError) -> PatternNode {
    var items: [PatternNode] = []
    while let next = peek, next != "|", next != ")" {
      let atomStart = index
      let atom = try self.atom()
      items.append(try quantified(atom, start: atomStart))
    }
    switch items.count {
    case 0: return .empty
    case 1: return items[0]
    default: return .sequence(items)
    }
  }

  private mutating func quantified(_ atom: PatternNode, start: Int) throws(PatternSyntaxError)
    -> PatternNode
  {
    var node = atom
    var quantifiers = 0
    while let next = peek {
      var bounds: (Int, Int?)
      switch next {
      case "*": bounds = (0, nil)
      case "+": bounds = (1, nil)
      case "?": bounds = (0, 1)
      case "{":
        guard let counted = try countedBounds() else { return node }
        bounds = counted
      default: return node
      }
      if next != "{" { index += 1 }
      if case .assertion = atom {
        throw fail("an anchor or \\b cannot be repeated", at: start)
      }
      quantifiers += 1
      if quantifiers > 1 {
        throw fail(
          "a quantifier after a quantifier: put the repeated part in a group, as (a+)*",
          at: index - 1)
      }
      switch peek {
      case "?": index += 1  // Lazy: matches the same lines.
      case "+":
        throw fail(
          "possessive quantifiers (*+, ++, ?+) are not supported; remove the second '+'")
      default: break
      }
      node = .repeated(node, min: bounds.0, max: bounds.1)
    }
    return node
  }

  /// `{n}`, `{n,}` or `{n,m}` at the index, consumed; nil (and nothing consumed) when the
  /// brace is a literal, as PCRE reads it.
  private mutating func countedBounds() throws(PatternSyntaxError) -> (Int, Int?)? {
    var cursor = index + 1
    func number() -> Int? {
      var digits = ""
      while cursor < scalars.count, ("0"..."9").contains(scalars[cursor]), digits.count < 6 {
        digits.unicodeScalars.append(scalars[cursor])
        cursor += 1
      }
      return Int(digits)
    }
    guard let low = number() else { return nil }
    var high: Int? = low
    if cursor < scalars.count, scalars[cursor] == "," {
      cursor += 1
      high = number()
    }
    guard cursor < scalars.count, scalars[cursor] == "}" else { return nil }
    if low > Self.maxCount || (high ?? 0) > Self.maxCount {
      throw fail("a count above \(Self.maxCount) in {…}: a start pattern needs far fewer")
    }
    if let high, high < low {
      throw fail("{\(low),\(high)}: the second count is smaller than the first")
    }
    index = cursor + 1
    return (low, high)
  }

  private mutating func atom() throws(PatternSyntaxError) -> PatternNode {
    guard let next = peek else { return .empty }
    switch next {
    case "(":
      return try group()
    case "[":
      return .scalars(try characterClass())
    case ".":
      index += 1
      return .scalars(.anyButNewline)
    case "^":
      index += 1
      return .assertion(.start)
    case "$":
      index += 1
      return .assertion(.end)
    case "\\":
      return try escape()
    case "*", "+", "?":
      throw fail("'\(next)' has nothing to repeat before it (escape it as \\\(next))")
    default:
      if next == "{", try countedBounds() != nil {
        throw fail("'{' has nothing to repeat before it (escape it as \\{)")
      }
      index += 1
      return .scalars(.scalar(next.value))
    }
  }

  private mutating func group() throws(PatternSyntaxError) -> PatternNode {
    let open = index
    index += 1
    if peek == "?" {
      let rest = String(String.UnicodeScalarView(scalars[index..<min(index + 4, scalars.count)]))
      if rest.hasPrefix("?:") {
        index += 2
      } else if rest.hasPrefix("?<=") {
        throw fail("lookbehind (?<=…) is not supported: Ferry's patterns match in linear time")
      } else if rest.hasPrefix("?<!") {
        throw fail("lookbehind (?<!…) is not supported: Ferry's patterns match in linear time")
      } else if rest.hasPrefix("?=") || rest.hasPrefix("?!") {
        throw fail("lookahead (?=…, ?!…) is not supported: Ferry's patterns match in linear time")
      } else if rest.hasPrefix("?>") {
        throw fail("atomic groups (?>…) are not supported: use a plain group")
      } else if rest.hasPrefix("?<") || rest.hasPrefix("?P<") || rest.hasPrefix("?'") {
        // A named group: the name is not needed to find where an event starts.
        let close: Unicode.Scalar = rest.hasPrefix("?'") ? "'" : ">"
        index += rest.hasPrefix("?P<") ? 3 : 2
        while let c = peek, c != close { index += 1 }
        guard peek == close else { throw fail("the group's name is never closed", at: open) }
        index += 1
      } else if rest.hasPrefix("?i)") {
        throw fail("(?i) is supported only at the very start of the pattern")
      } else {
        throw fail("this kind of group (?…) is not supported; use ( ) or (?: )")
      }
    }
    depth += 1
    defer { depth -= 1 }
    guard depth <= Self.maxGroupDepth else {
      throw fail("groups nest deeper than \(Self.maxGroupDepth) levels")
    }
    let inner = try alternatives()
    guard peek == ")" else { throw fail("the '(' at column \(open + 1) is never closed") }
    index += 1
    return inner
  }

  private mutating func escape() throws(PatternSyntaxError) -> PatternNode {
    let start = index
    index += 1
    guard let c = peek else { throw fail("the pattern ends with a lone '\\'", at: start) }
    switch c {
    case "A":
      index += 1
      return .assertion(.start)
    case "z", "Z":
      index += 1
      return .assertion(.end)
    case "b":
      index += 1
      return .assertion(.wordBoundary)
    case "B":
      index += 1
      return .assertion(.notWordBoundary)
    case "1"..."9":
      throw fail(
        "back-references (\\\(c)) are not supported: Ferry's patterns match in linear time",
        at: start)
    default:
      return .scalars(try escapedSet(start: start))
    }
  }

  /// The set of an escape (after its `\`, at the index), consumed: a class (`\d`) or one
  /// scalar.
  private mutating func escapedSet(start: Int) throws(PatternSyntaxError) -> ScalarSet {
    guard let c = peek else { throw fail("the pattern ends with a lone '\\'", at: start) }
    index += 1
    switch c {
    case "d": return .digit
    case "D": return ScalarSet.digit.inverted
    case "w": return .word
    case "W": return ScalarSet.word.inverted
    case "s": return .space
    case "S": return ScalarSet.space.inverted
    case "t": return .scalar(0x09)
    case "n": return .scalar(0x0A)
    case "r": return .scalar(0x0D)
    case "f": return .scalar(0x0C)
    case "v": return .scalar(0x0B)
    case "e": return .scalar(0x1B)
    case "0": return .scalar(0)
    case "x", "u":
      return .scalar(try hexScalar(braced: peek == "{", start: start, digits: c == "x" ? 2 : 4))
    case "p", "P":
      throw fail(
        "Unicode properties (\\\(c){…}) are not supported; use a class such as [A-Za-z]", at: start)
    default:
      let isLetterOrDigit =
        ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c)
      if isLetterOrDigit {
        throw fail("\\\(c) is not an escape Ferry knows", at: start)
      }
      return .scalar(c.value)
    }
  }

  private mutating func hexScalar(braced: Bool, start: Int, digits: Int) throws(PatternSyntaxError)
    -> UInt32
  {
    var hex = ""
    if braced {
      index += 1
      while let c = peek, c != "}", hex.count < 8 {
        hex.unicodeScalars.append(c)
        index += 1
      }
      guard peek == "}" else { throw fail("the \\x{…} escape is never closed", at: start) }
      index += 1
    } else {
      while hex.count < digits, let c = peek {
        hex.unicodeScalars.append(c)
        index += 1
      }
    }
    guard let value = UInt32(hex, radix: 16), Unicode.Scalar(value) != nil else {
      throw fail("the escape does not name a Unicode scalar in hexadecimal", at: start)
    }
    return value
  }

  private mutating func characterClass() throws(PatternSyntaxError) -> ScalarSet {
    let open = index
    index += 1
    var negated = false
    if peek == "^" {
      negated = true
      index += 1
    }
    var set = ScalarSet([])
    var first = true
    while true {
      guard let c = peek else { throw fail("the '[' at column \(open + 1) is never closed") }
      if c == "]" && !first { break }
      first = false
      if c == "[", index + 1 < scalars.count, scalars[index + 1] == ":" {
        set = set.union(try posixClass())
        continue
      }
      let low: ScalarSet
      let itemStart = index
      if c == "\\" {
        index += 1
        low = try escapedSet(start: itemStart)
      } else {
        index += 1
        low = .scalar(c.value)
      }
      // A range a-z (a '-' before ']' is a literal).
      if peek == "-", index + 1 < scalars.count, scalars[index + 1] != "]",
        let lowScalar = low.single
      {
        index += 1
        let highStart = index
        let high: ScalarSet
        if peek == "\\" {
          index += 1
          high = try escapedSet(start: highStart)
        } else {
          high = .scalar(scalars[index].value)
          index += 1
        }
        guard let highScalar = high.single, highScalar >= lowScalar else {
          throw fail(
            "the range in [ ] is out of order or not between two characters", at: itemStart)
        }
        set = set.union(ScalarSet([lowScalar...highScalar]))
      } else {
        set = set.union(low)
      }
    }
    index += 1
    return negated ? set.inverted : set
  }

  private mutating func posixClass() throws(PatternSyntaxError) -> ScalarSet {
    let start = index
    let names: [(String, ScalarSet)] = [
      ("digit", .digit), ("alpha", ScalarSet([0x41...0x5A, 0x61...0x7A])),
      ("alnum", ScalarSet([0x30...0x39, 0x41...0x5A, 0x61...0x7A])), ("space", .space),
      ("upper", ScalarSet([0x41...0x5A])), ("lower", ScalarSet([0x61...0x7A])),
      ("xdigit", ScalarSet([0x30...0x39, 0x41...0x46, 0x61...0x66])), ("word", .word),
      ("punct", ScalarSet([0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E])),
    ]
    let rest = String(String.UnicodeScalarView(scalars[index...]))
    for (name, set) in names where rest.hasPrefix("[:\(name):]") {
      index += name.count + 4
      return set
    }
    throw fail(
      "an unknown POSIX class; use one of \(names.map { "[:\($0.0):]" }.joined(separator: " "))",
      at: start)
  }
}

extension ScalarSet {
  /// The one scalar of a set that holds one.
  fileprivate var single: UInt32? {
    ranges.count == 1 && ranges[0].lowerBound == ranges[0].upperBound ? ranges[0].lowerBound : nil
  }
}
