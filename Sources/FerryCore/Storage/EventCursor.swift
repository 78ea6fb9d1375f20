import Foundation

/// Page cursors: the (time, id) of the last event returned, opaque to callers.
public enum EventCursor {
  public static func encode(timeMicros: Int64, id: Int64) -> String {
    Data("\(timeMicros):\(id)".utf8).base64EncodedString()
  }

  public static func decode(_ cursor: String) throws(StoreError) -> (timeMicros: Int64, id: Int64) {
    guard let data = Data(base64Encoded: cursor), let text = String(data: data, encoding: .utf8)
    else {
      throw .rejected("the cursor is not one Ferry issued: start again without a cursor")
    }
    let parts = text.split(separator: ":")
    guard parts.count == 2, let t = Int64(parts[0]), let id = Int64(parts[1]) else {
      throw .rejected("the cursor is not one Ferry issued: start again without a cursor")
    }
    return (t, id)
  }
}

extension Date {
  /// Microseconds since 1970, as both backends store times. A date past what 64 bits of
  /// microseconds hold (about 292,000 years either side of 1970) is clamped there, never
  /// a trap: no input can crash a store.
  public var micros: Int64 {
    let value = (timeIntervalSince1970 * 1_000_000).rounded()
    guard value.isFinite else { return value > 0 ? .max : .min }
    if value >= 9.2e18 { return .max }
    if value <= -9.2e18 { return .min }
    return Int64(value)
  }
  public init(micros: Int64) { self.init(timeIntervalSince1970: Double(micros) / 1_000_000) }
}
