import Foundation

/// Trust policies: who may assume the role, and whether the external ID is pinned.
///
/// The external ID is what stops another customer of the platform from making it assume
/// this role (the confused deputy problem). It protects only when the condition accepts
/// exactly the account's own ID: a pattern, a negation, a set operator, an `IfExists` or a
/// `Null` test lets other IDs, or no ID at all, through.
extension PolicyLinter {
  static func lintPrincipal(_ statement: Statement, add: Add) {
    guard let principal = statement.principal, statement.effect == .allow else { return }
    let everyone = principal == .everyone || principal.values(of: .aws).contains("*")
    if everyone {
      let constrained = statement.condition?.entries.isEmpty == false
      add(
        constrained ? .warning : .error, "wildcard-principal",
        "the principal \"*\" lets anyone, in any AWS account, use this statement\(constrained ? " when its condition holds" : "").",
        "Name the account or role that needs access, e.g. {\"AWS\": \"arn:aws:iam::123456789012:root\"}."
      )
    }
  }

  static let confusedDeputy =
    "The external ID is what keeps another customer of the platform from making it assume this role (the confused deputy problem); it protects only when the condition accepts exactly your own ID."

  static func lintTrust(_ statement: Statement, externalID expected: String?, add: Add) {
    guard statement.effect == .allow, let principal = statement.principal else { return }
    let awsPrincipals = principal.values(of: .aws)
    let assumes = (statement.action?.values ?? []).contains {
      wildcardMatch($0, "sts:AssumeRole", caseInsensitive: true)
    }
    guard assumes, !awsPrincipals.isEmpty else { return }
    let entries = (statement.condition?.entries ?? []).filter {
      $0.key.lowercased() == "sts:externalid"
    }
    if entries.isEmpty {
      add(
        .error, "trust-without-external-id",
        "the trust policy lets \(awsPrincipals.joined(separator: ", ")) assume the role without an external ID. \(confusedDeputy)",
        "Add \"Condition\": {\"StringEquals\": {\"sts:ExternalId\": \"YOUR-EXTERNAL-ID\"}}.")
      return
    }
    let pinned = entries.filter(pinsExactly)
    for entry in entries where !pinsExactly(entry) {
      add(
        pinned.isEmpty ? .error : .warning, "external-id-not-pinned",
        "\"\(entry.op.name)\" on sts:ExternalId \(weakness(of: entry))\(pinned.isEmpty ? ". \(confusedDeputy)" : "; another condition pins the ID, so this one adds nothing.")",
        "Use \"StringEquals\": {\"sts:ExternalId\": \"YOUR-EXTERNAL-ID\"}, with the exact ID and no wildcard, set operator, IfExists or Null."
      )
    }
    // The IDs the pinning conditions accept (all must hold, so any one entry's values).
    guard let values = pinned.first?.values.map(\.text) else { return }
    if let expected {
      if !values.contains(where: { bytesEqual($0, expected) }) {
        add(
          .error, "external-id-not-accounts",
          "the trust policy requires \(values.map { "\"\($0)\"" }.joined(separator: " or ")), not this account's generated external ID.",
          "Require the account's external ID: \"sts:ExternalId\": \"\(expected)\".")
        return
      }
      let others = values.filter { !bytesEqual($0, expected) }
      if !others.isEmpty {
        add(
          .warning, "external-id-also-accepts",
          "besides this account's external ID, the trust policy also accepts \(others.map { "\"\($0)\"" }.joined(separator: ", ")).",
          "Once every configuration uses the generated ID, remove the other values.")
      }
    }
    for value in values where expected.map({ !bytesEqual(value, $0) }) ?? true {
      if let problem = ExternalIDStrength.weakness(value) {
        add(
          .warning, "external-id-guessable",
          "the external ID \"\(value)\" is guessable: \(problem).",
          "Use the long random external ID the platform generated for your account, never one you chose."
        )
      }
    }
  }

  /// Whether a condition entry accepts only the exact IDs it lists, and only when an ID is
  /// presented.
  static func pinsExactly(_ entry: ConditionBlock.Entry) -> Bool {
    guard entry.op.qualifier == nil, !entry.op.ifExists else { return false }
    let values = entry.values.map(\.text)
    guard !values.contains(where: { $0.contains("${") }) else { return false }
    switch entry.op.base {
    case .stringEquals: return true
    case .stringLike: return !values.contains { $0.contains("*") || $0.contains("?") }
    default: return false
    }
  }

  private static func weakness(of entry: ConditionBlock.Entry) -> String {
    let values = entry.values.map { "\"\($0.text)\"" }.joined(separator: ", ")
    if entry.op.base == .null {
      return "tests only whether an ID is sent, not which one, so any ID is accepted"
    }
    if entry.op.qualifier == .forAllValues {
      return "is satisfied when no external ID is sent at all (ForAllValues holds for an empty set)"
    }
    if entry.op.qualifier == .forAnyValue {
      return "applies a set operator to a single-valued key, which AWS advises against"
    }
    if entry.op.ifExists {
      return "is satisfied when no external ID is sent at all (IfExists)"
    }
    if entry.op.base.isNegated {
      return "accepts every ID except \(values)"
    }
    if entry.values.contains(where: { $0.text.contains("${") }) {
      return "takes its value from a policy variable, which the caller may control"
    }
    switch entry.op.base {
    case .stringLike:
      return
        "accepts every ID that matches the pattern \(values), including IDs other customers can choose"
    case .stringEqualsIgnoreCase:
      return "ignores case, which accepts IDs that differ from yours"
    default:
      return "does not compare the ID as an exact string"
    }
  }
}

/// Whether an external ID is too weak to stop a confused deputy: short, or with little
/// randomness (few distinct characters, repeated runs, digits only).
public enum ExternalIDStrength {
  /// Fewer estimated bits of randomness than this is guessable.
  public static let minimumBits = 64.0

  /// Why `value` is guessable, or nil when it looks random enough.
  public static func weakness(_ value: String) -> String? {
    // A generated ID is PREFIX:aws:extid:RANDOM; judge the part after the last colon.
    let random = value.split(separator: ":").last.map(String.init) ?? value
    let bytes = Array(random.utf8)
    if bytes.count < 16 {
      return "its random part has \(bytes.count) characters; use at least 16 random characters"
    }
    let bits = estimatedBits(bytes)
    if bits < minimumBits {
      return "it has about \(Int(bits)) bits of randomness; a generated ID has at least 128"
    }
    return nil
  }

  /// Shannon entropy of the characters times the length: a generous upper bound on the
  /// randomness, so a low figure is surely weak.
  static func estimatedBits(_ bytes: [UInt8]) -> Double {
    var counts: [UInt8: Int] = [:]
    for b in bytes { counts[b, default: 0] += 1 }
    let n = Double(bytes.count)
    var entropy = 0.0
    for count in counts.values {
      let p = Double(count) / n
      entropy -= p * log2(p)
    }
    return entropy * n
  }
}
