import Testing

@testable import FerryBlocks

/// The filter's division-free remainder against the processor's `%`, on the values where
/// an estimate is likeliest to be off: the ends of the range, multiples of the divisor and
/// their neighbours, powers of two, and random values.
@Suite("Fast remainder")
struct FastModuloTests {
  @Test func equalsTheRemainderOfADivision() {
    var generator = SystemRandomNumberGenerator()
    var divisors: [UInt64] = [1, 2, 3, 7, 63, 64, 65, 640, 1_000_003, 1 << 32, (1 << 32) + 1]
    divisors += [UInt64.max, UInt64.max - 1, UInt64.max / 3, 1 << 63, (1 << 63) + 1]
    divisors += (0..<200).map { _ in UInt64.random(in: 1...(1 << 24), using: &generator) * 64 }
    divisors += (0..<50).map { _ in UInt64.random(in: 1...UInt64.max, using: &generator) }
    for divisor in divisors {
      let fast = FastModulo(divisor)
      var values: [UInt64] = [0, 1, divisor - 1, divisor, UInt64.max, UInt64.max - 1, 1 << 63]
      let multiple = (UInt64.max / divisor) * divisor
      values += [multiple, multiple - 1, multiple &+ 1]
      values += (0..<500).map { _ in UInt64.random(in: 0...UInt64.max, using: &generator) }
      for x in values {
        #expect(fast.remainder(x) == x % divisor, "\(x) % \(divisor)")
      }
    }
  }
}
