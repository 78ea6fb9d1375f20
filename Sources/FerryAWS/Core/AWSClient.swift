import AsyncHTTPClient
import FerryAWSSigning
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// One HTTP request to an AWS service, before signing.
struct AWSRequest: Sendable {
  var operation: String
  /// The signing name: `s3`, `sts`, `sqs`.
  var service: String
  var region: String
  var method: HTTPMethod
  var target: AWSEndpoint.Target
  /// The resource path as sent (percent-encoded), after the target's path prefix.
  var path: String = "/"
  var query: String = ""
  var headers: [(String, String)] = []
  var body: ByteBuffer?
  var payloadHash: String = SigV4Signer.emptyPayloadHash
  /// Sign the request (false for the few unsigned STS calls).
  var signed = true
  /// Whether sending the request twice has the effect of sending it once. A request that
  /// is not (CreateMultipartUpload, CompleteMultipartUpload, an SQS receive) is retried
  /// after a transport failure only when it surely never reached AWS.
  var idempotent = true
}

/// A complete response.
struct AWSResponse: Sendable {
  var status: Int
  var headers: HTTPHeaders
  var body: ByteBuffer

  var data: Data { Data(body.readableBytesView) }
}

/// Sends signed requests to AWS over AsyncHTTPClient, with timeouts, retries and clock-skew
/// correction, and turns every failure into an ``AWSError``. One per process is enough; the
/// service clients share it.
public final class AWSClient: Sendable {
  /// Settings that are the same for every call.
  public struct Configuration: Sendable {
    public var endpoint: AWSEndpoint
    public var retry: RetryPolicy
    /// Deadline for a whole call, retries and their waits included (for a streamed
    /// download: until the response's head arrives). Connecting may take at most 10 s and
    /// a read may stay silent at most 30 s, for every call.
    public var requestTimeout: Duration
    /// Responses larger than this (other than streamed objects) are refused.
    public var maxResponseBytes: Int

    public init(
      endpoint: AWSEndpoint = .aws, retry: RetryPolicy = .standard,
      requestTimeout: Duration = .seconds(60), maxResponseBytes: Int = 64 << 20
    ) {
      self.endpoint = endpoint
      self.retry = retry
      self.requestTimeout = requestTimeout
      self.maxResponseBytes = maxResponseBytes
    }
  }

  public let configuration: Configuration
  let http: HTTPClient
  let budget: RetryBudget
  let logger: Logger
  /// Seconds to add to the local clock, learned from AWS when it reports skew.
  private let clockOffset = Mutex<Double>(0)

  /// - Parameter httpClient: the connection pool to use; by default one shared by the whole
  ///   process, which lives as long as the process and needs no shutdown.
  public init(
    configuration: Configuration = Configuration(), httpClient: HTTPClient? = nil,
    logger: Logger = Logger(label: "ferry.aws")
  ) {
    self.configuration = configuration
    self.http = httpClient ?? Self.sharedHTTPClient
    self.budget = RetryBudget()
    self.logger = logger
  }

  /// The process-wide connection pool.
  static let sharedHTTPClient: HTTPClient = {
    var http = HTTPClient.Configuration()
    http.timeout = .init(connect: .seconds(10), read: .seconds(30))
    http.decompression = .disabled
    // Redirects are AWS telling us the bucket's region: handled, not followed.
    http.redirectConfiguration = .disallow
    // A refused connection fails at once; the call's own retry policy, within its
    // deadline, decides whether to try again.
    http.connectionPool.retryConnectionEstablishment = false
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
  }()

  public var endpoint: AWSEndpoint { configuration.endpoint }

  /// Bytes a streamed response reads ahead of its consumer, unless the call says otherwise.
  public static let defaultReadAhead = 8 << 20

  var now: Date { Date().addingTimeInterval(clockOffset.withLock { $0 }) }

  /// Sends a request and collects its response body; retries what is worth retrying.
  /// - Parameter timeout: the call's deadline, if not the configured `requestTimeout`.
  func send(
    _ request: AWSRequest, credentials: (any CredentialProvider)?, timeout: Duration? = nil
  ) async throws(AWSError) -> AWSResponse {
    let deadline = ContinuousClock.now + (timeout ?? configuration.requestTimeout)
    return try await withRetries(request, deadline: deadline) {
      (remaining: Duration) async throws(AWSError) -> AWSResponse in
      let response = try await self.execute(
        request, credentials: credentials, deadline: remaining)
      let body: ByteBuffer
      do {
        body = try await response.body.collect(upTo: self.configuration.maxResponseBytes)
      } catch {
        throw self.map(error, operation: request.operation)
      }
      let result = AWSResponse(
        status: Int(response.status.code), headers: response.headers, body: body)
      if result.status >= 300 {
        throw self.serviceError(result, operation: request.operation, credentials: credentials)
      }
      return result
    }
  }

  /// Sends a request whose response body is streamed, read ahead into a bounded buffer
  /// (``StreamedResponse``); retries only until the head arrives, within the call's
  /// deadline. While the body streams (for as long as it takes), the read timeout guards
  /// silence.
  func stream(
    _ request: AWSRequest, credentials: (any CredentialProvider)?,
    readAhead: Int = AWSClient.defaultReadAhead
  ) async throws(AWSError) -> StreamedResponse {
    let deadline = ContinuousClock.now + configuration.requestTimeout
    return try await withRetries(request, deadline: deadline) {
      (remaining: Duration) async throws(AWSError) -> StreamedResponse in
      let signed = try await self.sign(request, credentials: credentials)
      var http: HTTPClient.Request
      do {
        http = try HTTPClient.Request(url: signed.url, method: request.method)
      } catch {
        throw AWSError.invalidInput(request.operation, "the request URL is not valid: \(error)")
      }
      http.headers = signed.headers
      if let body = request.body { http.body = .byteBuffer(body) }
      let body = ResponseBody(limit: readAhead)
      let delegate = ReadAheadDelegate(body: body)
      let task = self.http.execute(request: http, delegate: delegate)
      body.onCancel { task.cancel() }
      // The call's deadline covers the head: past it the request is cancelled.
      let timedOut = Mutex(false)
      let timer = task.eventLoop.scheduleTask(
        in: .nanoseconds(Int64(remaining.nanoseconds))
      ) {
        timedOut.withLock { $0 = true }
        task.cancel()
      }
      let head: HTTPResponseHead
      do {
        head = try await withTaskCancellationHandler {
          try await delegate.waitForHead()
        } onCancel: {
          task.cancel()
        }
        timer.cancel()
      } catch {
        timer.cancel()
        if timedOut.withLock({ $0 }) {
          throw AWSError(
            kind: .timeout, operation: request.operation,
            message:
              "no answer from \(request.target.base) within the call's deadline. Check the endpoint and the network, then try again."
          )
        }
        throw self.map(error, operation: request.operation, target: request.target)
      }
      if head.status.code >= 300 {
        let errorBody = await body.collect(upTo: 1 << 20)
        throw self.serviceError(
          AWSResponse(status: Int(head.status.code), headers: head.headers, body: errorBody),
          operation: request.operation, credentials: credentials)
      }
      return StreamedResponse(status: head.status, headers: head.headers, body: body)
    }
  }

  private func withRetries<T: Sendable>(
    _ request: AWSRequest, deadline: ContinuousClock.Instant,
    _ body: (Duration) async throws(AWSError) -> T
  ) async throws(AWSError) -> T {
    let operation = request.operation
    var attempt = 1
    var skewCorrected = false
    while true {
      if Task.isCancelled {
        throw AWSError(kind: .cancelled, operation: operation, message: "the call was cancelled")
      }
      let remaining = deadline - ContinuousClock.now
      guard remaining > .zero else {
        throw AWSError(
          kind: .timeout, operation: operation,
          message:
            "no answer within the call's deadline of \(configuration.requestTimeout) (retries included). Check the endpoint and the network, then try again."
        )
      }
      do {
        let result = try await body(remaining)
        budget.deposit()
        return result
      } catch {
        if error.isClockSkew, !skewCorrected, let skew = error.serverClockSkew {
          // Only a skew error teaches the clock's offset; the call is retried once with it.
          clockOffset.withLock { $0 = skew }
          skewCorrected = true
          continue
        }
        let transport = error.kind == .network || error.kind == .timeout
        if transport && !request.idempotent && error.mayHaveReachedServer {
          // The request may have been carried out: repeating it could do it twice.
          throw error
        }
        guard error.isRetryable, attempt < configuration.retry.maxAttempts,
          budget.withdraw(for: error)
        else {
          throw error
        }
        let delay = configuration.retry.delay(beforeRetry: attempt)
        if ContinuousClock.now + delay >= deadline { throw error }
        logger.debug(
          "retrying",
          metadata: [
            "operation": "\(operation)", "attempt": "\(attempt + 1)",
            "error": "\(error.code ?? error.kind.rawValue)",
          ])
        do { try await Task.sleep(for: delay) } catch {
          throw AWSError(
            kind: .cancelled, operation: operation, message: "cancelled while waiting to retry")
        }
        attempt += 1
      }
    }
  }

  /// A request as it goes on the wire: its URL and its signed headers (without `Host`,
  /// which the HTTP client sets from the URL).
  struct SignedHTTPRequest {
    var url: String
    var headers: HTTPHeaders
  }

  private func sign(_ request: AWSRequest, credentials: (any CredentialProvider)?)
    async throws(AWSError) -> SignedHTTPRequest
  {
    let path = request.target.pathPrefix + request.path
    var signing = SigningRequest(
      method: request.method.rawValue, path: path, query: request.query,
      headers: [.init("Host", request.target.hostHeader)]
        + request.headers.map { .init($0.0, $0.1) })
    if request.signed {
      guard let credentials else {
        throw AWSError(
          kind: .credentials, operation: request.operation,
          message: "no credentials to sign the request with")
      }
      let creds = try await credentials.credentials()
      let signer = SigV4Signer(
        credentials: creds, region: request.region, service: request.service,
        options: request.service == "s3" ? .s3 : .standard)
      signing = signer.sign(signing, payloadHash: request.payloadHash, date: now).request
    }
    var headers = HTTPHeaders()
    for header in signing.headers where header.name.lowercased() != "host" {
      headers.add(name: header.name, value: header.value)
    }
    return SignedHTTPRequest(
      url: request.target.base + path + (request.query.isEmpty ? "" : "?" + request.query),
      headers: headers)
  }

  private func execute(
    _ request: AWSRequest, credentials: (any CredentialProvider)?, deadline: Duration
  ) async throws(AWSError) -> HTTPClientResponse {
    let signed = try await sign(request, credentials: credentials)
    var http = HTTPClientRequest(url: signed.url)
    http.method = request.method
    http.headers = signed.headers
    if let body = request.body {
      http.body = .bytes(body)
    }
    logger.trace(
      "request",
      metadata: ["operation": "\(request.operation)", "method": "\(request.method.rawValue)"])
    do {
      return try await self.http.execute(
        http, timeout: .nanoseconds(Int64(deadline.nanoseconds)))
    } catch {
      throw map(error, operation: request.operation, target: request.target)
    }
  }

  /// Maps transport failures to network or timeout errors.
  func map(_ error: any Error, operation: String, target: AWSEndpoint.Target? = nil) -> AWSError {
    if let error = error as? AWSError { return error }
    let place = target.map { " \($0.base)" } ?? ""
    if let error = error as? HTTPClientError {
      switch error {
      case .connectTimeout:
        return AWSError(
          kind: .timeout, operation: operation,
          message:
            "cannot connect to\(place) in time. Check the endpoint and the network, then try again.",
          mayHaveReachedServer: false)
      case .deadlineExceeded, .readTimeout, .writeTimeout:
        return AWSError(
          kind: .timeout, operation: operation,
          message:
            "no answer from\(place) in time (\(error)). Check the endpoint and the network, then try again."
        )
      case .remoteConnectionClosed:
        return AWSError(
          kind: .network, operation: operation,
          message: "the connection to\(place) was closed before the response was complete")
      case .bodyLengthMismatch:
        return AWSError(
          kind: .network, operation: operation, message: "the response from\(place) ended early")
      case .cancelled:
        return AWSError(
          kind: .cancelled, operation: operation, message: "the request was cancelled")
      default: break
      }
    }
    if error is NIOTooManyBytesError {
      return AWSError(
        kind: .invalidResponse, operation: operation,
        message: "the response is larger than \(configuration.maxResponseBytes) bytes")
    }
    if error is CancellationError {
      return AWSError(kind: .cancelled, operation: operation, message: "the request was cancelled")
    }
    // A connection that could not be made (refused, no route, DNS): nothing was sent.
    let neverConnected =
      "\(type(of: error))".contains("Connect")
      || "\(error)".contains("connection refused") || "\(error)".contains("Connection refused")
    return AWSError(
      kind: .network, operation: operation,
      message: "cannot reach\(place): \(error). Check the endpoint, DNS and network.",
      mayHaveReachedServer: !neverConnected)
  }

  /// Turns an error response into an ``AWSError``: XML (S3, STS, SQS query) or JSON bodies.
  func serviceError(
    _ response: AWSResponse, operation: String, credentials: (any CredentialProvider)?
  ) -> AWSError {
    var code: String?
    var message: String?
    var requestID =
      response.headers.first(name: "x-amz-request-id")
      ?? response.headers.first(name: "x-amzn-RequestId")
    let data = response.data
    if let xml = XMLNode.parse(data), let error = xml.find("Error") {
      code = error.string("Code")
      message = error.string("Message")
      requestID = requestID ?? error.string("RequestId") ?? xml.find("RequestId")?.text
    } else if let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
      let type =
        (json["__type"] as? String) ?? (json["code"] as? String) ?? (json["Code"] as? String)
      code = type.map { String($0.split(separator: "#").last ?? Substring($0)) }
      message = (json["message"] as? String) ?? (json["Message"] as? String)
    }
    if code == nil {
      code =
        switch response.status {
        case 301: "PermanentRedirect"
        case 400: "BadRequest"
        case 403: "Forbidden"
        case 404: "NotFound"
        default: nil
        }
    }
    if message == nil {
      message =
        response.status == 301
        ? "the bucket is in another region"
          + (response.headers.first(name: "x-amz-bucket-region").map { " (\($0))" } ?? "")
        : (data.isEmpty
          ? HTTPResponseStatus(statusCode: response.status).reasonPhrase
          : "unreadable error response")
    }
    var error = AWSError(
      kind: .service, operation: operation, code: code, message: Redactor.redact(message ?? ""),
      requestID: requestID, statusCode: response.status,
      bucketRegion: response.headers.first(name: "x-amz-bucket-region"))
    if error.isClockSkew, let date = response.headers.first(name: "Date"),
      let server = HTTPDate.parse(date)
    {
      error.serverClockSkew = server.timeIntervalSince(Date())
    }
    return error
  }
}

/// Removes anything that looks like a credential from text that leaves the AWS layer.
enum Redactor {
  static func redact(_ text: String) -> String {
    // AWS error messages can echo a canonical request, which holds the session token and
    // the signature, in any case.
    var out = text
    for marker in [
      "x-amz-security-token:", "x-amz-security-token=", "x-amz-signature=", "authorization:",
      "signature=",
    ] {
      var searchFrom = out.startIndex
      while let range = out.range(
        of: marker, options: .caseInsensitive, range: searchFrom..<out.endIndex)
      {
        let end =
          out[range.upperBound...].firstIndex { $0 == "\n" || $0 == "&" || $0 == " " || $0 == "<" }
          ?? out.endIndex
        let replacement = out[range] + "<redacted>"
        out.replaceSubrange(range.lowerBound..<end, with: replacement)
        searchFrom =
          out.index(range.lowerBound, offsetBy: replacement.count, limitedBy: out.endIndex)
          ?? out.endIndex
      }
    }
    return out
  }
}

/// RFC 7231 dates, as in the `Date` response header.
enum HTTPDate {
  static func parse(_ text: String) -> Date? {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
    return formatter.date(from: text)
  }
}

extension Duration {
  var nanoseconds: Int {
    Int(components.seconds) * 1_000_000_000 + Int(components.attoseconds / 1_000_000_000)
  }
}
