import FerryCore
import Foundation

/// A limit on the events one account stores per UTC day, shared by its fetchers: a tenant
/// whose logs suddenly grow a thousandfold fills neither the shared disk nor the others'
/// share of the node. Each fetcher counts its events of the day in its status; before
/// each object a pass adds up its account's; at the limit the fetcher stops until the next
/// UTC day, with the reason in its status. Checked before each object, so an account may
/// pass it by what one object holds (at most `--max-object-events`) and, with fetchers
/// running at once, by one object each.
public struct DailyLimit: Sendable, Equatable {
  /// Events per account per UTC day; nil: no limit.
  public var eventsPerDay: Int?

  public init(eventsPerDay: Int? = 1_000_000_000) {
    self.eventsPerDay = eventsPerDay
  }

  static let utc: Calendar = {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC") ?? .gmt
    return calendar
  }()

  /// The UTC day of `date`, as `yyyy-MM-dd`.
  public static func day(of date: Date) -> String {
    let parts = utc.dateComponents([.year, .month, .day], from: date)
    return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
  }

  /// The start of the UTC day after `date`'s.
  public static func nextDay(after date: Date) -> Date {
    let start = utc.startOfDay(for: date)
    return utc.date(byAdding: .day, value: 1, to: start) ?? start.addingTimeInterval(86_400)
  }

  /// The events a fetcher stored on `now`'s UTC day (0 when its count is of another day).
  public static func today(_ status: FetcherStatus, now: Date) -> Int {
    status.eventsDay == day(of: now) ? status.eventsToday ?? 0 : 0
  }

  /// The events an account's fetchers stored on `now`'s UTC day, all but `except`.
  public static func accountToday(_ fetchers: [Fetcher], except: String? = nil, now: Date) -> Int {
    fetchers.reduce(0) { sum, fetcher in
      fetcher.id == except ? sum : sum + today(fetcher.status, now: now)
    }
  }

  /// Whether `stored` events today leave room for another object.
  public func allows(_ stored: Int) -> Bool {
    eventsPerDay.map { stored < $0 } ?? true
  }

  /// Why a fetcher stopped at the limit: what happened, until when, and the fix.
  public func reason(stored: Int, until: Date) -> String {
    "the account stored \(stored) events today (UTC), its daily limit is \(eventsPerDay ?? 0): this fetcher reads nothing more until \(until.formatted(.iso8601)). Fix: wait, or ask the operator to raise --max-account-events-per-day"
  }
}
