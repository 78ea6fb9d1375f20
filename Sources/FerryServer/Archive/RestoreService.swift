import FerryArchive
import Foundation
import ServiceLifecycle

/// Runs the restore scheduler for as long as the server runs; stops at shutdown (a job in
/// flight stops between objects, and the next start goes on at the first object not read).
struct RestoreService: Service {
  let scheduler: RestoreScheduler
  let tick: Duration

  func run() async throws {
    await cancelWhenGracefulShutdown {
      await scheduler.run(tick: tick)
    }
  }
}
