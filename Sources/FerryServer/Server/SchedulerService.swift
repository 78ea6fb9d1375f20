import Foundation
import ServiceLifecycle

/// Runs one of the background schedulers (ingest, archive, restore) for as long as the
/// server runs, a sweep every `tick`; stops at shutdown. Work in flight stops between its
/// steps and resumes from the store on the next start: the fetcher from its ledger, an
/// archive by writing its open batch again (the same objects under the same keys), a
/// restore at the first object not read.
struct SchedulerService: Service {
  let tick: Duration
  let run: @Sendable (Duration) async -> Void

  func run() async throws {
    await cancelWhenGracefulShutdown { await run(tick) }
  }
}
