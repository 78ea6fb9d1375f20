/// A regular expression (``PatternParser``'s syntax) compiled to a Thompson automaton and
/// searched as a Pike machine: every position of the text is visited once with the set of
/// states alive there, so a search costs at most (scalars of the text) × (states of the
/// program), whatever the pattern and the text. `^(a+)+$` on a line of `a`s and a `b`
/// takes microseconds, where a backtracking engine takes longer than the age of the sun.
public struct LinearPattern: Sendable {
  /// States a compiled pattern may have (counted repetitions are expanded).
  public static let maxStates = 4096

  enum Instruction: Sendable {
    case scalars(ScalarSet)
    case assertion(PatternAssertion)
    /// Go on at both (the first preferred; preference does not change whether it matches).
    case split(Int, Int)
    case jump(Int)
    case match
  }

  let program: [Instruction]

  /// The pattern compiled, or why it is refused (with the column).
  public init(_ pattern: String) throws(ParseError) {
    var parser = PatternParser(pattern)
    let tree: PatternNode
    do {
      tree = try parser.parse()
    } catch {
      throw ParseError(
        "the multiline start pattern is not a regular expression Ferry reads, \(error)")
    }
    var compiler = PatternCompiler(ignoreCase: parser.ignoreCase)
    guard compiler.emit(tree), compiler.program.count < Self.maxStates else {
      throw ParseError(
        "the multiline start pattern is too large once its counted repetitions ({n,m}) are expanded (more than \(Self.maxStates) states); use smaller counts"
      )
    }
    compiler.program.append(.match)
    program = compiler.program
  }

  /// Whether the pattern matches somewhere in the text. `textEnds` says whether the text
  /// is the whole line (so that `$` may match at its end) or only its first part.
  public func firstMatch(in text: String.UnicodeScalarView, textEnds: Bool = true) -> Bool {
    var search = PikeSearch(program: program)
    return search.run(Array(text), textEnds: textEnds)
  }
}

/// Turns a tree into instructions.
private struct PatternCompiler {
  let ignoreCase: Bool
  var program: [LinearPattern.Instruction] = []

  /// False once the program grows past the limit (compiling stops there).
  mutating func emit(_ node: PatternNode) -> Bool {
    guard program.count < LinearPattern.maxStates else { return false }
    switch node {
    case .empty:
      return true
    case .scalars(let set):
      program.append(.scalars(ignoreCase ? set.ignoringASCIICase : set))
      return true
    case .assertion(let assertion):
      program.append(.assertion(assertion))
      return true
    case .sequence(let items):
      for item in items where !emit(item) { return false }
      return true
    case .alternatives(let options):
      // split L1, next; L1: option; jump end; next: split L2, …
      var jumps: [Int] = []
      for (number, option) in options.enumerated() {
        if number < options.count - 1 {
          let split = program.count
          program.append(.jump(0))
          guard emit(option) else { return false }
          jumps.append(program.count)
          program.append(.jump(0))
          program[split] = .split(split + 1, program.count)
        } else {
          guard emit(option) else { return false }
        }
      }
      for jump in jumps { program[jump] = .jump(program.count) }
      return true
    case .repeated(let inner, let min, let max):
      for _ in 0..<min where !emit(inner) { return false }
      if let max {
        // Each optional copy: split body, end.
        var splits: [Int] = []
        for _ in min..<max {
          splits.append(program.count)
          program.append(.jump(0))
          guard emit(inner) else { return false }
        }
        for split in splits { program[split] = .split(split + 1, program.count) }
      } else {
        // loop: split body, end; body; jump loop
        let loop = program.count
        program.append(.jump(0))
        guard emit(inner) else { return false }
        program.append(.jump(loop))
        program[loop] = .split(loop + 1, program.count)
      }
      return true
    }
  }
}

/// One search: the states alive at the current position, without duplicates.
private struct PikeSearch {
  let program: [LinearPattern.Instruction]
  var current: [Int] = []
  var next: [Int] = []
  /// The generation in which each state was last added (a set cleared in O(1)).
  var seen: [Int]
  var generation = 0
  var stack: [Int] = []

  init(program: [LinearPattern.Instruction]) {
    self.program = program
    seen = Array(repeating: -1, count: program.count)
  }

  mutating func run(_ text: [Unicode.Scalar], textEnds: Bool) -> Bool {
    for position in 0...text.count {
      generation += 1
      // The states carried from the previous position, then a new start (the search is
      // not anchored), each followed through its jumps and assertions.
      var carried: [Int] = []
      swap(&carried, &next)
      next.removeAll(keepingCapacity: true)
      current.removeAll(keepingCapacity: true)
      for state in carried where add(state, at: position, in: text, textEnds: textEnds) {
        return true
      }
      if add(0, at: position, in: text, textEnds: textEnds) { return true }
      guard position < text.count else { return false }
      let scalar = text[position].value
      for state in current {
        if case .scalars(let set) = program[state], set.contains(scalar) {
          next.append(state + 1)
        }
      }
    }
    return false
  }

  /// Adds a state and every state reached from it without consuming; true on a match.
  private mutating func add(
    _ state: Int, at position: Int, in text: [Unicode.Scalar], textEnds: Bool
  ) -> Bool {
    stack.append(state)
    while let state = stack.popLast() {
      guard seen[state] != generation else { continue }
      seen[state] = generation
      switch program[state] {
      case .match:
        stack.removeAll(keepingCapacity: true)
        return true
      case .jump(let target):
        stack.append(target)
      case .split(let first, let second):
        stack.append(second)
        stack.append(first)
      case .assertion(let assertion):
        if holds(assertion, at: position, in: text, textEnds: textEnds) {
          stack.append(state + 1)
        }
      case .scalars:
        current.append(state)
      }
    }
    return false
  }

  private func holds(
    _ assertion: PatternAssertion, at position: Int, in text: [Unicode.Scalar], textEnds: Bool
  ) -> Bool {
    func isWord(_ index: Int) -> Bool {
      index >= 0 && index < text.count && ScalarSet.word.contains(text[index].value)
    }
    switch assertion {
    case .start: return position == 0
    case .end: return position == text.count && textEnds
    case .wordBoundary: return isWord(position - 1) != isWord(position)
    case .notWordBoundary: return isWord(position - 1) == isWord(position)
    }
  }
}
