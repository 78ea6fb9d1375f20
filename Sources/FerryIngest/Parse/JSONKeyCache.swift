import Foundation

/// The keys of the previous JSON line, kept by a line parser from line to line: the lines
/// of one log nearly always have the same keys in the same order, so a key is found by
/// comparing its bytes with the previous line's key at the same place, and its name (with
/// `parent.` for a key one level down) is not decoded and joined again. While a line's keys
/// so far are exactly the previous line's and those had no name twice, a field is appended
/// without looking for an earlier one of the same name.
public struct JSONKeyCache: Sendable {
  struct Slot: Sendable {
    var raw: [UInt8]
    /// The slot of the object member this key is inside (-1: top level).
    var parent: Int
    var name: String
  }

  var slots: [Slot] = []
  /// No two slots have the same name.
  var distinct = false
  /// Per line: the slot the next key takes, and whether every key so far matched.
  var next = 0
  var matching = true

  public init() {}

  mutating func startLine() {
    next = 0
    matching = true
  }

  /// The name of the next key (its bytes `key` in `bytes`, still escaped; `parent`: the
  /// slot of the member it is inside, or -1), its slot, and whether it is certainly not a
  /// name the line gave before.
  @inline(__always)
  mutating func name(
    _ bytes: UnsafeBufferPointer<UInt8>, _ key: Range<Int>, parent: Int, prefix: String?
  ) -> (name: String, slot: Int, new: Bool) {
    let slot = next
    next += 1
    let raw = UnsafeBufferPointer(rebasing: bytes[key])
    if matching, slot < slots.count, slots[slot].parent == parent,
      slots[slot].raw.count == raw.count,
      slots[slot].raw.withUnsafeBufferPointer({ cached in
        guard let a = cached.baseAddress, let b = raw.baseAddress else { return raw.isEmpty }
        return memcmp(a, b, raw.count) == 0
      })
    {
      return (slots[slot].name, slot, distinct)
    }
    matching = false
    let decoded = JSONScanner.decodeString(bytes, key)
    let name = prefix.map { $0 + "." + decoded } ?? decoded
    let entry = Slot(raw: Array(raw), parent: parent, name: name)
    if slot < slots.count { slots[slot] = entry } else { slots.append(entry) }
    return (name, slot, false)
  }

  /// The line is over: the slots are its keys from here on.
  mutating func endLine() {
    if slots.count > next {
      slots.removeLast(slots.count - next)
      matching = false
    }
    if !matching { distinct = Set(slots.map(\.name)).count == slots.count }
  }
}
