import FerryCore
import Foundation

/// The customer's archive bucket, through the archive connection's role (the server's
/// implementation assumes it with the owning account's external ID and sends
/// `x-amz-expected-bucket-owner` on every call).
public protocol ArchiveBucket: Sendable {
  /// The bucket's name, for messages.
  var name: String { get }
  /// Writes an object whole: one request, or a multipart upload when it is large. S3 makes
  /// an object visible only once it is complete, so a crash never leaves part of one.
  func put(key: String, bytes: [UInt8], contentType: String) async throws(AWSFailure)
  /// An object's bytes; nil if there is no such key.
  func get(key: String) async throws(AWSFailure) -> [UInt8]?
  /// Every object under `prefix`, in key order.
  func list(prefix: String) async throws(AWSFailure) -> [ArchiveListing]
  /// The folders one level under `prefix` (S3's common prefixes for the delimiter `/`),
  /// each ending with `/`, in key order.
  func folders(under prefix: String) async throws(AWSFailure) -> [String]
  /// Where an object in an archive storage class stands, asking S3 to restore a readable
  /// copy for `days` if nobody has yet.
  func thaw(key: String, days: Int) async throws(AWSFailure) -> ThawState
}

/// An object in an archive storage class, as a restore sees it.
public enum ThawState: Sendable, Equatable {
  /// Its temporary copy can be read.
  case ready
  /// S3 is restoring it (hours): read it later.
  case inProgress
  /// Ferry has just asked S3 to restore it.
  case requested
}

/// An object as a listing shows it.
public struct ArchiveListing: Sendable, Equatable {
  public var key: String
  public var size: Int64
  /// S3's storage class (STANDARD when the listing does not say).
  public var storageClass: String

  public init(key: String, size: Int64, storageClass: String?) {
    self.key = key
    self.size = size
    self.storageClass = storageClass ?? "STANDARD"
  }
}

/// Opens an archive's bucket through its connection's role.
public typealias ArchiveBucketOpener =
  @Sendable (Connection) async throws(AWSFailure) -> any ArchiveBucket

/// Why an archive flush stopped: the step, what AWS or the store said, and the fix.
public struct ArchiveWriteError: Error, Sendable, CustomStringConvertible {
  public var step: String
  public var failure: AWSFailure?
  public var description: String

  /// `step` failed with `failure`; `permission` is the action the step needs.
  init(step: String, permission: String, failure: AWSFailure, connection: Connection) {
    self.step = step
    self.failure = failure
    if failure.isDenied {
      description =
        "\(step) was refused (\(failure)). The role may lack \(permission) on arn:aws:s3:::\(connection.bucket)/\(connection.prefix)*, a bucket policy may deny it, or a KMS key may refuse it. Fix: run `ferry connection check \(connection.id)` for the diagnosis; the archive goes on from where it stopped once the role works"
    } else if failure.code == "NoSuchBucket" {
      description =
        "\(step) failed: the bucket \(connection.bucket) does not exist (\(failure)). Fix: create it, or delete this archive and add one on an existing bucket"
    } else {
      description =
        "\(step) failed (\(failure)); the flush is tried again, writing the same objects"
    }
  }

  init(step: String, description: String) {
    self.step = step
    self.failure = nil
    self.description = description
  }
}
