import FerryCore
import Foundation
import HTTPTypes

/// What every page shares: the navigation, who is signed in, the form token, the security
/// headers; and the small conversions pages need (times, sizes, problems).
enum WebPage {
  /// The navigation's sections.
  enum Section: String, CaseIterable {
    case connect, buckets, search, metrics, archives, migration, audit, access

    var label: String {
      switch self {
      case .connect: "Connection info"
      case .buckets: "Buckets"
      case .search: "Search"
      case .metrics: "Metrics"
      case .archives: "Archives"
      case .migration: "Migration"
      case .audit: "Audit log"
      case .access: "Tokens & users"
      }
    }
    var path: String {
      switch self {
      case .connect: "/connect"
      case .buckets: "/buckets"
      case .search: "/search"
      case .metrics: "/cloud-metrics"
      case .archives: "/archives"
      case .migration: "/migration"
      case .audit: "/audit"
      case .access: "/access"
      }
    }
    var adminOnly: Bool { self == .audit || self == .access || self == .migration }
  }

  static func base(context: FerryRequestContext, title: String, section: Section?)
    -> [String: Any]
  {
    var data: [String: Any] = ["title": title]
    if let notice = context.notice { data["flash"] = notice }
    guard let caller = context.caller, let secret = context.sessionSecret else { return data }
    data["signedIn"] = true
    data["csrf"] = CSRF.token(forSession: secret)
    data["isAdmin"] = caller.isAdmin
    data["accountName"] = caller.account.name
    data["tokenName"] = caller.token.name
    data["role"] = caller.token.role.rawValue
    data["nav"] = Section.allCases.filter { !$0.adminOnly || caller.isAdmin }.map {
      ["href": $0.path, "label": $0.label, "current": $0 == section] as [String: Any]
    }
    return data
  }

  /// The headers every UI answer carries: only Ferry's own scripts, styles and images run
  /// (so even a value that escaped escaping could not run), no framing, no sniffing.
  static func secure(_ headers: inout HTTPFields) {
    headers[.contentSecurityPolicy] =
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    headers[.xContentTypeOptions] = "nosniff"
    if let name = HTTPField.Name("Referrer-Policy") { headers[name] = "same-origin" }
    if let name = HTTPField.Name("X-Frame-Options") { headers[name] = "DENY" }
  }

  static func problem(_ problem: APIProblem) -> [String: Any] {
    var data: [String: Any] = ["title": problem.title, "detail": problem.detail]
    if let fix = problem.fix { data["fix"] = fix }
    if let field = problem.field { data["field"] = field }
    return data
  }

  static let timeFormat: Date.ISO8601FormatStyle = .iso8601

  static func time(_ date: Date?) -> String {
    guard let date else { return "never" }
    return date.formatted(
      Date.ISO8601FormatStyle(dateSeparator: .dash, dateTimeSeparator: .space, timeZone: .gmt)
    ) + " UTC"
  }

  /// An HTML `datetime` attribute.
  static func machineTime(_ date: Date) -> String { date.formatted(timeFormat) }

  static func bytes(_ count: Int64) -> String { Quantity.bytes(count) }

  static func count(_ n: Int) -> String { Quantity.count(n) }

  static func duration(_ seconds: Double) -> String {
    switch seconds {
    case ..<60: "\(Int(seconds)) s"
    case ..<3600: "\(Int(seconds / 60)) min"
    case ..<86400: String(format: "%.1f h", seconds / 3600)
    default: String(format: "%.1f days", seconds / 86400)
    }
  }
}
