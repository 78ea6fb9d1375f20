import FerryCore
import Foundation
import Testing

@testable import FerryArchive

/// How the writer words AWS's refusals, for the cases the emulator cannot produce (moto does
/// not enforce IAM on keys with `=`): S3's documented error codes — `AccessDenied` (403) and
/// `NoSuchBucket` (404), https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html —
/// each become the step, the cause and the fix.
@Suite("Archive write errors")
struct ArchiveWriteErrorTests {
  let connection = Connection(
    accountID: AccountID(rawValue: "acct_x"), purpose: .archive, bucket: "acme-archive",
    region: "us-east-1", prefix: "ferry-archive/", roleARN: "arn:aws:iam::111122223333:role/w",
    externalID: "e", usesLegacyExternalID: false)

  @Test func aDeniedWriteNamesThePermissionAndTheCheck() {
    let failure = AWSFailure(
      kind: .service, operation: "S3.PutObject", code: "AccessDenied", message: "Access Denied",
      requestID: "r1", statusCode: 403)
    let error = ArchiveWriteError(
      step: "writing s3://acme-archive/ferry-archive/k", permission: "s3:PutObject",
      failure: failure,
      connection: connection)
    #expect(error.description.hasPrefix("writing s3://acme-archive/ferry-archive/k was refused"))
    #expect(error.description.contains("s3:PutObject on arn:aws:s3:::acme-archive/ferry-archive/*"))
    #expect(error.description.contains("ferry connection check \(connection.id)"))
    let read = ArchiveWriteError(
      step: "reading s3://acme-archive/ferry-archive/manifest.json", permission: "s3:GetObject",
      failure: failure,
      connection: connection)
    #expect(read.description.contains("s3:GetObject"))
  }

  @Test func aMissingBucketSaysSoAndOtherFailuresAreRetried() {
    let missing = ArchiveWriteError(
      step: "writing s3://acme-archive/k", permission: "s3:PutObject",
      failure: AWSFailure(
        kind: .service, operation: "S3.PutObject", code: "NoSuchBucket",
        message: "The specified bucket does not exist", statusCode: 404),
      connection: connection)
    #expect(missing.description.contains("the bucket acme-archive does not exist"))
    #expect(missing.description.contains("Fix: create it"))
    let slow = ArchiveWriteError(
      step: "writing s3://acme-archive/k", permission: "s3:PutObject",
      failure: AWSFailure(kind: .unreachable, operation: "S3.PutObject", message: "timed out"),
      connection: connection)
    #expect(slow.description.contains("tried again"))
  }
}
