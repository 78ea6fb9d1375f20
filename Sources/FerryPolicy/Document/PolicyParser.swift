import Foundation

/// Why a text is not a policy document: where (a JSON path such as `Statement[1].Effect`),
/// what was wrong, and how to fix it.
public struct PolicyParseError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The JSON path of the offending element; empty for the document itself.
  public let path: String
  public let message: String

  public init(path: String, message: String) {
    self.path = path
    self.message = message
  }

  public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

extension PolicyDocument {
  /// Parses a policy document from JSON text.
  public static func parse(_ text: String) throws(PolicyParseError) -> PolicyDocument {
    try parse(Data(text.utf8))
  }

  /// Parses a policy document from UTF-8 JSON.
  public static func parse(_ data: Data) throws(PolicyParseError) -> PolicyDocument {
    let value: JSONValue
    do {
      value = try JSONValue.parse(data)
    } catch {
      throw PolicyParseError(path: "", message: error.description)
    }
    return try PolicyDocument(json: value)
  }

  /// Reads a policy document from a parsed JSON value.
  public init(json: JSONValue) throws(PolicyParseError) {
    var reader = Reader()
    self = try reader.document(json)
  }
}

private struct Reader {
  static let topKeys = ["Version", "Id", "Statement"]
  static let statementKeys = [
    "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
    "NotResource", "Condition",
  ]

  static func isSidByte(_ c: UInt8) -> Bool {
    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
  }

  mutating func document(_ json: JSONValue) throws(PolicyParseError) -> PolicyDocument {
    guard case .object(let pairs) = json else {
      throw PolicyParseError(
        path: "",
        message:
          "expected a policy document (a JSON object with \"Version\" and \"Statement\"), found \(json.typeName)"
      )
    }
    try rejectUnknownKeys(pairs, allowed: Self.topKeys, path: "")
    let version = try optionalString(json["Version"], path: "Version")
    let id = try optionalString(json["Id"], path: "Id")
    guard let statementJSON = json["Statement"] else {
      throw PolicyParseError(
        path: "Statement",
        message: "missing: a policy needs a \"Statement\" with at least one statement")
    }
    var statements: [Statement] = []
    var isArray = true
    switch statementJSON {
    case .array(let items):
      guard !items.isEmpty else {
        throw PolicyParseError(
          path: "Statement", message: "empty: a policy needs at least one statement")
      }
      for (i, item) in items.enumerated() {
        statements.append(try statement(item, path: "Statement[\(i)]"))
      }
    case .object:
      isArray = false
      statements.append(try statement(statementJSON, path: "Statement"))
    default:
      throw PolicyParseError(
        path: "Statement",
        message: "expected a statement object or an array of them, found \(statementJSON.typeName)"
      )
    }
    return PolicyDocument(
      version: version, id: id, statements: statements, statementIsArray: isArray)
  }

  func statement(_ json: JSONValue, path: String) throws(PolicyParseError) -> Statement {
    guard case .object(let pairs) = json else {
      throw PolicyParseError(
        path: path, message: "expected a statement object, found \(json.typeName)")
    }
    try rejectUnknownKeys(pairs, allowed: Self.statementKeys, path: path)
    let sid = try optionalString(json["Sid"], path: "\(path).Sid")
    guard let effectJSON = json["Effect"] else {
      throw PolicyParseError(
        path: "\(path).Effect", message: "missing: add \"Effect\": \"Allow\" or \"Deny\"")
    }
    guard case .string(let effectText) = effectJSON, let effect = Effect(rawValue: effectText)
    else {
      let found = if case .string(let s) = effectJSON { "\"\(s)\"" } else { effectJSON.typeName }
      throw PolicyParseError(
        path: "\(path).Effect",
        message: "expected \"Allow\" or \"Deny\" (case-sensitive), found \(found)")
    }
    let principal = try json["Principal"].map { v throws(PolicyParseError) in
      try self.principal(v, path: "\(path).Principal")
    }
    let notPrincipal = try json["NotPrincipal"].map { v throws(PolicyParseError) in
      try self.principal(v, path: "\(path).NotPrincipal")
    }
    let action = try optionalList(json["Action"], path: "\(path).Action")
    let notAction = try optionalList(json["NotAction"], path: "\(path).NotAction")
    let resource = try optionalList(json["Resource"], path: "\(path).Resource")
    let notResource = try optionalList(json["NotResource"], path: "\(path).NotResource")
    try exclusive(principal != nil, notPrincipal != nil, "Principal", "NotPrincipal", path)
    try exclusive(action != nil, notAction != nil, "Action", "NotAction", path)
    try exclusive(resource != nil, notResource != nil, "Resource", "NotResource", path)
    if action == nil && notAction == nil {
      throw PolicyParseError(
        path: "\(path).Action",
        message: "missing: a statement needs \"Action\" (or \"NotAction\"), e.g. \"s3:GetObject\"")
    }
    for (name, list) in [("Action", action), ("NotAction", notAction)] {
      for (i, value) in (list?.values ?? []).enumerated() where value != "*" {
        guard value.split(separator: ":", omittingEmptySubsequences: false).count == 2,
          !value.hasPrefix(":"), !value.hasSuffix(":")
        else {
          throw PolicyParseError(
            path: list?.isSingle == true ? "\(path).\(name)" : "\(path).\(name)[\(i)]",
            message:
              "\"\(value)\" is not an action: write service:Action, e.g. \"s3:GetObject\", or \"*\""
          )
        }
      }
    }
    let condition = try json["Condition"].map { v throws(PolicyParseError) in
      try self.condition(v, path: "\(path).Condition")
    }
    // IAM (identity and trust policies) allows only ASCII letters and digits in a Sid; some
    // services' resource policies (S3 bucket policies) allow more.
    let isIAMPolicy =
      (principal == nil && notPrincipal == nil)
      || (action?.values ?? []).contains { $0.lowercased().hasPrefix("sts:") }
    if isIAMPolicy, let sid, !sid.utf8.allSatisfy(Self.isSidByte) {
      throw PolicyParseError(
        path: "\(path).Sid",
        message:
          "\"\(sid)\" is not a Sid IAM accepts: use only the letters A-Z, a-z and the digits 0-9 (no spaces, hyphens or underscores)"
      )
    }
    return Statement(
      sid: sid, effect: effect, principal: principal, notPrincipal: notPrincipal,
      action: action, notAction: notAction, resource: resource, notResource: notResource,
      condition: condition)
  }

  func principal(_ json: JSONValue, path: String) throws(PolicyParseError) -> Principal {
    switch json {
    case .string("*"): return .everyone
    case .object(let pairs):
      guard !pairs.isEmpty else {
        throw PolicyParseError(path: path, message: "empty: name at least one principal")
      }
      var map: [PrincipalType: StringList] = [:]
      for (key, value) in pairs {
        guard let type = PrincipalType(rawValue: key) else {
          throw PolicyParseError(
            path: "\(path).\(key)",
            message:
              "unknown principal type; use one of AWS, Service, Federated, CanonicalUser."
              + Suggestion.hint(for: key, in: PrincipalType.allCases.map(\.rawValue)))
        }
        guard let list = try optionalList(value, path: "\(path).\(key)") else { continue }
        map[type] = list
      }
      return .specific(map)
    case .string(let s):
      throw PolicyParseError(
        path: path,
        message:
          "a principal is \"*\" or an object such as {\"AWS\": \"\(s)\"}, found the string \"\(s)\""
      )
    default:
      throw PolicyParseError(
        path: path, message: "expected \"*\" or an object of principals, found \(json.typeName)")
    }
  }

  func condition(_ json: JSONValue, path: String) throws(PolicyParseError) -> ConditionBlock {
    guard case .object(let operators) = json else {
      throw PolicyParseError(
        path: path,
        message:
          "expected an object of operators, e.g. {\"StringEquals\": {\"sts:ExternalId\": \"…\"}}, found \(json.typeName)"
      )
    }
    var entries: [ConditionBlock.Entry] = []
    for (name, keysJSON) in operators {
      let opPath = "\(path).\(name)"
      guard let op = ConditionOperator(name: name) else {
        let bare = name.split(separator: ":").last.map(String.init) ?? name
        let stripped = bare.hasSuffix("IfExists") ? String(bare.dropLast(8)) : bare
        throw PolicyParseError(
          path: opPath,
          message: "unknown condition operator \"\(name)\"."
            + Suggestion.hint(for: stripped, in: ConditionOperator.knownNames))
      }
      guard case .object(let keys) = keysJSON, !keys.isEmpty else {
        throw PolicyParseError(
          path: opPath,
          message: "expected an object of condition keys and values, found \(keysJSON.typeName)")
      }
      for (key, valueJSON) in keys {
        let keyPath = "\(opPath).\(key)"
        switch valueJSON {
        case .array(let items):
          guard !items.isEmpty else {
            throw PolicyParseError(path: keyPath, message: "empty: give at least one value")
          }
          var values: [ConditionValue] = []
          for (i, item) in items.enumerated() {
            values.append(try conditionValue(item, path: "\(keyPath)[\(i)]"))
          }
          entries.append(ConditionBlock.Entry(op, key, values))
        default:
          entries.append(
            ConditionBlock.Entry(
              op, key, [try conditionValue(valueJSON, path: keyPath)], isSingle: true))
        }
      }
    }
    return ConditionBlock(entries)
  }

  func conditionValue(_ json: JSONValue, path: String) throws(PolicyParseError) -> ConditionValue {
    switch json {
    case .string(let s): return .string(s)
    case .number(let n): return .number(n)
    case .bool(let b): return .bool(b)
    default:
      throw PolicyParseError(
        path: path, message: "expected a string, number or boolean, found \(json.typeName)")
    }
  }

  func optionalString(_ json: JSONValue?, path: String) throws(PolicyParseError) -> String? {
    guard let json else { return nil }
    guard case .string(let s) = json else {
      throw PolicyParseError(path: path, message: "expected a string, found \(json.typeName)")
    }
    return s
  }

  func optionalList(_ json: JSONValue?, path: String) throws(PolicyParseError) -> StringList? {
    guard let json else { return nil }
    switch json {
    case .string(let s): return StringList([s], isSingle: true)
    case .array(let items):
      guard !items.isEmpty else {
        throw PolicyParseError(path: path, message: "empty: give at least one value")
      }
      var values: [String] = []
      for (i, item) in items.enumerated() {
        guard case .string(let s) = item else {
          throw PolicyParseError(
            path: "\(path)[\(i)]", message: "expected a string, found \(item.typeName)")
        }
        values.append(s)
      }
      return StringList(values)
    default:
      throw PolicyParseError(
        path: path, message: "expected a string or an array of strings, found \(json.typeName)")
    }
  }

  func exclusive(
    _ a: Bool, _ b: Bool, _ nameA: String, _ nameB: String, _ path: String
  ) throws(PolicyParseError) {
    if a && b {
      throw PolicyParseError(
        path: "\(path).\(nameB)",
        message: "a statement has either \"\(nameA)\" or \"\(nameB)\", not both")
    }
  }

  func rejectUnknownKeys(
    _ pairs: [(key: String, value: JSONValue)], allowed: [String], path: String
  ) throws(PolicyParseError) {
    for (key, _) in pairs where !allowed.contains(key) {
      let keyPath = path.isEmpty ? key : "\(path).\(key)"
      throw PolicyParseError(
        path: keyPath,
        message: "unknown element \"\(key)\"."
          + (Suggestion.closest(to: key, in: allowed).map { " Did you mean \"\($0)\"?" }
            ?? " Allowed here: \(allowed.joined(separator: ", ")).")
      )
    }
  }
}
