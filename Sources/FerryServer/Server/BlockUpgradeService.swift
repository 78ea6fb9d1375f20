import FerryCore
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// Rewrites, in the background, the event blocks an older Ferry wrote in an older layout
/// (``EventStore/upgradeBlocks(after:limit:)``): `batch` blocks per transaction with a
/// pause between transactions, so that ingest and search keep their share of the machine.
/// Old blocks are searched as they are meanwhile; the rewrite only makes them smaller.
/// It starts with the server, walks the blocks once in ID order (new blocks are always
/// written in the current layout) and then waits for shutdown. `/metrics` counts
/// `ferry_store_blocks_upgraded_total`.
struct BlockUpgradeService: Service {
  let store: any Store
  let logger: Logger
  var batch = 8
  var pause: Duration = .milliseconds(50)

  func run() async throws {
    var after: Int64 = 0
    var total = 0
    while !Task.isShuttingDownGracefully {
      let ids: [Int64]
      do {
        let from = after
        ids = try await cancelWhenGracefulShutdown { [store, batch] in
          try await store.upgradeBlocks(after: from, limit: batch)
        }
      } catch is CancellationError {
        return
      } catch {
        logger.warning(
          "store: rewriting older blocks failed and is tried again in a minute: \(error)")
        guard await ShutdownAwareWait.wait(.seconds(60)) else { return }
        continue
      }
      guard let last = ids.last else { break }
      after = last
      total += ids.count
      Counter(label: "ferry_store_blocks_upgraded_total").increment(by: ids.count)
      if total / 1024 != (total - ids.count) / 1024 {
        logger.info("store: \(total) blocks of an older layout rewritten so far")
      }
      guard await ShutdownAwareWait.wait(pause) else { return }
    }
    if total > 0 {
      logger.info("store: \(total) blocks of an older layout rewritten in the current one")
    }
    // A service that returns would stop the server: this one waits for shutdown.
    while await ShutdownAwareWait.wait(.seconds(3600)) {}
  }
}
