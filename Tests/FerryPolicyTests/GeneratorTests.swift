import Foundation
import Testing

@testable import FerryPolicy

@Suite("Policy generators")
struct GeneratorTests {
  /// The policy from the public guide (shared/reference), with the bucket filled in.
  static let guidePolicy = """
    {
    "Version": "2012-10-17",
    "Statement": [
    {
    "Effect": "Allow",
    "Action": [
    "s3:ListBucket"
    ],
    "Resource": [
    "arn:aws:s3:::my-logs"
    ]
    },
    {
    "Effect": "Allow",
    "Action": [
    "s3:GetObject"
    ],
    "Resource": [
    "arn:aws:s3:::my-logs/*"
    ]
    }
    ]
    }
    """

  @Test func fetcherWithoutPrefixOrKeyIsExactlyTheGuidesPolicy() throws {
    let scope = try AccessScope(purpose: .fetcher, bucket: "my-logs")
    let generated = PolicyGenerator.permissionsPolicy(for: scope).json()
    #expect(try JSONValue.parse(generated) == JSONValue.parse(Self.guidePolicy))
    // Same keys in the same order, too.
    let squeeze = { (s: String) in s.filter { !$0.isWhitespace } }
    #expect(squeeze(generated) == squeeze(Self.guidePolicy))
  }

  @Test func fetcherWithPrefixScopesListingAndObjects() throws {
    let scope = try AccessScope(
      purpose: .fetcher, bucket: "my-logs", prefix: "/AWSLogs/111122223333/")
    let policy = PolicyGenerator.permissionsPolicy(for: scope)
    #expect(policy.statements.count == 2)
    let list = policy.statements[0]
    #expect(list.action?.values == ["s3:ListBucket"])
    #expect(list.resource?.values == ["arn:aws:s3:::my-logs"])
    #expect(
      list.condition
        == ConditionBlock([.init(.stringLike, "s3:prefix", ["AWSLogs/111122223333/*"])]))
    #expect(
      policy.statements[1].resource?.values == ["arn:aws:s3:::my-logs/AWSLogs/111122223333/*"])
  }

  @Test func prefixWildcardCharactersAreEscapedAndStillMatchLiterally() throws {
    let scope = try AccessScope(purpose: .fetcher, bucket: "my-logs", prefix: "odd*dir?/$x/")
    #expect(scope.objectsResource == "arn:aws:s3:::my-logs/odd${*}dir${?}/${$}x/*")
    let policy = PolicyGenerator.permissionsPolicy(for: scope)
    func allowed(_ key: String) -> Bool {
      PolicyEvaluator.evaluate(
        policy, request: .init(action: "s3:GetObject", resource: "arn:aws:s3:::my-logs/\(key)")
      ).decision == .allow
    }
    #expect(allowed("odd*dir?/$x/file.log"))
    // The `*` and `?` in the prefix are literal: they must not act as wildcards.
    #expect(!allowed("oddXXdirY/$x/file.log"))
    #expect(!allowed("other/file.log"))
  }

  @Test func archiveNeedsListGetPutRestoreAndNothingBroader() throws {
    let scope = try AccessScope(purpose: .archive, bucket: "my-archive", prefix: "ferry/")
    let policy = PolicyGenerator.permissionsPolicy(for: scope)
    let actions = Set(policy.statements.flatMap { $0.action?.values ?? [] })
    // RestoreObject is what S3 authorizes a POST ?restore with ("Actions, resources, and
    // condition keys for Amazon S3"): Ferry's restore --thaw sends it for Glacier objects.
    #expect(
      actions == [
        "s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload",
        "s3:RestoreObject",
      ])
    let thaw = PolicyEvaluator.evaluate(
      policy,
      request: .init(
        action: "s3:RestoreObject",
        resource: "arn:aws:s3:::my-archive/ferry/2026/01/01/a.ndjson.zst"))
    #expect(thaw.decision == .allow)
    let outside = PolicyEvaluator.evaluate(
      policy, request: .init(action: "s3:RestoreObject", resource: "arn:aws:s3:::my-archive/other"))
    #expect(outside.decision != .allow)
    #expect(!policy.statements.contains { $0.resource?.values.contains("*") == true })
    #expect(!actions.contains { $0.contains("Delete") || $0.contains("*") })
  }

  @Test func kmsKeyAddsDecryptAndForArchivesGenerateDataKey() throws {
    let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    let fetcher = PolicyGenerator.permissionsPolicy(
      for: try AccessScope(purpose: .fetcher, bucket: "b-1", kmsKeyARN: key))
    let kmsStatement = try #require(fetcher.statements.first { $0.resource?.values == [key] })
    #expect(kmsStatement.action?.values == ["kms:Decrypt"])
    let archive = PolicyGenerator.permissionsPolicy(
      for: try AccessScope(purpose: .archive, bucket: "b-1", kmsKeyARN: key))
    #expect(
      archive.statements.first { $0.resource?.values == [key] }?.action?.values == [
        "kms:Decrypt", "kms:GenerateDataKey",
      ])
  }

  @Test func aNotificationQueueAddsWhatReadingItNeedsOnThatQueueAlone() throws {
    let queue = "arn:aws:sqs:us-east-1:111122223333:ferry-s3-events"
    let policy = PolicyGenerator.permissionsPolicy(
      for: try AccessScope(purpose: .fetcher, bucket: "b-1", prefix: "app/", queueARN: queue))
    func allowed(_ action: String, _ resource: String) -> Bool {
      PolicyEvaluator.evaluate(policy, request: .init(action: action, resource: resource))
        .decision == .allow
    }
    // What a fetcher calls on its queue (AWS's SQS actions reference): receive, delete,
    // extend visibility; nothing else, and nothing on another queue.
    for action in ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"] {
      #expect(allowed(action, queue), "\(action)")
      #expect(!allowed(action, "arn:aws:sqs:us-east-1:111122223333:other-queue"), "\(action)")
    }
    for action in [
      "sqs:SendMessage", "sqs:PurgeQueue", "sqs:DeleteQueue", "sqs:SetQueueAttributes",
    ] {
      #expect(!allowed(action, queue), "\(action)")
    }
    #expect(allowed("s3:GetObject", "arn:aws:s3:::b-1/app/x.log"))
    // Only a fetcher reads a queue; a FIFO queue (which S3 cannot notify) and a queue URL
    // in place of its ARN are refused with the fix.
    #expect(throws: InputError.self) {
      try AccessScope(purpose: .archive, bucket: "b-1", queueARN: queue)
    }
    #expect(throws: InputError.self) {
      try AccessScope(
        purpose: .fetcher, bucket: "b-1",
        queueARN: "arn:aws:sqs:us-east-1:111122223333:events.fifo")
    }
    #expect(throws: InputError.self) {
      try AccessScope(
        purpose: .fetcher, bucket: "b-1",
        queueARN: "https://sqs.us-east-1.amazonaws.com/111122223333/ferry-s3-events")
    }
  }

  @Test func metricShippingHasOneStatementPerGrantWithTheStacksActions() throws {
    let policy = PolicyGenerator.permissionsPolicy(
      for: try AccessScope(purpose: .metrics, bucket: nil))
    let actions = policy.statements.flatMap { $0.action?.values ?? [] }
    // What the stack needs (MetricStreamTemplateTests holds the list to the template):
    // 7 S3, 3 CloudWatch, 7 Logs, 4 Firehose, 17 IAM, 6 CloudFormation actions.
    #expect(Set(actions).count == 44)
    for action in [
      "s3:GetBucketLocation", "cloudwatch:PutMetricStream", "logs:DeleteLogStream",
      "firehose:UpdateDestination", "iam:PassRole", "cloudformation:ListStackResources",
    ] {
      #expect(actions.contains(action))
    }
    // The guide lists these, but the stack calls none of them.
    for action in ["lambda:ListFunctions", "cloudwatch:PutMetricData", "firehose:PutRecordBatch"] {
      #expect(!actions.contains(action))
    }
    // Every action exists in the catalog: a typo here would grant nothing.
    for action in actions {
      guard case .known = ActionCatalog.lookup(action) else {
        Issue.record("\(action) is not a known action")
        continue
      }
    }
  }

  @Test func trustPolicyRequiresTheExternalID() throws {
    let trust = try PolicyGenerator.trustPolicy(
      platformPrincipal: "123456789012", externalID: "ferry:aws:extid:abc123")
    let statement = try #require(trust.statements.first)
    #expect(
      statement.principal == .aws(StringList(["arn:aws:iam::123456789012:root"], isSingle: true)))
    #expect(statement.action?.values == ["sts:AssumeRole"])
    #expect(
      statement.condition
        == ConditionBlock([
          .init(.stringEquals, "sts:ExternalId", ["ferry:aws:extid:abc123"], isSingle: true)
        ]))
    let narrow = try PolicyGenerator.trustPolicy(
      platformPrincipal: "arn:aws:iam::123456789012:role/ferry",
      externalID: "ferry:aws:extid:abc123")
    #expect(
      narrow.statements[0].principal?.values(of: .aws) == ["arn:aws:iam::123456789012:role/ferry"])
    #expect(throws: InputError.self) {
      try PolicyGenerator.trustPolicy(platformPrincipal: "1234", externalID: "ferry:aws:extid:abc")
    }
    #expect(throws: InputError.self) {
      try PolicyGenerator.trustPolicy(platformPrincipal: "123456789012", externalID: "bad id!")
    }
  }

  /// An ID of the shape Ferry generates: 26 base-36 characters (about 134 bits).
  static let generatedID = "ferry:aws:extid:q8w2n5x7c4v1b9m3k6j0h2t5yr"

  @Test(arguments: Purpose.allCases)
  func generatedPoliciesPassTheirOwnCheckAndLint(purpose: Purpose) throws {
    let scope =
      purpose == .metrics
      ? try AccessScope(purpose: .metrics, bucket: nil)
      : try AccessScope(
        purpose: purpose, bucket: "my-logs", prefix: "app/",
        kmsKeyARN: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    let policy = PolicyGenerator.permissionsPolicy(for: scope)
    #expect(PermissionCheck.check([NamedPolicy("generated", policy)], scope: scope).allGranted)
    let findings = PolicyLinter.lint(policy, scope: scope).filter { $0.severity >= .warning }
    #expect(findings.isEmpty, "\(findings)")
    let trust = try PolicyGenerator.trustPolicy(
      platformPrincipal: "123456789012", externalID: Self.generatedID)
    #expect(PolicyLinter.lint(trust, externalID: Self.generatedID).isEmpty)
  }
}
