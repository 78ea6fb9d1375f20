/// `x % divisor` for a divisor fixed in advance, without a division instruction: a
/// multiply by the divisor's precomputed reciprocal gives the quotient or one or two less,
/// and a subtraction or two corrects it (the method of libdivide and of Lemire, Kaser and
/// Kurz, "Faster remainder by direct computation", 2019). A block's filter computes six
/// remainders per entry; a 64-bit `div` costs tens of cycles each.
struct FastModulo: Sendable, Equatable {
  let divisor: UInt64
  /// ⌊(2⁶⁴ − 1) / divisor⌋.
  private let reciprocal: UInt64

  init(_ divisor: UInt64) {
    precondition(divisor > 0, "a modulo of zero")
    self.divisor = divisor
    reciprocal = UInt64.max / divisor
  }

  /// Exactly `x % divisor`. The estimated quotient ⌊x · reciprocal / 2⁶⁴⌋ falls short of the
  /// true one by less than 1 + 1/divisor, so at most two subtractions are left to do.
  @inline(__always) func remainder(_ x: UInt64) -> UInt64 {
    let quotient = x.multipliedFullWidth(by: reciprocal).high
    var r = x &- quotient &* divisor
    while r >= divisor { r &-= divisor }
    return r
  }
}
