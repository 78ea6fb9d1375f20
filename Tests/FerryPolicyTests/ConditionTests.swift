import Testing

@testable import FerryPolicy

@Suite("Condition operators")
struct ConditionTests {
  func holds(_ op: String, _ values: [ConditionValue], _ context: [String: [String]]) -> Bool {
    holds(op, "k:key", values, context)
  }

  func holds(_ op: String, _ key: String, _ values: [ConditionValue], _ context: [String: [String]])
    -> Bool
  {
    guard let op = ConditionOperator(name: op) else {
      Issue.record("unknown operator \(op)")
      return false
    }
    return ConditionEvaluator.holds(
      ConditionBlock([.init(op, key, values)]), context: RequestContext(context),
      variables: RequestContext(context))
  }

  @Test func stringOperators() {
    #expect(holds("StringEquals", ["a", "b"], ["k:key": ["b"]]))
    #expect(!holds("StringEquals", ["a"], ["k:key": ["A"]]))
    #expect(holds("StringEqualsIgnoreCase", ["abc"], ["k:key": ["ABC"]]))
    #expect(holds("StringNotEquals", ["a", "b"], ["k:key": ["c"]]))
    #expect(!holds("StringNotEquals", ["a", "b"], ["k:key": ["b"]]))
    #expect(holds("StringNotEqualsIgnoreCase", ["abc"], ["k:key": ["abd"]]))
    #expect(holds("StringLike", ["logs/*/app-?.log"], ["k:key": ["logs/2024/app-1.log"]]))
    #expect(!holds("StringLike", ["logs/*"], ["k:key": ["other/x"]]))
    #expect(holds("StringNotLike", ["logs/*"], ["k:key": ["other/x"]]))
    // StringEquals does not expand wildcards.
    #expect(!holds("StringEquals", ["logs/*"], ["k:key": ["logs/x"]]))
  }

  @Test func keyMatchingIsCaseInsensitive() {
    #expect(holds("StringEquals", "AWS:SourceAccount", ["1"], ["aws:sourceaccount": ["1"]]))
  }

  @Test func missingKeysFailPositiveAndSatisfyNegatedOperators() {
    #expect(!holds("StringEquals", ["a"], [:]))
    #expect(!holds("StringLike", ["*"], [:]))
    #expect(holds("StringNotEquals", ["a"], [:]))
    #expect(holds("ArnNotLike", ["arn:aws:iam::*:role/x"], [:]))
  }

  @Test func ifExistsOnAMissingKeyIsTrue() {
    #expect(holds("StringEqualsIfExists", ["a"], [:]))
    #expect(!holds("StringEqualsIfExists", ["a"], ["k:key": ["b"]]))
    #expect(holds("NumericLessThanIfExists", [5], [:]))
  }

  @Test func numericOperators() {
    #expect(holds("NumericEquals", [10], ["k:key": ["10"]]))
    #expect(holds("NumericNotEquals", [10], ["k:key": ["11"]]))
    #expect(holds("NumericLessThan", ["10"], ["k:key": ["9.5"]]))
    #expect(!holds("NumericLessThan", [10], ["k:key": ["10"]]))
    #expect(holds("NumericLessThanEquals", [10], ["k:key": ["10"]]))
    #expect(holds("NumericGreaterThan", [10], ["k:key": ["11"]]))
    #expect(holds("NumericGreaterThanEquals", [10], ["k:key": ["10"]]))
    #expect(!holds("NumericEquals", [10], ["k:key": ["ten"]]))
  }

  @Test func dateOperators() {
    #expect(
      holds(
        "DateLessThan", ["2025-01-01T00:00:00Z"],
        ["aws:CurrentTime": ["2024-12-31T23:59:59Z"]].mapKeys("k:key")))
    #expect(holds("DateGreaterThan", ["2024-01-01"], ["k:key": ["2024-01-01T00:00:01Z"]]))
    #expect(holds("DateEquals", ["2024-06-01T12:00:00+02:00"], ["k:key": ["2024-06-01T10:00:00Z"]]))
    #expect(holds("DateLessThanEquals", ["1700000000"], ["k:key": ["2023-11-14T22:13:20Z"]]))
    #expect(holds("DateNotEquals", ["2024-01-01"], ["k:key": ["2024-01-02"]]))
    #expect(
      holds(
        "DateGreaterThanEquals", ["2024-01-01T00:00:00.500Z"],
        ["k:key": ["2024-01-01T00:00:00.500Z"]]))
  }

  @Test func boolAndBinaryAndNull() {
    #expect(holds("Bool", [.bool(true)], ["k:key": ["true"]]))
    #expect(holds("Bool", ["TRUE"], ["k:key": ["true"]]))
    #expect(!holds("Bool", ["true"], ["k:key": ["false"]]))
    #expect(holds("BinaryEquals", ["QmluYXJ5VmFsdWU="], ["k:key": ["QmluYXJ5VmFsdWU="]]))
    #expect(holds("Null", ["true"], [:]))
    #expect(!holds("Null", ["true"], ["k:key": ["x"]]))
    #expect(holds("Null", ["false"], ["k:key": ["x"]]))
  }

  @Test func ipAddressOperators() {
    #expect(holds("IpAddress", ["203.0.113.0/24"], ["k:key": ["203.0.113.77"]]))
    #expect(!holds("IpAddress", ["203.0.113.0/24"], ["k:key": ["203.0.114.1"]]))
    #expect(holds("NotIpAddress", ["203.0.113.0/24"], ["k:key": ["198.51.100.1"]]))
    #expect(
      holds("IpAddress", ["2001:DB8:1234:5678::/64"], ["k:key": ["2001:db8:1234:5678:abcd::1"]]))
    #expect(!holds("IpAddress", ["2001:DB8:1234:5678::/64"], ["k:key": ["2001:db8:1234:5679::1"]]))
    #expect(holds("IpAddress", ["10.1.2.3"], ["k:key": ["10.1.2.3"]]))
    #expect(holds("IpAddress", ["::ffff:192.0.2.0/120"], ["k:key": ["::ffff:192.0.2.9"]]))
  }

  @Test func arnOperatorsCompareComponentWise() {
    #expect(
      holds(
        "ArnLike", ["arn:aws:iam::*:role/ferry-*"],
        ["k:key": ["arn:aws:iam::111122223333:role/ferry-s3"]]))
    #expect(
      holds(
        "ArnEquals", ["arn:aws:sns:*:111122223333:topic"],
        ["k:key": ["arn:aws:sns:us-east-1:111122223333:topic"]]))
    #expect(
      !holds(
        "ArnLike", ["arn:aws:iam::*:role/ferry-*"],
        ["k:key": ["arn:aws:iam::111122223333:user/ferry-s3"]]))
    #expect(!holds("ArnLike", ["arn:aws:iam::*:role/*"], ["k:key": ["not-an-arn"]]))
    #expect(
      holds(
        "ArnNotEquals", ["arn:aws:iam::111122223333:role/a"],
        ["k:key": ["arn:aws:iam::111122223333:role/b"]]))
  }

  @Test func setOperatorsOnMultiValuedKeys() {
    let tags = ["aws:TagKeys": ["env", "team"]]
    #expect(holds("ForAllValues:StringEquals", "aws:TagKeys", ["env", "team", "owner"], tags))
    #expect(!holds("ForAllValues:StringEquals", "aws:TagKeys", ["env"], tags))
    #expect(holds("ForAnyValue:StringEquals", "aws:TagKeys", ["team"], tags))
    #expect(!holds("ForAnyValue:StringEquals", "aws:TagKeys", ["owner"], tags))
    #expect(holds("ForAnyValue:StringNotEquals", "aws:TagKeys", ["env"], tags))
    #expect(!holds("ForAllValues:StringNotEquals", "aws:TagKeys", ["env"], tags))
  }

  // AWS warns: ForAllValues is true when the key is missing or empty; ForAnyValue is false.
  @Test func forAllValuesOnAnEmptySetIsTrue() {
    #expect(holds("ForAllValues:StringEquals", "aws:TagKeys", ["env"], [:]))
    #expect(holds("ForAllValues:StringEquals", "aws:TagKeys", ["env"], ["aws:TagKeys": []]))
    #expect(!holds("ForAnyValue:StringEquals", "aws:TagKeys", ["env"], [:]))
  }

  @Test func allEntriesMustHold() {
    let block = ConditionBlock([
      .init(.stringEquals, "a:x", ["1"]),
      .init(.stringEquals, "a:y", ["2", "3"]),
    ])
    #expect(
      ConditionEvaluator.holds(
        block, context: RequestContext(["a:x": ["1"], "a:y": ["3"]]), variables: nil))
    #expect(
      !ConditionEvaluator.holds(
        block, context: RequestContext(["a:x": ["1"], "a:y": ["4"]]), variables: nil))
    #expect(
      !ConditionEvaluator.holds(block, context: RequestContext(["a:x": ["1"]]), variables: nil))
  }

  @Test func conditionValuesMayUseVariables() {
    #expect(
      holds(
        "StringEquals", "aws:PrincipalTag/team", ["${aws:ResourceTag/team}"],
        ["aws:PrincipalTag/team": ["red"], "aws:ResourceTag/team": ["red"]]))
    #expect(
      !holds(
        "StringEquals", "aws:PrincipalTag/team", ["${aws:ResourceTag/team}"],
        ["aws:PrincipalTag/team": ["red"], "aws:ResourceTag/team": ["blue"]]))
  }
}

extension Dictionary where Key == String {
  fileprivate func mapKeys(_ key: String) -> [String: Value] {
    Dictionary(uniqueKeysWithValues: map { (key, $0.value) })
  }
}
