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
      guard let r = PolicyNumber.parse(requestValue), let p = PolicyNumber.parse(policyValue)
      else { return false }
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
      return bytesEqual(requestValue, policyValue)
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

/// Numbers in conditions: decimal integers and decimals with an optional sign, as AWS's
/// numeric condition operators take them. Hexadecimal, exponents, `nan` and `inf` are not
/// numbers there, so a condition that compares them never holds.
enum PolicyNumber {
  static func parse(_ text: String) -> Double? {
    var bytes = Substring(text).utf8[...]
    if bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") {
      bytes = bytes.dropFirst()
    }
    let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
    guard (1...2).contains(parts.count),
      parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } })
    else { return nil }
    return Double(text)
  }
}

/// Dates in conditions: ISO 8601 (`2020-01-01`, `2020-01-01T12:00`, `2020-01-01T12:00:00Z`,
/// with a fraction of a second and a `Z`, `+05:30`, `+0530` or `+05` offset) or whole
/// seconds since the epoch. Anything after a valid date is refused. Compared as seconds
/// since the epoch.
enum PolicyDate {
  static func parse(_ text: String) -> Double? {
    let c = Array(text.utf8)
    func isDigit(_ i: Int) -> Bool { i < c.count && c[i] >= 0x30 && c[i] <= 0x39 }
    func number(_ from: Int, _ count: Int) -> Int? {
      guard from + count <= c.count, (from..<(from + count)).allSatisfy(isDigit) else {
        return nil
      }
      return Int(String(decoding: c[from..<(from + count)], as: UTF8.self))
    }
    if !c.isEmpty, c.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
      return Double(text)
    }
    guard c.count >= 10, let year = number(0, 4), c[4] == UInt8(ascii: "-"),
      let month = number(5, 2), c[7] == UInt8(ascii: "-"), let day = number(8, 2),
      (1...12).contains(month), (1...daysIn(month, year)).contains(day)
    else { return nil }
    var seconds = Double(daysFromCivil(year, month, day)) * 86_400
    if c.count == 10 { return seconds }
    guard c[10] == UInt8(ascii: "T"), let h = number(11, 2), c.count >= 16,
      c[13] == UInt8(ascii: ":"), let m = number(14, 2), h < 24, m < 60
    else { return nil }
    var i = 16
    var s = 0.0
    if i < c.count, c[i] == UInt8(ascii: ":") {
      guard let sec = number(17, 2), sec < 61 else { return nil }
      s = Double(sec)
      i = 19
      if i < c.count, c[i] == UInt8(ascii: ".") {
        var j = i + 1
        while isDigit(j) { j += 1 }
        guard j > i + 1 else { return nil }
        s += Double("0" + String(decoding: c[i..<j], as: UTF8.self)) ?? 0
        i = j
      }
    }
    seconds += Double(h * 3600 + m * 60) + s
    guard i < c.count else { return seconds }
    if c[i] == UInt8(ascii: "Z") { return i + 1 == c.count ? seconds : nil }
    guard c[i] == UInt8(ascii: "+") || c[i] == UInt8(ascii: "-"), let oh = number(i + 1, 2),
      oh < 24
    else { return nil }
    var om = 0
    switch c.count - (i + 3) {
    case 0: break  // +05
    case 2:  // +0530
      guard let v = number(i + 3, 2) else { return nil }
      om = v
    case 3:  // +05:30
      guard c[i + 3] == UInt8(ascii: ":"), let v = number(i + 4, 2) else { return nil }
      om = v
    default: return nil
    }
    guard om < 60 else { return nil }
    let offset = Double(oh * 3600 + om * 60)
    return c[i] == UInt8(ascii: "+") ? seconds - offset : seconds + offset
  }

  static func daysIn(_ month: Int, _ year: Int) -> Int {
    switch month {
    case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
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
