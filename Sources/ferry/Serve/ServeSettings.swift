import FerryCore
import Foundation

/// Settings of `ferry serve` from three places, in this order of precedence: a flag, a
/// `FERRY_*` environment variable, a line of the config file (`name = value`, `#` starts a
/// comment), then the default.
struct ServeSettings {
  let environment: [String: String]
  let file: [String: String]
  let fileName: String?

  init(configFile: String?, environment: [String: String]) throws(CLIError) {
    self.environment = environment
    let path = configFile ?? environment["FERRY_CONFIG"]
    fileName = path
    guard let path else {
      file = [:]
      return
    }
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
      throw .usage("--config: cannot read \(path); give a readable file of 'name = value' lines")
    }
    var values: [String: String] = [:]
    for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false)
      .enumerated()
    {
      let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
        .trimmingCharacters(in: .whitespaces)
      if line.isEmpty { continue }
      let parts = line.split(separator: "=", maxSplits: 1).map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      guard parts.count == 2, Self.names.contains(parts[0]) else {
        throw .usage(
          "\(path):\(number + 1): expected 'name = value' with a name among \(Self.names.sorted().joined(separator: ", "))"
        )
      }
      var value = parts[1]
      if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
        value = String(value.dropFirst().dropLast())
      }
      values[parts[0]] = value
    }
    file = values
  }

  /// The names a config file may set: the flags' names.
  static let names: Set<String> = [
    "host", "port", "data-dir", "database-url", "first-account", "first-admin-email",
    "aws-endpoint", "aws-region", "platform-account-id", "platform-principal-arn",
    "recheck-interval", "checks-per-minute", "ingest-interval", "ingest-concurrency",
    "ingest-lease", "full-list-interval", "relist-window", "ingest-chunk-events", "log-format",
    "log-level",
    "external-id-prefix", "session-lifetime", "archive-interval", "archive-flush-mib",
    "archive-flush-age", "restore-interval", "restore-keep-days", "max-object-gib",
    "max-compression-ratio", "max-object-events", "max-object-minutes",
    "max-account-events-per-day", "secure-cookies", "metrics-token",
  ]

  /// `FERRY_DATA_DIR` for `data-dir`.
  static func environmentName(_ name: String) -> String {
    "FERRY_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
  }

  /// The value and where it came from.
  func value(_ name: String, flag: String?) -> (value: String, source: String)? {
    if let flag { return (flag, "--\(name)") }
    let variable = Self.environmentName(name)
    if let value = environment[variable], !value.isEmpty { return (value, variable) }
    if let value = file[name] { return (value, "\(fileName ?? "config"): \(name)") }
    return nil
  }

  func string(_ name: String, flag: String?, default fallback: String) -> String {
    value(name, flag: flag)?.value ?? fallback
  }

  func int(_ name: String, flag: Int?, default fallback: Int, range: ClosedRange<Int>)
    throws(CLIError) -> Int
  {
    guard let (text, source) = value(name, flag: flag.map(String.init)) else { return fallback }
    guard let number = Int(text), range.contains(number) else {
      throw .usage(
        "\(source): \"\(text)\" is not a number from \(range.lowerBound) to \(range.upperBound)")
    }
    return number
  }

  /// A duration like `90s`, `15m`, `1h` or a number of seconds; `off` or `0` for never.
  func interval(_ name: String, flag: String?, default fallback: Duration?) throws(CLIError)
    -> Duration?
  {
    guard let (text, source) = value(name, flag: flag) else { return fallback }
    if text == "off" || text == "0" { return nil }
    if let seconds = QueryTime.span(text) ?? Int(text).map(Double.init), seconds > 0 {
      return .seconds(seconds)
    }
    throw .usage("\(source): \"\(text)\" is not a duration; use e.g. 30m, 1h, 3600 or off")
  }
}
