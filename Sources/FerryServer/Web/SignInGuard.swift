import FerryCore
import Foundation

/// What password sign-ins may cost the server, and how often they may fail. Checking a
/// password takes scrypt's 32 MiB and ~100 ms of a core, before any authentication, so:
/// - at most `concurrent` checks run at once (off the cooperative threads); up to
///   `waiting` more wait their turn, and past that a sign-in is refused at once (429);
/// - an email, and a client address, that fail `failures` times within `window` are locked
///   out for `lockout` (429 with when to come back), whether the email exists or not;
/// - an unknown email costs the same check as a known one (against a fixed hash), so the
///   time taken does not tell whether it exists.
/// The counts are this node's (in memory), bounded to `tracked` emails and addresses.
actor SignInGuard {
  struct Limits: Sendable {
    var concurrent = 2
    var waiting = 32
    var failures = 10
    var addressFailures = 50
    var window: TimeInterval = 900
    var lockout: TimeInterval = 900
    var tracked = 10_000
  }

  /// Why a sign-in is not even tried.
  enum Refusal: Error, Sendable, Equatable {
    /// Too many sign-ins are being checked at once.
    case busy
    /// Too many failures for this email or address: try again after this many seconds.
    case locked(seconds: Int)
  }

  let limits: Limits
  private var running = 0
  private var queue: [CheckedContinuation<Void, Never>] = []
  private var failures: [String: [Date]] = [:]
  private var lockedUntil: [String: Date] = [:]

  init(limits: Limits = Limits()) { self.limits = limits }

  /// A hash no password matches, checked when the email is unknown so that it costs the same.
  static let standIn: String = (try? PasswordHash.make(UUID().uuidString)) ?? ""

  /// Refuses a sign-in of a locked-out email or address.
  func admit(email: String, address: String, now: Date = Date()) throws(Refusal) {
    for key in [Self.key(email: email), Self.key(address: address)] {
      if let until = lockedUntil[key], until > now {
        throw .locked(seconds: max(1, Int(until.timeIntervalSince(now).rounded(.up))))
      }
    }
  }

  /// Runs the password checks, at most `concurrent` at a time.
  func checking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    if running >= limits.concurrent {
      guard queue.count < limits.waiting else { throw Refusal.busy }
      await withCheckedContinuation { queue.append($0) }
    } else {
      running += 1
    }
    defer {
      if queue.isEmpty {
        running -= 1
      } else {
        // The permit passes to the next in line.
        queue.removeFirst().resume()
      }
    }
    return try await OffPool.run(work)
  }

  func recordFailure(email: String, address: String, now: Date = Date()) {
    for (key, limit) in [
      (Self.key(email: email), limits.failures),
      (Self.key(address: address), limits.addressFailures),
    ] {
      var recent = (failures[key] ?? []).filter { now.timeIntervalSince($0) < limits.window }
      recent.append(now)
      failures[key] = recent
      if recent.count >= limit {
        lockedUntil[key] = now.addingTimeInterval(limits.lockout)
        failures[key] = nil
      }
    }
    prune(now: now)
  }

  func recordSuccess(email: String) {
    failures[Self.key(email: email)] = nil
  }

  /// Forgets what expired; past `tracked` keys, the oldest failures go first.
  private func prune(now: Date) {
    lockedUntil = lockedUntil.filter { $0.value > now }
    guard failures.count > limits.tracked else { return }
    failures = failures.filter {
      now.timeIntervalSince($0.value.last ?? .distantPast) < limits.window
    }
    while failures.count > limits.tracked,
      let oldest = failures.min(by: {
        ($0.value.last ?? .distantPast) < ($1.value.last ?? .distantPast)
      })
    {
      failures[oldest.key] = nil
    }
  }

  static func key(email: String) -> String { "email:" + email.lowercased() }
  static func key(address: String) -> String { "address:" + address }
}
