import FerryCore
import Foundation

// Blocking work in tests (a subprocess, a server's start-up) goes through FerryCore's
// `OffPool.run`, so that an async test never holds one of Swift's few cooperative threads
// (two on a 2-core machine): a test that blocks one starves every other async test of the
// process, timeouts included.

/// A value made once, by blocking work off the cooperative threads, and then shared.
public actor Shared<Value: Sendable> {
  private var task: Task<Value, any Error>?
  private let make: @Sendable () throws -> Value

  public init(_ make: @escaping @Sendable () throws -> Value) { self.make = make }

  public func get() async throws -> Value {
    if let task { return try await task.value }
    let make = self.make
    let task = Task { try await OffPool.run(make) }
    self.task = task
    return try await task.value
  }
}
