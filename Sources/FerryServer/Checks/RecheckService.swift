import FerryCore
import Foundation
import Logging
import ServiceLifecycle

/// Re-checks every connection of every account on a schedule, records each result with its
/// time, and logs a connection that starts failing (its state becomes `failing`, with the
/// diagnosis). Stops at once on shutdown.
struct RecheckService: Service {
  let checker: ConnectionChecker
  let interval: Duration
  let logger: Logger

  func run() async throws {
    while await ShutdownAwareWait.wait(interval) { await recheckAll() }
  }

  func recheckAll() async {
    let store = checker.store
    guard let accounts = try? await store.accounts() else { return }
    for account in accounts {
      guard let connections = try? await store.connections(of: account.id) else { continue }
      let before = Dictionary(
        ((try? await store.connectionStatuses(of: account.id)) ?? []).map {
          ($0.connectionID, $0.state)
        },
        uniquingKeysWith: { a, _ in a })
      for connection in connections {
        if Task.isCancelled || Task.isShuttingDownGracefully { return }
        guard let check = try? await checker.run(connection, of: account) else { continue }
        _ = try? await store.recordConnectionCheck(check, of: account.id)
        if let diagnosis = check.diagnosis, before[connection.id] != .failing {
          logger.warning(
            "connection started failing",
            metadata: [
              "account": "\(account.id)", "connection": "\(connection.id)",
              "step": "\(diagnosis.step.rawValue)", "cause": "\(diagnosis.code)",
            ])
        }
      }
    }
  }
}
