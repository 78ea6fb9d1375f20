/// The query language's parser: precedence NOT > AND (also implied between terms) > OR.
struct LogQueryParser {
  enum Token: Equatable {
    case open, close, and, or, not, minus
    /// A bare word, possibly `field:value`.
    case bare(String)
    case quoted(String)
    case end
  }

  /// The longest query accepted, in characters.
  static let maxLength = 16_384
  /// The deepest nesting accepted: parentheses and NOT (or `-`) each add a level. It
  /// bounds the parser's and every evaluator's recursion, so no query can overflow a stack.
  static let maxDepth = 64

  let text: [Character]
  var tokens: [(token: Token, column: Int)] = []
  var index = 0
  var depth = 0

  init(_ text: String) { self.text = Array(text) }

  mutating func parse() throws(LogQueryError) -> LogQuery {
    guard text.count <= Self.maxLength else {
      throw LogQueryError(
        column: Self.maxLength + 1,
        message:
          "the query is \(text.count) characters long; at most \(Self.maxLength) are accepted")
    }
    try lex()
    if tokens.count == 1 { return .all }
    let query = try parseOr()
    guard case .end = tokens[index].token else {
      throw LogQueryError(
        column: tokens[index].column,
        message: tokens[index].token == .close
          ? "a ')' without its '('" : "expected AND, OR or the end of the query")
    }
    return query
  }

  // MARK: Lexing

  mutating func lex() throws(LogQueryError) {
    var i = 0
    while i < text.count {
      let c = text[i]
      if c.isWhitespace {
        i += 1
        continue
      }
      let column = i + 1
      switch c {
      case "(":
        tokens.append((.open, column))
        i += 1
      case ")":
        tokens.append((.close, column))
        i += 1
      case "\"":
        let (value, next) = try quoted(from: i)
        tokens.append((.quoted(value), column))
        i = next
      case "-" where i + 1 < text.count && !text[i + 1].isWhitespace:
        tokens.append((.minus, column))
        i += 1
      default:
        var word = ""
        while i < text.count, !text[i].isWhitespace, text[i] != "(", text[i] != ")" {
          if text[i] == "\"" {
            // field:"a b": the quoted value belongs to the word.
            guard word.hasSuffix(":") else { break }
            let (value, next) = try quoted(from: i)
            word += "\"" + value.replacingOccurrences(of: "\"", with: "\u{0}") + "\""
            i = next
            continue
          }
          word.append(text[i])
          i += 1
        }
        switch word {
        case "AND": tokens.append((.and, column))
        case "OR": tokens.append((.or, column))
        case "NOT": tokens.append((.not, column))
        default: tokens.append((.bare(word), column))
        }
      }
    }
    tokens.append((.end, text.count + 1))
  }

  /// A quoted string from `start` (at its `"`), with `\"` and `\\` escapes.
  func quoted(from start: Int) throws(LogQueryError) -> (String, Int) {
    var i = start + 1
    var value = ""
    while i < text.count {
      if text[i] == "\\", i + 1 < text.count {
        value.append(text[i + 1])
        i += 2
        continue
      }
      if text[i] == "\"" { return (value, i + 1) }
      value.append(text[i])
      i += 1
    }
    throw LogQueryError(column: start + 1, message: "this quote is never closed: add a '\"'")
  }

  // MARK: Parsing

  var current: (token: Token, column: Int) { tokens[index] }

  mutating func parseOr() throws(LogQueryError) -> LogQuery {
    var parts = [try parseAnd()]
    while current.token == .or {
      index += 1
      parts.append(try parseAnd(after: "OR"))
    }
    return parts.count == 1 ? parts[0] : .or(parts)
  }

  mutating func parseAnd(after keyword: String? = nil) throws(LogQueryError) -> LogQuery {
    var parts = [try parseUnary(after: keyword)]
    while true {
      switch current.token {
      case .and:
        index += 1
        parts.append(try parseUnary(after: "AND"))
      case .or, .close, .end:
        return parts.count == 1 ? parts[0] : .and(parts)
      default:
        parts.append(try parseUnary(after: nil))
      }
    }
  }

  mutating func parseUnary(after keyword: String?) throws(LogQueryError) -> LogQuery {
    switch current.token {
    case .not, .minus:
      let name = current.token == .not ? "NOT" : "-"
      try enter()
      defer { depth -= 1 }
      index += 1
      return .not(try parseUnary(after: name))
    default:
      return try parsePrimary(after: keyword)
    }
  }

  mutating func parsePrimary(after keyword: String?) throws(LogQueryError) -> LogQuery {
    let (token, column) = current
    switch token {
    case .open:
      try enter()
      defer { depth -= 1 }
      index += 1
      if current.token == .close {
        throw LogQueryError(column: current.column, message: "expected a term inside '( )'")
      }
      let inner = try parseOr()
      guard current.token == .close else {
        throw LogQueryError(
          column: current.column, message: "expected ')' to close the '(' at column \(column)")
      }
      index += 1
      return inner
    case .quoted(let value):
      index += 1
      return Self.textTerm(value, exact: true)
    case .bare(let word):
      index += 1
      return try Self.term(word, column: column)
    case .end:
      throw LogQueryError(
        column: column,
        message: keyword.map { "expected a term after \($0)" } ?? "expected a term")
    case .close:
      throw LogQueryError(
        column: column,
        message: keyword.map { "expected a term after \($0), not ')'" } ?? "a ')' without its '('")
    case .and, .or, .not, .minus:
      throw LogQueryError(
        column: column,
        message: "expected a term\(keyword.map { " after \($0)" } ?? ""), not \(Self.name(token))")
    }
  }

  /// One level deeper (a '(' or a NOT), refused past ``maxDepth``.
  mutating func enter() throws(LogQueryError) {
    depth += 1
    guard depth <= Self.maxDepth else {
      throw LogQueryError(
        column: current.column,
        message:
          "the query nests deeper than \(Self.maxDepth) levels of parentheses and NOT; write it flatter"
      )
    }
  }

  /// A `*` that does not end a word: Ferry matches words by their start (`prefix*`) only.
  static func checkWildcard(_ text: Substring, column: Int) throws(LogQueryError) {
    guard let star = text.firstIndex(of: "*") else { return }
    let lastIsOnlyStar = star == text.index(before: text.endIndex)
    if lastIsOnlyStar && text.count > 1 { return }
    throw LogQueryError(
      column: column + text.distance(from: text.startIndex, to: star),
      message:
        "a '*' can only end a word (prefix*): Ferry cannot match a word by its end or middle; to search for '*' itself, quote it"
    )
  }

  static func name(_ token: Token) -> String {
    switch token {
    case .and: "AND"
    case .or: "OR"
    case .not: "NOT"
    case .minus: "'-'"
    default: "this"
    }
  }

  /// A bare word: `field:value` when it has a `:` after at least one character, else
  /// message text.
  static func term(_ word: String, column: Int) throws(LogQueryError) -> LogQuery {
    guard let colon = word.firstIndex(of: ":"), colon != word.startIndex else {
      if word != "*" { try checkWildcard(word[...], column: column) }
      return textTerm(word, exact: false)
    }
    let key = String(word[..<colon])
    var value = String(word[word.index(after: colon)...])
    let valueColumn = column + key.count + 1
    if value.isEmpty {
      throw LogQueryError(
        column: valueColumn,
        message:
          "expected a value after '\(key):' (a word, a \"quoted value\", prefix*, * or a comparison like >=500)"
      )
    }
    if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
      value = String(value.dropFirst().dropLast()).replacingOccurrences(of: "\u{0}", with: "\"")
      return .field(key, .equals(value.lowercased()))
    }
    if value == "*" { return .field(key, .exists) }
    try checkWildcard(value[...], column: valueColumn)
    for comparison in [LogQuery.Comparison.lessOrEqual, .greaterOrEqual, .less, .greater]
    where value.hasPrefix(comparison.rawValue) {
      let number = value.dropFirst(comparison.rawValue.count)
      guard let bound = Double(number), bound.isFinite,
        number.allSatisfy({ "0123456789.-+eE".contains($0) })
      else {
        throw LogQueryError(
          column: valueColumn + comparison.rawValue.count,
          message:
            "expected a number after '\(key):\(comparison.rawValue)', e.g. \(key):\(comparison.rawValue)500"
        )
      }
      return .field(key, .compare(comparison, bound))
    }
    if value.hasSuffix("*"), value.count > 1 {
      return .field(key, .prefix(String(value.dropLast()).lowercased()))
    }
    return .field(key, .equals(value.lowercased()))
  }

  /// Message text: one word, a prefix (`word*`), or several words (a phrase: a quoted
  /// text, or a bare one with separators such as `/api/v1`).
  static func textTerm(_ text: String, exact: Bool) -> LogQuery {
    if !exact, text.hasSuffix("*"), text.count > 1 {
      let words = SearchText.words(String(text.dropLast()))
      if words.count == 1 { return .word(words[0], prefix: true) }
    }
    let words = SearchText.words(text)
    switch words.count {
    case 0: return .all
    case 1: return .word(words[0], prefix: false)
    default: return .phrase(words)
    }
  }
}
