import Synchronization

/// How failed calls are retried: exponential backoff with full jitter, a bounded number of
/// attempts, and a retry budget shared by all calls of a client, so that an outage does not
/// multiply the load on AWS.
public struct RetryPolicy: Sendable {
  public var maxAttempts: Int
  public var baseDelay: Duration
  public var maxDelay: Duration

  public init(maxAttempts: Int, baseDelay: Duration, maxDelay: Duration) {
    self.maxAttempts = max(1, maxAttempts)
    self.baseDelay = baseDelay
    self.maxDelay = maxDelay
  }

  /// AWS's "standard" mode: 3 attempts, 100 ms base, 20 s cap.
  public static let standard = RetryPolicy(
    maxAttempts: 3, baseDelay: .milliseconds(100), maxDelay: .seconds(20))
  /// One attempt only.
  public static let none = RetryPolicy(maxAttempts: 1, baseDelay: .zero, maxDelay: .zero)

  /// The delay before retry number `retry` (1-based): uniform in [0, min(cap, base·2^retry)].
  public func delay(beforeRetry retry: Int) -> Duration {
    let exponent = min(retry, 30)
    let ceiling = min(maxDelay, baseDelay * (1 << exponent))
    let nanos =
      ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
    guard nanos > 0 else { return .zero }
    return .nanoseconds(Int64.random(in: 0...nanos))
  }
}

/// A token bucket of retries: each retry costs tokens, each success returns one. When it is
/// empty, failures are returned at once instead of retried.
public final class RetryBudget: Sendable {
  private let tokens: Mutex<Int>
  public let capacity: Int
  static let retryCost = 5
  static let timeoutCost = 10

  public init(capacity: Int = 500) {
    self.capacity = capacity
    self.tokens = Mutex(capacity)
  }

  /// Takes the cost of one retry; false when the budget cannot pay it.
  func withdraw(for error: AWSError) -> Bool {
    let cost = error.kind == .timeout ? Self.timeoutCost : Self.retryCost
    return tokens.withLock { available in
      guard available >= cost else { return false }
      available -= cost
      return true
    }
  }

  func deposit() {
    tokens.withLock { $0 = min(capacity, $0 + 1) }
  }

  public var available: Int { tokens.withLock { $0 } }
}
