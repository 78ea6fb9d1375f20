/// A failed call to AWS: which operation, what AWS said (code, message, request ID, HTTP
/// status), and what kind of failure it was. Never carries a secret.
public struct AWSError: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Kind: String, Sendable, Equatable {
    /// AWS answered with an error.
    case service
    /// The endpoint could not be reached, or the connection broke.
    case network
    /// No answer in time.
    case timeout
    /// AWS answered with something Ferry cannot read.
    case invalidResponse
    /// No credentials, or they could not be obtained.
    case credentials
    /// A value Ferry was given that AWS would refuse (a bad ARN, region or bucket name).
    case invalidInput
    /// The caller cancelled the call (its task was cancelled). Never retried.
    case cancelled
  }

  public var kind: Kind
  /// The operation, e.g. `S3.GetObject` or `STS.AssumeRole`.
  public var operation: String
  /// AWS's error code, e.g. `AccessDenied`, `NoSuchBucket`.
  public var code: String?
  public var message: String
  public var requestID: String?
  public var statusCode: Int?
  /// The region S3 named in `x-amz-bucket-region` (on a redirect or a denial): where the
  /// bucket really is.
  public var bucketRegion: String?
  /// Whether the request may have reached AWS before the failure: false when the
  /// connection could not even be made, so repeating the call cannot do anything twice.
  public var mayHaveReachedServer: Bool
  /// For a clock-skew error: how far AWS's clock (its `Date` header) is ahead of ours.
  var serverClockSkew: Double?

  public init(
    kind: Kind, operation: String, code: String? = nil, message: String, requestID: String? = nil,
    statusCode: Int? = nil, bucketRegion: String? = nil, mayHaveReachedServer: Bool = true
  ) {
    self.mayHaveReachedServer = mayHaveReachedServer
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
    if let code {
      text += code + (statusCode.map { " (HTTP \($0))" } ?? "") + ": "
    } else if let statusCode {
      text += "HTTP \(statusCode): "
    }
    text += message
    if let requestID { text += " [request ID \(requestID)]" }
    return text
  }

  /// Throttling and transient server faults, worth another try.
  public var isRetryable: Bool {
    switch kind {
    case .network, .timeout: return true
    case .invalidInput, .credentials, .invalidResponse, .cancelled: return false
    case .service: break
    }
    if let code, Self.retryableCodes.contains(code) { return true }
    return [429, 500, 502, 503, 504].contains(statusCode ?? 0)
  }

  /// The request was signed with a clock too far from AWS's. `InvalidSignatureException`
  /// and `SignatureDoesNotMatch` also mean a wrong key or a mangled request: they count
  /// only when AWS's message says the signature expired or is not yet valid.
  public var isClockSkew: Bool {
    guard kind == .service, let code else { return false }
    if Self.skewCodes.contains(code) { return true }
    guard code == "SignatureDoesNotMatch" || code == "InvalidSignatureException" else {
      return false
    }
    let lowered = message.lowercased()
    return lowered.contains("signature expired") || lowered.contains("signature not yet current")
  }

  static let retryableCodes: Set<String> = [
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "SlowDown", "RequestLimitExceeded", "BandwidthLimitExceeded",
    "RequestThrottled", "ProvisionedThroughputExceededException", "RequestTimeout",
    "RequestTimeoutException", "InternalError", "InternalFailure", "ServiceUnavailable",
    "PriorRequestNotComplete", "TransactionInProgressException", "IDPCommunicationError",
  ]
  static let skewCodes: Set<String> = [
    "RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture",
  ]

  static func invalidInput(_ operation: String, _ message: String) -> AWSError {
    AWSError(kind: .invalidInput, operation: operation, message: message)
  }
}
