/// A value that must never be shown: a secret access key, a session token, an issued API
/// token, a database password, a container credentials token.
///
/// Printing it, interpolating it, `dump`ing it or reflecting on it shows `<redacted>`; the
/// value itself comes out only through ``revealed``, so every place that uses it is
/// explicit and can be found by name. Comparison is constant-time in the value's length.
public struct Secret: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible,
  CustomDebugStringConvertible, CustomReflectable, CustomPlaygroundDisplayConvertible
{
  private let value: String

  public init(_ value: String) { self.value = value }
  public init(stringLiteral value: String) { self.value = value }

  /// The secret itself, for the one place that must send or hash it.
  public var revealed: String { value }

  public var isEmpty: Bool { value.isEmpty }

  public var description: String { "<redacted>" }
  public var debugDescription: String { "<redacted>" }
  public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
  public var playgroundDescription: Any { "<redacted>" }

  public static func == (a: Secret, b: Secret) -> Bool {
    let x = Array(a.value.utf8)
    let y = Array(b.value.utf8)
    var difference = UInt8(x.count == y.count ? 0 : 1)
    for i in 0..<min(x.count, y.count) { difference |= x[i] ^ y[i] }
    return difference == 0
  }

  public func hash(into hasher: inout Hasher) { hasher.combine(value) }
}
