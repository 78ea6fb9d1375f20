import FerryCore
import FerryIngest
import Foundation

/// Generated logs of the two kinds the store must hold: JSON lines of an application
/// (≈350 bytes) and CloudTrail records (≈1.1 KB), with the IDs real logs carry (a fresh
/// trace, event and request ID per event), so that a block holds many distinct words.
/// Objects are written in time order, each covering a few minutes of one fetcher, as
/// fetchers commit them.
struct LogGenerator {
  enum Mix: String {
    case mixed
    case cloudTrailOnly = "cloudtrail"
    case jsonOnly = "json"
  }

  let account: AccountID
  let day: Date
  let total: Int
  let mix: Mix
  /// Events per object: 5,000, or `FERRY_BENCH_PER_OBJECT` (the restore of large objects).
  let perObject =
    ProcessInfo.processInfo.environment["FERRY_BENCH_PER_OBJECT"].flatMap { Int($0) } ?? 5_000

  var objects: Int { (total + perObject - 1) / perObject }

  /// A deterministic 64-bit generator (SplitMix64), so every run makes the same logs.
  struct Random {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    mutating func hex(_ digits: Int) -> String {
      var out = ""
      while out.count < digits { out += String(next(), radix: 16) }
      return String(out.prefix(digits))
    }
    mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
  }

  /// Whether object `n` is CloudTrail.
  func isCloudTrail(_ n: Int) -> Bool {
    switch mix {
    case .mixed: n % 2 == 1
    case .cloudTrailOnly: true
    case .jsonOnly: false
    }
  }

  /// The trace ID that only event `index` of object `n` carries (for rare-word searches).
  static func traceID(object n: Int, index: Int) -> String {
    var random = Random(state: UInt64(n) << 20 | UInt64(index))
    return random.hex(32)
  }

  /// Object `n`: its key and its events.
  func object(_ n: Int) -> (key: String, events: [Event]) {
    let count = min(perObject, total - n * perObject)
    let trail = isCloudTrail(n)
    // Each fetcher's objects tile the day in order.
    let perFetcher = mix == .mixed ? (objects + 1) / 2 : objects
    let slot = mix == .mixed ? n / 2 : n
    let span = 86_400.0 / Double(perFetcher)
    let key =
      trail
      ? "AWSLogs/123456789012/CloudTrail/us-east-1/2024/11/24/trail-\(n).json.gz"
      : "app/2024/11/24/checkout-\(n).log.gz"
    var random = Random(state: UInt64(n) &* 0x1234_5678_9ABC)
    var events: [Event] = []
    events.reserveCapacity(count)
    var offset: Int64 = 0
    for i in 0..<count {
      let time = day.addingTimeInterval(span * Double(slot) + span * Double(i) / Double(count))
      let event =
        trail
        ? cloudTrail(&random, time: time, object: n, index: i)
        : app(&random, time: time, object: n, index: i)
      // The fields the product's parser reads from the message (as ingest stores them).
      let logType = trail ? "cloudtrail" : "json"
      events.append(
        Event(
          accountID: account, fetcherID: trail ? "trail" : "app", logType: logType, time: time,
          sourceKey: key, sourceOffset: offset, message: event.message,
          fields: MessageFields.fields(logType: logType, message: event.message)
            ?? Fields(event.fields)))
      offset += Int64(event.message.utf8.count + 1)
    }
    return (key, events)
  }

  static let services = ["checkout", "payments", "search", "inventory", "auth"]
  static let routes = ["/api/orders", "/api/cart", "/api/search", "/api/users/me", "/health"]
  static let errors = [
    "connection reset by peer", "upstream request timeout", "invalid token signature",
  ]

  func app(_ r: inout Random, time: Date, object: Int, index: Int)
    -> (message: String, fields: [String: String])
  {
    let roll = r.next() % 100
    let level = roll < 5 ? "error" : roll < 15 ? "warn" : "info"
    let status = level == "error" ? r.pick(["500", "502", "503"]) : r.pick(["200", "201", "304"])
    let service = r.pick(Self.services)
    let text = level == "error" ? r.pick(Self.errors) : r.pick(["request served", "cache hit"])
    let message =
      "{\"ts\":\"\(time.formatted(.iso8601))\",\"level\":\"\(level)\",\"service\":\"\(service)\",\"host\":\"ip-10-0-\(r.next() % 16)-\(r.next() % 250)\",\"trace_id\":\"\(Self.traceID(object: object, index: index))\",\"span_id\":\"\(r.hex(16))\",\"msg\":\"\(text)\",\"user_id\":\"u-\(r.next() % 100_000)\",\"http\":{\"method\":\"\(r.pick(["GET", "POST"]))\",\"path\":\"\(r.pick(Self.routes))\",\"status\":\(status)},\"duration_ms\":\(r.next() % 900)}"
    return (message, ["level": level, "service": service, "status": status])
  }

  func cloudTrail(_ r: inout Random, time: Date, object: Int, index: Int)
    -> (message: String, fields: [String: String])
  {
    let name = r.pick(["GetObject", "GetObject", "PutObject", "AssumeRole", "DescribeInstances"])
    let source =
      name == "AssumeRole"
      ? "sts.amazonaws.com" : name == "DescribeInstances" ? "ec2.amazonaws.com" : "s3.amazonaws.com"
    let denied = r.next() % 100 < 3
    let session = "session-\(r.next() % 5000)"
    let stamp = time.formatted(.iso8601)
    let message =
      "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"AssumedRole\",\"principalId\":\"AROA\(r.hex(16).uppercased()):\(session)\",\"arn\":\"arn:aws:sts::123456789012:assumed-role/app-role/\(session)\",\"accountId\":\"123456789012\",\"accessKeyId\":\"ASIA\(r.hex(16).uppercased())\",\"sessionContext\":{\"sessionIssuer\":{\"type\":\"Role\",\"principalId\":\"AROAEXAMPLEISSUER\",\"arn\":\"arn:aws:iam::123456789012:role/app-role\",\"accountId\":\"123456789012\",\"userName\":\"app-role\"},\"attributes\":{\"creationDate\":\"\(stamp)\",\"mfaAuthenticated\":\"false\"}}},\"eventTime\":\"\(stamp)\",\"eventSource\":\"\(source)\",\"eventName\":\"\(name)\",\"awsRegion\":\"us-east-1\",\"sourceIPAddress\":\"10.0.\(r.next() % 250).\(r.next() % 250)\",\"userAgent\":\"aws-sdk-go-v2/1.30.\(r.next() % 9) os/linux lang/go#1.22\","
      + (denied
        ? "\"errorCode\":\"AccessDenied\",\"errorMessage\":\"User is not authorized to perform this operation\","
        : "")
      + "\"requestParameters\":{\"bucketName\":\"logs-\(r.next() % 20)\",\"key\":\"data/2024/11/24/part-\(r.next() % 100_000).parquet\"},\"responseElements\":null,\"requestID\":\"\(r.hex(16).uppercased())\",\"eventID\":\"\(r.hex(8))-\(r.hex(4))-\(r.hex(4))-\(r.hex(4))-\(r.hex(12))\",\"traceID\":\"\(Self.traceID(object: object, index: index))\",\"readOnly\":true,\"eventType\":\"AwsApiCall\",\"managementEvent\":false,\"recipientAccountId\":\"123456789012\",\"eventCategory\":\"Data\"}"
    var fields = ["eventName": name, "eventSource": source, "awsRegion": "us-east-1"]
    if denied { fields["errorCode"] = "AccessDenied" }
    return (message, fields)
  }
}
