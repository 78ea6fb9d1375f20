/// A set of 64-bit hashes, open addressing with linear probing: the distinct words of a
/// block, gathered before its filter is sized. The values are already well mixed
/// (``TokenHash``), so they index the table as they are; a general `Set` would hash them
/// again for every word of every event.
public struct HashSet64 {
  /// The most recent values, direct-mapped: the words every event of a log repeats (JSON
  /// keys, the service's name) are found here, in the first cache level, without
  /// probing the large table.
  private var recent = [UInt64](repeating: 0, count: 1024)
  private var slots: [UInt64]
  private var mask: Int
  private var hasZero = false
  private(set) var count = 0

  public init(capacity: Int) {
    var size = 64
    while size < capacity * 2 { size <<= 1 }
    slots = [UInt64](repeating: 0, count: size)
    mask = size - 1
  }

  @inline(__always) mutating func insert(_ value: UInt64) {
    if value == 0 {
      if !hasZero {
        hasZero = true
        count += 1
      }
      return
    }
    let r = Int(truncatingIfNeeded: value >> 40) & 1023
    if recent[r] == value { return }
    recent[r] = value
    var i = Int(truncatingIfNeeded: value) & mask
    while true {
      let slot = slots[i]
      if slot == value { return }
      if slot == 0 {
        slots[i] = value
        count += 1
        if count * 2 > slots.count { grow() }
        return
      }
      i = (i + 1) & mask
    }
  }

  private mutating func grow() {
    let old = slots
    slots = [UInt64](repeating: 0, count: old.count * 2)
    mask = slots.count - 1
    for value in old where value != 0 {
      var i = Int(truncatingIfNeeded: value) & mask
      while slots[i] != 0 { i = (i + 1) & mask }
      slots[i] = value
    }
  }

  /// Calls `body` with every value once.
  func visit(_ body: (UInt64) -> Void) {
    if hasZero { body(0) }
    for value in slots where value != 0 { body(value) }
  }
}
