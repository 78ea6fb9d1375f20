import Testing

@testable import FerryPolicy

@Suite("Permission check")
struct CheckTests {
  @Test func reportsGrantedMissingAndDeniedWithAFix() throws {
    let scope = try AccessScope(purpose: .archive, bucket: "arch", prefix: "ferry/")
    let policy = try PolicyDocument.parse(
      #"{"Version":"2012-10-17","Statement":[{"Sid":"List","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::arch"},{"Sid":"Objects","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::arch/*"},{"Sid":"NoWrites","Effect":"Deny","Action":"s3:PutObject","Resource":"*"}]}"#
    )
    let result = PermissionCheck.check([NamedPolicy("p", policy)], scope: scope)
    #expect(!result.allGranted)
    func status(_ action: String) -> PermissionCheckResult.Status? {
      result.entries.first { $0.permission.action == action }?.status
    }
    guard case .granted(let by) = status("s3:ListBucket") else {
      Issue.record("ListBucket should be granted")
      return
    }
    #expect(by.map(\.sid) == ["List"])
    guard case .denied(let deniers) = status("s3:PutObject") else {
      Issue.record("PutObject should be denied")
      return
    }
    #expect(deniers.map(\.sid) == ["NoWrites"])
    #expect(status("s3:AbortMultipartUpload") == .missing)
    let fix = try #require(
      result.entries.first { $0.permission.action == "s3:AbortMultipartUpload" }?.fix)
    #expect(fix.resource?.values == ["arn:aws:s3:::arch/ferry/*"])
    // The fix, added to the policy, grants what was missing.
    var fixed = policy
    fixed.statements.append(fix)
    let after = PermissionCheck.check([NamedPolicy("p", fixed)], scope: scope)
    #expect(
      after.entries.first { $0.permission.action == "s3:AbortMultipartUpload" }?.status != .missing)
  }

  @Test func aPrefixScopedGrantDoesNotCoverTheWholePrefixOfAnother() throws {
    let scope = try AccessScope(purpose: .fetcher, bucket: "bkt", prefix: "logs/")
    let narrow = try PolicyDocument.parse(
      #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::bkt","Condition":{"StringLike":{"s3:prefix":"logs/*"}}},{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/logs/2024/*"}]}"#
    )
    let result = PermissionCheck.check([NamedPolicy("p", narrow)], scope: scope)
    #expect(result.entries.first { $0.permission.action == "s3:GetObject" }?.status == .missing)
    #expect(result.entries.first { $0.permission.action == "s3:ListBucket" }?.status != .missing)
  }

  @Test func theGuidesPolicyGrantsAFetcherOfAnyPrefix() throws {
    let policy = PolicyGenerator.permissionsPolicy(
      for: try AccessScope(purpose: .fetcher, bucket: "my-logs"))
    #expect(
      PermissionCheck.check(
        [NamedPolicy("guide", policy)],
        scope: try AccessScope(purpose: .fetcher, bucket: "my-logs", prefix: "any/where/")
      ).allGranted)
    #expect(
      !PermissionCheck.check(
        [NamedPolicy("guide", policy)], scope: try AccessScope(purpose: .archive, bucket: "my-logs")
      ).allGranted)
  }

  @Test func kmsAndMetricsRequirements() throws {
    let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    let scope = try AccessScope(purpose: .fetcher, bucket: "my-logs", kmsKeyARN: key)
    let noKMS = PolicyGenerator.permissionsPolicy(
      for: try AccessScope(purpose: .fetcher, bucket: "my-logs"))
    let result = PermissionCheck.check([NamedPolicy("p", noKMS)], scope: scope)
    #expect(
      result.entries.filter { $0.status == .missing }.map(\.permission.action) == ["kms:Decrypt"])
    // Metric shipping needs each of the 44 actions the stack calls, on scoped resources.
    let metrics = try AccessScope(purpose: .metrics, bucket: nil)
    #expect(Set(metrics.requiredPermissions.map(\.action)).count == 44)
  }
}
