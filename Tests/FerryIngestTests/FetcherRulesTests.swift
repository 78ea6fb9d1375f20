import FerryCore
import Testing

@testable import FerryIngest

/// When a fetcher pauses: only when AWS's answer says the role, bucket or key no longer
/// works for it (AWS's documented errors are `service` failures), never for a passing
/// failure, after which the next poll tries again.
@Suite("Fetcher rules: what pauses a fetcher")
struct FetcherRulesTests {
  @Test func onlyAnAnswerFromAWSBreaksTheRole() {
    let denied = AWSFailure(
      kind: .service, operation: "S3.ListObjectsV2", code: "AccessDenied", message: "Access Denied",
      statusCode: 403)
    let noBucket = AWSFailure(
      kind: .service, operation: "S3.ListObjectsV2", code: "NoSuchBucket", message: "gone",
      statusCode: 404)
    let assume = AWSFailure(
      kind: .service, operation: "STS.AssumeRole", code: "AccessDenied", message: "not trusted",
      statusCode: 403)
    #expect(FetcherPass.breaksRole(denied))
    #expect(FetcherPass.breaksRole(noBucket))
    #expect(FetcherPass.breaksRole(assume))
    for kind in [AWSFailure.Kind.unreachable, .credentials, .invalidResponse] {
      let passing = AWSFailure(kind: kind, operation: "S3.ListObjectsV2", message: "later")
      #expect(!FetcherPass.breaksRole(passing), "\(kind)")
    }
  }
}
