import Testing

@testable import FerryPolicy

@Suite("Policy evaluation")
struct EvaluatorTests {
  func policy(_ text: String) throws -> PolicyDocument { try PolicyDocument.parse(text) }

  func decide(
    _ doc: PolicyDocument, _ action: String, _ resource: String, _ context: [String: [String]] = [:]
  ) -> Decision {
    PolicyEvaluator.evaluate(
      doc, request: .init(action: action, resource: resource, context: RequestContext(context))
    ).decision
  }

  @Test func explicitDenyWinsOverAllow() throws {
    let doc = try policy(
      #"{"Version":"2012-10-17","Statement":[{"Sid":"All","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"NoSecrets","Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/secret/*"}]}"#
    )
    let result = PolicyEvaluator.evaluate(
      doc, request: .init(action: "s3:GetObject", resource: "arn:aws:s3:::b/secret/k"))
    #expect(result.decision == .explicitDeny)
    #expect(result.decidingStatements.map(\.sid) == ["NoSecrets"])
    #expect(decide(doc, "s3:GetObject", "arn:aws:s3:::b/public/k") == .allow)
  }

  @Test func nothingMatchingIsAnImplicitDeny() throws {
    let doc = try policy(
      #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#
    )
    #expect(decide(doc, "s3:PutObject", "arn:aws:s3:::b/k") == .implicitDeny)
    #expect(decide(doc, "s3:GetObject", "arn:aws:s3:::other/k") == .implicitDeny)
  }

  @Test func actionsMatchCaseInsensitivelyResourcesDoNot() throws {
    let doc = try policy(
      #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"S3:getobject","Resource":"arn:aws:s3:::b/Logs/*"}]}"#
    )
    #expect(decide(doc, "s3:GetObject", "arn:aws:s3:::b/Logs/x") == .allow)
    #expect(decide(doc, "s3:GetObject", "arn:aws:s3:::b/logs/x") == .implicitDeny)
  }

  @Test func wildcardsInActionsAndARNs() throws {
    let doc = try policy(
      #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List?ucket"],"Resource":["arn:aws:s3:::b/20??/*","arn:aws:s3:::b"]}]}"#
    )
    #expect(decide(doc, "s3:GetObjectVersion", "arn:aws:s3:::b/2024/01/x") == .allow)
    #expect(decide(doc, "s3:ListBucket", "arn:aws:s3:::b") == .allow)
    #expect(decide(doc, "s3:GetObject", "arn:aws:s3:::b/202/x") == .implicitDeny)
    #expect(decide(doc, "s3:PutObject", "arn:aws:s3:::b/2024/x") == .implicitDeny)
    // `*` crosses slashes and colons in a resource ARN.
    #expect(wildcardMatch("arn:aws:s3:::*", "arn:aws:s3:::b/a/b/c"))
    #expect(wildcardMatch("a*b*c", "aXbYbZc"))
    #expect(!wildcardMatch("a*b*c", "aXbYbZ"))
  }

  @Test func notResourceAndNotAction() throws {
    let doc = try policy(
      #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:s3:::private/*"}]}"#
    )
    #expect(decide(doc, "s3:GetObject", "arn:aws:s3:::public/x") == .allow)
    #expect(decide(doc, "s3:GetObject", "arn:aws:s3:::private/x") == .implicitDeny)
    #expect(decide(doc, "iam:CreateUser", "arn:aws:iam::111122223333:user/x") == .implicitDeny)
  }

  // AWS's documented example: deny everything except IAM actions when MFA is absent.
  // NotAction under Deny denies every action that is NOT listed.
  @Test func notActionUnderDenyDeniesEverythingElse() throws {
    let doc = try policy(
      #"""
      {"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"*","Resource":"*"},
        {"Sid":"DenyAllExceptListedIfNoMFA","Effect":"Deny","NotAction":["iam:ListUsers","iam:GetUser"],"Resource":"*",
         "Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}
      """#)
    // No MFA key at all: BoolIfExists is satisfied, so the Deny applies.
    #expect(decide(doc, "s3:GetObject", "arn:aws:s3:::b/k") == .explicitDeny)
    #expect(decide(doc, "iam:ListUsers", "*") == .allow)
    #expect(
      decide(doc, "s3:GetObject", "arn:aws:s3:::b/k", ["aws:MultiFactorAuthPresent": ["false"]])
        == .explicitDeny)
    #expect(
      decide(doc, "s3:GetObject", "arn:aws:s3:::b/k", ["aws:MultiFactorAuthPresent": ["true"]])
        == .allow)
  }

  // AWS's documented home-folder example with the ${aws:username} variable.
  @Test func policyVariablesResolveFromTheRequest() throws {
    let doc = try policy(
      #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::home","Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*"]}}},{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::home/home/${aws:username}/*"}]}"#
    )
    let alice = AuthorizationRequest(
      action: "s3:GetObject", resource: "arn:aws:s3:::home/home/alice/notes.txt",
      principal: "arn:aws:iam::111122223333:user/alice")
    #expect(PolicyEvaluator.evaluate(doc, request: alice).decision == .allow)
    let bobReadsAlice = AuthorizationRequest(
      action: "s3:GetObject", resource: "arn:aws:s3:::home/home/alice/notes.txt",
      principal: "arn:aws:iam::111122223333:user/bob")
    #expect(PolicyEvaluator.evaluate(doc, request: bobReadsAlice).decision == .implicitDeny)
    let list = AuthorizationRequest(
      action: "s3:ListBucket", resource: "arn:aws:s3:::home",
      principal: "arn:aws:iam::111122223333:user/alice",
      context: RequestContext(["s3:prefix": ["home/alice/"]]))
    #expect(PolicyEvaluator.evaluate(doc, request: list).decision == .allow)
    // No username in the request: the variable cannot resolve, so the statement does not match.
    #expect(decide(doc, "s3:GetObject", "arn:aws:s3:::home/home/alice/notes.txt") == .implicitDeny)
  }

  @Test func variablesNeedVersion2012AndSupportDefaults() throws {
    let old = try policy(
      #"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/*"}]}"#
    )
    #expect(
      decide(old, "s3:GetObject", "arn:aws:s3:::b/alice/x", ["aws:username": ["alice"]])
        == .implicitDeny)
    #expect(decide(old, "s3:GetObject", "arn:aws:s3:::b/${aws:username}/x") == .allow)
    let withDefault = try policy(
      #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username, 'shared'}/*"}]}"#
    )
    #expect(decide(withDefault, "s3:GetObject", "arn:aws:s3:::b/shared/x") == .allow)
    #expect(
      decide(withDefault, "s3:GetObject", "arn:aws:s3:::b/bob/x", ["aws:username": ["bob"]])
        == .allow)
  }

  @Test func identityAndResourcePoliciesCombine() throws {
    let identity = try policy(
      #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"}]}"#
    )
    let bucket = try policy(
      #"{"Version":"2012-10-17","Statement":[{"Sid":"ReaderGets","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/reader"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},{"Sid":"TLSOnly","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#
    )
    let caller = "arn:aws:sts::111122223333:assumed-role/reader/session-1"
    func result(_ action: String, _ resource: String, _ tls: String = "true") -> EvaluationResult {
      PolicyEvaluator.evaluate(
        identityPolicies: [NamedPolicy("identity", identity)],
        resourcePolicy: NamedPolicy("bucket", bucket),
        request: .init(
          action: action, resource: resource, principal: caller,
          context: RequestContext(["aws:SecureTransport": [tls]])))
    }
    #expect(
      result("s3:GetObject", "arn:aws:s3:::b/k").decidingStatements.map(\.sid) == ["ReaderGets"])
    #expect(result("s3:ListBucket", "arn:aws:s3:::b").decision == .allow)
    #expect(result("s3:GetObject", "arn:aws:s3:::b/k", "false").decision == .explicitDeny)
    #expect(result("s3:PutObject", "arn:aws:s3:::b/k").decision == .implicitDeny)
  }

  @Test func trustPoliciesCheckThePrincipalAndTheExternalID() throws {
    let trust = try PolicyGenerator.trustPolicy(
      platformPrincipal: "123456789012", externalID: "ferry:aws:extid:right")
    let role = "arn:aws:iam::999988887777:role/ferry-s3-fetcher"
    let platform = "arn:aws:iam::123456789012:role/ferry-platform"
    // The trust policy names the platform's account (root): AWS reads that as delegation,
    // and the request is cross-account, so the platform role's own policy must allow
    // sts:AssumeRole too ("Cross-account policy evaluation logic").
    let alone = PolicyEvaluator.evaluateTrust(
      trust, roleARN: role, caller: platform, externalID: "ferry:aws:extid:right")
    #expect(alone.decision == .implicitDeny)
    #expect(alone.note?.contains("identity policies must also allow") == true)
    let callerPolicy = NamedPolicy(
      "platform",
      try policy(
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/ferry-*"}]}"#
      ))
    #expect(
      PolicyEvaluator.evaluateTrust(
        trust, roleARN: role, caller: platform, externalID: "ferry:aws:extid:right",
        callerPolicies: [callerPolicy]
      ).decision == .allow)
    #expect(
      PolicyEvaluator.evaluateTrust(
        trust, roleARN: role, caller: platform, externalID: "ferry:aws:extid:wrong",
        callerPolicies: [callerPolicy]
      ).decision == .implicitDeny)
    // Unlike the emulator, AWS denies a missing external ID: StringEquals on an absent key is false.
    #expect(
      PolicyEvaluator.evaluateTrust(
        trust, roleARN: role, caller: platform, externalID: nil, callerPolicies: [callerPolicy]
      ).decision == .implicitDeny)
    // Another account may not assume the role, even with the right external ID.
    #expect(
      PolicyEvaluator.evaluateTrust(
        trust, roleARN: role, caller: "arn:aws:iam::555555555555:user/mallory",
        externalID: "ferry:aws:extid:right"
      ).decision == .implicitDeny)
  }

  @Test func principalsNameAccountsRolesAndSessions() {
    let root = Principal.aws(["arn:aws:iam::111122223333:root"])
    #expect(root.matches("arn:aws:iam::111122223333:user/anyone"))
    #expect(!root.matches("arn:aws:iam::444455556666:user/anyone"))
    #expect(Principal.aws(["111122223333"]).matches("arn:aws:sts::111122223333:assumed-role/r/s"))
    let role = Principal.aws(["arn:aws:iam::111122223333:role/reader"])
    #expect(role.matches("arn:aws:sts::111122223333:assumed-role/reader/session"))
    #expect(!role.matches("arn:aws:sts::111122223333:assumed-role/writer/session"))
    #expect(Principal.service(["cloudtrail.amazonaws.com"]).matches("cloudtrail.amazonaws.com"))
    #expect(Principal.everyone.matches("anything"))
  }
}
