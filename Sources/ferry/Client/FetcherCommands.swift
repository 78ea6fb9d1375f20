import ArgumentParser
import FerryPolicy
import Foundation

/// `ferry fetcher …`: turn a fetch connection's objects into searchable events.
struct FetcherCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fetcher",
    abstract: "Ingest a connection's log files: create, list, show, follow, pause, resume, delete.",
    subcommands: [
      FetcherCreate.self, FetcherList.self, FetcherShow.self, FetcherStatus.self,
      FetcherObjects.self, FetcherReprocess.self, FetcherPause.self, FetcherResume.self,
      FetcherDelete.self,
    ])
}

struct FetcherCreate: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "create",
    abstract: "Start ingesting a fetch connection's prefix; every object becomes events, once.")
  @OptionGroup var server: ServerOptions
  @Option(help: "The fetch connection (see: ferry connection list).") var connection: String
  @Option(help: "A name, unique in the account.") var name: String
  @Flag(
    name: .customLong("allow-duplicate"),
    help:
      "Add it even if another fetcher already reads this connection (each would store every event once more)."
  )
  var allowDuplicate = false
  @Option(
    name: .customLong("log-type"),
    help:
      "auto (default: told from each object's content), json, cloudtrail, cloudwatch, text, alb, elb, nlb, s3access, vpcflow or cloudfront."
  )
  var logType = "auto"
  @Option(
    name: .customLong("poll-interval"),
    help:
      "Seconds between listings of the prefix, or reads of the queue, for new objects (10 to 86400; default 300)."
  )
  var pollInterval: Int?
  @Option(
    name: .customLong("queue-url"),
    help:
      "Read new objects from this SQS queue of the bucket's S3 event notifications instead of listing the prefix."
  )
  var queueURL: String?
  @Option(
    name: .customLong("multiline-start"),
    help: ArgumentHelp(
      "For text logs: a regular expression that begins an event; the lines after it that do not match are joined to it (stack traces).",
      discussion: "Searched in each line; anchor it with ^, e.g. '^\\d{4}-\\d{2}-\\d{2}'.",
      valueName: "pattern")
  )
  var multilineStart: String?

  func run() async throws {
    var body: [(key: String, value: JSONValue)] = [
      ("connectionId", .string(connection)), ("name", .string(name)), ("logType", .string(logType)),
    ]
    if let pollInterval { body.append(("pollIntervalSeconds", .number(Double(pollInterval)))) }
    if let queueURL { body.append(("queueUrl", .string(queueURL))) }
    if let multilineStart { body.append(("multilineStart", .string(multilineStart))) }
    if allowDuplicate { body.append(("allowDuplicate", .bool(true))) }
    let answer = try await server.client().call(.POST, "/api/v1/fetchers", body: .object(body))
    if server.json { return Output.json(answer) }
    let id = answer["id"]?.stringValue ?? ""
    print(Terminal.safe("Created fetcher \(id) (\(name)); it starts within its poll interval."))
    print(Terminal.safe("Follow it: ferry fetcher status \(id) --follow"))
  }
}

struct FetcherList: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "List the account's fetchers and their progress.")
  @OptionGroup var server: ServerOptions

  func run() async throws {
    let answer = try await server.client().call(.GET, "/api/v1/fetchers")
    if server.json { return Output.json(answer) }
    let rows = answer["fetchers"]?.arrayValue ?? []
    if rows.isEmpty {
      print(
        "No fetchers yet. Create one: ferry fetcher create --connection CONNECTION_ID --name NAME")
      return
    }
    Output.table(
      [["ID", "NAME", "LOG TYPE", "STATE", "OBJECTS", "EVENTS", "FAILED", "PENDING", "LAST ERROR"]]
        + rows.map { f in
          let s = f["status"] ?? .null
          return [
            f["id"]?.stringValue ?? "", f["name"]?.stringValue ?? "",
            f["logType"]?.stringValue ?? "", f["enabled"]?.boolValue == true ? "running" : "paused",
            String(s["objectsIngested"]?.intValue ?? 0), String(s["eventsIngested"]?.intValue ?? 0),
            String(s["objectsFailed"]?.intValue ?? 0), String(s["objectsPending"]?.intValue ?? 0),
            String((s["lastError"]?.stringValue ?? "").prefix(60)),
          ]
        })
  }
}

/// The fields of a fetcher, for `show` and `status`.
enum FetcherText {
  static func lines(_ f: JSONValue) -> [[String]] {
    let s = f["status"] ?? .null
    func number(_ key: String) -> String { String(s[key]?.intValue ?? 0) }
    return [
      ["ID", f["id"]?.stringValue ?? ""], ["Name", f["name"]?.stringValue ?? ""],
      ["Connection", f["connectionId"]?.stringValue ?? ""],
      ["Log type", f["logType"]?.stringValue ?? ""],
      ["Discovery", f["queueUrl"]?.stringValue.map { "SQS \($0)" } ?? "listing the prefix"],
      ["Multiline start", f["multilineStart"]?.stringValue ?? "none (one event per line)"],
      ["State", f["enabled"]?.boolValue == true ? "running" : "paused"],
      ["Poll interval", "\(f["pollIntervalSeconds"]?.intValue ?? 0) s"],
      ["Objects ingested", number("objectsIngested")], ["Objects failed", number("objectsFailed")],
      ["Objects pending", number("objectsPending")], ["Events", number("eventsIngested")],
      ["Bytes (decompressed)", number("bytesIngested")],
      ["Lag", seconds(s["lagSeconds"])],
      [
        "State kept",
        "\(number("ledgerRows")) ledger rows, about \(number("ledgerBytes")) bytes (older rows behind the cursor are compacted)",
      ],
      ["Last run", s["lastRunAt"]?.stringValue ?? "never"],
      ["Last error", s["lastError"]?.stringValue ?? "none"],
    ]
  }

  static func seconds(_ value: JSONValue?) -> String {
    if case .number(let n)? = value { return String(format: "%.0f s", n) }
    return "-"
  }

  /// One line of progress: a bar of objects done out of those seen.
  static func progress(_ f: JSONValue) -> String {
    let s = f["status"] ?? .null
    let done = (s["objectsIngested"]?.intValue ?? 0) + (s["objectsFailed"]?.intValue ?? 0)
    let pending = s["objectsPending"]?.intValue ?? 0
    let total = max(done + pending, 1)
    let width = 30
    let filled = min(width, done * width / total)
    let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
    return
      "[\(bar)] \(done)/\(done + pending) objects, \(s["eventsIngested"]?.intValue ?? 0) events, \(s["objectsFailed"]?.intValue ?? 0) failed"
  }
}

struct FetcherShow: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "show", abstract: "Show one fetcher and its progress.")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The fetcher's ID.") var id: String

  func run() async throws {
    let answer = try await server.client().call(.GET, "/api/v1/fetchers/\(Output.pathSegment(id))")
    if server.json { return Output.json(answer) }
    Output.table(FetcherText.lines(answer))
  }
}

struct FetcherStatus: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status",
    abstract: "A fetcher's progress; with --follow, a live progress bar until nothing is pending.")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The fetcher's ID.") var id: String
  @Flag(help: "Refresh every 2 seconds until no object is pending (Ctrl-C stops).") var follow =
    false

  func run() async throws {
    let client = try server.client()
    let path = "/api/v1/fetchers/\(Output.pathSegment(id))"
    var answer = try await client.call(.GET, path)
    if server.json { return Output.json(answer) }
    guard follow else { return Output.table(FetcherText.lines(answer)) }
    let live = isatty(STDOUT_FILENO) == 1
    while true {
      let line = Terminal.safe(FetcherText.progress(answer))
      if live {
        FileHandle.standardOutput.write(Data(("\r\u{1B}[K" + line).utf8))
      } else {
        print(line)
      }
      let s = answer["status"] ?? .null
      if s["lastRunAt"]?.stringValue != nil, (s["objectsPending"]?.intValue ?? 0) == 0 { break }
      try await Task.sleep(for: .seconds(2))
      answer = try await client.call(.GET, path)
    }
    if live { print("") }
    if let error = answer["status"]?["lastError"]?.stringValue {
      print(Terminal.safe("Last error: \(error)"))
    }
  }
}

struct FetcherPause: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pause", abstract: "Stop reading new objects; the ledger and cursor are kept.")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The fetcher's ID.") var id: String

  func run() async throws { try await FetcherText.toggle(id, "pause", "Paused", server) }
}

struct FetcherResume: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "resume", abstract: "Go on from where the fetcher stopped.")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The fetcher's ID.") var id: String

  func run() async throws { try await FetcherText.toggle(id, "resume", "Resumed", server) }
}

extension FetcherText {
  /// `POST /api/v1/fetchers/ID/ACTION`, then what happened.
  static func toggle(_ id: String, _ action: String, _ done: String, _ server: ServerOptions)
    async throws
  {
    let answer = try await server.client().call(
      .POST, "/api/v1/fetchers/\(Output.pathSegment(id))/\(action)")
    if server.json { return Output.json(answer) }
    print(Terminal.safe("\(done) \(id)."))
  }
}

struct FetcherDelete: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "delete",
    abstract:
      "Remove a fetcher and its ledger. Its events stay searchable until retention removes them.")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The fetcher's ID.") var id: String

  func run() async throws {
    try await server.client().call(.DELETE, "/api/v1/fetchers/\(Output.pathSegment(id))")
    if !server.json { print(Terminal.safe("Removed \(id).")) }
  }
}

struct FetcherObjects: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "objects",
    abstract: "A fetcher's ledger: each object version, its state, events and error.")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The fetcher's ID.") var id: String
  @Option(help: "Only objects in this state: pending, ingested or failed.") var state: String?
  @Option(help: "Start after this key (the previous page's last).") var after: String?
  @Option(help: "Objects per page (1 to 1000; default 100).") var limit = 100

  func run() async throws {
    var query = "limit=\(limit)"
    if let state { query += "&state=\(Output.pathSegment(state))" }
    if let after { query += "&after=\(Output.pathSegment(after))" }
    let answer = try await server.client().call(
      .GET, "/api/v1/fetchers/\(Output.pathSegment(id))/objects?\(query)")
    if server.json { return Output.json(answer) }
    let rows = answer["objects"]?.arrayValue ?? []
    if rows.isEmpty {
      print("No objects\(state.map { " in state \($0)" } ?? "") yet.")
      return
    }
    Output.table(
      [["KEY", "STATE", "EVENTS", "ATTEMPTS", "ERROR"]]
        + rows.map { o in
          [
            o["key"]?.stringValue ?? "", o["state"]?.stringValue ?? "",
            String(o["events"]?.intValue ?? 0), String(o["attempts"]?.intValue ?? 0),
            String((o["error"]?.stringValue ?? "").prefix(100)),
          ]
        })
    if let next = answer["nextAfter"]?.stringValue {
      print(Terminal.safe("More: ferry fetcher objects \(id) --after '\(next)'"))
    }
  }
}

struct FetcherReprocess: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "reprocess",
    abstract:
      "Read objects again (after fixing permissions or restoring from Glacier); nothing is stored twice."
  )
  @OptionGroup var server: ServerOptions
  @Argument(help: "The fetcher's ID.") var id: String
  @Option(help: "One object's key.") var key: String?
  @Option(name: .customLong("from-key"), help: "The first key of a range.") var fromKey: String?
  @Option(name: .customLong("to-key"), help: "The last key of a range (included).") var toKey:
    String?

  func run() async throws {
    var body: [(key: String, value: JSONValue)] = []
    if let key { body.append(("key", .string(key))) }
    if let fromKey { body.append(("fromKey", .string(fromKey))) }
    if let toKey { body.append(("toKey", .string(toKey))) }
    let answer = try await server.client().call(
      .POST, "/api/v1/fetchers/\(Output.pathSegment(id))/reprocess", body: .object(body))
    if server.json { return Output.json(answer) }
    print(
      Terminal.safe(
        "\(answer["objects"]?.intValue ?? 0) object versions will be read again on the fetcher's next pass."
      ))
  }
}
