import Foundation

/// A parsed search: what an event must hold. One language for the API, the CLI and the UI
/// (docs/query-language.md), close to what log users already type (Lucene/Kibana and
/// LogsQL): words and "quoted phrases" (case-insensitive, on the words every search
/// shares), `field:value`, `field:"a b"`, `field:prefix*`, `field:*`, `field:>=500`,
/// `AND`, `OR`, `NOT` or `-`, and parentheses. The time range is given apart.
public indirect enum LogQuery: Sendable, Equatable {
  /// Every event (the empty query).
  case all
  /// A word of the message (`prefix` when written `word*`).
  case word(String, prefix: Bool)
  /// Words that follow one another in the message.
  case phrase([String])
  case field(String, FieldTest)
  case and([LogQuery])
  case or([LogQuery])
  case not(LogQuery)

  /// What a field's value must be. Values compare without regard to case.
  public enum FieldTest: Sendable, Equatable {
    case equals(String)
    case prefix(String)
    /// The field is present, whatever its value.
    case exists
    case compare(Comparison, Double)
  }

  public enum Comparison: String, Sendable, Equatable {
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
  }

  /// Parses a query; a malformed one throws a ``LogQueryError`` with the column.
  public static func parse(_ text: String) throws(LogQueryError) -> LogQuery {
    var parser = LogQueryParser(text)
    return try parser.parse()
  }
}

/// A query that does not parse: where (the 1-based column, in characters) and what was
/// expected there.
public struct LogQueryError: Error, Sendable, Equatable, CustomStringConvertible {
  public let column: Int
  public let message: String

  public init(column: Int, message: String) {
    self.column = column
    self.message = message
  }

  public var description: String { "the query is not valid at column \(column): \(message)" }
}

// MARK: - Matching

extension LogQuery {
  /// Whether an event matches. `words` are the message's words in order (``SearchText``).
  public func matches(words: [String], fields: Fields) -> Bool {
    switch self {
    case .all: return true
    case .word(let word, let prefix):
      return prefix ? words.contains { $0.hasPrefix(word) } : words.contains(word)
    case .phrase(let phrase):
      guard !phrase.isEmpty, phrase.count <= words.count else { return phrase.isEmpty }
      for start in 0...(words.count - phrase.count)
      where words[start] == phrase[0] && Array(words[start..<start + phrase.count]) == phrase {
        return true
      }
      return false
    case .field(let key, let test):
      guard let value = fields[key] else { return false }
      switch test {
      case .exists: return true
      case .equals(let expected): return value.lowercased() == expected
      case .prefix(let start): return value.lowercased().hasPrefix(start)
      case .compare(let comparison, let bound):
        guard let number = Double(value.trimmingCharacters(in: .whitespaces)), number.isFinite
        else { return false }
        switch comparison {
        case .less: return number < bound
        case .lessOrEqual: return number <= bound
        case .greater: return number > bound
        case .greaterOrEqual: return number >= bound
        }
      }
    case .and(let parts): return parts.allSatisfy { $0.matches(words: words, fields: fields) }
    case .or(let parts): return parts.contains { $0.matches(words: words, fields: fields) }
    case .not(let inner): return !inner.matches(words: words, fields: fields)
    }
  }

  /// Whether an event of a block may match, from the block's filter alone: false only when
  /// no event of the block can (a word or `field=value` the query needs is absent).
  public func mayMatch(hasWord: (String) -> Bool, hasField: (String, String) -> Bool) -> Bool {
    switch self {
    case .all, .not: return true
    case .word(let word, let prefix): return prefix || hasWord(word)
    case .phrase(let words): return words.allSatisfy(hasWord)
    case .field(let key, .equals(let value)): return hasField(key, value)
    case .field: return true
    case .and(let parts):
      return parts.allSatisfy { $0.mayMatch(hasWord: hasWord, hasField: hasField) }
    case .or(let parts):
      return parts.contains { $0.mayMatch(hasWord: hasWord, hasField: hasField) }
    }
  }
}
