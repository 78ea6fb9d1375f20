import Foundation

/// Evaluates a statement's `Condition` block against a request, by AWS's rules: every
/// operator and key must hold (AND); any of a key's values may match (OR); a missing key
/// fails a positive operator and satisfies a negated one; `IfExists` is satisfied by a
/// missing key; `ForAllValues` is satisfied by an empty or missing set, `ForAnyValue` is not.
enum ConditionEvaluator {
  static func holds(_ block: ConditionBlock, context: RequestContext, variables: RequestContext?)
    -> Bool
  {
    block.entries.allSatisfy { holds($0, context: context, variables: variables) }
  }

  static func holds(
    _ entry: ConditionBlock.Entry, context: RequestContext, variables: RequestContext?
  )
    -> Bool
  {
    let requestValues = context.values(entry.key) ?? []
    let base = entry.op.base
    if base == .null {
      let absent = requestValues.isEmpty
      return entry.values.contains { ($0.text.lowercased() == "true") == absent }
    }
    if requestValues.isEmpty {
      if entry.op.ifExists { return true }
      switch entry.op.qualifier {
      case .forAllValues: return true
      case .forAnyValue: return false
      case nil: return base.isNegated
      }
    }
    // Whether one request value satisfies the operator (negation applied per value).
    let satisfies: (String) -> Bool = { requestValue in
      let positive = entry.values.contains {
        compare(base, requestValue: requestValue, policyValue: $0.text, variables: variables)
      }
      return base.isNegated ? !positive : positive
    }
    switch entry.op.qualifier {
    case .forAllValues: return requestValues.allSatisfy(satisfies)
    case .forAnyValue: return requestValues.contains(where: satisfies)
    case nil:
      // A negated operator holds only if no request value matches any policy value.
      return base.isNegated
        ? requestValues.allSatisfy(satisfies) : requestValues.contains(where: satisfies)
    }
  }

  /// The positive comparison behind an operator (`StringNotLike` compares as `StringLike`).
  static func compare(
    _ base: ConditionOperator.Base, requestValue: String, policyValue: String,
    variables: RequestContext?
  ) -> Bool {
    switch base {
    case .stringEquals, .stringNotEquals:
      guard let p = Pattern(policyValue, wildcards: false, variables: variables) else {
        return false
      }
      return p.matches(requestValue)
    case .stringEqualsIgnoreCase, .stringNotEqualsIgnoreCase:
      guard let p = Pattern(policyValue, wildcards: false, variables: variables, lowercase: true)
      else { return false }
      return p.matches(requestValue.lowercased())
    case .stringLike, .stringNotLike:
      return wildcardMatch(policyValue, requestValue, variables: variables)
    case .numericEquals, .numericNotEquals, .numericLessThan, .numericLessThanEquals,
      .numericGreaterThan, .numericGreaterThanEquals:
      guard let r = Double(requestValue), let p = Double(policyValue) else { return false }
      return order(base, r, p)
    case .dateEquals, .dateNotEquals, .dateLessThan, .dateLessThanEquals, .dateGreaterThan,
      .dateGreaterThanEquals:
      guard let r = PolicyDate.parse(requestValue), let p = PolicyDate.parse(policyValue) else {
        return false
      }
      return order(base, r, p)
    case .bool:
      return requestValue.lowercased() == policyValue.lowercased()
    case .binaryEquals:
      return requestValue == policyValue
    case .ipAddress, .notIpAddress:
      guard let range = IPRange(policyValue), let address = IPRange(requestValue) else {
        return false
      }
      return range.contains(address)
    case .arnEquals, .arnLike, .arnNotEquals, .arnNotLike:
      // ARNs compare component by component, each with wildcards.
      let r = requestValue.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
      let p = policyValue.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
      guard r.count == 6, p.count == 6 else { return false }
      return zip(p, r).allSatisfy { wildcardMatch(String($0), String($1), variables: variables) }
    case .null:
      return false
    }
  }

  private static func order<T: Comparable>(_ base: ConditionOperator.Base, _ r: T, _ p: T) -> Bool {
    switch base {
    case .numericEquals, .numericNotEquals, .dateEquals, .dateNotEquals: r == p
    case .numericLessThan, .dateLessThan: r < p
    case .numericLessThanEquals, .dateLessThanEquals: r <= p
    case .numericGreaterThan, .dateGreaterThan: r > p
    case .numericGreaterThanEquals, .dateGreaterThanEquals: r >= p
    default: false
    }
  }
}

/// Dates in conditions: ISO 8601 (`2020-01-01`, `2020-01-01T12:00:00Z`, with fraction or
/// offset) or seconds since the epoch. Compared as seconds since the epoch.
enum PolicyDate {
  static func parse(_ text: String) -> Double? {
    if let epoch = Double(text), !text.contains("-") { return epoch }
    let chars = Array(text)
    func number(_ from: Int, _ count: Int) -> Int? {
      guard from + count <= chars.count else { return nil }
      return Int(String(chars[from..<(from + count)]))
    }
    guard let year = number(0, 4), chars.count >= 10, chars[4] == "-", chars[7] == "-",
      let month = number(5, 2), let day = number(8, 2), (1...12).contains(month),
      (1...31).contains(day)
    else { return nil }
    var seconds = Double(daysFromCivil(year, month, day)) * 86_400
    guard chars.count > 10 else { return seconds }
    guard chars[10] == "T" || chars[10] == " ", let h = number(11, 2), chars.count >= 16,
      let m = number(14, 2)
    else { return nil }
    var i = 16
    var s = 0.0
    if i < chars.count, chars[i] == ":" {
      guard let sec = number(17, 2) else { return nil }
      s = Double(sec)
      i = 19
      if i < chars.count, chars[i] == "." {
        var j = i + 1
        while j < chars.count, chars[j].isNumber { j += 1 }
        s += Double("0" + String(chars[i..<j])) ?? 0
        i = j
      }
    }
    seconds += Double(h * 3600 + m * 60) + s
    guard i < chars.count else { return seconds }
    if chars[i] == "Z" { return i + 1 == chars.count ? seconds : nil }
    guard chars[i] == "+" || chars[i] == "-", let oh = number(i + 1, 2) else { return nil }
    let om = chars.count >= i + 6 ? (number(i + 4, 2) ?? number(i + 3, 2) ?? 0) : 0
    let offset = Double(oh * 3600 + om * 60)
    return chars[i] == "+" ? seconds - offset : seconds + offset
  }

  /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
  static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }
}

/// An IPv4 or IPv6 address or CIDR range, for `IpAddress` and `NotIpAddress`.
struct IPRange: Sendable, Equatable {
  var bytes: [UInt8]
  var prefixLength: Int

  init?(_ text: String) {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count <= 2, let address = Self.parseAddress(String(parts[0])) else { return nil }
    bytes = address
    if parts.count == 2 {
      guard let length = Int(parts[1]), (0...(address.count * 8)).contains(length) else {
        return nil
      }
      prefixLength = length
    } else {
      prefixLength = address.count * 8
    }
  }

  func contains(_ other: IPRange) -> Bool {
    guard bytes.count == other.bytes.count else { return false }
    var remaining = prefixLength
    for (a, b) in zip(bytes, other.bytes) where remaining > 0 {
      let bits = min(8, remaining)
      let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
      if a & mask != b & mask { return false }
      remaining -= bits
    }
    return true
  }

  static func parseAddress(_ text: String) -> [UInt8]? {
    if !text.contains(":") { return parseIPv4(text) }
    var head: [UInt8] = []
    var tail: [UInt8] = []
    let halves = text.components(separatedBy: "::")
    guard halves.count <= 2 else { return nil }
    func groups(_ s: String) -> [UInt8]? {
      guard !s.isEmpty else { return [] }
      var out: [UInt8] = []
      let pieces = s.split(separator: ":", omittingEmptySubsequences: false)
      for (i, piece) in pieces.enumerated() {
        if i == pieces.count - 1, piece.contains(".") {
          guard let v4 = parseIPv4(String(piece)) else { return nil }
          out += v4
        } else {
          guard (1...4).contains(piece.count), let v = UInt16(piece, radix: 16) else { return nil }
          out += [UInt8(v >> 8), UInt8(v & 0xFF)]
        }
      }
      return out
    }
    guard let h = groups(halves[0]) else { return nil }
    head = h
    if halves.count == 2 {
      guard let t = groups(halves[1]) else { return nil }
      tail = t
      guard head.count + tail.count < 16 else { return nil }
      return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }
    return head.count == 16 ? head : nil
  }

  static func parseIPv4(_ text: String) -> [UInt8]? {
    let octets = text.split(separator: ".", omittingEmptySubsequences: false)
    guard octets.count == 4 else { return nil }
    var out: [UInt8] = []
    for octet in octets {
      guard !octet.isEmpty, octet.count <= 3, let v = UInt8(octet) else { return nil }
      out.append(v)
    }
    return out
  }
}
