import Crypto
import Foundation
import Synchronization

/// An HTTP request as SigV4 sees it: method, the path and query exactly as they go on the
/// wire (already percent-encoded), and headers.
public struct SigningRequest: Sendable, Equatable, CustomStringConvertible,
  CustomDebugStringConvertible, CustomReflectable
{
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
    let wanted = Array(name.utf8.lazy.map(ASCII.lowercase))
    return headers.first { header in
      header.name.utf8.count == wanted.count
        && header.name.utf8.lazy.map(ASCII.lowercase).elementsEqual(wanted)
    }?.value
  }
}

/// The result of signing, with the intermediate forms for diagnosis and tests.
public struct SignedRequest: Sendable, CustomStringConvertible, CustomDebugStringConvertible,
  CustomReflectable
{
  public var request: SigningRequest
  let canonicalBytes: [UInt8]
  let stringToSignBytes: [UInt8]
  public var signature: String

  /// The canonical request that was signed.
  public var canonicalRequest: String { String(decoding: canonicalBytes, as: UTF8.self) }
  /// The string that was signed.
  public var stringToSign: String { String(decoding: stringToSignBytes, as: UTF8.self) }

  // The signature and the request's credentials are never printed or dumped: a signed
  // request (or presigned URL) is itself a credential until it expires.
  public var description: String { "SignedRequest(\(request), signature: <redacted>)" }
  public var debugDescription: String { description }
  public var customMirror: Mirror {
    Mirror(self, children: ["request": request, "signature": "<redacted>"])
  }
}

extension SigningRequest {
  /// Headers and query parameters whose values are credentials (lowercased names).
  static let secretNames: Set<String> = [
    "authorization", "x-amz-security-token", "x-amz-signature", "x-amz-credential",
  ]

  /// The query string with credential parameters' values replaced.
  var redactedQuery: String {
    query.split(separator: "&", omittingEmptySubsequences: false).map { pair in
      let name = pair.split(separator: "=", maxSplits: 1).first.map { $0.lowercased() } ?? ""
      return Self.secretNames.contains(name)
        ? "\(pair.prefix { $0 != "=" })=<redacted>" : String(pair)
    }.joined(separator: "&")
  }

  var redactedHeaders: [String] {
    headers.map { header in
      Self.secretNames.contains(header.name.lowercased())
        ? "\(header.name): <redacted>" : "\(header.name): \(header.value)"
    }
  }

  public var description: String {
    "SigningRequest(\(method) \(path)\(query.isEmpty ? "" : "?" + redactedQuery), headers: [\(redactedHeaders.joined(separator: ", "))])"
  }
  public var debugDescription: String { description }
  public var customMirror: Mirror {
    Mirror(
      self,
      children: [
        "method": method, "path": path, "query": redactedQuery, "headers": redactedHeaders,
      ])
  }
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
  /// `/region/service/aws4_request`, after the day in every credential scope.
  private let scopeSuffix: String

  public init(
    credentials: AWSCredentials, region: String, service: String, options: Options = .standard,
    keyCache: SigningKeyCache = .shared
  ) {
    self.credentials = credentials
    self.region = region
    self.service = service
    self.options = options
    self.keyCache = keyCache
    scopeSuffix = "/\(region)/\(service)/aws4_request"
  }

  /// Hex SHA-256 of a body.
  public static func hash<D: DataProtocol>(_ data: D) -> String {
    if let digest = data.withContiguousStorageIfAvailable({ bytes in
      SHA256.hash(data: UnsafeRawBufferPointer(bytes))
    }) {
      return Hex.encode(digest)
    }
    return Hex.encode(SHA256.hash(data: data))
  }

  /// Signs with an `Authorization` header; adds `X-Amz-Date` (and the session token, and
  /// `x-amz-content-sha256` where the options ask for it).
  public func sign(
    _ request: SigningRequest, payloadHash: String = SigV4Signer.emptyPayloadHash,
    date: Date = Date()
  ) -> SignedRequest {
    let amzDate = AmzDate(date)
    var request = request
    request.headers.reserveCapacity(request.headers.count + 4)
    let replacesToken = credentials.sessionToken != nil
    request.headers.removeAll {
      ASCII.equalsLowercased($0.name, "authorization")
        || ASCII.equalsLowercased($0.name, "x-amz-date")
        || (replacesToken && ASCII.equalsLowercased($0.name, "x-amz-security-token"))
    }
    request.headers.append(.init("X-Amz-Date", amzDate.full))
    if options.addContentSHA256Header, request.header("x-amz-content-sha256") == nil {
      request.headers.append(.init("x-amz-content-sha256", payloadHash))
    }
    if let token = credentials.sessionToken?.revealed, options.signSessionToken {
      request.headers.append(.init("X-Amz-Security-Token", token))
    }
    let scope = amzDate.day + scopeSuffix
    let signed = signature(
      request, query: request.query.isEmpty ? "" : Canonical.query(request.query[...]),
      payloadHash: payloadHash, amzDate: amzDate, scope: scope)
    if let token = credentials.sessionToken?.revealed, !options.signSessionToken {
      request.headers.append(.init("X-Amz-Security-Token", token))
    }
    var authorization: [UInt8] = []
    authorization.reserveCapacity(
      96 + credentials.accessKeyID.utf8.count + scope.utf8.count + signed.signedHeaders.count)
    authorization.appendUTF8("AWS4-HMAC-SHA256 Credential=")
    authorization.appendUTF8(credentials.accessKeyID)
    authorization.append(ASCII.slash)
    authorization.appendUTF8(scope)
    authorization.appendUTF8(", SignedHeaders=")
    authorization.append(contentsOf: signed.canonical[signed.signedHeaders])
    authorization.appendUTF8(", Signature=")
    authorization.appendUTF8(signed.signature)
    request.headers.append(
      .init("Authorization", String(decoding: authorization, as: UTF8.self)))
    return SignedRequest(
      request: request, canonicalBytes: signed.canonical, stringToSignBytes: signed.stringToSign,
      signature: signed.signature)
  }

  /// Presigns: the signature and its parameters go into the query, valid for `expires`
  /// seconds (at most 7 days).
  public func presign(
    _ request: SigningRequest, expires: Int, payloadHash: String = SigV4Signer.unsignedPayload,
    date: Date = Date()
  ) -> SignedRequest {
    let amzDate = AmzDate(date)
    let scope = amzDate.day + scopeSuffix
    var scratch: [UInt8] = []
    let signedHeaders = CanonicalHeaders.append(request.headers, to: &scratch)
    var params: [(String, String)] = [
      ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
      ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope)"),
      ("X-Amz-Date", amzDate.full),
      ("X-Amz-Expires", String(min(max(expires, 1), 604_800))),
      ("X-Amz-SignedHeaders", String(decoding: scratch[signedHeaders], as: UTF8.self)),
    ]
    if let token = credentials.sessionToken?.revealed, options.signSessionToken {
      params.append(("X-Amz-Security-Token", token))
    }
    var request = request
    let added = params.map { "\($0.0)=\(Canonical.uriEncode($0.1, keepSlash: false))" }.joined(
      separator: "&")
    request.query = request.query.isEmpty ? added : request.query + "&" + added
    let signed = signature(
      request, query: Canonical.query(request.query[...]), payloadHash: payloadHash,
      amzDate: amzDate, scope: scope)
    if let token = credentials.sessionToken?.revealed, !options.signSessionToken {
      request.query += "&X-Amz-Security-Token=" + Canonical.uriEncode(token, keepSlash: false)
    }
    request.query += "&X-Amz-Signature=" + signed.signature
    return SignedRequest(
      request: request, canonicalBytes: signed.canonical, stringToSignBytes: signed.stringToSign,
      signature: signed.signature)
  }

  /// The canonical request, the string to sign and the signature, built in byte buffers:
  /// this runs for every request Ferry sends, and a string per piece costs an allocation.
  private func signature(
    _ request: SigningRequest, query: String, payloadHash: String, amzDate: AmzDate,
    scope: String
  ) -> (
    canonical: [UInt8], signedHeaders: Range<Int>, stringToSign: [UInt8], signature: String
  ) {
    var headerBytes = 0
    for header in request.headers {
      headerBytes += header.name.utf8.count * 2 + header.value.utf8.count + 3
    }
    var canonical: [UInt8] = []
    canonical.reserveCapacity(
      request.method.utf8.count + request.path.utf8.count * 2 + query.utf8.count + headerBytes
        + payloadHash.utf8.count + 8)
    canonical.appendUTF8(request.method)
    canonical.append(ASCII.newline)
    if options.normalizePath || options.doubleEncodePath {
      canonical.append(
        contentsOf: Canonical.uri(
          request.path, normalize: options.normalizePath, doubleEncode: options.doubleEncodePath
        ).utf8)
    } else if request.path.isEmpty {
      canonical.append(ASCII.slash)
    } else {
      canonical.appendUTF8(request.path)
    }
    canonical.append(ASCII.newline)
    canonical.appendUTF8(query)
    canonical.append(ASCII.newline)
    let signedHeaders = CanonicalHeaders.append(request.headers, to: &canonical)
    canonical.append(ASCII.newline)
    canonical.appendUTF8(payloadHash)

    var stringToSign: [UInt8] = []
    stringToSign.reserveCapacity(100 + scope.utf8.count)
    stringToSign.appendUTF8("AWS4-HMAC-SHA256\n")
    stringToSign.appendUTF8(amzDate.full)
    stringToSign.append(ASCII.newline)
    stringToSign.appendUTF8(scope)
    stringToSign.append(ASCII.newline)
    var hasher = SHA256()
    canonical.withUnsafeBytes { hasher.update(bufferPointer: $0) }
    Hex.append(hasher.finalize(), to: &stringToSign)

    let key = keyCache.key(
      accessKeyID: credentials.accessKeyID, secret: credentials.secretAccessKey.revealed,
      day: amzDate.day,
      region: region, service: service)
    return (canonical, signedHeaders, stringToSign, Hex.encode(key.authenticate(stringToSign)))
  }
}

/// Canonical headers and the signed-headers list as SigV4 signs them: lowercase names,
/// sorted (stable, so duplicates keep their order and join with commas), values trimmed
/// with inner runs of white space collapsed. Headers that proxies and HTTP stacks may
/// change are left unsigned.
enum CanonicalHeaders {
  private struct Entry {
    var start: Int
    var end: Int
    var index: Int
  }

  private static let unsigned: [[UInt8]] = [
    "authorization", "user-agent", "connection", "expect", "transfer-encoding", "x-amzn-trace-id",
  ].map { Array($0.utf8) }

  /// Appends `name:value\n` per distinct name, a newline, then the signed-headers list
  /// (`name;name;…`); returns where that list is in `out`.
  static func append(_ headers: [SigningRequest.Header], to out: inout [UInt8]) -> Range<Int> {
    var nameBytes = 0
    for header in headers { nameBytes += header.name.utf8.count }
    // Scratch space on the stack: a request has a handful of headers.
    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(nameBytes, 1)) { names in
      withUnsafeTemporaryAllocation(of: Entry.self, capacity: max(headers.count, 1)) { entries in
        var used = 0
        var count = 0
        for index in headers.indices {
          let start = used
          var name = headers[index].name
          name.withUTF8 { bytes in
            for b in bytes {
              names[used] = ASCII.lowercase(b)
              used += 1
            }
          }
          let lowered = UnsafeBufferPointer(rebasing: names[start..<used])
          if unsigned.contains(where: { $0.count == lowered.count && $0.elementsEqual(lowered) }) {
            used = start
            continue
          }
          entries[count] = Entry(start: start, end: used, index: index)
          count += 1
        }
        func name(_ e: Entry) -> UnsafeBufferPointer<UInt8> {
          UnsafeBufferPointer(rebasing: names[e.start..<e.end])
        }
        // Insertion sort: stable, and quick for a handful of entries.
        var i = 1
        while i < count {
          let entry = entries[i]
          var j = i
          while j > 0 && name(entry).lexicographicallyPrecedes(name(entries[j - 1])) {
            entries[j] = entries[j - 1]
            j -= 1
          }
          entries[j] = entry
          i += 1
        }
        for k in 0..<count {
          let entry = entries[k]
          if k > 0 && name(entries[k - 1]).elementsEqual(name(entry)) {
            out[out.count - 1] = ASCII.comma
          } else {
            out.append(contentsOf: name(entry))
            out.append(ASCII.colon)
          }
          appendTrimmed(headers[entry.index].value, to: &out)
          out.append(ASCII.newline)
        }
        out.append(ASCII.newline)
        let signedStart = out.count
        for k in 0..<count where k == 0 || !name(entries[k - 1]).elementsEqual(name(entries[k])) {
          if k > 0 { out.append(ASCII.semicolon) }
          out.append(contentsOf: name(entries[k]))
        }
        return signedStart..<out.count
      }
    }
  }

  /// Appends a header value trimmed, runs of white space (folded lines included) as one
  /// space.
  private static func appendTrimmed(_ value: String, to out: inout [UInt8]) {
    var value = value
    value.withUTF8 { bytes in
      // Most values have nothing to trim or collapse: copy them whole.
      var previousSpace = true
      var clean = true
      for b in bytes {
        if b == 0x09 || b == 0x0A || b == 0x0D || (b == 0x20 && previousSpace) {
          clean = false
          break
        }
        previousSpace = b == 0x20
      }
      if clean && !(previousSpace && !bytes.isEmpty) {
        out.append(contentsOf: bytes)
        return
      }
      var pendingSpace = false
      var wrote = false
      for b in bytes {
        if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D {
          pendingSpace = wrote
        } else {
          if pendingSpace { out.append(0x20) }
          pendingSpace = false
          out.append(b)
          wrote = true
        }
      }
    }
  }
}

extension [UInt8] {
  /// Appends a string's UTF-8 bytes in one copy.
  @inline(__always)
  mutating func appendUTF8(_ text: String) {
    var text = text
    text.withUTF8 { append(contentsOf: $0) }
  }
}

/// ASCII helpers for the byte-level canonicalization.
enum ASCII {
  static let newline: UInt8 = 0x0A
  static let slash: UInt8 = 0x2F
  static let comma: UInt8 = 0x2C
  static let colon: UInt8 = 0x3A
  static let semicolon: UInt8 = 0x3B

  @inline(__always)
  static func lowercase(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

  /// Whether `text` equals `lowercased` ignoring ASCII case (`lowercased` must be lowercase).
  static func equalsLowercased(_ text: String, _ lowercased: StaticString) -> Bool {
    let wanted = UnsafeBufferPointer(
      start: lowercased.utf8Start, count: lowercased.utf8CodeUnitCount)
    guard text.utf8.count == wanted.count else { return false }
    var i = 0
    for b in text.utf8 {
      if lowercase(b) != wanted[i] { return false }
      i += 1
    }
    return true
  }
}

/// A derived signing key, kept as HMAC-SHA256's two hash states already fed with the
/// padded key (RFC 2104), so that a signature costs only the hashing of the message.
struct SigningKey: Sendable {
  private let inner: SHA256
  private let outer: SHA256

  init(_ key: SymmetricKey) {
    // A derived key is 32 bytes, shorter than SHA-256's 64-byte block: zero-padded.
    var padded = [UInt8](repeating: 0, count: 64)
    key.withUnsafeBytes { bytes in
      for (i, b) in bytes.enumerated() { padded[i] = b }
    }
    var inner = SHA256()
    var outer = SHA256()
    inner.update(data: padded.map { $0 ^ 0x36 })
    outer.update(data: padded.map { $0 ^ 0x5C })
    self.inner = inner
    self.outer = outer
  }

  /// HMAC-SHA256 of `message`.
  func authenticate(_ message: [UInt8]) -> SHA256.Digest {
    var inner = self.inner
    message.withUnsafeBytes { inner.update(bufferPointer: $0) }
    var outer = self.outer
    inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
    return outer.finalize()
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

  private let storage = Mutex<[Key: SigningKey]>([:])
  private let capacity: Int

  /// The process-wide cache.
  public static let shared = SigningKeyCache()

  public init(capacity: Int = 256) { self.capacity = capacity }

  /// The signing key for a day, region and service.
  func key(accessKeyID: String, secret: String, day: String, region: String, service: String)
    -> SigningKey
  {
    let id = Key(
      accessKeyID: accessKeyID, secretFingerprint: secret.hashValue, day: day, region: region,
      service: service)
    if let cached = storage.withLock({ $0[id] }) { return cached }
    let derived = SigningKey(
      Self.derive(secret: secret, day: day, region: region, service: service))
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
  private static let digits: (UInt64, UInt64) = (0x3736_3534_3332_3130, 0x6665_6463_6261_3938)

  @inline(__always)
  private static func digit(_ nibble: UInt8) -> UInt8 {
    let word = nibble < 8 ? digits.0 : digits.1
    return UInt8(truncatingIfNeeded: word >> (UInt64(nibble & 7) * 8))
  }

  static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
    String(unsafeUninitializedCapacity: bytes.count * 2) { out in
      var i = 0
      for b in bytes {
        out[i] = digit(b >> 4)
        out[i + 1] = digit(b & 0x0F)
        i += 2
      }
      return i
    }
  }

  static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
    Array(bytes).withUnsafeBytes { encode($0) }
  }

  static func encode(_ digest: some Digest) -> String { digest.withUnsafeBytes { encode($0) } }
  static func encode(_ code: HashedAuthenticationCode<SHA256>) -> String {
    code.withUnsafeBytes { encode($0) }
  }

  /// Appends the lowercase hex of a digest.
  static func append(_ digest: some Digest, to out: inout [UInt8]) {
    digest.withUnsafeBytes { bytes in
      for b in bytes {
        out.append(digit(b >> 4))
        out.append(digit(b & 0x0F))
      }
    }
  }
}
