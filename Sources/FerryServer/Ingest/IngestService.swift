import FerryIngest
import Foundation
import ServiceLifecycle

/// Runs the ingest scheduler for as long as the server runs; stops at shutdown (work in
/// flight stops before its next commit, and resumes from the ledger on the next start).
struct IngestService: Service {
  let scheduler: IngestScheduler
  let tick: Duration

  func run() async throws {
    await cancelWhenGracefulShutdown {
      await scheduler.run(tick: tick)
    }
  }
}
