import AsyncHTTPClient
import FerryAWSSigning
import FerryPolicy
import Foundation
import NIOCore
import NIOHTTP1

/// One object in a listing.
public struct S3ObjectSummary: Sendable, Equatable {
  public var key: String
  public var size: Int64
  public var eTag: String
  public var lastModified: Date?
  public var storageClass: String?
}

/// One page of `ListObjectsV2`.
public struct S3ListPage: Sendable {
  public var objects: [S3ObjectSummary]
  public var commonPrefixes: [String]
  public var isTruncated: Bool
  public var nextContinuationToken: String?
}

/// What `HeadObject` says of an object.
public struct S3ObjectHead: Sendable, Equatable {
  public var size: Int64
  public var eTag: String
  public var lastModified: Date?
  public var contentType: String?
  public var contentEncoding: String?
  public var versionID: String?
  /// `aws:kms` when the object is encrypted with a KMS key.
  public var serverSideEncryption: String?
  public var kmsKeyID: String?
  /// `x-amz-storage-class` (absent for STANDARD).
  public var storageClass: String? = nil
  /// Where a restore of an archived (Glacier) copy stands, from `x-amz-restore`.
  public var restore: S3RestoreStatus? = nil
}

/// The `x-amz-restore` header of an object in an archive storage class: absent until a
/// `RestoreObject`, then `ongoing-request="true"` while S3 thaws it, and
/// `ongoing-request="false", expiry-date="…"` once the temporary copy can be read
/// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
public enum S3RestoreStatus: Sendable, Equatable {
  case inProgress
  case ready

  public init?(header: String?) {
    guard let header else { return nil }
    let compact = header.replacingOccurrences(of: " ", with: "")
    if compact.contains("ongoing-request=\"true\"") {
      self = .inProgress
    } else if compact.contains("ongoing-request=\"false\"") {
      self = .ready
    } else {
      return nil
    }
  }
}

/// Amazon S3: list, read (streamed), write (single and multipart), and find a bucket's
/// region.
public struct S3Client: Sendable {
  let client: AWSClient
  let credentials: (any CredentialProvider)?
  public let region: String
  /// The account that must own every bucket this client touches: sent with every call as
  /// `x-amz-expected-bucket-owner`, so S3 refuses (403) a bucket that changed hands.
  public let expectedBucketOwner: String?

  public init(
    client: AWSClient, credentials: (any CredentialProvider)?, region: String,
    expectedBucketOwner: String? = nil
  ) {
    self.client = client
    self.credentials = credentials
    self.region = region
    self.expectedBucketOwner = expectedBucketOwner
  }

  /// This client for another region (after region discovery).
  public func inRegion(_ region: String) -> S3Client {
    S3Client(
      client: client, credentials: credentials, region: region,
      expectedBucketOwner: expectedBucketOwner)
  }

  /// This client, requiring every bucket it touches to belong to `account`.
  public func expectingBucketOwner(_ account: String) -> S3Client {
    S3Client(
      client: client, credentials: credentials, region: region, expectedBucketOwner: account)
  }

  // MARK: Listing

  /// Every page of `ListObjectsV2` under a prefix, fetched as the caller iterates.
  public func listObjects(
    bucket: String, prefix: String = "", delimiter: String? = nil, startAfter: String? = nil,
    maxKeys: Int = 1000
  ) -> S3ListPages {
    S3ListPages(
      s3: self, bucket: bucket, prefix: prefix, delimiter: delimiter, startAfter: startAfter,
      maxKeys: maxKeys)
  }

  /// One page of `ListObjectsV2`.
  public func listPage(
    bucket: String, prefix: String = "", delimiter: String? = nil, startAfter: String? = nil,
    continuationToken: String? = nil, maxKeys: Int = 1000
  ) async throws(AWSError) -> S3ListPage {
    let operation = "S3.ListObjectsV2"
    var query: [(String, String)] = [
      ("list-type", "2"), ("encoding-type", "url"), ("max-keys", String(maxKeys)),
    ]
    if !prefix.isEmpty { query.append(("prefix", prefix)) }
    if let delimiter { query.append(("delimiter", delimiter)) }
    if let startAfter { query.append(("start-after", startAfter)) }
    if let continuationToken { query.append(("continuation-token", continuationToken)) }
    let response = try await send(operation, .GET, bucket: bucket, key: nil, query: query)
    guard let xml = XMLNode.parse(response.data), xml.name == "ListBucketResult" else {
      throw AWSError(
        kind: .invalidResponse, operation: operation,
        message: "the response is not a ListBucketResult")
    }
    // With encoding-type=url, keys come percent-encoded: safe for any byte in a key.
    let encoded = xml.string("EncodingType") == "url"
    func decode(_ s: String) -> String {
      encoded ? (s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? s) : s
    }
    return S3ListPage(
      objects: xml.all("Contents").map { node in
        S3ObjectSummary(
          key: decode(node.string("Key") ?? ""), size: Int64(node.string("Size") ?? "") ?? 0,
          eTag: node.string("ETag") ?? "",
          lastModified: node.string("LastModified").flatMap(ISODate.parse),
          storageClass: node.string("StorageClass"))
      },
      commonPrefixes: xml.all("CommonPrefixes").compactMap { $0.string("Prefix").map(decode) },
      isTruncated: xml.string("IsTruncated") == "true",
      nextContinuationToken: xml.string("NextContinuationToken"))
  }

  // MARK: Buckets

  /// The region a bucket lives in, from `x-amz-bucket-region` (sent even with a 301 or 403).
  public func bucketRegion(bucket: String) async throws(AWSError) -> String {
    let operation = "S3.HeadBucket"
    do {
      let response = try await send(operation, .HEAD, bucket: bucket, key: nil)
      return response.headers.first(name: "x-amz-bucket-region") ?? region
    } catch {
      if let found = error.bucketRegion { return found }
      throw error
    }
  }

  /// Checks that the bucket exists and the credentials may use it.
  public func headBucket(bucket: String) async throws(AWSError) {
    _ = try await send("S3.HeadBucket", .HEAD, bucket: bucket, key: nil)
  }

  public func createBucket(bucket: String) async throws(AWSError) {
    var body: ByteBuffer?
    if region != "us-east-1" {
      body = ByteBuffer(
        string:
          "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>\(region)</LocationConstraint></CreateBucketConfiguration>"
      )
    }
    _ = try await send("S3.CreateBucket", .PUT, bucket: bucket, key: nil, body: body)
  }

  // MARK: Objects

  public func headObject(bucket: String, key: String, versionID: String? = nil)
    async throws(AWSError) -> S3ObjectHead
  {
    let response = try await send(
      "S3.HeadObject", .HEAD, bucket: bucket, key: key,
      query: versionID.map { [("versionId", $0)] } ?? [])
    return Self.head(response.headers)
  }

  static func head(_ headers: HTTPHeaders) -> S3ObjectHead {
    S3ObjectHead(
      size: Int64(headers.first(name: "Content-Length") ?? "") ?? 0,
      eTag: headers.first(name: "ETag") ?? "",
      lastModified: headers.first(name: "Last-Modified").flatMap(HTTPDate.parse),
      contentType: headers.first(name: "Content-Type"),
      contentEncoding: headers.first(name: "Content-Encoding"),
      versionID: headers.first(name: "x-amz-version-id"),
      serverSideEncryption: headers.first(name: "x-amz-server-side-encryption"),
      kmsKeyID: headers.first(name: "x-amz-server-side-encryption-aws-kms-key-id"),
      storageClass: headers.first(name: "x-amz-storage-class"),
      restore: S3RestoreStatus(header: headers.first(name: "x-amz-restore")))
  }

  /// Asks S3 to make a temporary copy of an object in an archive storage class readable for
  /// `days` (`POST /KEY?restore`, tier Standard: hours for Glacier Flexible Retrieval, up
  /// to 12 for Deep Archive). Returns false when a restore is already under way (409
  /// `RestoreAlreadyInProgress`).
  @discardableResult
  public func restoreObject(bucket: String, key: String, days: Int, tier: String = "Standard")
    async throws(AWSError) -> Bool
  {
    let body = """
      <RestoreRequest xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Days>\(days)</Days>\
      <GlacierJobParameters><Tier>\(tier)</Tier></GlacierJobParameters></RestoreRequest>
      """
    do {
      _ = try await send(
        "S3.RestoreObject", .POST, bucket: bucket, key: key, query: [("restore", "")],
        headers: [("Content-Type", "application/xml")], body: ByteBuffer(string: body))
      return true
    } catch  where error.code == "RestoreAlreadyInProgress" {
      return false
    }
  }

  /// Streams an object from byte `offset`. If the connection drops, the stream resumes
  /// from the last byte received, pinned to the object's ETag so that a changed object is
  /// reported rather than spliced.
  /// - Parameter readAhead: bytes read ahead of the consumer at most (memory per download;
  ///   a consumer slower than the network, like ingest, needs little).
  public func getObject(
    bucket: String, key: String, offset: Int64 = 0, maxResumes: Int = 5,
    readAhead: Int = AWSClient.defaultReadAhead
  ) async throws(AWSError) -> S3ObjectStream {
    let response = try await openObject(
      bucket: bucket, key: key, offset: offset, eTag: nil, readAhead: readAhead)
    var head = Self.head(response.headers)
    // The bytes still to come: from Content-Range's total on a ranged read, else from
    // Content-Length; unknown (nil) when the server said neither.
    let range = ContentRange(response.headers.first(name: "Content-Range") ?? "")
    let contentLength = response.headers.first(name: "Content-Length").flatMap { Int64($0) }
    let remaining = range.flatMap { $0.total.map { $0 - offset } } ?? contentLength
    if let total = range?.total { head.size = total }
    return S3ObjectStream(
      s3: self, bucket: bucket, key: key, eTag: head.eTag, start: offset, length: remaining,
      body: response.body, maxResumes: maxResumes, readAhead: readAhead, head: head)
  }

  /// Opens the object from `offset`. A read from an offset must come back as `206 Partial
  /// Content` starting exactly there: a server that ignores `Range` sends the whole object,
  /// which must not be appended to the bytes already received.
  func openObject(
    bucket: String, key: String, offset: Int64, eTag: String?,
    readAhead: Int = AWSClient.defaultReadAhead
  ) async throws(AWSError) -> StreamedResponse {
    var headers: [(String, String)] = []
    if offset > 0 { headers.append(("Range", "bytes=\(offset)-")) }
    if let eTag { headers.append(("If-Match", eTag)) }
    let request = try makeRequest("S3.GetObject", .GET, bucket: bucket, key: key, headers: headers)
    let response = try await client.stream(
      request, credentials: credentials, readAhead: readAhead)
    if offset > 0 {
      let range = ContentRange(response.headers.first(name: "Content-Range") ?? "")
      guard response.status.code == 206, let range, range.first == offset else {
        throw AWSError(
          kind: .invalidResponse, operation: "S3.GetObject",
          message:
            "asked for s3://\(bucket)/\(key) from byte \(offset), but the server answered HTTP \(response.status.code) with Content-Range \(response.headers.first(name: "Content-Range") ?? "(none)"); it does not honour Range requests, so the read cannot resume",
          statusCode: Int(response.status.code))
      }
    }
    return response
  }

  /// Writes an object in one request. Returns its ETag.
  @discardableResult
  public func putObject(
    bucket: String, key: String, body: ByteBuffer, contentType: String? = nil,
    kmsKeyID: String? = nil
  ) async throws(AWSError) -> String {
    var headers: [(String, String)] = []
    if let contentType { headers.append(("Content-Type", contentType)) }
    headers += Self.encryptionHeaders(kmsKeyID)
    let response = try await send(
      "S3.PutObject", .PUT, bucket: bucket, key: key, headers: headers, body: body)
    return response.headers.first(name: "ETag") ?? ""
  }

  /// Reads bytes `first...last` of an object in one request (for a small sample; a read of
  /// a whole object streams through ``getObject(bucket:key:offset:maxResumes:)``).
  public func readRange(bucket: String, key: String, first: Int64, last: Int64)
    async throws(AWSError) -> (bytes: [UInt8], head: S3ObjectHead)
  {
    let response = try await send(
      "S3.GetObject", .GET, bucket: bucket, key: key,
      headers: [("Range", "bytes=\(first)-\(last)")])
    return ([UInt8](response.data), Self.head(response.headers))
  }

  /// Reads a whole small object in one request.
  public func readSmallObject(bucket: String, key: String) async throws(AWSError) -> (
    bytes: [UInt8], head: S3ObjectHead
  ) {
    let response = try await send("S3.GetObject", .GET, bucket: bucket, key: key)
    return ([UInt8](response.data), Self.head(response.headers))
  }

  public func deleteObject(bucket: String, key: String) async throws(AWSError) {
    _ = try await send("S3.DeleteObject", .DELETE, bucket: bucket, key: key)
  }

  // MARK: Multipart upload

  public func createMultipartUpload(
    bucket: String, key: String, contentType: String? = nil, kmsKeyID: String? = nil
  ) async throws(AWSError) -> String {
    var headers: [(String, String)] = []
    if let contentType { headers.append(("Content-Type", contentType)) }
    headers += Self.encryptionHeaders(kmsKeyID)
    // Not idempotent: a repeat after the request reached S3 would leave an upload behind
    // that nobody aborts.
    let response = try await send(
      "S3.CreateMultipartUpload", .POST, bucket: bucket, key: key, query: [("uploads", "")],
      headers: headers, idempotent: false)
    guard let id = XMLNode.parse(response.data)?.find("UploadId")?.text, !id.isEmpty else {
      throw AWSError(
        kind: .invalidResponse, operation: "S3.CreateMultipartUpload",
        message: "no UploadId in the response")
    }
    return id
  }

  /// Uploads one part (1-based number, at least 5 MiB except the last). Returns its ETag.
  public func uploadPart(
    bucket: String, key: String, uploadID: String, partNumber: Int, body: ByteBuffer
  ) async throws(AWSError) -> String {
    let response = try await send(
      "S3.UploadPart", .PUT, bucket: bucket, key: key,
      query: [("partNumber", String(partNumber)), ("uploadId", uploadID)], body: body)
    return response.headers.first(name: "ETag") ?? ""
  }

  @discardableResult
  public func completeMultipartUpload(
    bucket: String, key: String, uploadID: String, parts: [(number: Int, eTag: String)]
  ) async throws(AWSError) -> String {
    var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    for part in parts {
      xml +=
        "<Part><PartNumber>\(part.number)</PartNumber><ETag>\(xmlEscape(part.eTag))</ETag></Part>"
    }
    xml += "</CompleteMultipartUpload>"
    let response = try await send(
      "S3.CompleteMultipartUpload", .POST, bucket: bucket, key: key,
      query: [("uploadId", uploadID)],
      headers: [("Content-Type", "application/xml")], body: ByteBuffer(string: xml),
      idempotent: false)
    // S3 can report a failure inside a 200 response.
    let node = XMLNode.parse(response.data)
    if let error = node?.find("Error") {
      throw AWSError(
        kind: .service, operation: "S3.CompleteMultipartUpload", code: error.string("Code"),
        message: Redactor.redact(error.string("Message") ?? "the upload could not be completed"),
        requestID: error.string("RequestId"), statusCode: response.status)
    }
    return node?.find("ETag")?.text ?? ""
  }

  /// Whether a multipart upload whose completion failed is in fact complete: the
  /// completion may have succeeded although its answer was lost (then a retry gets
  /// `NoSuchUpload`). The object is there with a multipart ETag of as many parts.
  func completedDespiteError(bucket: String, key: String, partCount: Int) async -> String? {
    guard let head = try? await headObject(bucket: bucket, key: key) else { return nil }
    let eTag = head.eTag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    return eTag.hasSuffix("-\(partCount)") ? head.eTag : nil
  }

  public func abortMultipartUpload(bucket: String, key: String, uploadID: String)
    async throws(AWSError)
  {
    _ = try await send(
      "S3.AbortMultipartUpload", .DELETE, bucket: bucket, key: key, query: [("uploadId", uploadID)])
  }

  /// Uploads a stream of bytes of unknown length: parts of `partSize` bytes as they fill,
  /// aborting the upload if anything fails. Memory holds one part at a time.
  @discardableResult
  public func upload<S: AsyncSequence & Sendable>(
    bucket: String, key: String, from chunks: S, partSize: Int = 8 << 20,
    contentType: String? = nil,
    kmsKeyID: String? = nil
  ) async throws -> String where S.Element == ByteBuffer {
    let size = max(partSize, 5 << 20)
    let uploadID = try await createMultipartUpload(
      bucket: bucket, key: key, contentType: contentType, kmsKeyID: kmsKeyID)
    var parts: [(number: Int, eTag: String)] = []
    var buffer = ByteBuffer()
    buffer.reserveCapacity(size)
    do {
      for try await var chunk in chunks {
        while chunk.readableBytes > 0 {
          let take = min(chunk.readableBytes, size - buffer.readableBytes)
          if let slice = chunk.readSlice(length: take) { buffer.writeImmutableBuffer(slice) }
          if buffer.readableBytes == size {
            let eTag = try await uploadPart(
              bucket: bucket, key: key, uploadID: uploadID, partNumber: parts.count + 1,
              body: buffer)
            parts.append((parts.count + 1, eTag))
            buffer.clear()
          }
        }
      }
      if buffer.readableBytes > 0 || parts.isEmpty {
        let eTag = try await uploadPart(
          bucket: bucket, key: key, uploadID: uploadID, partNumber: parts.count + 1, body: buffer)
        parts.append((parts.count + 1, eTag))
      }
      do {
        return try await completeMultipartUpload(
          bucket: bucket, key: key, uploadID: uploadID, parts: parts)
      } catch {
        let lostAnswer =
          error.code == "NoSuchUpload" || error.kind == .network || error.kind == .timeout
        if lostAnswer,
          let eTag = await completedDespiteError(bucket: bucket, key: key, partCount: parts.count)
        {
          return eTag
        }
        throw error
      }
    } catch {
      try? await abortMultipartUpload(bucket: bucket, key: key, uploadID: uploadID)
      throw error
    }
  }

  static func encryptionHeaders(_ kmsKeyID: String?) -> [(String, String)] {
    guard let kmsKeyID else { return [] }
    return [
      ("x-amz-server-side-encryption", "aws:kms"),
      ("x-amz-server-side-encryption-aws-kms-key-id", kmsKeyID),
    ]
  }

  // MARK: Requests

  /// S3's key encoding: every byte but unreserved characters and `/`.
  static func encodeKey(_ key: String) -> String {
    URIEncoding.encode(key, keepSlash: true)
  }

  func makeRequest(
    _ operation: String, _ method: HTTPMethod, bucket: String, key: String?,
    query: [(String, String)] = [],
    headers: [(String, String)] = [], body: ByteBuffer? = nil, idempotent: Bool = true
  ) throws(AWSError) -> AWSRequest {
    try AWSRegion.validate(region, operation: operation)
    do {
      try BucketName.validate(bucket)
    } catch {
      throw .invalidInput(operation, "\(error.problem). \(error.fix)")
    }
    let queryString = query.map {
      $0.1.isEmpty && $0.0 == "uploads" ? $0.0 : "\($0.0)=\(URIEncoding.encode($0.1))"
    }
    .joined(separator: "&")
    let payloadHash =
      body.map { $0.withUnsafeReadableBytes { SigV4Signer.hash($0) } }
      ?? SigV4Signer.emptyPayloadHash
    var headers = headers
    if let expectedBucketOwner {
      headers.append(("x-amz-expected-bucket-owner", expectedBucketOwner))
    }
    return AWSRequest(
      operation: operation, service: "s3", region: region, method: method,
      target: client.endpoint.s3(bucket: bucket, region: region),
      path: "/" + (key.map(Self.encodeKey) ?? ""), query: queryString, headers: headers, body: body,
      payloadHash: payloadHash, idempotent: idempotent)
  }

  func send(
    _ operation: String, _ method: HTTPMethod, bucket: String, key: String?,
    query: [(String, String)] = [],
    headers: [(String, String)] = [], body: ByteBuffer? = nil, idempotent: Bool = true
  ) async throws(AWSError) -> AWSResponse {
    let request = try makeRequest(
      operation, method, bucket: bucket, key: key, query: query, headers: headers, body: body,
      idempotent: idempotent)
    return try await client.send(request, credentials: credentials)
  }
}

/// An HTTP `Content-Range: bytes FIRST-LAST/TOTAL` header (`TOTAL` may be `*`).
struct ContentRange: Equatable {
  var first: Int64
  var last: Int64
  var total: Int64?

  init?(_ text: String) {
    guard text.hasPrefix("bytes ") else { return nil }
    let rest = text.dropFirst(6)
    let parts = rest.split(separator: "/", maxSplits: 1)
    guard parts.count == 2 else { return nil }
    let bounds = parts[0].split(separator: "-", maxSplits: 1)
    guard bounds.count == 2, let first = Int64(bounds[0]), let last = Int64(bounds[1]),
      first <= last
    else { return nil }
    self.first = first
    self.last = last
    if parts[1] == "*" {
      total = nil
    } else {
      guard let total = Int64(parts[1]) else { return nil }
      self.total = total
    }
  }
}
