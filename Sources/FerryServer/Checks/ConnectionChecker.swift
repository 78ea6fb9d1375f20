import FerryCore
import Foundation
import Metrics
import Synchronization

/// Runs connection checks for the API and the background schedule: one verifier, the
/// result recorded with its time, counted by outcome, and limited per account so that no
/// tenant can make Ferry hammer AWS.
final class ConnectionChecker: Sendable {
  let store: any Store
  let aws: any RoleAssumer
  let identity: PlatformIdentityResolver
  let limiter: RateLimiter

  init(
    store: any Store, aws: any RoleAssumer, identity: PlatformIdentityResolver,
    checksPerMinute: Int
  ) {
    self.store = store
    self.aws = aws
    self.identity = identity
    self.limiter = RateLimiter(perMinute: checksPerMinute)
  }

  /// Checks a connection for a request of `account`; throws 429 past the account's limit.
  func check(
    _ connection: Connection, of account: Account,
    onStep: @Sendable (CheckStep) -> Void = { _ in }
  ) async throws -> ConnectionCheck {
    if let wait = limiter.take(account.id.rawValue) {
      var problem = APIProblem(
        status: .tooManyRequests, name: "too-many-checks", title: "Too many connection checks",
        detail:
          "this account may start \(limiter.perMinute) connection checks a minute; try again in \(wait) s",
        fix: "Wait, then check again; the background schedule re-checks every connection anyway.")
      problem.headers[.retryAfter] = String(wait)
      throw problem
    }
    return try await run(connection, of: account, onStep: onStep)
  }

  /// Checks a connection without the request limit (the background schedule).
  func run(
    _ connection: Connection, of account: Account,
    onStep: @Sendable (CheckStep) -> Void = { _ in }
  ) async throws -> ConnectionCheck {
    let platform = try await identity.resolveForRequest()
    let check = await ConnectionVerifier(aws: aws, platform: platform).verify(
      connection, account: account, onStep: onStep)
    Counter(
      label: "ferry_connection_checks_total",
      dimensions: [("outcome", check.diagnosis?.code ?? "ok")]
    ).increment()
    return check
  }
}

/// A fixed window per key: at most `perMinute` takes per minute.
final class RateLimiter: Sendable {
  let perMinute: Int
  private let windows = Mutex<[String: (start: ContinuousClock.Instant, count: Int)]>([:])

  init(perMinute: Int) { self.perMinute = perMinute }

  /// Nil if allowed; else the seconds to wait.
  func take(_ key: String) -> Int? {
    let now = ContinuousClock.now
    return windows.withLock { windows in
      var window = windows[key] ?? (now, 0)
      if now - window.start >= .seconds(60) { window = (now, 0) }
      guard window.count < perMinute else {
        let left = Duration.seconds(60) - (now - window.start)
        return max(1, Int(left.components.seconds) + 1)
      }
      window.count += 1
      windows[key] = window
      return nil
    }
  }
}
