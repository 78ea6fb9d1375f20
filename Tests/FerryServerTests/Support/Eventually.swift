import FerryTesting
import Foundation
import Testing

/// Waits until `condition` holds, polling every `every`; records an issue and throws after
/// `seconds`.
func eventually(
  _ what: String, seconds: Double, every: Duration = .milliseconds(100),
  _ condition: () async throws -> Bool
) async throws {
  let deadline = Date().addingTimeInterval(seconds)
  while Date() < deadline {
    if try await condition() { return }
    try await Task.sleep(for: every)
  }
  Issue.record("timed out after \(seconds) s waiting until \(what)")
  throw TestSetupError("timed out: \(what)")
}
