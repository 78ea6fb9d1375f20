import FerryCore
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// Runs the retention sweep at start and then every `interval` for as long as the server
/// runs (``RetentionSweep``: each account's events past its retention go, in bounded
/// batches, one node at a time). `/metrics` shows what it does:
/// `ferry_retention_events_removed_total`, `ferry_retention_sweeps_total` (by outcome),
/// `ferry_retention_last_sweep_timestamp_seconds` and `ferry_retention_held_accounts`
/// (accounts whose old events wait for an archive to write them).
struct RetentionService: Service {
  let sweep: RetentionSweep
  let interval: Duration
  let logger: Logger

  func run() async throws {
    guard !Task.isShuttingDownGracefully else { return }
    repeat { await sweepOnce() } while await ShutdownAwareWait.wait(interval)
  }

  func sweepOnce() async {
    do {
      let report = try await cancelWhenGracefulShutdown { try await sweep.run() }
      guard report.ran else { return }
      Counter(label: "ferry_retention_sweeps_total", dimensions: [("outcome", "ok")]).increment()
      Counter(label: "ferry_retention_events_removed_total").increment(by: report.removed)
      Counter(label: "ferry_retention_metric_points_removed_total").increment(
        by: report.metricPointsRemoved)
      Gauge(label: "ferry_retention_held_accounts").record(report.heldByArchives)
      Gauge(label: "ferry_retention_last_sweep_timestamp_seconds").record(
        Date().timeIntervalSince1970)
      if report.removed > 0 || report.heldByArchives > 0 {
        logger.info(
          "retention: removed \(report.removed) events past their accounts' retention; \(report.heldByArchives) accounts keep older events until their archive writes them"
        )
      }
    } catch is CancellationError {
      return
    } catch {
      Counter(label: "ferry_retention_sweeps_total", dimensions: [("outcome", "failed")])
        .increment()
      logger.warning("retention: the sweep failed and runs again later: \(error)")
    }
  }
}
