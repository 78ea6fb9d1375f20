import FerryCore
import Foundation

/// The events of `Tests/FerryBlocksTests/Fixtures/frb2-block.zst`: a block written by the `FRB2` encoder (Ferry
/// before the v3 layout) and kept as it was written, with its filter
/// (`frb2-filter.bin`). A store written by that Ferry must read and search under
/// every later one. The events are given here, not decoded from the fixture: what the
/// fixture must read back as.
public enum OldBlockFixture {
  public static let account = AccountID(rawValue: "acct_fixture")
  public static let fetcher = "fixture-fetcher"

  /// `Tests/FerryBlocksTests/Fixtures` in the source tree.
  public static var directory: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("Tests/FerryBlocksTests/Fixtures")
  }

  public static func file(_ name: String) throws -> [UInt8] {
    try [UInt8](Data(contentsOf: directory.appendingPathComponent(name)))
  }

  public static var events: [Event] {
    let base = Date(timeIntervalSince1970: 1_732_406_400)
    var out: [Event] = []
    var offset: Int64 = 0
    func add(_ logType: String, _ seconds: Double, _ message: String, _ fields: [(String, String)])
    {
      out.append(
        Event(
          accountID: account, fetcherID: fetcher, logType: logType,
          time: base.addingTimeInterval(seconds), sourceKey: "app/2024/11/24/part-0001.gz",
          sourceOffset: offset, message: message,
          fields: Fields(fields.map { (key: $0.0, value: $0.1) })))
      offset += Int64(message.utf8.count + 1)
    }
    for i in 0..<40 {
      let level = ["info", "warn", "error", "INFO"][i % 4]
      let trace = String(format: "%08x%08x", i &* 2_654_435_761 & 0xffff_ffff, i * 7919)
      let message =
        "{\"ts\":\"2024-11-24T00:00:\(10 + i).000Z\",\"level\":\"\(level)\",\"service\":\"svc-\(i % 5)\",\"trace_id\":\"\(trace)\",\"msg\":\"request served in \(i * 3) ms\",\"http\":{\"status\":\(200 + i % 3 * 100)}}"
      add(
        "json", Double(10 + i), message,
        [
          ("ts", "2024-11-24T00:00:\(10 + i).000Z"), ("level", level), ("service", "svc-\(i % 5)"),
          ("trace_id", trace), ("msg", "request served in \(i * 3) ms"),
          ("http.status", String(200 + i % 3 * 100)),
        ])
    }
    // An escaped string (the field holds the decoded text), a value the message does not
    // hold, an empty value and text outside ASCII.
    add(
      "json", 55,
      "{\"ts\":\"2024-11-24T00:00:55Z\",\"msg\":\"said \\\"hi\\\" to Zoë\",\"empty\":\"\"}",
      [
        ("ts", "2024-11-24T00:00:55Z"), ("msg", "said \"hi\" to Zoë"), ("empty", ""),
        ("derived", "Not In Message"),
      ])
    add("text", 56, "Größe überschritten: 12 MB limit on upload ØK", [])
    add(
      "cloudtrail", 57,
      "{\"eventTime\":\"2024-11-24T00:00:57Z\",\"eventName\":\"GetObject\",\"awsRegion\":\"eu-west-1\",\"errorCode\":\"AccessDenied\",\"userIdentity\":{\"arn\":\"arn:aws:sts::123456789012:assumed-role/app/s-1\"}}",
      [
        ("eventTime", "2024-11-24T00:00:57Z"), ("eventName", "GetObject"),
        ("awsRegion", "eu-west-1"),
        ("errorCode", "AccessDenied"),
        ("userIdentity.arn", "arn:aws:sts::123456789012:assumed-role/app/s-1"),
      ])
    // Out of time order, as late events are.
    add(
      "json", 3, "{\"ts\":\"2024-11-24T00:00:03Z\",\"level\":\"debug\"}",
      [("ts", "2024-11-24T00:00:03Z"), ("level", "debug")])
    return out
  }
}
