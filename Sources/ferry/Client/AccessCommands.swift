import ArgumentParser
import FerryPolicy
import Foundation

/// `ferry audit`: the account's audit log.
struct AuditCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit", abstract: "Show the account's audit log, newest first (admins).")
  @OptionGroup var server: ServerOptions
  @Option(help: "How many entries (1-1000).") var limit = 50

  func run() async throws {
    let answer = try await server.client().call(.GET, "/api/v1/audit?limit=\(limit)")
    if server.json { return Output.json(answer) }
    Output.listing(
      answer, "entries",
      [("AT", "at"), ("ACTOR", "actor"), ("ACTION", "action"), ("TARGET", "target")])
  }
}

struct TokenCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "token", abstract: "Issue, list and revoke API tokens (admins).",
    subcommands: [TokenCreate.self, TokenList.self, TokenRevoke.self])
}

struct TokenCreate: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "create", abstract: "Issue a token; its secret is printed once.")
  @OptionGroup var server: ServerOptions
  @Option(help: "A name for the token, e.g. ci-deploy.") var name: String
  @Option(help: "admin or member.") var role = "member"
  @Option(
    help: ArgumentHelp(
      "Issue it into this account (an account ID; operators only): the way back into an account that has lost its admins.",
      valueName: "account-id"))
  var account: String?

  func run() async throws {
    let path =
      account.map {
        "/api/v1/accounts/\($0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? $0)/tokens"
      } ?? "/api/v1/tokens"
    let answer = try await server.client().call(
      .POST, path, body: .object([("name", .string(name)), ("role", .string(role))]))
    if server.json { return Output.json(answer) }
    print(
      Terminal.safe(
        "Issued \(answer["id"]?.stringValue ?? "") (\(role)). Its secret, shown only now:"))
    print(answer["secret"]?.stringValue ?? "")
  }
}

struct TokenList: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "List the account's tokens (never their secrets).")
  @OptionGroup var server: ServerOptions

  func run() async throws {
    let answer = try await server.client().call(.GET, "/api/v1/tokens")
    if server.json { return Output.json(answer) }
    Output.listing(
      answer, "tokens",
      [("ID", "id"), ("NAME", "name"), ("ROLE", "role"), ("CREATED", "createdAt")])
  }
}

struct TokenRevoke: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "revoke", abstract: "Revoke a token.")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The token's ID (tok_…), not its secret.") var id: String

  func run() async throws {
    try await server.client().call(.DELETE, "/api/v1/tokens/\(Output.pathSegment(id))")
    if !server.json { print(Terminal.safe("Revoked \(id).")) }
  }
}

struct UserCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "user", abstract: "Add, list, change, disable and remove the account's users.",
    subcommands: [
      UserAdd.self, UserList.self, UserSetRole.self, UserDisable.self, UserEnable.self,
      UserRemove.self,
    ])
}

/// A change to one user over the API (admins): `PATCH /api/v1/users/{id}`.
struct UserChange {
  static func send(_ server: ServerOptions, _ id: String, _ body: JSONValue, done: String)
    async throws
  {
    let answer = try await server.client().call(
      .PATCH, "/api/v1/users/\(Output.pathSegment(id))", body: body)
    if server.json { return Output.json(answer) }
    print(Terminal.safe("\(answer["email"]?.stringValue ?? id) \(done)."))
  }
}

struct UserSetRole: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "set-role", abstract: "Make a user an admin or a member (admins).")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The user's ID (see: ferry user list).") var id: String
  @Argument(help: "admin or member.") var role: String

  func run() async throws {
    try await UserChange.send(
      server, id, .object([("role", .string(role))]), done: "is now \(role)")
  }
}

struct UserDisable: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "disable",
    abstract: "Disable a user: they cannot sign in, and their sessions end at once (admins).")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The user's ID (see: ferry user list).") var id: String

  func run() async throws {
    try await UserChange.send(
      server, id, .object([("disabled", .bool(true))]),
      done: "is disabled; their sessions ended")
  }
}

struct UserEnable: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "enable", abstract: "Enable a disabled user again (admins).")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The user's ID (see: ferry user list).") var id: String

  func run() async throws {
    try await UserChange.send(server, id, .object([("disabled", .bool(false))]), done: "is enabled")
  }
}

struct UserRemove: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "remove", abstract: "Remove a user and end their sessions (admins).")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The user's ID (see: ferry user list).") var id: String

  func run() async throws {
    try await server.client().call(.DELETE, "/api/v1/users/\(Output.pathSegment(id))")
    if !server.json { print(Terminal.safe("Removed \(id).")) }
  }
}

struct UserAdd: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "add", abstract: "Add a user (admins).")
  @OptionGroup var server: ServerOptions
  @Option(help: "The user's email.") var email: String
  @Option(help: "admin or member.") var role = "member"

  func run() async throws {
    let answer = try await server.client().call(
      .POST, "/api/v1/users", body: .object([("email", .string(email)), ("role", .string(role))]))
    if server.json { return Output.json(answer) }
    print(Terminal.safe("Added \(email) as \(role) (\(answer["id"]?.stringValue ?? ""))."))
  }
}

struct UserList: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "List the account's users.")
  @OptionGroup var server: ServerOptions

  func run() async throws {
    let answer = try await server.client().call(.GET, "/api/v1/users")
    if server.json { return Output.json(answer) }
    Output.listing(
      answer, "users",
      [("ID", "id"), ("EMAIL", "email"), ("ROLE", "role"), ("DISABLED", "disabled")])
  }
}

/// How the client commands print: JSON as the server sent it, or aligned text with every
/// value made safe for the terminal.
enum Output {
  static func json(_ value: JSONValue) { print(value.serialized(pretty: true)) }

  static func table(_ rows: [[String]]) {
    print(TextTable.render(rows.map { $0.map(Terminal.safe) }))
  }

  /// The items of `answer[key]` as a table: one column per (header, field).
  static func listing(_ answer: JSONValue, _ key: String, _ columns: [(String, String)]) {
    table(
      [columns.map(\.0)]
        + (answer[key]?.arrayValue ?? []).map { item in
          columns.map { column in
            switch item[column.1] {
            case .bool(let flag): flag ? "yes" : "no"
            case let value?: value.stringValue ?? value.intValue.map(String.init) ?? ""
            case nil: ""
            }
          }
        })
  }

  /// A check's steps, then its diagnosis.
  static func check(_ check: JSONValue) {
    for step in check["steps"]?.arrayValue ?? [] {
      let mark =
        switch step["status"]?.stringValue {
        case "passed": "ok  "
        case "failed": "FAIL"
        default: "skip"
        }
      print(
        Terminal.safe(
          "  \(mark) \(step["title"]?.stringValue ?? ""): \(step["detail"]?.stringValue ?? "")"))
    }
    guard let diagnosis = check["diagnosis"], diagnosis != .null else { return }
    print(Terminal.safe("Cause: \(diagnosis["cause"]?.stringValue ?? "")"))
    if let aws = diagnosis["awsError"], aws != .null {
      print(
        Terminal.safe(
          "AWS said: \(aws["code"]?.stringValue ?? "") \(aws["message"]?.stringValue ?? "") [request ID \(aws["requestId"]?.stringValue ?? "-")]"
        ))
    }
    let fix = (diagnosis["fix"]?.stringValue ?? "").split(
      separator: "\n", omittingEmptySubsequences: false)
    print(Terminal.safe("Fix: \(fix.first ?? "")"))
    for line in fix.dropFirst() { print(Terminal.safe("  \(line)")) }
    if let statement = diagnosis["statementToAdd"]?.stringValue {
      for line in statement.split(separator: "\n") { print(Terminal.safe("  \(line)")) }
    }
    let others = diagnosis["otherCauses"]?.arrayValue ?? []
    if !others.isEmpty {
      print("AWS's answer does not tell these apart; the cause may also be:")
      for other in others { print(Terminal.safe("  - \(other.stringValue ?? "")")) }
    }
  }

  /// A path segment with everything but unreserved characters percent-encoded.
  static func pathSegment(_ text: String) -> String {
    text.addingPercentEncoding(
      withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? text
  }
}
