import FerryArchive
import Foundation
import ServiceLifecycle

/// Runs the archive scheduler for as long as the server runs; stops at shutdown (a flush in
/// flight stops between steps, and the next start writes its batch again, the same objects
/// under the same keys).
struct ArchiveService: Service {
  let scheduler: ArchiveScheduler
  let tick: Duration

  func run() async throws {
    await cancelWhenGracefulShutdown {
      await scheduler.run(tick: tick)
    }
  }
}
