import FerryCore
import FerryTesting
import Foundation
import Synchronization
import Testing

@testable import FerryIngest

/// The queue pass's rules on the embedded store (SQLite), with the queue and the bucket scripted:
/// a mock, because what is checked here is timing (a message kept hidden while a slow
/// object is read) and ordering (deleted only after its object is stored), which the
/// emulator cannot be made to show on demand. The whole path against real SQS (moto) is
/// `QueueFetcherFlowTests`.
@Suite("Queue pass: delete after commit, hidden while reading")
struct QueuePassTests {
  final class ScriptedQueue: S3NotificationQueue, Sendable {
    struct State {
      var waiting: [QueueMessage]
      var deleted: [String] = []
      var extended: [String] = []
    }
    let state: Mutex<State>

    init(_ messages: [QueueMessage]) { state = Mutex(State(waiting: messages)) }

    func receive(max: Int, waitSeconds: Int, visibility: Int) async throws(AWSFailure)
      -> [QueueMessage]
    {
      state.withLock { s in
        let out = Array(s.waiting.prefix(max))
        s.waiting.removeFirst(out.count)
        return out
      }
    }
    func delete(_ receipts: [String]) async throws(AWSFailure) {
      state.withLock { $0.deleted += receipts }
    }
    func extendVisibility(_ receipt: String, seconds: Int) async throws(AWSFailure) {
      state.withLock { $0.extended.append(receipt) }
    }
  }

  /// A bucket whose objects arrive slowly: one line, then a pause, then the rest.
  struct SlowBucket: ObjectSource {
    let objects: [String: String]
    let pause: Duration

    func list(prefix: String, startAfter: String?, continuation: String?)
      async throws(AWSFailure) -> (objects: [SourceObject], next: String?)
    { ([], nil) }

    func open(key: String, eTag: String) async throws(AWSFailure) -> any ObjectBytes {
      guard let text = objects[key] else {
        throw AWSFailure(
          kind: .service, operation: "S3.GetObject", code: "NoSuchKey",
          message: "The specified key does not exist.", statusCode: 404)
      }
      return Pieces(pieces: [Array(text.utf8)], pause: pause)
    }
  }

  final class Pieces: ObjectBytes, Sendable {
    let pieces: Mutex<[[UInt8]]>
    let pause: Duration
    init(pieces: [[UInt8]], pause: Duration) {
      self.pieces = Mutex(pieces)
      self.pause = pause
    }
    func next() async throws(AWSFailure) -> [UInt8]? {
      try? await Task.sleep(for: pause)
      return pieces.withLock { $0.isEmpty ? nil : $0.removeFirst() }
    }
  }

  @Test func aMessageIsDeletedOnlyOnceItsObjectIsStoredAndKeptHiddenWhileRead() async throws {
    let world = try await IngestWorld(
      retentionDays: 30, fetcherName: "q",
      queueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/q")
    let (store, account, connection, fetcher) =
      (world.store, world.account, world.connection, world.fetcher)
    func notice(_ key: String, bucket: String = "logs") -> ObjectNotice {
      ObjectNotice(bucket: bucket, key: key, eTag: "e-\(key)", size: 10, isCreation: true)
    }
    let queue = ScriptedQueue(
      [
        QueueMessage(receipt: "slow", content: .notices([notice("app/slow.json")])),
        QueueMessage(receipt: "test", content: .testEvent),
        QueueMessage(receipt: "missing", content: .notices([notice("app/missing.json")])),
        QueueMessage(
          receipt: "elsewhere",
          content: .notices([notice("other/x.json"), notice("app/y.json", bucket: "another")])),
        QueueMessage(receipt: "again", content: .notices([notice("app/slow.json")])),
        QueueMessage(receipt: "garbage", content: .unreadable("the message body is not JSON")),
      ])
    let lines = (0..<50).map { #"{"id":\#($0)}"# }.joined(separator: "\n") + "\n"
    let bucket = SlowBucket(objects: ["app/slow.json": lines], pause: .milliseconds(2500))
    var settings = IngestSettings()
    settings.queueVisibilitySeconds = 3  // the heartbeat extends it every second
    let lease = try #require(
      try await WorkLease.acquire("fetcher:" + fetcher.id, holder: "test", store: store))
    let pass = FetcherPass(
      store: store, fetcher: fetcher, connection: connection, source: bucket, lease: lease,
      settings: settings)
    let (report, status) = try await pass.runQueue(queue)
    let state = queue.state.withLock { $0 }

    // Deleted: the stored object's message, its duplicate, the test event, the messages
    // that name nothing of this fetcher's, the unreadable one. Not the missing object's.
    #expect(Set(state.deleted) == ["slow", "again", "test", "elsewhere", "garbage"])
    #expect(!state.deleted.contains("missing"))
    // Kept hidden while the slow object was read (2.5 s against a 3 s timeout).
    #expect(state.extended.contains("slow"), "\(state.extended)")
    // Stored once, though named twice.
    #expect(report.objectsIngested == 1)
    #expect(status.eventsIngested == 50)
    #expect(report.objectsPending == 1)
    #expect(report.problems.contains { $0.contains("not an S3 event notification") })
  }
}
