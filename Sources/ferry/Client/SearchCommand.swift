import ArgumentParser
import FerryPolicy
import Foundation

/// `ferry search`: the account's events in Ferry's query language.
struct SearchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "search",
    abstract:
      "Search the account's logs: words, \"phrases\", field:value, AND, OR, NOT (docs/query-language.md).",
    discussion: "Newest first. --next continues from the cursor a previous page printed.")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The query; empty for every event.") var query = ""
  @Option(help: "Start: now, 15m, 24h, 7d or an ISO 8601 time (default 24h).") var from: String?
  @Option(help: "End, as --from (default now).") var to: String?
  @Option(help: "Events per page (1-1000).") var limit = 50
  @Option(help: "The cursor of the previous page.") var next: String?
  @Flag(help: "Print the number of matches per interval instead of the events.")
  var histogram = false

  func run() async throws {
    var items: [URLQueryItem] = [URLQueryItem(name: "q", value: query)]
    if let from { items.append(URLQueryItem(name: "from", value: from)) }
    if let to { items.append(URLQueryItem(name: "to", value: to)) }
    var components = URLComponents()
    if histogram {
      components.queryItems = items
      let answer = try await server.client().call(
        .GET, "/api/v1/search/histogram?" + (components.percentEncodedQuery ?? ""))
      if server.json { return Output.json(answer) }
      let buckets = answer["buckets"]?.arrayValue ?? []
      let most = buckets.compactMap { $0["count"]?.intValue }.max() ?? 0
      for bucket in buckets {
        let count = bucket["count"]?.intValue ?? 0
        let bar = most == 0 ? "" : String(repeating: "#", count: (count * 50 + most - 1) / most)
        print(
          "\(bucket["start"]?.stringValue ?? "")  \(String(count).padding(toLength: 8, withPad: " ", startingAt: 0)) \(bar)"
        )
      }
      return
    }
    items.append(URLQueryItem(name: "limit", value: String(limit)))
    if let next { items.append(URLQueryItem(name: "cursor", value: next)) }
    components.queryItems = items
    let answer = try await server.client().call(
      .GET, "/api/v1/search?" + (components.percentEncodedQuery ?? ""))
    if server.json { return Output.json(answer) }
    let events = answer["events"]?.arrayValue ?? []
    if events.isEmpty {
      print(
        Terminal.safe(
          "No events match between \(answer["from"]?.stringValue ?? "?") and \(answer["to"]?.stringValue ?? "?")."
        ))
      if let newest = answer["newestMatch"]?.stringValue,
        let time = ISO8601DateFormatter().date(from: newest)
      {
        let around = ISO8601DateFormatter()
        print(
          Terminal.safe(
            "The newest matching event is at \(newest): ferry search \(ShellQuote.quote(query)) --from \(around.string(from: time.addingTimeInterval(-3600))) --to \(around.string(from: time.addingTimeInterval(60)))"
          ))
      } else if answer["newestMatch"] != nil {
        print("None matches in the account's whole retention either.")
      }
    }
    for event in events {
      print(
        Terminal.safe("\(event["time"]?.stringValue ?? "")  \(event["message"]?.stringValue ?? "")")
      )
    }
    for problem in answer["problems"]?.arrayValue ?? [] {
      Terminal.note(problem.stringValue ?? "")
    }
    if let cursor = answer["nextCursor"]?.stringValue {
      print(Terminal.safe("More: ferry search \(ShellQuote.quote(query)) --next \(cursor)"))
    }
  }
}
