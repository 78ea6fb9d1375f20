/// What Ferry does through a customer's role.
public enum Purpose: String, Sendable, Hashable, CaseIterable {
  /// Read log files from the bucket (the S3 fetcher).
  case fetcher
  /// Write archives into the bucket and read them back to restore.
  case archive
  /// Ship CloudWatch metrics (sets up a metric stream and its delivery).
  case metrics

  /// Parses a purpose given by a person.
  public static func parse(_ text: String, field: String = "purpose") throws(InputError) -> Purpose
  {
    guard let purpose = Purpose(rawValue: text.lowercased()) else {
      throw InputError(
        field: field, problem: "\"\(text)\" is not a purpose",
        fix: "Use one of: \(allCases.map(\.rawValue).joined(separator: ", ")).")
    }
    return purpose
  }

  /// A default name for the role a customer creates for this purpose.
  public var defaultRoleName: String {
    switch self {
    case .fetcher: "ferry-s3-fetcher"
    case .archive: "ferry-archive"
    case .metrics: "ferry-metrics"
    }
  }
}

/// Where and for what Ferry needs access: a purpose, a bucket, an optional key prefix and
/// an optional KMS key. Validated on creation, so every generator can trust it.
public struct AccessScope: Sendable, Hashable {
  public let purpose: Purpose
  /// Empty for metric shipping, which is not tied to one bucket.
  public let bucket: String
  /// The key prefix without a leading slash; empty for the whole bucket.
  public let prefix: String
  public let kmsKeyARN: String?
  /// The SQS queue that receives the bucket's S3 event notifications, for a fetcher that
  /// discovers new objects from them instead of listing.
  public let queueARN: String?

  public init(
    purpose: Purpose, bucket: String?, prefix: String? = nil, kmsKeyARN: String? = nil,
    queueARN: String? = nil
  ) throws(InputError) {
    self.purpose = purpose
    if let queueARN, !queueARN.isEmpty, purpose != .fetcher {
      throw InputError(
        field: "queue-arn",
        problem:
          "only a fetcher reads S3 event notifications from a queue, not the \(purpose.rawValue) purpose",
        fix: "Leave out --queue-arn, or use --purpose fetcher.")
    }
    if purpose == .metrics {
      for (field, value) in [("bucket", bucket), ("prefix", prefix), ("kms-key", kmsKeyARN)] {
        if let value, !value.isEmpty {
          throw InputError(
            field: field,
            problem: "the metrics purpose is not tied to one bucket, so --\(field) does not apply",
            fix: "Leave out --\(field) (metric shipping names its own resources ferry-metrics-*).")
        }
      }
      self.bucket = ""
      self.prefix = ""
      self.kmsKeyARN = nil
      self.queueARN = nil
      return
    }
    guard let bucket, !bucket.isEmpty else {
      throw InputError(
        field: "bucket", problem: "a bucket is required for the \(purpose.rawValue) purpose",
        fix: "Give the name of the S3 bucket, e.g. --bucket my-logs.")
    }
    try BucketName.validate(bucket)
    self.bucket = bucket
    self.prefix = try KeyPrefix.normalize(prefix)
    if let kmsKeyARN, !kmsKeyARN.isEmpty {
      _ = try ARN.parseKMSKey(kmsKeyARN, field: "kms-key")
      self.kmsKeyARN = kmsKeyARN
    } else {
      self.kmsKeyARN = nil
    }
    if let queueARN, !queueARN.isEmpty {
      _ = try ARN.parseQueue(queueARN, field: "queue-arn")
      self.queueARN = queueARN
    } else {
      self.queueARN = nil
    }
  }

  /// `arn:aws:s3:::BUCKET`.
  public var bucketARN: String { "arn:aws:s3:::\(bucket)" }

  /// The objects under the prefix as a policy resource: `arn:aws:s3:::BUCKET/PREFIX*`, with
  /// wildcard characters in the prefix escaped as policy variables (`${*}`, `${?}`, `${$}`).
  public var objectsResource: String {
    "\(bucketARN)/\(Self.escapeForPolicy(prefix))*"
  }

  /// `s3:prefix` values that list the prefix (for the ListBucket condition).
  public var listPrefixPattern: String { Self.escapeForPolicy(prefix) + "*" }

  /// The location as people write it: `s3://bucket/prefix`.
  public var location: String { "s3://\(bucket)/\(prefix)" }

  /// Escapes characters that IAM would read as wildcards or variables.
  public static func escapeForPolicy(_ text: String) -> String {
    var out = ""
    for c in text {
      switch c {
      case "*": out += "${*}"
      case "?": out += "${?}"
      case "$": out += "${$}"
      default: out.append(c)
      }
    }
    return out
  }
}
