import ArgumentParser
import FerryCore
import FerryPolicy
import Foundation

/// `ferry restore …`: read a time range of an archive back into search.
struct RestoreCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "restore",
    abstract:
      "Read archived events back into search: estimate, start, list, show, pause, resume, cancel, keep.",
    subcommands: [
      RestoreEstimate.self, RestoreStart.self, RestoreList.self, RestoreShow.self,
      RestorePause.self, RestoreResume.self, RestoreCancel.self, RestoreKeep.self,
    ])
}

/// What to restore, shared by `estimate` and `start`.
struct RestoreRange: ParsableArguments {
  @Option(help: "The archive to read (see: ferry archive list).") var archive: String
  @Option(help: "Start of the range (RFC 3339, or e.g. now-2d).") var from: String
  @Option(help: "End of the range, exclusive (RFC 3339, or e.g. now).") var to: String
  @Option(help: "Restore only events that match this query (docs/query-language.md).")
  var query: String?

  var body: [(key: String, value: JSONValue)] {
    var body: [(key: String, value: JSONValue)] = [
      ("archiveId", .string(archive)), ("from", .string(from)), ("to", .string(to)),
    ]
    if let query { body.append(("query", .string(query))) }
    return body
  }

  /// The command that runs `verb` on this range, as a shell reads it back (values quoted
  /// where they need it).
  func command(_ verb: String) -> String {
    var words = ["ferry", "restore", verb, "--archive", archive, "--from", from, "--to", to]
    if let query { words += ["--query", query] }
    return words.map(Self.shellWord).joined(separator: " ")
  }

  /// `word` as a POSIX shell reads it: as is when it is plain, else in single quotes.
  static func shellWord(_ word: String) -> String {
    let plain =
      !word.isEmpty
      && word.unicodeScalars.allSatisfy {
        ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
          || "-_.:/+=,@%".unicodeScalars.contains($0)
      }
    return plain ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }
}

enum RestoreText {
  static func bytes(_ n: Int) -> String { Quantity.bytes(Int64(n)) }

  /// The objects a restore cannot read, or that wait in an archive storage class.
  static func problems(_ answer: JSONValue) {
    let problems = answer["problems"]?.arrayValue ?? []
    guard !problems.isEmpty else { return }
    print("")
    for p in problems {
      print(
        Terminal.safe(
          "  \(p["state"]?.stringValue ?? "") \(p["key"]?.stringValue ?? ""): \(p["error"]?.stringValue ?? "")"
        ))
    }
  }

  static func lines(_ r: JSONValue) -> [[String]] {
    let p = r["progress"] ?? .null
    func number(_ key: String) -> Int { p[key]?.intValue ?? 0 }
    let total = p["objectsTotal"]?.intValue.map(String.init) ?? "not listed yet"
    return [
      ["ID", r["id"]?.stringValue ?? ""], ["Archive", r["archiveId"]?.stringValue ?? ""],
      ["Range", "\(r["from"]?.stringValue ?? "") to \(r["to"]?.stringValue ?? "")"],
      ["Query", r["query"]?.stringValue ?? "(all events)"],
      ["State", r["state"]?.stringValue ?? ""],
      ["Objects", "\(number("objectsDone")) of \(total) read, \(number("objectsFailed")) failed"],
      ["Frozen objects", String(number("objectsFrozen"))],
      [
        "Bytes", "\(bytes(number("bytesRead"))) of \(bytes(p["bytesTotal"]?.intValue ?? 0)) read",
      ],
      ["Events read", String(number("eventsRead"))],
      ["Events matching", String(number("eventsMatched"))],
      ["Events restored", String(number("eventsRestored"))],
      ["Speed", p["pace"]?.stringValue ?? "-"],
      ["Leave search", r["expiresAt"]?.stringValue ?? "never (kept)"],
      ["Thaw Glacier objects", r["thaw"]?.boolValue == true ? "yes" : "no"],
      ["Error", r["error"]?.stringValue ?? "none"],
    ]
  }

  /// `POST /api/v1/restores/ID/ACTION`, then what happened.
  static func change(_ id: String, _ action: String, _ done: String, _ server: ServerOptions)
    async throws
  {
    let answer = try await server.client().call(
      .POST, "/api/v1/restores/\(Output.pathSegment(id))/\(action)")
    if server.json { return Output.json(answer) }
    print(Terminal.safe("\(done) \(id) (now \(answer["state"]?.stringValue ?? ""))."))
  }
}

struct RestoreEstimate: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "estimate",
    abstract: "What a restore would read, from the archive's manifests; starts nothing.")
  @OptionGroup var server: ServerOptions
  @OptionGroup var range: RestoreRange

  func run() async throws {
    let answer = try await server.client().call(
      .POST, "/api/v1/restores", body: .object(range.body + [("dryRun", .bool(true))]))
    if server.json { return Output.json(answer) }
    let objects = answer["objects"]?.intValue ?? 0
    print(
      Terminal.safe(
        "A restore of \(range.from) to \(range.to) reads \(objects) objects, \(RestoreText.bytes(answer["bytes"]?.intValue ?? 0)), up to \(answer["events"]?.intValue ?? 0) events."
      ))
    if let frozen = answer["frozenObjects"]?.intValue, frozen > 0 {
      print(
        "\(frozen) objects are in an archive storage class (Glacier): they are not read until S3 restores them."
      )
    }
    RestoreText.problems(answer)
    print(Terminal.safe("Start it: " + range.command("start")))
  }
}

struct RestoreStart: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "start",
    abstract: "Start a restore in the background; follow it with ferry restore show.")
  @OptionGroup var server: ServerOptions
  @OptionGroup var range: RestoreRange
  @Option(
    name: .customLong("keep-days"),
    help: "Restored events leave search after this many days (0: keep them; default: the server's)."
  )
  var keepDays: Int?
  @Flag(
    help:
      "Ask S3 to restore objects in Glacier storage classes, and read them once it has (hours)."
  )
  var thaw = false

  func run() async throws {
    var body = range.body
    if let keepDays { body.append(("keepDays", .number(Double(keepDays)))) }
    if thaw { body.append(("thaw", .bool(true))) }
    let answer = try await server.client().call(.POST, "/api/v1/restores", body: .object(body))
    if server.json { return Output.json(answer) }
    let id = answer["id"]?.stringValue ?? ""
    print(Terminal.safe("Started restore \(id)."))
    print(Terminal.safe("Follow it: ferry restore show \(id)"))
  }
}

struct RestoreList: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "List the account's restores, newest first.")
  @OptionGroup var server: ServerOptions

  func run() async throws {
    let answer = try await server.client().call(.GET, "/api/v1/restores")
    if server.json { return Output.json(answer) }
    let rows = answer["restores"]?.arrayValue ?? []
    if rows.isEmpty {
      print("No restores yet. Price one: ferry restore estimate --archive ID --from ... --to ...")
      return
    }
    Output.table(
      [["ID", "ARCHIVE", "FROM", "TO", "STATE", "OBJECTS", "RESTORED", "ERROR"]]
        + rows.map { r in
          let p = r["progress"] ?? .null
          return [
            r["id"]?.stringValue ?? "", r["archiveId"]?.stringValue ?? "",
            r["from"]?.stringValue ?? "", r["to"]?.stringValue ?? "",
            r["state"]?.stringValue ?? "",
            "\(p["objectsDone"]?.intValue ?? 0)/\(p["objectsTotal"]?.intValue.map(String.init) ?? "?")",
            String(p["eventsRestored"]?.intValue ?? 0),
            String((r["error"]?.stringValue ?? "").prefix(60)),
          ]
        })
  }
}

struct RestoreShow: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "show", abstract: "Show one restore's progress and the objects it could not read.")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The restore's ID.") var id: String

  func run() async throws {
    let answer = try await server.client().call(.GET, "/api/v1/restores/\(Output.pathSegment(id))")
    if server.json { return Output.json(answer) }
    Output.table(RestoreText.lines(answer))
    RestoreText.problems(answer)
  }
}

struct RestorePause: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pause", abstract: "Pause a restore; resume goes on where it stopped.")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The restore's ID.") var id: String
  func run() async throws { try await RestoreText.change(id, "pause", "Paused", server) }
}

struct RestoreResume: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "resume", abstract: "Resume a paused restore.")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The restore's ID.") var id: String
  func run() async throws { try await RestoreText.change(id, "resume", "Resumed", server) }
}

struct RestoreCancel: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cancel",
    abstract: "Cancel a restore; what it restored stays until it expires.")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The restore's ID.") var id: String
  func run() async throws { try await RestoreText.change(id, "cancel", "Cancelled", server) }
}

struct RestoreKeep: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "keep", abstract: "Keep a restore's events in search for good (no expiry).")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The restore's ID.") var id: String
  func run() async throws { try await RestoreText.change(id, "keep", "Kept", server) }
}
