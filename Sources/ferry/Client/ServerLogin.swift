import ArgumentParser
import Foundation

/// Where the CLI finds the server and its token: `--server`/`--token`, then
/// `FERRY_SERVER`/`FERRY_TOKEN`, then the file `ferry login` wrote
/// (`$FERRY_CONFIG_DIR/login.json`, default `~/.config/ferry/login.json`, mode 0600).
struct ServerOptions: ParsableArguments {
  @Option(help: "The server's URL (default: FERRY_SERVER, else the one ferry login stored).")
  var server: String?
  @Option(
    help:
      "The API token (default: FERRY_TOKEN, else the one ferry login stored). A token given here is visible in `ps`: prefer ferry login."
  )
  var token: String?
  @Flag(help: "Print the server's JSON answer instead of text.") var json = false

  func client() throws(CLIError) -> APIClient {
    let environment = ProcessInfo.processInfo.environment.filter { !$0.value.isEmpty }
    let stored = LoginFile.read()
    guard let server = server ?? environment["FERRY_SERVER"] ?? stored?.server else {
      throw .usage(
        "no server: run ferry login URL --token TOKEN first (or give --server and --token)")
    }
    guard let token = token ?? environment["FERRY_TOKEN"] ?? stored?.token else {
      throw .usage("no token: run ferry login \(server) --token TOKEN first (or give --token)")
    }
    return try APIClient(server: server, token: token)
  }
}

/// The login file: server URL and token, readable by its owner only.
enum LoginFile {
  struct Contents: Codable {
    var server: String
    var token: String
  }

  static var url: URL {
    let environment = ProcessInfo.processInfo.environment
    if let dir = environment["FERRY_CONFIG_DIR"], !dir.isEmpty {
      return URL(fileURLWithPath: dir).appendingPathComponent("login.json")
    }
    let home = environment["HOME"] ?? NSHomeDirectory()
    return URL(fileURLWithPath: home).appendingPathComponent(".config/ferry/login.json")
  }

  static func read() -> Contents? {
    guard let data = try? Data(contentsOf: url) else { return nil }
    return try? JSONDecoder().decode(Contents.self, from: data)
  }

  static func write(_ contents: Contents) throws(CLIError) {
    let file = url
    do {
      try FileManager.default.createDirectory(
        at: file.deletingLastPathComponent(), withIntermediateDirectories: true,
        attributes: [.posixPermissions: 0o700])
      let data = try JSONEncoder().encode(contents)
      // Created 0600 before the token is written, so it is never readable by others.
      FileManager.default.createFile(
        atPath: file.path, contents: nil, attributes: [.posixPermissions: 0o600])
      try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
      let handle = try FileHandle(forWritingTo: file)
      defer { try? handle.close() }
      try handle.truncate(atOffset: 0)
      try handle.write(contentsOf: data)
    } catch {
      throw .file(file.path, "cannot write the login file: \(error.localizedDescription)")
    }
  }
}

struct LoginCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "login",
    abstract: "Store a server's URL and an API token for the other commands (file mode 0600).")

  @Argument(help: "The server's URL, e.g. http://127.0.0.1:8080.") var server: String
  @Option(help: "The API token (fry_…); default: read from standard input.") var token: String?

  func run() async throws {
    var secret = token
    if secret == nil {
      secret = readLine(strippingNewline: true)
    }
    guard let secret, !secret.isEmpty else {
      throw CLIError.usage("no token: give --token fry_… or pipe it on standard input")
    }
    let client = try APIClient(server: server, token: secret)
    let me = try await client.call(.GET, "/api/v1/me")
    try LoginFile.write(.init(server: client.base, token: secret))
    let account = me["account"]?["name"]?.stringValue ?? "?"
    let role = me["token"]?["role"]?.stringValue ?? "?"
    print(
      Terminal.safe(
        "Signed in to \(client.base) as \(role) of the account \"\(account)\"; stored in \(LoginFile.url.path)."
      ))
  }
}
