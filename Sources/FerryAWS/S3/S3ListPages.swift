/// The pages of a `ListObjectsV2` listing, fetched one at a time as they are consumed.
public struct S3ListPages: AsyncSequence, Sendable {
  public typealias Element = S3ListPage

  let s3: S3Client
  let bucket: String
  let prefix: String
  let delimiter: String?
  let startAfter: String?
  let maxKeys: Int

  public struct AsyncIterator: AsyncIteratorProtocol {
    let pages: S3ListPages
    var token: String?
    var done = false
    var first = true

    public mutating func next() async throws -> S3ListPage? {
      guard !done else { return nil }
      let page = try await pages.s3.listPage(
        bucket: pages.bucket, prefix: pages.prefix, delimiter: pages.delimiter,
        startAfter: first ? pages.startAfter : nil, continuationToken: token, maxKeys: pages.maxKeys
      )
      first = false
      if page.isTruncated && (page.nextContinuationToken ?? "").isEmpty {
        // Stopping here would silently skip the rest of the listing.
        throw AWSError(
          kind: .invalidResponse, operation: "S3.ListObjectsV2",
          message:
            "S3 said the listing of s3://\(pages.bucket)/\(pages.prefix) continues but gave no continuation token, so the rest cannot be listed"
        )
      }
      token = page.nextContinuationToken
      done = !page.isTruncated
      return page
    }
  }

  public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(pages: self) }
}
