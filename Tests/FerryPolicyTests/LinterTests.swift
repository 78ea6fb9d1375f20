import Testing

@testable import FerryPolicy

@Suite("Linter")
struct LinterTests {
  func rules(_ text: String, scope: AccessScope? = nil) throws -> [String] {
    PolicyLinter.lint(try PolicyDocument.parse(text), scope: scope).map(\.rule)
  }

  @Test func objectActionOnABucketARN() throws {
    let findings = PolicyLinter.lint(
      try PolicyDocument.parse(
        #"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-logs"}]}"#
      ))
    let finding = try #require(findings.first { $0.rule == "object-action-on-bucket" })
    #expect(finding.severity == .error)
    #expect(finding.statement == "\"Read\"")
    #expect(finding.fix.contains("arn:aws:s3:::my-logs/*"))
  }

  @Test func listBucketOnAnObjectARN() throws {
    let findings = PolicyLinter.lint(
      try PolicyDocument.parse(
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::my-logs/*"}]}"#
      ))
    let finding = try #require(findings.first { $0.rule == "bucket-action-on-object" })
    #expect(finding.statement == "#0")
    #expect(finding.fix.contains("\"arn:aws:s3:::my-logs\""))
  }

  @Test func trustPolicyWithoutExternalID() throws {
    #expect(
      try rules(
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#
      ) == ["trust-without-external-id"])
    // A service principal needs no external ID.
    #expect(
      try rules(
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#
      ).isEmpty)
    // IfExists lets a request without the ID through: not protection.
    #expect(
      try rules(
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole","Condition":{"StringEqualsIfExists":{"sts:ExternalId":"x1"}}}]}"#
      ).contains("external-id-not-pinned"))
  }

  @Test func wildcardPrincipal() throws {
    let findings = PolicyLinter.lint(
      try PolicyDocument.parse(
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"ferry:aws:extid:q8w2n5x7c4v1b9m3k6j0h2"}}}]}"#
      ))
    #expect(findings.map(\.rule) == ["wildcard-principal"])
    #expect(
      try rules(
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#
      ) == ["wildcard-principal"])
  }

  @Test func broadActionsAndResources() throws {
    let found = try rules(
      #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/*"},{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#
    )
    #expect(found.contains("action-wildcard"))
    #expect(found.contains("service-wildcard"))
    #expect(found.filter { $0 == "resource-wildcard" }.count == 2)
    // A Deny of everything is fine: it only takes away.
    #expect(
      try rules(
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"arn:aws:s3:::b/secret/*"}]}"#
      ).isEmpty)
  }

  @Test func unknownServicesAndActionsSuggestTheRightOne() throws {
    let findings = PolicyLinter.lint(
      try PolicyDocument.parse(
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObjet","kms:Decrypt","s4:GetObject","s3:Frob*"],"Resource":"arn:aws:s3:::b/*"}]}"#
      ))
    let unknownAction = try #require(findings.first { $0.rule == "unknown-action" })
    #expect(unknownAction.fix == "Did you mean \"s3:GetObject\"?")
    let unknownService = try #require(findings.first { $0.rule == "unknown-service" })
    #expect(unknownService.fix.contains("\"s3:…\""))
    #expect(findings.contains { $0.rule == "action-matches-nothing" })
    #expect(!findings.contains { $0.message.contains("kms:Decrypt") })
  }

  @Test func missingOrOutdatedVersion() throws {
    #expect(
      try rules(
        #"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#
      ) == ["version-missing"])
    #expect(
      try rules(
        #"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#
      ) == ["version-outdated"])
    #expect(
      try rules(
        #"{"Version":"2024-01-01","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#
      ) == ["version-invalid"])
  }

  @Test func duplicateSids() throws {
    #expect(
      try rules(
        #"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},{"Sid":"A","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"}]}"#
      ) == ["duplicate-sid"])
  }

  @Test func denyThatCancelsAnAllowOrARequiredPermission() throws {
    let text =
      #"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::bkt/*","arn:aws:s3:::bkt/app/x.log"]},{"Sid":"NoApp","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::bkt/app/*"}]}"#
    let findings = PolicyLinter.lint(try PolicyDocument.parse(text))
    #expect(findings.first { $0.rule == "deny-cancels-allow" }?.statement == "\"NoApp\"")
    let scoped = PolicyLinter.lint(
      try PolicyDocument.parse(text),
      scope: try AccessScope(purpose: .fetcher, bucket: "bkt", prefix: "app/"))
    let required = try #require(scoped.first { $0.rule == "deny-cancels-required" })
    #expect(required.severity == .error)
    #expect(required.message.contains("s3:GetObject"))
  }

  @Test func identityStatementWithoutResource() throws {
    #expect(
      try rules(
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject"}]}"#) == [
          "missing-resource"
        ])
  }

  @Test func allowWithNotAction() throws {
    #expect(
      try rules(
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"arn:aws:s3:::b/*"}]}"#
      ) == ["allow-not-action"])
  }
}
