import FerryPolicy
import Foundation
import Logging
import Synchronization

/// How `ferry serve` writes its log on standard error: one JSON object per line (for log
/// shippers), or `text` for people.
public enum LogFormat: String, Sendable, CaseIterable {
  case json
  case text

  /// Bootstraps swift-log for the process.
  public func bootstrap(level: Logger.Level) {
    LoggingSystem.bootstrap { label in
      var handler: any LogHandler =
        switch self {
        case .json: JSONLineLogHandler(label: label)
        case .text: StreamLogHandler.standardError(label: label)
        }
      handler.logLevel = level
      return handler
    }
  }
}

/// One JSON object per line: time, level, label, message and metadata.
struct JSONLineLogHandler: LogHandler {
  let label: String
  var logLevel: Logger.Level = .info
  var metadata: Logger.Metadata = [:]
  static let output = Mutex(FileHandle.standardError)

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    var fields = metadata
    if let extra = event.metadata { fields.merge(extra) { $1 } }
    var line = "{\"time\":\(Self.quote(Date().formatted(.iso8601)))"
    line += ",\"level\":\(Self.quote(event.level.rawValue)),\"label\":\(Self.quote(label))"
    line += ",\"message\":\(Self.quote(event.message.description))"
    for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
      let name = key == "hb.request.id" ? "request_id" : key
      line += ",\(Self.quote(name)):\(Self.quote(value.description))"
    }
    line += "}\n"
    Self.output.withLock { $0.write(Data(line.utf8)) }
  }

  /// A JSON string, escaped as Ferry's JSON writer escapes it.
  static func quote(_ text: String) -> String {
    JSONValue.string(text).serialized(pretty: false)
  }

}
