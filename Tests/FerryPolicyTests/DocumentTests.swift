import Foundation
import Testing

@testable import FerryPolicy

@Suite("Policy documents")
struct DocumentTests {
  // A bucket policy in the shape of AWS's documentation examples: every element form.
  static let bucketPolicy = """
    {
      "Version": "2012-10-17",
      "Id": "ExamplePolicy",
      "Statement": [
        {
          "Sid": "AllowRoleRead",
          "Effect": "Allow",
          "Principal": {"AWS": ["arn:aws:iam::111122223333:role/reader", "444455556666"]},
          "Action": ["s3:GetObject", "s3:GetObjectVersion"],
          "Resource": "arn:aws:s3:::amzn-example-bucket/*",
          "Condition": {
            "IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]},
            "Bool": {"aws:SecureTransport": true},
            "NumericLessThanEquals": {"s3:max-keys": 10}
          }
        },
        {
          "Effect": "Deny",
          "NotPrincipal": {"Service": "cloudtrail.amazonaws.com", "CanonicalUser": "79a59df900b949e5"},
          "NotAction": "s3:Get*",
          "NotResource": ["arn:aws:s3:::amzn-example-bucket/public/*"]
        },
        {
          "Effect": "Allow",
          "Principal": "*",
          "Action": "s3:ListBucket",
          "Resource": "arn:aws:s3:::amzn-example-bucket",
          "Condition": {"ForAnyValue:StringLike": {"s3:prefix": "public/*"}}
        }
      ]
    }
    """

  @Test func parsesEveryElementForm() throws {
    let doc = try PolicyDocument.parse(Self.bucketPolicy)
    #expect(doc.version == "2012-10-17")
    #expect(doc.id == "ExamplePolicy")
    #expect(doc.statements.count == 3)
    let first = doc.statements[0]
    #expect(first.sid == "AllowRoleRead")
    #expect(
      first.principal?.values(of: .aws) == [
        "arn:aws:iam::111122223333:role/reader", "444455556666",
      ])
    #expect(first.resource == StringList(["arn:aws:s3:::amzn-example-bucket/*"], isSingle: true))
    let entries = first.condition?.entries ?? []
    #expect(entries.count == 3)
    #expect(entries.contains { $0.op.base == .bool && $0.values == [.bool(true)] })
    #expect(entries.contains { $0.op.base == .numericLessThanEquals && $0.values == [.number(10)] })
    let second = doc.statements[1]
    #expect(second.effect == .deny)
    #expect(second.notPrincipal?.values(of: .service) == ["cloudtrail.amazonaws.com"])
    #expect(second.notPrincipal?.values(of: .canonicalUser) == ["79a59df900b949e5"])
    #expect(second.notAction?.values == ["s3:Get*"])
    #expect(doc.statements[2].principal == .everyone)
    #expect(
      doc.statements[2].condition?.entries.first?.op
        == ConditionOperator(.stringLike, qualifier: .forAnyValue))
  }

  @Test func roundTripsThroughJSON() throws {
    let doc = try PolicyDocument.parse(Self.bucketPolicy)
    let again = try PolicyDocument.parse(doc.json())
    #expect(again == doc)
    // Written JSON is the same JSON value as the input, whatever the key order.
    #expect(try JSONValue.parse(doc.json()) == JSONValue.parse(Self.bucketPolicy))
  }

  @Test func keepsASingleStatementObjectAndBareStrings() throws {
    let text =
      #"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"ec2.amazonaws.com"}}}"#
    let doc = try PolicyDocument.parse(text)
    #expect(!doc.statementIsArray)
    #expect(
      doc.json(pretty: false)
        == #"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}"#
    )
  }

  @Test(arguments: [
    ("{\"Version\": \"2012-10-17\", \"Statement\": [", "", "malformed JSON"),
    ("[1, 2]", "", "expected a policy document"),
    (#"{"Version":"2012-10-17"}"#, "Statement", "missing"),
    (#"{"Version":"2012-10-17","Statement":[]}"#, "Statement", "at least one statement"),
    (#"{"Version":"2012-10-17","Statment":[]}"#, "Statment", "Did you mean \"Statement\"?"),
    (
      #"{"Statement":[{"Effect":"allow","Action":"s3:GetObject","Resource":"*"}]}"#,
      "Statement[0].Effect", "expected \"Allow\" or \"Deny\""
    ),
    (#"{"Statement":[{"Effect":"Allow","Resource":"*"}]}"#, "Statement[0].Action", "missing"),
    (
      #"{"Statement":[{"Effect":"Allow","Action":["s3:GetObject", 7],"Resource":"*"}]}"#,
      "Statement[0].Action[1]", "expected a string, found a number"
    ),
    (
      #"{"Statement":[{"Effect":"Allow","Action":"GetObject","Resource":"*"}]}"#,
      "Statement[0].Action", "service:Action"
    ),
    (
      #"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEqual":{"a:b":"c"}}}]}"#,
      "Statement[0].Condition.StringEqual", "Did you mean \"StringEquals\"?"
    ),
    (
      #"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"NullIfExists":{"a:b":"true"}}}]}"#,
      "Statement[0].Condition.NullIfExists", "unknown condition operator"
    ),
    (
      #"{"Statement":[{"Effect":"Allow","Principal":{"AWZ":"1"},"Action":"s3:GetObject"}]}"#,
      "Statement[0].Principal.AWZ", "Did you mean \"AWS\"?"
    ),
    (
      #"{"Statement":[{"Effect":"Allow","Principal":"arn:aws:iam::111122223333:root","Action":"s3:GetObject"}]}"#,
      "Statement[0].Principal", "{\"AWS\""
    ),
    (
      #"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","NotAction":"s3:PutObject","Resource":"*"}]}"#,
      "Statement[0].NotAction", "not both"
    ),
  ])
  func parseErrorsNameThePathAndTheProblem(text: String, path: String, message: String) {
    #expect {
      try PolicyDocument.parse(text)
    } throws: { error in
      guard let error = error as? PolicyParseError else { return false }
      return error.path == path && error.message.contains(message)
    }
  }

  @Test func conditionOperatorsParseQualifiersAndIfExists() {
    #expect(
      ConditionOperator(name: "ForAllValues:StringLikeIfExists")
        == ConditionOperator(.stringLike, qualifier: .forAllValues, ifExists: true))
    #expect(ConditionOperator(name: "ArnNotLike")?.base.isNegated == true)
    #expect(ConditionOperator(name: "ForSomeValues:StringLike") == nil)
    #expect(ConditionOperator(name: "stringequals") == nil)
    #expect(ConditionOperator(name: "Null") == ConditionOperator(.null))
  }
}
