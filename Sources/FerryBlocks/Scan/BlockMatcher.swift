import FerryCore

/// A search compiled for blocks: which events of a ``BlockView`` match, tested on the
/// block's bytes. Words every match must hold are looked for in each ASCII message with a
/// ``WordFinder``; when the query is only such words and field tests (the usual case),
/// that decides; otherwise the events that pass are checked by the query language's own
/// rules on their words and fields, as are messages with non-ASCII text, so every path
/// gives the answer ``LogQuery/matches(words:fields:)`` gives.
public struct BlockMatcher: Sendable {
  let query: LogQuery
  /// Field values that must be exactly as given (``EventQuery/fields``).
  let exactFields: [(name: String, value: [UInt8])]
  /// Words every matching event holds.
  let required: [WordFinder]
  /// Field tests every matching event passes, when `decidedByBytes`.
  let fieldTests: [(name: String, test: LogQuery.FieldTest)]
  /// Whether `required` and `fieldTests` are the whole query (for ASCII messages).
  let decidedByBytes: Bool

  /// `words` must all appear (``EventQuery/text``), `fields` must be exactly as given,
  /// and `query` must match.
  public init(query: LogQuery, words: [String], fields: [String: String]) {
    let conjuncts = words.map { LogQuery.word($0, prefix: false) } + Self.conjuncts(query)
    self.query = .and(conjuncts)
    exactFields = fields.sorted { $0.key < $1.key }.map { ($0.key, Array($0.value.utf8)) }
    var required: [WordFinder] = []
    var tests: [(String, LogQuery.FieldTest)] = []
    var decided = true
    for part in conjuncts {
      switch part {
      case .word(let word, prefix: false):
        if let finder = WordFinder(word) { required.append(finder) } else { decided = false }
      case .phrase(let phrase):
        required += phrase.compactMap(WordFinder.init)
        decided = false
      case .field(let name, .equals(let value)): tests.append((name, .equals(value)))
      case .field(let name, .exists): tests.append((name, .exists))
      default: decided = false
      }
    }
    self.required = required
    fieldTests = tests
    decidedByBytes = decided
  }

  static func conjuncts(_ query: LogQuery) -> [LogQuery] {
    switch query {
    case .all: return []
    case .and(let parts): return parts.flatMap(conjuncts)
    default: return [query]
    }
  }

  /// The events among `candidates` (indexes into `view`) that match, in the order given.
  public func select(_ view: BlockView, _ candidates: [Int]) -> [Int] {
    var exact: [(name: Int32, value: [UInt8])] = []
    for field in exactFields {
      guard let name = view.nameIndex(field.name) else { return [] }
      exact.append((name, field.value))
    }
    var tests: [(name: Int32, test: LogQuery.FieldTest)] = []
    for field in fieldTests {
      guard let name = view.nameIndex(field.name) else { return [] }
      tests.append((name, field.test))
    }
    var out: [Int] = []
    view.raw.withUnsafeBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return }
      for i in candidates {
        guard exact.allSatisfy({ view.value(i, name: $0.name, base: base, equals: $0.value) })
        else { continue }
        if view.nonASCII[i] {
          if matchesByRules(view, i) { out.append(i) }
          continue
        }
        let start = view.messageStarts[i]
        let length = Int(view.messageLengths[i])
        guard required.allSatisfy({ $0.occurs(in: base, start: start, length: length) })
        else { continue }
        if decidedByBytes {
          if tests.allSatisfy({ view.passes(i, name: $0.name, $0.test, base: base) }) {
            out.append(i)
          }
        } else if matchesByRules(view, i) {
          out.append(i)
        }
      }
    }
    return out
  }

  func matchesByRules(_ view: BlockView, _ i: Int) -> Bool {
    query.matches(words: SearchText.words(view.message(i)), fields: view.fields(i))
  }
}

extension BlockView {
  /// Whether event `i` has field `name` with exactly `value`.
  func value(_ i: Int, name: Int32, base: UnsafePointer<UInt8>, equals value: [UInt8]) -> Bool {
    for f in Int(firstField[i])..<Int(firstField[i + 1]) where fieldNames[f] == name {
      guard Int(fieldLengths[f]) == value.count else { return false }
      let start = fieldStarts[f]
      for j in 0..<value.count where base[start + j] != value[j] { return false }
      return true
    }
    return false
  }

  /// Whether event `i` passes a field test of the query language (values compared
  /// without regard to case).
  func passes(_ i: Int, name: Int32, _ test: LogQuery.FieldTest, base: UnsafePointer<UInt8>)
    -> Bool
  {
    for f in Int(firstField[i])..<Int(firstField[i + 1]) where fieldNames[f] == name {
      switch test {
      case .exists: return true
      case .equals(let expected):
        let start = fieldStarts[f]
        let length = Int(fieldLengths[f])
        var ascii = true
        for j in 0..<length where base[start + j] >= 0x80 { ascii = false }
        guard ascii else { return text(start, fieldLengths[f]).lowercased() == expected }
        var j = 0
        for byte in expected.utf8 {
          guard j < length, WordFinder.lower(base[start + j]) == byte else { return false }
          j += 1
        }
        return j == length
      default:
        return LogQuery.field(dictionary[Int(name)], test).matches(words: [], fields: fields(i))
      }
    }
    return false
  }
}
