import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// A response whose body is read ahead into a bounded buffer while the caller consumes it.
///
/// AsyncHTTPClient's async body asks the connection for one read at a time (its back-pressure
/// keeps one buffer in flight), so every chunk costs a round trip between the event loop
/// and the consumer. Here the connection keeps reading until ``ResponseBody/limit`` bytes
/// wait unread, then pauses until the consumer has taken half of them: memory stays
/// bounded, and a consumer that finds data waiting takes it without suspending. A consumer
/// that has caught up is woken once ``ResponseBody/wakeAt`` bytes wait (at most 1 MiB), not
/// for every read.
struct StreamedResponse: Sendable {
  var status: HTTPResponseStatus
  var headers: HTTPHeaders
  var body: ResponseBody
}

/// The read-ahead body of a ``StreamedResponse``.
final class ResponseBody: AsyncSequence, Sendable {
  typealias Element = ByteBuffer

  private struct State {
    var chunks: [ByteBuffer] = []
    var next = 0
    var bytes = 0
    var finished = false
    var error: (any Error)?
    var waiter: CheckedContinuation<Void, Never>?
    var paused: EventLoopPromise<Void>?
  }

  /// Bytes read ahead at most before the connection pauses.
  let limit: Int
  /// Bytes that must wait unread before a suspended consumer is woken (or the body's end).
  /// Waking it for every 64 KiB read costs a thread hop each; on a busy machine those hops
  /// took ~10% of a download's time.
  let wakeAt: Int
  private let state = Mutex(State())
  private let cancelTask: Mutex<(@Sendable () -> Void)?> = Mutex(nil)

  init(limit: Int) {
    self.limit = limit
    self.wakeAt = Swift.max(1, Swift.min(limit / 2, 1 << 20))
  }

  deinit { cancelTask.withLock { $0?() } }

  func onCancel(_ cancel: @escaping @Sendable () -> Void) {
    cancelTask.withLock { $0 = cancel }
  }

  // MARK: Producer (the event loop)

  func append(_ buffer: ByteBuffer, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
    let (waiter, pause): (CheckedContinuation<Void, Never>?, EventLoopPromise<Void>?) =
      state.withLock { s in
        s.chunks.append(buffer)
        s.bytes += buffer.readableBytes
        let wake = s.bytes >= wakeAt
        let waiter = wake ? s.waiter : nil
        if wake { s.waiter = nil }
        if s.bytes >= limit {
          let promise = eventLoop.makePromise(of: Void.self)
          s.paused = promise
          return (waiter, promise)
        }
        return (waiter, nil)
      }
    waiter?.resume()
    return pause?.futureResult ?? eventLoop.makeSucceededVoidFuture()
  }

  func finish(_ error: (any Error)?) {
    let (waiter, paused) = state.withLock { s in
      s.finished = true
      if s.error == nil { s.error = error }
      let w = s.waiter
      s.waiter = nil
      let p = s.paused
      s.paused = nil
      return (w, p)
    }
    waiter?.resume()
    paused?.succeed(())
  }

  // MARK: Consumer

  /// The next buffer; nil at the end of the body.
  func next() async throws -> ByteBuffer? {
    while true {
      let outcome: Result<ByteBuffer?, any Error>? = state.withLock { s in
        if s.next < s.chunks.count {
          let chunk = s.chunks[s.next]
          s.next += 1
          s.bytes -= chunk.readableBytes
          if s.next > 64 && s.next * 2 > s.chunks.count {
            s.chunks.removeFirst(s.next)
            s.next = 0
          }
          return .success(chunk)
        }
        if s.finished { return s.error.map { .failure($0) } ?? .success(nil) }
        return nil
      }
      if let outcome {
        resumeIfDrained()
        return try outcome.get()
      }
      if Task.isCancelled {
        cancelTask.withLock { $0?() }
        throw CancellationError()
      }
      await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let ready = state.withLock { s -> Bool in
          if s.next < s.chunks.count || s.finished { return true }
          s.waiter = continuation
          return false
        }
        if ready { continuation.resume() }
      }
    }
  }

  /// Lets a paused connection read again once half of the read-ahead has been taken.
  private func resumeIfDrained() {
    let paused = state.withLock { s -> EventLoopPromise<Void>? in
      guard s.paused != nil, s.bytes * 2 < limit else { return nil }
      defer { s.paused = nil }
      return s.paused
    }
    paused?.succeed(())
  }

  /// Whether a consumer is suspended, waiting for bytes (for tests).
  var hasWaiter: Bool { state.withLock { $0.waiter != nil } }

  /// Whether the connection waits for the consumer to take bytes (for tests).
  var isPaused: Bool { state.withLock { $0.paused != nil } }

  /// Everything left, up to `max` bytes (for an error response's body).
  func collect(upTo max: Int) async -> ByteBuffer {
    var out = ByteBuffer()
    while out.readableBytes < max, let chunk = try? await next() {
      var chunk = chunk
      out.writeBuffer(&chunk)
    }
    return out
  }

  struct AsyncIterator: AsyncIteratorProtocol {
    let body: ResponseBody
    mutating func next() async throws -> ByteBuffer? { try await body.next() }
  }

  func makeAsyncIterator() -> AsyncIterator { AsyncIterator(body: self) }
}

/// Feeds a ``ResponseBody`` from AsyncHTTPClient's delegate callbacks, and hands over the
/// response's head once it arrives.
final class ReadAheadDelegate: HTTPClientResponseDelegate, Sendable {
  typealias Response = Void

  let body: ResponseBody

  private enum HeadState {
    case waiting(CheckedContinuation<HTTPResponseHead, any Error>?)
    case delivered(Result<HTTPResponseHead, any Error>)
    case consumed
  }

  private let head = Mutex(HeadState.waiting(nil))

  init(body: ResponseBody) { self.body = body }

  /// Waits for the response's head (or the error that came first).
  func waitForHead() async throws -> HTTPResponseHead {
    try await withCheckedThrowingContinuation { continuation in
      let ready = head.withLock { state -> Result<HTTPResponseHead, any Error>? in
        switch state {
        case .delivered(let result):
          state = .consumed
          return result
        case .waiting:
          state = .waiting(continuation)
          return nil
        case .consumed:
          return .failure(HTTPClientError.cancelled)
        }
      }
      if let ready { continuation.resume(with: ready) }
    }
  }

  private func deliver(_ result: Result<HTTPResponseHead, any Error>) {
    let waiting = head.withLock { state -> CheckedContinuation<HTTPResponseHead, any Error>? in
      switch state {
      case .waiting(let continuation?):
        state = .consumed
        return continuation
      case .waiting(nil):
        state = .delivered(result)
        return nil
      case .delivered, .consumed:
        return nil
      }
    }
    waiting?.resume(with: result)
  }

  func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<
    Void
  > {
    deliver(.success(head))
    return task.eventLoop.makeSucceededVoidFuture()
  }

  func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<
    Void
  > {
    body.append(buffer, on: task.eventLoop)
  }

  func didReceiveError(task: HTTPClient.Task<Void>, _ error: any Error) {
    deliver(.failure(error))
    body.finish(error)
  }

  func didFinishRequest(task: HTTPClient.Task<Void>) throws {
    body.finish(nil)
  }
}
