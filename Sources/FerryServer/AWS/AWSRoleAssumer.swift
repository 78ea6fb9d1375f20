import FerryAWS
import FerryAWSSigning
import FerryCore
import Foundation
import NIOCore

/// The domain's ``RoleAssumer`` over the AWS layer: STS with Ferry's own credentials, then
/// S3 with the assumed role's, every call sending `x-amz-expected-bucket-owner`.
struct AWSRoleAssumer: RoleAssumer {
  let client: AWSClient
  let platformCredentials: any CredentialProvider

  func assumeRole(
    roleARN: String, externalID: String, sessionName: String, region: String,
    expectedBucketOwner: String
  ) async throws(AWSFailure) -> any BucketSession {
    let sts = STSClient(client: client, credentials: platformCredentials)
    do {
      let assumed = try await sts.assumeRole(
        roleARN: roleARN, sessionName: sessionName, externalID: externalID, durationSeconds: 900)
      let s3 = S3Client(
        client: client, credentials: StaticCredentialProvider(assumed.credentials),
        region: region, expectedBucketOwner: expectedBucketOwner)
      return AWSBucketSession(s3: s3)
    } catch {
      throw AWSFailure(error)
    }
  }
}

struct AWSBucketSession: BucketSession {
  let s3: S3Client

  func bucketRegion(bucket: String) async -> String? {
    try? await s3.bucketRegion(bucket: bucket)
  }

  func listObjects(bucket: String, prefix: String, maxKeys: Int) async throws(AWSFailure)
    -> [ObjectSample]
  {
    do {
      let page = try await s3.listPage(bucket: bucket, prefix: prefix, maxKeys: maxKeys)
      return page.objects.map {
        ObjectSample(key: $0.key, size: $0.size, storageClass: $0.storageClass)
      }
    } catch {
      throw AWSFailure(error)
    }
  }

  func readObject(bucket: String, key: String, maxBytes: Int) async throws(AWSFailure)
    -> ObjectRead
  {
    do {
      // A range of an empty object is unsatisfiable (416): read it whole instead.
      let read: (bytes: [UInt8], head: S3ObjectHead)
      do {
        read = try await s3.readRange(
          bucket: bucket, key: key, first: 0, last: Int64(max(maxBytes, 1) - 1))
      } catch  where error.statusCode == 416 {
        read = try await s3.readSmallObject(bucket: bucket, key: key)
      }
      return ObjectRead(
        bytes: Array(read.bytes.prefix(maxBytes)),
        serverSideEncryption: read.head.serverSideEncryption, kmsKeyID: read.head.kmsKeyID)
    } catch {
      throw AWSFailure(error)
    }
  }

  func putObject(bucket: String, key: String, body: [UInt8], kmsKeyARN: String?)
    async throws(AWSFailure)
  {
    do {
      try await s3.putObject(
        bucket: bucket, key: key, body: ByteBuffer(bytes: body), contentType: "text/plain",
        kmsKeyID: kmsKeyARN)
    } catch {
      throw AWSFailure(error)
    }
  }

  func deleteObject(bucket: String, key: String) async throws(AWSFailure) {
    do {
      try await s3.deleteObject(bucket: bucket, key: key)
    } catch {
      throw AWSFailure(error)
    }
  }
}

extension AWSFailure {
  /// The domain's view of an AWS layer error: same operation, code, message, request ID
  /// and status.
  init(_ error: AWSError) {
    let kind: Kind =
      switch error.kind {
      case .service: .service
      case .network, .timeout, .cancelled: .unreachable
      case .credentials: .credentials
      case .invalidInput: .invalidInput
      case .invalidResponse: .invalidResponse
      }
    self.init(
      kind: kind, operation: error.operation, code: error.code, message: error.message,
      requestID: error.requestID, statusCode: error.statusCode, bucketRegion: error.bucketRegion)
  }
}
