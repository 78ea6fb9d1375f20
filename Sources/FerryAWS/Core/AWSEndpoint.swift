import Foundation

/// Where requests go: AWS's public endpoints, or one custom endpoint (an emulator or an
/// S3-compatible store) for every service.
public struct AWSEndpoint: Sendable, Equatable {
  /// A custom endpoint such as `http://127.0.0.1:5000`; nil for AWS.
  public var customURL: URL?
  /// Address buckets in the path (`host/bucket/key`) instead of the host name. Emulators
  /// and buckets with dots in their names need it.
  public var s3PathStyle: Bool

  public init(customURL: URL? = nil, s3PathStyle: Bool? = nil) {
    self.customURL = customURL
    self.s3PathStyle = s3PathStyle ?? (customURL != nil)
  }

  /// AWS's public endpoints.
  public static let aws = AWSEndpoint()

  /// An emulator or S3-compatible store at `url`, path-style.
  public static func custom(_ url: URL) -> AWSEndpoint { AWSEndpoint(customURL: url) }

  struct Target {
    var scheme: String
    var host: String
    var port: Int?
    /// Path prefix before the resource path (the bucket, in path style).
    var pathPrefix: String

    var hostHeader: String { port.map { "\(host):\($0)" } ?? host }
    var base: String { "\(scheme)://\(hostHeader)" }
  }

  /// The endpoint of a regional service (`sts`, `sqs`).
  func service(_ name: String, region: String) -> Target {
    if let custom = customTarget { return custom }
    return Target(
      scheme: "https", host: "\(name).\(region).\(Self.dnsSuffix(region))", port: nil,
      pathPrefix: "")
  }

  /// The endpoint of a bucket. Virtual-hosted style unless path style is asked for or the
  /// bucket name has dots (which TLS wildcard certificates do not cover).
  func s3(bucket: String?, region: String) -> Target {
    var target =
      customTarget
      ?? Target(
        scheme: "https", host: "s3.\(region).\(Self.dnsSuffix(region))", port: nil, pathPrefix: "")
    guard let bucket else { return target }
    if s3PathStyle || bucket.contains(".") {
      target.pathPrefix = "/" + bucket
    } else {
      target.host = "\(bucket).\(target.host)"
    }
    return target
  }

  private var customTarget: Target? {
    guard let url = customURL, let host = url.host else { return nil }
    let path = url.path == "/" ? "" : url.path
    return Target(scheme: url.scheme ?? "http", host: host, port: url.port, pathPrefix: path)
  }

  static func dnsSuffix(_ region: String) -> String {
    region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
  }
}

/// AWS region names.
public enum AWSRegion {
  /// Checks a region name's shape (`us-east-1`, `eu-central-2`, `us-gov-west-1`).
  public static func validate(_ region: String, operation: String) throws(AWSError) {
    let parts = region.split(separator: "-", omittingEmptySubsequences: false)
    let ok =
      parts.count >= 3 && parts.first?.count == 2 && parts.allSatisfy { !$0.isEmpty }
      && parts.last?.allSatisfy(\.isNumber) == true
      && parts.dropLast().allSatisfy { $0.allSatisfy { $0.isLowercase && $0.isASCII } }
    guard ok else {
      throw .invalidInput(
        operation,
        "\"\(region)\" is not an AWS region. Use a region code such as us-east-1 or eu-west-1 (the bucket's region in the S3 console)."
      )
    }
  }
}
