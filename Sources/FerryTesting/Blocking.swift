import Foundation

/// Runs blocking work (a subprocess, a server's start-up) on a thread of its own, so that
/// an async test never holds one of Swift's few cooperative threads (two on a 2-core
/// machine): a test that blocks one starves every other async test of the process,
/// timeouts included.
public enum Blocking {
  public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws
    -> T
  {
    try await withCheckedThrowingContinuation { continuation in
      Thread.detachNewThread {
        continuation.resume(with: Result { try body() })
      }
    }
  }
}

/// A value made once, by blocking work off the cooperative threads, and then shared.
public actor Shared<Value: Sendable> {
  private var task: Task<Value, any Error>?
  private let make: @Sendable () throws -> Value

  public init(_ make: @escaping @Sendable () throws -> Value) { self.make = make }

  public func get() async throws -> Value {
    if let task { return try await task.value }
    let make = self.make
    let task = Task { try await Blocking.run(make) }
    self.task = task
    return try await task.value
  }
}
