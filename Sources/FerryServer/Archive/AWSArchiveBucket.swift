import FerryAWS
import FerryArchive
import FerryCore
import Foundation
import NIOCore

/// An archive's bucket over the AWS layer, through the archive connection's role: objects
/// up to the multipart threshold in one `PutObject`, larger ones in parts (aborted if any
/// part fails, so nothing partial stays), encrypted with the connection's KMS key if it
/// names one.
struct AWSArchiveBucket: ArchiveBucket {
  let s3: S3Client
  let bucket: String
  let kmsKeyARN: String?
  let multipartBytes: Int

  var name: String { bucket }

  func put(key: String, bytes: [UInt8], contentType: String) async throws(AWSFailure) {
    do {
      if bytes.count > multipartBytes {
        // The AWS layer cuts the parts (and aborts the upload if one fails).
        let body = ByteBuffer(bytes: bytes)
        let chunks = AsyncStream<ByteBuffer> { stream in
          stream.yield(body)
          stream.finish()
        }
        _ = try await s3.upload(
          bucket: bucket, key: key, from: chunks, contentType: contentType, kmsKeyID: kmsKeyARN)
      } else {
        try await s3.putObject(
          bucket: bucket, key: key, body: ByteBuffer(bytes: bytes), contentType: contentType,
          kmsKeyID: kmsKeyARN)
      }
    } catch let error as AWSError {
      throw AWSFailure(error)
    } catch {
      throw AWSFailure(kind: .unreachable, operation: "S3.PutObject", message: "\(error)")
    }
  }

  func get(key: String) async throws(AWSFailure) -> [UInt8]? {
    do {
      return try await s3.readSmallObject(bucket: bucket, key: key).bytes
    } catch  where error.code == "NoSuchKey" || error.statusCode == 404 {
      return nil
    } catch {
      throw AWSFailure(error)
    }
  }

  func thaw(key: String, days: Int) async throws(AWSFailure) -> ThawState {
    do {
      let head = try await s3.headObject(bucket: bucket, key: key)
      switch head.restore {
      case .ready: return .ready
      case .inProgress: return .inProgress
      case nil:
        return try await s3.restoreObject(bucket: bucket, key: key, days: days)
          ? .requested : .inProgress
      }
    } catch {
      throw AWSFailure(error)
    }
  }

  func list(prefix: String) async throws(AWSFailure) -> [ArchiveListing] {
    var out: [ArchiveListing] = []
    do {
      for try await page in s3.listObjects(bucket: bucket, prefix: prefix) {
        out += page.objects.map {
          ArchiveListing(key: $0.key, size: $0.size, storageClass: $0.storageClass)
        }
      }
    } catch let error as AWSError {
      throw AWSFailure(error)
    } catch {
      throw AWSFailure(kind: .unreachable, operation: "S3.ListObjectsV2", message: "\(error)")
    }
    return out
  }

  func folders(under prefix: String) async throws(AWSFailure) -> [String] {
    var out: [String] = []
    do {
      for try await page in s3.listObjects(bucket: bucket, prefix: prefix, delimiter: "/") {
        out += page.commonPrefixes
      }
    } catch let error as AWSError {
      throw AWSFailure(error)
    } catch {
      throw AWSFailure(kind: .unreachable, operation: "S3.ListObjectsV2", message: "\(error)")
    }
    return out
  }
}
