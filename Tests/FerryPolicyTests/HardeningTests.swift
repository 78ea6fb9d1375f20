import Testing

@testable import FerryPolicy

/// What a careless or hostile user tried against the policy engine (issue: "Harden what
/// landed"). Expectations come from AWS's documentation, cited per test.
@Suite("Policy engine hardening")
struct PolicyHardeningTests {
  func rules(_ text: String, externalID: String? = nil) throws -> [String] {
    PolicyLinter.lint(try PolicyDocument.parse(text), externalID: externalID).map(\.rule)
  }

  func trust(_ condition: String) -> String {
    #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole","Condition":"#
      + condition + "}]}"
  }

  static let strongID = "ferry:aws:extid:q8w2n5x7c4v1b9m3k6j0h2t5yr"

  // MARK: External ID conditions

  /// Each accepts an ID other than the customer's own, or none at all (IAM condition
  /// operators: StringLike wildcards, negation, IfExists on a missing key, ForAllValues on
  /// an empty set, Null tests only presence).
  @Test(arguments: [
    #"{"StringLike":{"sts:ExternalId":"*"}}"#,
    #"{"StringLike":{"sts:ExternalId":"ferry:*"}}"#,
    #"{"StringLike":{"sts:ExternalId":"?*"}}"#,
    #"{"StringNotEquals":{"sts:ExternalId":"ferry:aws:extid:q8w2n5x7c4v1b9m3k6j0h2t5yr"}}"#,
    #"{"ForAnyValue:StringEquals":{"sts:ExternalId":"ferry:aws:extid:q8w2n5x7c4v1b9m3k6j0h2t5yr"}}"#,
    #"{"ForAllValues:StringEquals":{"sts:ExternalId":"ferry:aws:extid:q8w2n5x7c4v1b9m3k6j0h2t5yr"}}"#,
    #"{"StringEqualsIfExists":{"sts:ExternalId":"ferry:aws:extid:q8w2n5x7c4v1b9m3k6j0h2t5yr"}}"#,
    #"{"Null":{"sts:ExternalId":"false"}}"#,
    #"{"StringEquals":{"sts:ExternalId":"${aws:username}"}}"#,
  ])
  func externalIDConditionsThatDoNotPinTheIDAreErrors(condition: String) throws {
    let findings = PolicyLinter.lint(try PolicyDocument.parse(trust(condition)))
    let finding = try #require(findings.first { $0.rule == "external-id-not-pinned" })
    #expect(finding.severity == .error)
    #expect(finding.message.contains("confused deputy"))
  }

  @Test func anExactExternalIDPasses() throws {
    #expect(
      try rules(trust(#"{"StringEquals":{"sts:ExternalId":"\#(Self.strongID)"}}"#)).isEmpty)
    // A wildcard-free StringLike compares exactly, too.
    #expect(
      try rules(trust(#"{"StringLike":{"sts:ExternalId":"\#(Self.strongID)"}}"#)).isEmpty)
  }

  @Test func theEvaluatorAgreesThatAWildcardIDLetsAnyIDIn() throws {
    let doc = try PolicyDocument.parse(trust(#"{"StringLike":{"sts:ExternalId":"ferry:*"}}"#))
    let caller = NamedPolicy(
      "caller",
      try PolicyDocument.parse(
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#
      ))
    let result = PolicyEvaluator.evaluateTrust(
      doc, roleARN: "arn:aws:iam::999988887777:role/r",
      caller: "arn:aws:iam::123456789012:role/ferry", externalID: "ferry:someone-elses-id",
      callerPolicies: [caller])
    #expect(result.decision == .allow)
  }

  @Test func guessableExternalIDsAreFlagged() throws {
    #expect(
      try rules(trust(#"{"StringEquals":{"sts:ExternalId":"12345"}}"#)).contains(
        "external-id-guessable"))
    #expect(
      try rules(trust(#"{"StringEquals":{"sts:ExternalId":"aaaaaaaaaaaaaaaaaaaaaaaa"}}"#))
        .contains("external-id-guessable"))
    #expect(
      try rules(trust(#"{"StringEquals":{"sts:ExternalId":"\#(Self.strongID)"}}"#)).isEmpty)
    // When the account is known, another ID is an error, and a second accepted ID a warning.
    #expect(
      try rules(
        trust(#"{"StringEquals":{"sts:ExternalId":"ferry:aws:extid:zzzzzzzzzzzzzzzzzzzz1234"}}"#),
        externalID: Self.strongID
      ).contains("external-id-not-accounts"))
    #expect(
      try rules(
        trust(#"{"StringEquals":{"sts:ExternalId":["\#(Self.strongID)","legacy-id-1"]}}"#),
        externalID: Self.strongID
      ).contains("external-id-also-accepts"))
  }

  // MARK: Denies

  @Test func aDenyOnAWildcardResourceCancelsTheAllow() throws {
    let text =
      #"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-logs/*"},{"Sid":"NoS3","Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#
    #expect(try rules(text).contains("deny-cancels-allow"))
    let scope = try AccessScope(purpose: .fetcher, bucket: "my-logs")
    let scoped = PolicyLinter.lint(try PolicyDocument.parse(text), scope: scope).map(\.rule)
    #expect(scoped.contains("deny-cancels-allow"))
    #expect(scoped.contains("deny-cancels-required"))
    // A Deny elsewhere cancels nothing.
    #expect(
      !(try rules(
        #"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-logs/*"},{"Sid":"NoOther","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::other/*"}]}"#
      ).contains("deny-cancels-allow")))
  }

  // MARK: Privilege escalation and the metric-shipping policy

  @Test func unscopedEscalationActionsAreErrors() throws {
    let findings = PolicyLinter.lint(
      try PolicyDocument.parse(
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:PassRole","iam:CreateRole","iam:AttachRolePolicy"],"Resource":"*"}]}"#
      ))
    let escalation = try #require(findings.first { $0.rule == "privilege-escalation" })
    #expect(escalation.severity == .error)
    #expect(findings.contains { $0.rule == "passrole-without-service" })
    // iam:* on role/* is as broad.
    #expect(
      try rules(
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"arn:aws:iam::123456789012:role/*"}]}"#
      ).contains("privilege-escalation"))
  }

  @Test func theMetricShippingPolicyCannotEscalate() throws {
    let scope = try AccessScope(purpose: .metrics, bucket: nil)
    let policy = PolicyGenerator.permissionsPolicy(for: scope)
    let findings = PolicyLinter.lint(policy, scope: scope).filter { $0.severity >= .warning }
    #expect(findings.isEmpty, "\(findings)")
    let named = [NamedPolicy("metrics", policy)]
    func decision(_ action: String, _ resource: String, _ context: [String: [String]] = [:])
      -> Decision
    {
      PolicyEvaluator.evaluate(
        identityPolicies: named,
        request: AuthorizationRequest(
          action: action, resource: resource, context: RequestContext(context))
      ).decision
    }
    let ownRole = "arn:aws:iam::123456789012:role/ferry-metrics-stream"
    #expect(
      decision("iam:PassRole", ownRole, ["iam:PassedToService": ["firehose.amazonaws.com"]])
        == .allow)
    #expect(
      decision("iam:PassRole", ownRole, ["iam:PassedToService": ["lambda.amazonaws.com"]])
        == .implicitDeny)
    // Not to another service, not another role, not an AWS managed admin policy.
    #expect(
      decision("iam:PassRole", ownRole, ["iam:PassedToService": ["ec2.amazonaws.com"]])
        == .implicitDeny)
    #expect(
      decision(
        "iam:PassRole", "arn:aws:iam::123456789012:role/admin",
        ["iam:PassedToService": ["lambda.amazonaws.com"]]) == .implicitDeny)
    #expect(decision("iam:CreateRole", "arn:aws:iam::123456789012:role/admin") == .implicitDeny)
    #expect(
      decision(
        "iam:AttachRolePolicy", ownRole,
        ["iam:PolicyARN": ["arn:aws:iam::aws:policy/AdministratorAccess"]]) == .implicitDeny)
  }

  // MARK: Documents AWS rejects

  @Test(arguments: [
    (
      #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",}]}"#,
      "trailing comma"
    ),
    (
      #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}"#,
      "appears twice"
    ),
    (
      "\u{FEFF}"
        + #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
      "byte-order mark"
    ),
    (
      #"{"Version":"2012-10-17", /* x */ "Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
      "comments"
    ),
    (
      #"{"Version":"2012-10-17","Statement":[{"Sid":"read-logs","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
      "Sid"
    ),
  ])
  func documentsAWSRejectsAreRejected(text: String, problem: String) throws {
    #expect {
      try PolicyDocument.parse(text)
    } throws: { error in
      (error as? PolicyParseError)?.description.contains(problem) == true
    }
  }

  @Test func policiesOverAWSSizeLimitsAreErrors() throws {
    // IAM quotas: managed policy 6,144 characters and trust policy 2,048, white space aside.
    let resources = (0..<200).map { "\"arn:aws:s3:::bucket-number-\($0)/*\"" }
      .joined(separator: ",")
    let big =
      #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":["#
      + resources + "]}]}"
    #expect(try rules(big).contains("policy-too-large"))
    let principals = (0..<60).map { "\"arn:aws:iam::123456789012:role/platform-role-\($0)\"" }
      .joined(separator: ",")
    let bigTrust =
      #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["#
      + principals
      + #"]},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"\#(Self.strongID)"}}}]}"#
    #expect(try rules(bigTrust).contains("policy-too-large"))
    #expect(
      !(try rules(trust(#"{"StringEquals":{"sts:ExternalId":"\#(Self.strongID)"}}"#)).contains(
        "policy-too-large")))
  }

  // MARK: The evaluator against AWS's documented logic

  /// KMS: "No AWS principal has any permissions to a KMS key unless that permission is
  /// explicitly allowed in a key policy"; a key policy that names the account root
  /// delegates to IAM policies (KMS developer guide, "Key policies").
  @Test func kmsNeedsTheKeyPolicy() throws {
    let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    let role = "arn:aws:sts::111122223333:assumed-role/reader/s1"
    let identity = NamedPolicy(
      "identity",
      try PolicyDocument.parse(
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"\#(key)"}]}"#
      ))
    func keyPolicy(_ principal: String) throws -> NamedPolicy {
      NamedPolicy(
        "key policy",
        try PolicyDocument.parse(
          #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"\#(principal)"},"Action":"kms:*","Resource":"*"}]}"#
        ))
    }
    let request = AuthorizationRequest(action: "kms:Decrypt", resource: key, principal: role)
    let alone = PolicyEvaluator.evaluate(identityPolicies: [identity], request: request)
    #expect(alone.decision == .implicitDeny)
    #expect(alone.note?.contains("key policy") == true)
    let delegated = try keyPolicy("arn:aws:iam::111122223333:root")
    #expect(
      PolicyEvaluator.evaluate(
        identityPolicies: [identity], resourcePolicy: delegated, request: request
      ).decision == .allow)
    #expect(
      PolicyEvaluator.evaluate(identityPolicies: [], resourcePolicy: delegated, request: request)
        .decision == .implicitDeny)
    let direct = try keyPolicy("arn:aws:iam::111122223333:role/reader")
    #expect(
      PolicyEvaluator.evaluate(identityPolicies: [], resourcePolicy: direct, request: request)
        .decision == .allow)
  }

  /// A bucket policy naming the account root delegates; naming the role allows by itself
  /// ("Policy evaluation logic": resource-based policies and the same account).
  @Test func anAccountPrincipalDelegatesInsteadOfAllowing() throws {
    func bucketPolicy(_ principal: String) throws -> NamedPolicy {
      NamedPolicy(
        "bucket",
        try PolicyDocument.parse(
          #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"\#(principal)"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#
        ))
    }
    let request = AuthorizationRequest(
      action: "s3:GetObject", resource: "arn:aws:s3:::b/k",
      principal: "arn:aws:sts::111122223333:assumed-role/reader/s1")
    #expect(
      PolicyEvaluator.evaluate(
        identityPolicies: [], resourcePolicy: try bucketPolicy("111122223333"), request: request
      ).decision == .implicitDeny)
    #expect(
      PolicyEvaluator.evaluate(
        identityPolicies: [],
        resourcePolicy: try bucketPolicy("arn:aws:iam::111122223333:role/reader"),
        request: request
      ).decision == .allow)
  }

  /// NotPrincipal with Deny: a role session is excluded only when the account, the role and
  /// the session are all listed (IAM JSON policy elements: NotPrincipal).
  @Test func notPrincipalChecksAccountRoleAndSession() throws {
    let session = "arn:aws:sts::111122223333:assumed-role/reader/s1"
    let role = "arn:aws:iam::111122223333:role/reader"
    func denies(_ listed: [String]) throws -> Bool {
      let values = listed.map { "\"\($0)\"" }.joined(separator: ",")
      let doc = try PolicyDocument.parse(
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["#
          + values
          + #"]},"Action":"s3:*","Resource":"*"},{"Effect":"Allow","Principal":{"AWS":"\#(role)"},"Action":"s3:GetObject","Resource":"*"}]}"#
      )
      return PolicyEvaluator.evaluate(
        identityPolicies: [], resourcePolicy: NamedPolicy("bucket", doc),
        request: AuthorizationRequest(
          action: "s3:GetObject", resource: "arn:aws:s3:::b/k", principal: session)
      ).decision == .explicitDeny
    }
    #expect(try denies([role]))
    #expect(try denies([role, session]))
    #expect(try !denies([role, session, "arn:aws:iam::111122223333:root"]))
  }

  /// AWS compares strings byte for byte: "é" written precomposed (U+00E9) and decomposed
  /// (e + U+0301) are different.
  @Test func valuesCompareAsBytes() throws {
    let composed = "caf\u{E9}"
    let decomposed = "cafe\u{301}"
    #expect(composed == decomposed)  // Swift's String equality, which AWS does not use.
    let doc = try PolicyDocument.parse(
      #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/\#(composed)","Condition":{"StringEquals":{"aws:username":"\#(composed)"}}}]}"#
    )
    func decision(_ key: String, _ user: String) -> Decision {
      PolicyEvaluator.evaluate(
        doc,
        request: AuthorizationRequest(
          action: "s3:GetObject", resource: "arn:aws:s3:::b/\(key)",
          context: RequestContext(["aws:username": [user]]))
      ).decision
    }
    #expect(decision(composed, composed) == .allow)
    #expect(decision(decomposed, composed) == .implicitDeny)
    #expect(decision(composed, decomposed) == .implicitDeny)
  }

  @Test func datesKeepOffsetMinutesAndRefuseJunk() {
    // 2020-01-01T12:00:00+05:30 is 06:30 UTC.
    #expect(
      PolicyDate.parse("2020-01-01T12:00:00+0530") == PolicyDate.parse("2020-01-01T06:30:00Z"))
    #expect(
      PolicyDate.parse("2020-01-01T12:00:00+05:30") == PolicyDate.parse("2020-01-01T06:30:00Z"))
    #expect(PolicyDate.parse("2020-01-01T12:00:00Zjunk") == nil)
    #expect(PolicyDate.parse("2020-01-01junk") == nil)
    #expect(PolicyDate.parse("2020-02-30") == nil)
  }

  @Test func numbersAreDecimalOnly() {
    for text in ["0x10", "nan", "inf", "-inf", "1e3", "", "1.", ".5"] {
      #expect(PolicyNumber.parse(text) == nil, "\(text)")
    }
    #expect(PolicyNumber.parse("-12.5") == -12.5)
    #expect(PolicyNumber.parse("16") == 16)
  }

  // MARK: Inputs

  @Test func kmsAliasARNsAreRefused() {
    #expect(throws: InputError.self) {
      try AccessScope(
        purpose: .fetcher, bucket: "my-logs",
        kmsKeyARN: "arn:aws:kms:us-east-1:111122223333:alias/logs")
    }
  }

  @Test func prefixNotesSayWhatHappens() {
    #expect(KeyPrefix.notes(for: "/AWSLogs/").first?.contains("starts with \"/\"") == true)
    #expect(KeyPrefix.notes(for: "AWSLogs").first?.contains("AWSLogsX/") == true)
    #expect(KeyPrefix.notes(for: "AWSLogs/").isEmpty)
  }

  @Test(arguments: [
    "app\u{0}x", "logs/\n2026/", "a\tb/", "x\u{7F}/", "x\u{85}/", "logs/\u{202E}gpj.exe/",
    "\u{2066}a/", "\u{1B}[31mred/",
  ])
  func controlCharactersInAPrefixAreRefused(_ prefix: String) {
    #expect {
      try AccessScope(purpose: .fetcher, bucket: "my-logs", prefix: prefix)
    } throws: { error in
      guard let error = error as? InputError else { return false }
      return error.field == "prefix" && error.problem.contains("control character U+")
    }
  }

  @Test func anUnusualButPlainPrefixIsKeptByteForByte() throws {
    let prefix = "logs/ünï cödé/😀 x/%41+=&?/"
    #expect(try AccessScope(purpose: .fetcher, bucket: "my-logs", prefix: prefix).prefix == prefix)
  }

  @Test func shellQuotingLeavesNothingToInterpret() {
    #expect(ShellQuote.quote("a'b") == #"'a'\''b'"#)
    #expect(ShellQuote.quote("$(x)") == "'$(x)'")
  }
}
