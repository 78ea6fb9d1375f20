import NIOCore
import NIOPosix
import Testing

@testable import FerryAWS

/// The read-ahead buffer between the HTTP connection (producer) and a download's consumer.
@Suite("Streamed response body")
struct ResponseBodyTests {
  let eventLoop = MultiThreadedEventLoopGroup.singleton.any()

  private func chunk(_ byte: UInt8, _ count: Int) -> ByteBuffer {
    ByteBuffer(repeating: byte, count: count)
  }

  /// Waits until the consumer task has suspended in `next()`.
  private func waitForWaiter(_ body: ResponseBody) async {
    while !body.hasWaiter { await Task.yield() }
  }

  @Test func deliversEveryByteInOrderAndEnds() async throws {
    let body = ResponseBody(limit: 1 << 20)
    for i in 0..<40 { _ = body.append(chunk(UInt8(i), 1000), on: eventLoop) }
    body.finish(nil)
    var seen: [UInt8] = []
    for try await buffer in body { seen += Array(buffer.readableBytesView) }
    #expect(seen.count == 40_000)
    #expect(seen == (0..<40).flatMap { Array(repeating: UInt8($0), count: 1000) })
  }

  @Test func aWaitingConsumerIsWokenOnceEnoughWaitsNotForEveryRead() async throws {
    let body = ResponseBody(limit: 4 << 20)
    #expect(body.wakeAt == 1 << 20)
    let consumer = Task { try await body.next()?.readableBytes }
    await waitForWaiter(body)
    _ = body.append(chunk(1, 64 << 10), on: eventLoop)
    // Below the wake mark: the consumer still sleeps (it took no buffer).
    #expect(body.hasWaiter)
    for _ in 1..<16 { _ = body.append(chunk(1, 64 << 10), on: eventLoop) }
    // 1 MiB waits now: the consumer is woken and takes the first read.
    #expect(try await consumer.value == 64 << 10)
  }

  @Test func aSmallBodyReachesTheConsumerAtItsEnd() async throws {
    let body = ResponseBody(limit: 4 << 20)
    let consumer = Task { () -> Int in
      var bytes = 0
      for try await buffer in body { bytes += buffer.readableBytes }
      return bytes
    }
    await waitForWaiter(body)
    _ = body.append(chunk(2, 300), on: eventLoop)
    body.finish(nil)
    #expect(try await consumer.value == 300)
  }

  @Test func theConnectionPausesAtTheLimitAndResumesWhenHalfIsTaken() async throws {
    let body = ResponseBody(limit: 1000)
    for _ in 0..<9 {
      let ready = body.append(chunk(3, 100), on: eventLoop)
      try await ready.get()
    }
    // The tenth read fills the buffer: the connection must wait.
    let paused = body.append(chunk(3, 100), on: eventLoop)
    #expect(body.isPaused)
    for _ in 0..<5 { _ = try await body.next() }
    #expect(body.isPaused)  // 500 of 1000 bytes still wait: not below half
    _ = try await body.next()
    #expect(!body.isPaused)  // 400 wait: the connection reads again
    try await paused.get()
  }

  @Test func anErrorReachesTheConsumerAfterTheBytesBeforeIt() async throws {
    struct Cut: Error {}
    let body = ResponseBody(limit: 1 << 20)
    _ = body.append(chunk(4, 10), on: eventLoop)
    body.finish(Cut())
    #expect(try await body.next()?.readableBytes == 10)
    await #expect(throws: Cut.self) { try await body.next() }
  }
}
