import Foundation

/// How the domain reaches a customer's AWS account: assume the customer's role, then use
/// the bucket through the session. Implemented over the AWS layer by the server; tests of
/// the diagnosis give scripted answers that follow AWS's documented errors.
public protocol RoleAssumer: Sendable {
  /// Assumes `roleARN` with `externalID`. Every S3 call of the session sends
  /// `x-amz-expected-bucket-owner: expectedBucketOwner`, so a bucket that changed hands
  /// is never read or written.
  func assumeRole(
    roleARN: String, externalID: String, sessionName: String, region: String,
    expectedBucketOwner: String
  ) async throws(AWSFailure) -> any BucketSession
}

/// S3 through an assumed role, for the checks a connection needs.
public protocol BucketSession: Sendable {
  /// Up to `maxKeys` objects under `prefix`.
  func listObjects(bucket: String, prefix: String, maxKeys: Int) async throws(AWSFailure)
    -> [ObjectSample]
  /// Reads at most the first `maxBytes` of an object.
  func readObject(bucket: String, key: String, maxBytes: Int) async throws(AWSFailure)
    -> ObjectRead
  func putObject(bucket: String, key: String, body: [UInt8], kmsKeyARN: String?)
    async throws(AWSFailure)
  func deleteObject(bucket: String, key: String) async throws(AWSFailure)
  /// The region the bucket lives in, as S3 says it (HeadBucket's `x-amz-bucket-region`,
  /// sent even when the role may not use the bucket); nil when S3 does not say.
  func bucketRegion(bucket: String) async -> String?
}

extension BucketSession {
  public func bucketRegion(bucket: String) async -> String? { nil }
}

/// One object of a listing.
public struct ObjectSample: Sendable, Equatable {
  public var key: String
  public var size: Int64
  public var storageClass: String?

  public init(key: String, size: Int64, storageClass: String? = nil) {
    self.key = key
    self.size = size
    self.storageClass = storageClass
  }

  /// Objects in these classes must be restored before they can be read.
  public var isArchived: Bool {
    ["GLACIER", "DEEP_ARCHIVE"].contains(storageClass ?? "")
  }
}

/// What reading an object's first bytes showed.
public struct ObjectRead: Sendable, Equatable {
  public var bytes: [UInt8]
  /// `aws:kms` when S3 decrypted the object with a KMS key for us.
  public var serverSideEncryption: String?
  public var kmsKeyID: String?

  public init(bytes: [UInt8], serverSideEncryption: String? = nil, kmsKeyID: String? = nil) {
    self.bytes = bytes
    self.serverSideEncryption = serverSideEncryption
    self.kmsKeyID = kmsKeyID
  }
}

/// A failed AWS call as the domain sees it: which operation, what AWS said. Never carries a
/// secret.
public struct AWSFailure: Error, Sendable, Equatable, Codable, CustomStringConvertible {
  public enum Kind: String, Sendable, Codable {
    /// AWS answered with an error.
    case service
    /// AWS could not be reached, or did not answer in time.
    case unreachable
    /// Ferry's own AWS credentials are missing or refused.
    case credentials
    /// A value AWS would refuse (a bad ARN or region).
    case invalidInput
    /// AWS answered something Ferry cannot read.
    case invalidResponse
  }

  public var kind: Kind
  /// `STS.AssumeRole`, `S3.ListObjectsV2`, ...
  public var operation: String
  public var code: String?
  public var message: String
  public var requestID: String?
  public var statusCode: Int?
  /// Where S3 says the bucket really is (from `x-amz-bucket-region`).
  public var bucketRegion: String?

  public init(
    kind: Kind, operation: String, code: String? = nil, message: String,
    requestID: String? = nil, statusCode: Int? = nil, bucketRegion: String? = nil
  ) {
    self.kind = kind
    self.operation = operation
    self.code = code
    self.message = message
    self.requestID = requestID
    self.statusCode = statusCode
    self.bucketRegion = bucketRegion
  }

  public var description: String {
    var text = "\(operation) failed: "
    if let code { text += code + (statusCode.map { " (HTTP \($0))" } ?? "") + ": " }
    text += message
    if let requestID { text += " [request ID \(requestID)]" }
    return text
  }

  /// Access was refused (IAM, a bucket policy, a key policy, or the bucket owner check).
  /// Not a request AWS could not authenticate (``signingProblem``), though AWS answers both
  /// with 403: no statement the customer adds would change that.
  public var isDenied: Bool {
    kind == .service && signingProblem == nil
      && (code == "AccessDenied" || code == "AccessDeniedException" || statusCode == 403)
  }

  /// Why AWS could not authenticate the request, when that is what it said: Ferry's side
  /// (its clock, its keys, its session, or a proxy that changed the request), never the
  /// customer's role or bucket.
  public enum SigningProblem: Sendable, Equatable {
    /// The request's time is too far from AWS's (`RequestTimeTooSkewed`, `RequestExpired`,
    /// or a signature AWS calls expired).
    case clock
    /// The signature does not match: a secret key that is not the access key's, or a
    /// proxy that altered the request (`SignatureDoesNotMatch`, `IncompleteSignature`).
    case signature
    /// AWS does not know the access key (`InvalidAccessKeyId`, `InvalidClientTokenId`).
    case unknownKey
    /// Temporary credentials expired (`ExpiredToken`); new ones fix it.
    case expired
  }

  public var signingProblem: SigningProblem? {
    guard kind == .service, let code else { return nil }
    let lowered = message.lowercased()
    switch code {
    case "RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture": return .clock
    case "SignatureDoesNotMatch", "InvalidSignatureException", "IncompleteSignature",
      "SignatureDoesNotMatchException":
      return lowered.contains("signature expired") || lowered.contains("not yet current")
        ? .clock : .signature
    case "InvalidAccessKeyId", "InvalidClientTokenId", "UnrecognizedClientException":
      return .unknownKey
    case "ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired", "RequestExpiredException":
      return .expired
    default: return nil
    }
  }

  /// AWS's own side failed (a 5xx answer): usually transient, nothing for the customer.
  public var isAWSSideFailure: Bool {
    kind == .invalidResponse || (kind == .service && (statusCode ?? 0) >= 500)
  }

  /// AWS asked Ferry to slow down.
  public var isThrottling: Bool {
    guard kind == .service else { return false }
    return statusCode == 429 || statusCode == 503
      || [
        "Throttling", "ThrottlingException", "SlowDown", "RequestLimitExceeded",
        "TooManyRequestsException",
      ]
      .contains(code ?? "")
  }

  /// Whether the customer must change something for this to work (their role, bucket,
  /// policy, key or the connection's settings), rather than a failure that passes or that
  /// is Ferry's operator's to fix: only then does a fetcher or an archive pause itself.
  public var customerMustFix: Bool {
    switch kind {
    case .invalidInput: return true
    case .service: return signingProblem == nil && !isAWSSideFailure && !isThrottling
    case .unreachable, .credentials, .invalidResponse: return false
    }
  }
}
