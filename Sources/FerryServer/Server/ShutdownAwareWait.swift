import ServiceLifecycle

/// The wait between the runs of a background service: it ends at graceful shutdown, not
/// an interval later (an hour's sleep must not hold the server up on SIGTERM).
enum ShutdownAwareWait {
  /// Waits `interval`; false if the server is shutting down (before or during the wait).
  static func wait(_ interval: Duration) async -> Bool {
    guard !Task.isShuttingDownGracefully, !Task.isCancelled else { return false }
    do {
      try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
      return !Task.isShuttingDownGracefully
    } catch {
      return false
    }
  }
}
