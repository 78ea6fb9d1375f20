import FerryAWS
import FerryAWSSigning
import FerryCore
import FerryIngest
import Foundation
import NIOCore

/// A fetcher's bucket over the AWS layer: S3 through the connection's role, assumed with
/// the owning account's external ID and refreshed before it expires (a pass may outlast
/// one session), every call sending `x-amz-expected-bucket-owner`.
public struct AWSObjectSource: ObjectSource {
  let s3: S3Client
  let bucket: String

  /// A bucket through an S3 client as it is (the benchmark reads the emulator directly).
  public init(s3: S3Client, bucket: String) {
    self.s3 = s3
    self.bucket = bucket
  }

  public func list(prefix: String, startAfter: String?, continuation: String?)
    async throws(AWSFailure)
    -> (objects: [SourceObject], next: String?)
  {
    do throws(AWSError) {
      let page = try await s3.listPage(
        bucket: bucket, prefix: prefix, startAfter: startAfter, continuationToken: continuation)
      if page.isTruncated && page.nextContinuationToken == nil {
        throw AWSError(
          kind: .invalidResponse, operation: "S3.ListObjectsV2",
          message: "the listing is truncated but has no continuation token")
      }
      return (
        page.objects.map {
          SourceObject(
            key: $0.key, eTag: $0.eTag, size: $0.size, lastModified: $0.lastModified,
            storageClass: $0.storageClass)
        }, page.isTruncated ? page.nextContinuationToken : nil
      )
    } catch {
      throw AWSFailure(error)
    }
  }

  public func open(key: String, eTag: String) async throws(AWSFailure) -> any ObjectBytes {
    do throws(AWSError) {
      // Ingest reads a few MB/s of compressed bytes per object, far below the network:
      // 2 MiB ahead keeps it fed, and 8 objects in flight hold 16 MiB, not 64.
      let stream = try await s3.getObject(bucket: bucket, key: key, readAhead: 2 << 20)
      if !eTag.isEmpty, stream.eTag != eTag {
        throw AWSError(
          kind: .service, operation: "S3.GetObject", code: "PreconditionFailed",
          message:
            "s3://\(bucket)/\(key) changed since it was listed (ETag \(stream.eTag), listed as \(eTag)); the new version is read on the next pass"
        )
      }
      return S3Bytes(stream.makeAsyncIterator())
    } catch {
      throw AWSFailure(error)
    }
  }
}

/// An object's bytes from the AWS layer's stream (read by one task at a time).
final class S3Bytes: ObjectBytes, @unchecked Sendable {
  let iterator: S3ObjectStream.AsyncIterator

  init(_ iterator: S3ObjectStream.AsyncIterator) { self.iterator = iterator }

  func next() async throws(AWSFailure) -> [UInt8]? {
    do {
      guard var buffer = try await iterator.next() else { return nil }
      return buffer.readBytes(length: buffer.readableBytes)
    } catch let error as AWSError {
      throw AWSFailure(error)
    } catch {
      throw AWSFailure(kind: .unreachable, operation: "S3.GetObject", message: "\(error)")
    }
  }
}
