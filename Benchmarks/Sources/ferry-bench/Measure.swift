import Foundation

/// Runs `body` repeatedly for about `seconds`; returns operations per second.
func measure(seconds: Double, batch: Int = 100, _ body: () -> Void) -> Double {
  let clock = ContinuousClock()
  let start = clock.now
  var count = 0
  while clock.now - start < .seconds(seconds) {
    for _ in 0..<batch { body() }
    count += batch
  }
  let elapsed = clock.now - start
  let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
  return Double(count) / secs
}

/// Keeps results alive so the optimizer cannot drop the work.
nonisolated(unsafe) var sink = 0
