import ArgumentParser
import FerryPolicy
import Foundation

/// `ferry archive …`: write the account's events into an archive bucket, in the open
/// layout of docs/archive-format.md.
struct ArchiveCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "archive",
    abstract: "Write events into your archive bucket: create, list, show, pause, resume, delete.",
    subcommands: [
      ArchiveCreate.self, ArchiveList.self, ArchiveShow.self, ArchivePause.self,
      ArchiveResume.self, ArchiveDelete.self,
    ])
}

struct ArchiveCreate: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "create",
    abstract: "Start writing the account's events into an archive connection's bucket.",
    discussion: """
      The connection must have purpose archive (ferry connection create --purpose archive). \
      Events are written under PREFIX/account=ID/year=/month=/day=/hour=/ as zstd NDJSON, \
      with a manifest.json per hour; see docs/archive-format.md.
      """)
  @OptionGroup var server: ServerOptions
  @Option(help: "The archive connection (see: ferry connection list).") var connection: String
  @Option(help: "A name, unique in the account.") var name: String
  @Option(
    name: .customLong("fetcher"),
    help: "Archive only this fetcher's events (repeat for several; default: every fetcher).")
  var fetchers: [String] = []
  @Option(help: "zstd (default: smaller, faster) or gzip (for readers without zstd).")
  var compression: String?
  @Option(
    help:
      "compact (default: lines without eventId, which readers derive, and without the fields of JSON lines and CloudTrail records, which their messages give back) or full (every line carries its eventId and fields)."
  )
  var lines: String?

  func run() async throws {
    var body: [(key: String, value: JSONValue)] = [
      ("connectionId", .string(connection)), ("name", .string(name)),
    ]
    if let compression { body.append(("compression", .string(compression))) }
    if let lines { body.append(("lines", .string(lines))) }
    if !fetchers.isEmpty { body.append(("fetcherIds", .array(fetchers.map(JSONValue.string)))) }
    let answer = try await server.client().call(.POST, "/api/v1/archives", body: .object(body))
    if server.json { return Output.json(answer) }
    let id = answer["id"]?.stringValue ?? ""
    let place = "s3://\(answer["bucket"]?.stringValue ?? "")/\(answer["prefix"]?.stringValue ?? "")"
    print(Terminal.safe("Created archive \(id) (\(name)) writing to \(place)."))
    print(Terminal.safe("Follow it: ferry archive show \(id)"))
  }
}

enum ArchiveText {
  static func lines(_ a: JSONValue) -> [[String]] {
    let s = a["status"] ?? .null
    func number(_ key: String) -> String { String(s[key]?.intValue ?? 0) }
    let fetchers = (a["fetcherIds"]?.arrayValue ?? []).compactMap(\.stringValue)
    return [
      ["ID", a["id"]?.stringValue ?? ""], ["Name", a["name"]?.stringValue ?? ""],
      ["Connection", a["connectionId"]?.stringValue ?? ""],
      [
        "Writes to",
        "s3://\(a["bucket"]?.stringValue ?? "?")/\(a["prefix"]?.stringValue ?? "")",
      ],
      ["Fetchers", fetchers.isEmpty ? "all" : fetchers.joined(separator: ", ")],
      ["Compression", a["compression"]?.stringValue ?? "zstd"],
      ["Lines", a["lines"]?.stringValue ?? "full"],
      ["State", a["enabled"]?.boolValue == true ? "running" : "paused"],
      ["Objects written", number("objects")], ["Events written", number("events")],
      ["Bytes written", number("bytes")], ["Flushes", number("flushes")],
      ["Events waiting", "\(number("pendingEvents")) (\(number("pendingBytes")) bytes of text)"],
      ["Next flush", s["nextFlush"]?.stringValue ?? "unknown"],
      ["Newest event archived", a["archivedThrough"]?.stringValue ?? "none yet"],
      ["Last flush", s["lastFlushAt"]?.stringValue ?? "never"],
      ["Last error", s["lastError"]?.stringValue ?? "none"],
    ]
  }

  /// `POST /api/v1/archives/ID/ACTION`, then what happened.
  static func toggle(_ id: String, _ action: String, _ done: String, _ server: ServerOptions)
    async throws
  {
    let answer = try await server.client().call(
      .POST, "/api/v1/archives/\(Output.pathSegment(id))/\(action)")
    if server.json { return Output.json(answer) }
    print(Terminal.safe("\(done) \(id)."))
  }
}

struct ArchiveList: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "List the account's archives and their progress.")
  @OptionGroup var server: ServerOptions

  func run() async throws {
    let answer = try await server.client().call(.GET, "/api/v1/archives")
    if server.json { return Output.json(answer) }
    let rows = answer["archives"]?.arrayValue ?? []
    if rows.isEmpty {
      print(
        "No archives yet. Create one: ferry archive create --connection CONNECTION_ID --name NAME")
      return
    }
    Output.table(
      [
        [
          "ID", "NAME", "BUCKET", "STATE", "OBJECTS", "EVENTS", "WAITING", "NEXT FLUSH",
          "LAST ERROR",
        ]
      ]
        + rows.map { a in
          let s = a["status"] ?? .null
          return [
            a["id"]?.stringValue ?? "", a["name"]?.stringValue ?? "",
            a["bucket"]?.stringValue ?? "",
            a["enabled"]?.boolValue == true ? "running" : "paused",
            String(s["objects"]?.intValue ?? 0), String(s["events"]?.intValue ?? 0),
            String(s["pendingEvents"]?.intValue ?? 0), s["nextFlush"]?.stringValue ?? "",
            String((s["lastError"]?.stringValue ?? "").prefix(60)),
          ]
        })
  }
}

struct ArchiveShow: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "show", abstract: "Show one archive and its progress.")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The archive's ID.") var id: String

  func run() async throws {
    let answer = try await server.client().call(.GET, "/api/v1/archives/\(Output.pathSegment(id))")
    if server.json { return Output.json(answer) }
    Output.table(ArchiveText.lines(answer))
  }
}

struct ArchivePause: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pause", abstract: "Stop writing; events wait in the store until resumed.")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The archive's ID.") var id: String

  func run() async throws { try await ArchiveText.toggle(id, "pause", "Paused", server) }
}

struct ArchiveResume: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "resume", abstract: "Write again, from where the archive stopped.")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The archive's ID.") var id: String

  func run() async throws { try await ArchiveText.toggle(id, "resume", "Resumed", server) }
}

struct ArchiveDelete: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "delete",
    abstract: "Stop writing an archive and forget its progress; what is in the bucket stays.")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The archive's ID.") var id: String

  func run() async throws {
    try await server.client().call(.DELETE, "/api/v1/archives/\(Output.pathSegment(id))")
    if !server.json { print(Terminal.safe("Removed \(id).")) }
  }
}
