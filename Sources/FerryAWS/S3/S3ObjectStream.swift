import AsyncHTTPClient
import NIOCore

/// An object's bytes as they arrive, in buffers. Memory stays bounded: the HTTP client
/// reads ahead only as the consumer takes buffers. A dropped connection is resumed from the
/// last byte received, with `If-Match` on the ETag.
public struct S3ObjectStream: AsyncSequence, Sendable {
  public typealias Element = ByteBuffer

  let s3: S3Client
  let bucket: String
  let key: String
  /// The object's ETag: resumed reads must see the same object.
  public let eTag: String
  let start: Int64
  /// Bytes from `start` to the end of the object; nil when the server did not say (then
  /// the end of the body is taken as the end of the object, and a cut cannot be told).
  public let length: Int64?
  let body: ResponseBody
  let maxResumes: Int
  /// Bytes read ahead of the consumer at most, for a resumed read too.
  let readAhead: Int
  /// The object's metadata, from the first response.
  public let head: S3ObjectHead

  public final class AsyncIterator: AsyncIteratorProtocol {
    let stream: S3ObjectStream
    var body: ResponseBody
    var received: Int64 = 0
    public private(set) var resumes = 0

    init(_ stream: S3ObjectStream) {
      self.stream = stream
      self.body = stream.body
    }

    public func next() async throws -> ByteBuffer? {
      while true {
        do {
          if let buffer = try await body.next() {
            received += Int64(buffer.readableBytes)
            return buffer
          }
          guard let length = stream.length, received < length else { return nil }
          // The body ended early without an error: treat as a dropped connection.
          throw AWSError(
            kind: .network, operation: "S3.GetObject", message: "the download ended early")
        } catch {
          let mapped = stream.s3.client.map(error, operation: "S3.GetObject")
          // A cancelled download is not resumed; neither is one whose length is unknown.
          guard mapped.kind == .network || mapped.kind == .timeout, resumes < stream.maxResumes,
            stream.length != nil, !Task.isCancelled
          else {
            throw mapped
          }
          resumes += 1
          let offset = stream.start + received
          let response = try await stream.s3.openObject(
            bucket: stream.bucket, key: stream.key, offset: offset, eTag: stream.eTag,
            readAhead: stream.readAhead)
          body = response.body
        }
      }
    }
  }

  public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(self) }
}
