import Foundation

/// Blocking or CPU-heavy work (password hashing, a subprocess, a synchronous start) run on a
/// thread of its own, so that it never holds one of the few cooperative threads that every
/// request and timer shares.
public enum OffPool {
  public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws
    -> T
  {
    try await withCheckedThrowingContinuation { continuation in
      Thread.detachNewThread {
        continuation.resume(with: Result { try work() })
      }
    }
  }
}
