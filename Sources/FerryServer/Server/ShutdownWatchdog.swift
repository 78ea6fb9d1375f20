import Dispatch
import Foundation
import Logging
import Synchronization

/// Bounds how long `ferry serve` takes to stop. On the first SIGTERM or SIGINT the server
/// stops taking requests and its schedulers stop between steps (ServiceLifecycle's
/// graceful shutdown); work that does not stop within the grace period is abandoned and the
/// process exits 0: everything Ferry does resumes from the store (a fetcher from its ledger,
/// an archive by writing its open batch again, a restore at the first object not read), and
/// its leases expire on their own. A second signal exits at once.
enum ShutdownWatchdog {
  private static let signalled = Atomic<Int>(0)

  /// Watches SIGTERM and SIGINT for the rest of the process.
  static func install(grace: Duration, logger: Logger) {
    let queue = DispatchQueue(label: "ferry.shutdown-watchdog")
    for number in [SIGTERM, SIGINT] {
      let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
      // The handler holds its source, so the source lives as long as the process.
      source.setEventHandler { [source] in
        _ = source
        let count = signalled.add(1, ordering: .sequentiallyConsistent).newValue
        if count == 1 {
          logger.info(
            "stopping: in-flight work has \(grace) to finish (--shutdown-grace); a second signal stops at once"
          )
          queue.asyncAfter(deadline: .now() + grace.timeInterval) {
            logger.warning(
              "stopping: the shutdown grace of \(grace) is over; abandoning work in flight (it resumes from the store on the next start)"
            )
            exit(0)
          }
        } else {
          logger.warning(
            "stopping at once (second signal); work in flight resumes on the next start")
          exit(0)
        }
      }
      source.resume()
    }
  }
}

extension Duration {
  /// The duration in seconds, for Dispatch.
  fileprivate var timeInterval: TimeInterval {
    Double(components.seconds) + Double(components.attoseconds) / 1e18
  }
}
