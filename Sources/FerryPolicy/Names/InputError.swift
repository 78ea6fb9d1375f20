/// A value a person typed that AWS would refuse: which field, what was wrong, how to fix it.
public struct InputError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The field, as the user knows it (`--bucket`, `roleArn`, `Resource`).
  public var field: String
  public var problem: String
  public var fix: String

  public init(field: String, problem: String, fix: String) {
    self.field = field
    self.problem = problem
    self.fix = fix
  }

  public var description: String { "\(field): \(problem). \(fix)" }

  /// The same error reported against another field name (an API field or CLI option).
  public func named(_ field: String) -> InputError {
    InputError(field: field, problem: problem, fix: fix)
  }
}
