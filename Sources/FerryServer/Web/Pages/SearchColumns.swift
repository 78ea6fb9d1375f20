import FerryCore
import Foundation

/// The fields shown as columns of the event list: as the URL says (`cols=level,service`), or
/// by default for the log type of most of the events shown, those of them present.
enum SearchColumns {
  static let maxColumns = 6

  static func parse(_ text: String) -> [String] {
    var columns: [String] = []
    for part in text.split(separator: ",") {
      let name = part.trimmingCharacters(in: .whitespaces)
      if !name.isEmpty, name.count <= 200, !columns.contains(name) { columns.append(name) }
    }
    return Array(columns.prefix(maxColumns))
  }

  static func defaults(for events: [Event]) -> [String] {
    let cloudTrail = events.filter { $0.logType == "cloudtrail" }.count * 2 > events.count
    let wanted =
      cloudTrail
      ? ["eventName", "userIdentity.arn", "sourceIPAddress", "awsRegion"] : ["level", "service"]
    return wanted.filter { name in events.contains { $0.fields[name] != nil } }
  }
}
