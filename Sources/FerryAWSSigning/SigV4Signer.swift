import Crypto
import Foundation
import Synchronization

/// An HTTP request as SigV4 sees it: method, the path and query exactly as they go on the
/// wire (already percent-encoded), and headers.
public struct SigningRequest: Sendable, Equatable {
  public var method: String
  public var path: String
  /// The query string without `?`, as on the wire.
  public var query: String
  public var headers: [Header]

  public struct Header: Sendable, Equatable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
      self.name = name
      self.value = value
    }
  }

  public init(method: String, path: String, query: String = "", headers: [Header]) {
    self.method = method
    self.path = path
    self.query = query
    self.headers = headers
  }

  /// The first value of a header (case-insensitive name).
  public func header(_ name: String) -> String? {
    let wanted = name.lowercased()
    return headers.first { $0.name.count == wanted.count && $0.name.lowercased() == wanted }?.value
  }
}

/// The result of signing, with the intermediate forms for diagnosis and tests.
public struct SignedRequest: Sendable {
  public var request: SigningRequest
  public var canonicalRequest: String
  public var stringToSign: String
  public var signature: String
}

/// Signs requests with AWS Signature Version 4, in the `Authorization` header or as a
/// presigned URL query.
public struct SigV4Signer: Sendable {
  /// How a service wants its requests canonicalized.
  public struct Options: Sendable, Equatable {
    /// Remove `.`/`..` and empty path segments before signing (not for S3).
    public var normalizePath: Bool
    /// Encode the wire path again for the canonical URI (not for S3).
    public var doubleEncodePath: Bool
    /// Send and sign `x-amz-content-sha256` (S3 requires it).
    public var addContentSHA256Header: Bool
    /// Sign `x-amz-security-token`; when false it is added after signing.
    public var signSessionToken: Bool

    public init(
      normalizePath: Bool, doubleEncodePath: Bool, addContentSHA256Header: Bool,
      signSessionToken: Bool = true
    ) {
      self.normalizePath = normalizePath
      self.doubleEncodePath = doubleEncodePath
      self.addContentSHA256Header = addContentSHA256Header
      self.signSessionToken = signSessionToken
    }

    /// Every service but S3.
    public static let standard = Options(
      normalizePath: true, doubleEncodePath: true, addContentSHA256Header: false)
    /// S3: the path is signed as sent, and the payload hash travels in a header.
    public static let s3 = Options(
      normalizePath: false, doubleEncodePath: false, addContentSHA256Header: true)
  }

  /// The payload hash for a body Ferry does not hash (S3 over TLS, presigned URLs).
  public static let unsignedPayload = "UNSIGNED-PAYLOAD"
  /// SHA-256 of an empty body.
  public static let emptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

  public let credentials: AWSCredentials
  public let region: String
  public let service: String
  public let options: Options
  private let keyCache: SigningKeyCache

  public init(
    credentials: AWSCredentials, region: String, service: String, options: Options = .standard,
    keyCache: SigningKeyCache = .shared
  ) {
    self.credentials = credentials
    self.region = region
    self.service = service
    self.options = options
    self.keyCache = keyCache
  }

  /// Hex SHA-256 of a body.
  public static func hash<D: DataProtocol>(_ data: D) -> String {
    Hex.encode(SHA256.hash(data: data))
  }

  /// Signs with an `Authorization` header; adds `X-Amz-Date` (and the session token, and
  /// `x-amz-content-sha256` where the options ask for it).
  public func sign(
    _ request: SigningRequest, payloadHash: String = SigV4Signer.emptyPayloadHash,
    date: Date = Date()
  ) -> SignedRequest {
    let amzDate = AmzDate(date)
    var request = request
    request.headers.removeAll {
      let n = $0.name.lowercased()
      return n == "authorization" || n == "x-amz-date"
        || (n == "x-amz-security-token" && credentials.sessionToken != nil)
    }
    request.headers.append(.init("X-Amz-Date", amzDate.full))
    if options.addContentSHA256Header, request.header("x-amz-content-sha256") == nil {
      request.headers.append(.init("x-amz-content-sha256", payloadHash))
    }
    if let token = credentials.sessionToken, options.signSessionToken {
      request.headers.append(.init("X-Amz-Security-Token", token))
    }
    let headers = Canonical.headers(signable(request.headers))
    let canonicalRequest = canonical(
      request, query: Canonical.query(request.query[...]), headers: headers,
      payloadHash: payloadHash)
    let scope = "\(amzDate.day)/\(region)/\(service)/aws4_request"
    let stringToSign = self.stringToSign(
      amzDate: amzDate, scope: scope, canonicalRequest: canonicalRequest)
    let signature = sign(stringToSign, day: amzDate.day)
    if let token = credentials.sessionToken, !options.signSessionToken {
      request.headers.append(.init("X-Amz-Security-Token", token))
    }
    request.headers.append(
      .init(
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(headers.signed), Signature=\(signature)"
      ))
    return SignedRequest(
      request: request, canonicalRequest: canonicalRequest, stringToSign: stringToSign,
      signature: signature)
  }

  /// Presigns: the signature and its parameters go into the query, valid for `expires`
  /// seconds (at most 7 days).
  public func presign(
    _ request: SigningRequest, expires: Int, payloadHash: String = SigV4Signer.unsignedPayload,
    date: Date = Date()
  ) -> SignedRequest {
    let amzDate = AmzDate(date)
    let scope = "\(amzDate.day)/\(region)/\(service)/aws4_request"
    let headers = Canonical.headers(signable(request.headers))
    var params: [(String, String)] = [
      ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
      ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope)"),
      ("X-Amz-Date", amzDate.full),
      ("X-Amz-Expires", String(min(max(expires, 1), 604_800))),
      ("X-Amz-SignedHeaders", headers.signed),
    ]
    if let token = credentials.sessionToken, options.signSessionToken {
      params.append(("X-Amz-Security-Token", token))
    }
    var request = request
    let added = params.map { "\($0.0)=\(Canonical.uriEncode($0.1, keepSlash: false))" }.joined(
      separator: "&")
    request.query = request.query.isEmpty ? added : request.query + "&" + added
    let canonicalRequest = canonical(
      request, query: Canonical.query(request.query[...]), headers: headers,
      payloadHash: payloadHash)
    let stringToSign = self.stringToSign(
      amzDate: amzDate, scope: scope, canonicalRequest: canonicalRequest)
    let signature = sign(stringToSign, day: amzDate.day)
    if let token = credentials.sessionToken, !options.signSessionToken {
      request.query += "&X-Amz-Security-Token=" + Canonical.uriEncode(token, keepSlash: false)
    }
    request.query += "&X-Amz-Signature=" + signature
    return SignedRequest(
      request: request, canonicalRequest: canonicalRequest, stringToSign: stringToSign,
      signature: signature)
  }

  /// Headers that proxies and HTTP stacks may change are left unsigned.
  private func signable(_ headers: [SigningRequest.Header]) -> [(name: String, value: String)] {
    headers.compactMap { header in
      let name = header.name.lowercased()
      switch name {
      case "authorization", "user-agent", "connection", "expect", "transfer-encoding",
        "x-amzn-trace-id":
        return nil
      default:
        return (name, header.value)
      }
    }
  }

  private func canonical(
    _ request: SigningRequest, query: String, headers: (canonical: String, signed: String),
    payloadHash: String
  ) -> String {
    let uri = Canonical.uri(
      request.path, normalize: options.normalizePath, doubleEncode: options.doubleEncodePath)
    return
      "\(request.method)\n\(uri)\n\(query)\n\(headers.canonical)\n\(headers.signed)\n\(payloadHash)"
  }

  private func stringToSign(amzDate: AmzDate, scope: String, canonicalRequest: String) -> String {
    "AWS4-HMAC-SHA256\n\(amzDate.full)\n\(scope)\n\(Self.hash(text: canonicalRequest))"
  }

  private func sign(_ stringToSign: String, day: String) -> String {
    let key = keyCache.key(
      accessKeyID: credentials.accessKeyID, secret: credentials.secretAccessKey, day: day,
      region: region, service: service)
    var text = stringToSign
    return text.withUTF8 {
      Hex.encode(HMAC<SHA256>.authenticationCode(for: UnsafeRawBufferPointer($0), using: key))
    }
  }

  /// Hex SHA-256 of a string's UTF-8 bytes, without copying them.
  static func hash(text: String) -> String {
    var text = text
    return text.withUTF8 { Hex.encode(SHA256.hash(data: UnsafeRawBufferPointer($0))) }
  }
}

/// Derived signing keys, cached per secret, day, region and service: deriving one takes
/// four HMACs, and a day's requests share it.
public final class SigningKeyCache: Sendable {
  private struct Key: Hashable {
    let accessKeyID: String
    /// A per-process fingerprint of the secret (Swift's seeded hash): tells two secrets of
    /// one access key apart without keeping the secret as a key.
    let secretFingerprint: Int
    let day: String
    let region: String
    let service: String
  }

  private let storage = Mutex<[Key: SymmetricKey]>([:])
  private let capacity: Int

  /// The process-wide cache.
  public static let shared = SigningKeyCache()

  public init(capacity: Int = 256) { self.capacity = capacity }

  func key(accessKeyID: String, secret: String, day: String, region: String, service: String)
    -> SymmetricKey
  {
    let id = Key(
      accessKeyID: accessKeyID, secretFingerprint: secret.hashValue, day: day, region: region,
      service: service)
    if let cached = storage.withLock({ $0[id] }) { return cached }
    let derived = Self.derive(secret: secret, day: day, region: region, service: service)
    storage.withLock { cache in
      if cache.count >= capacity { cache.removeAll(keepingCapacity: true) }
      cache[id] = derived
    }
    return derived
  }

  /// Number of keys derived and cached.
  public var count: Int { storage.withLock { $0.count } }

  static func derive(secret: String, day: String, region: String, service: String) -> SymmetricKey {
    func hmac(_ key: SymmetricKey, _ text: String) -> SymmetricKey {
      SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key))
    }
    let kDate = hmac(SymmetricKey(data: Data("AWS4\(secret)".utf8)), day)
    return hmac(hmac(hmac(kDate, region), service), "aws4_request")
  }
}

enum Hex {
  private static let digits = Array("0123456789abcdef".utf8)

  static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
    var out: [UInt8] = []
    out.reserveCapacity(64)
    for b in bytes {
      out.append(digits[Int(b >> 4)])
      out.append(digits[Int(b & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
  }

  static func encode(_ digest: some Digest) -> String { encode(Array(digest)) }
  static func encode(_ code: HashedAuthenticationCode<SHA256>) -> String { encode(Array(code)) }
}
