import FerryAWSSigning
import Foundation
import NIOHTTP1
import Testing

@testable import FerryAWS

/// S3's bucket-owner condition (S3 User Guide, "Verifying bucket ownership with bucket owner
/// condition"): a request with `x-amz-expected-bucket-owner` fails with 403 when the bucket
/// belongs to another account. A client that expects an owner sends it on every call.
@Suite("S3 expected bucket owner")
struct ExpectedBucketOwnerTests {
  let client = AWSClient()

  @Test func everyRequestOfAClientExpectingAnOwnerCarriesIt() throws {
    let s3 = S3Client(client: client, credentials: nil, region: "eu-west-1")
      .expectingBucketOwner("444455556666")
    for (operation, method, key) in [
      ("S3.ListObjectsV2", HTTPMethod.GET, nil), ("S3.GetObject", .GET, "a.log"),
      ("S3.PutObject", .PUT, "a.log"), ("S3.DeleteObject", .DELETE, "a.log"),
      ("S3.HeadBucket", .HEAD, nil),
    ] as [(String, HTTPMethod, String?)] {
      let request = try s3.makeRequest(operation, method, bucket: "acme-logs", key: key)
      let owners = request.headers.filter { $0.0 == "x-amz-expected-bucket-owner" }.map(\.1)
      #expect(owners == ["444455556666"], "\(operation)")
    }
    // Kept across a region change (after region discovery).
    let moved = try s3.inRegion("us-east-2").makeRequest(
      "S3.GetObject", .GET, bucket: "acme-logs", key: "a")
    #expect(moved.headers.contains { $0 == ("x-amz-expected-bucket-owner", "444455556666") })
  }

  @Test func aClientWithoutAnExpectedOwnerSendsNone() throws {
    let request = try S3Client(client: client, credentials: nil, region: "eu-west-1")
      .makeRequest("S3.GetObject", .GET, bucket: "acme-logs", key: "a")
    #expect(!request.headers.contains { $0.0 == "x-amz-expected-bucket-owner" })
  }
}
