import ArgumentParser
import FerryCore
import FerryPolicy
import Foundation

/// `ferry account`: the tenants Ferry serves, each with its own generated external ID.
struct AccountCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "account",
    abstract: "Create and list accounts (tenants); each gets its own external ID.",
    subcommands: [AccountCreate.self, AccountList.self, AccountShow.self, AccountImportLegacy.self]
  )
}

struct AccountCreate: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "create",
    abstract: "Create an account and generate its external ID.",
    discussion: """
      The external ID is what the account's IAM roles must require in their trust policy \
      (the sts:ExternalId condition). Ferry generates it; it cannot be chosen.
      """)

  @Argument(help: "The account's name, as its admins will see it.")
  var name: String

  // Unconditional: a negative number is the option's value, so "-5" is refused by the
  // retention rule rather than read as an unknown flag.
  @Option(
    parsing: .unconditional, help: "Events older than this many days are deleted (1 to 3650).")
  var retentionDays = 30

  @Option(help: "The external ID's prefix: <prefix>:aws:extid:<random>.")
  var externalIDPrefix = "ferry"

  @Flag(help: "Print JSON instead of text.")
  var json = false

  @OptionGroup var store: StoreOptions

  @Flag(
    help:
      "Create it over the API of the server ferry login signed in to (an operator's token), not on the local store; the server's external ID prefix applies."
  )
  var api = false

  func run() async throws {
    if api {
      let answer = try await ServerOptions.parse([]).client().call(
        .POST, "/api/v1/accounts",
        body: .object([("name", .string(name)), ("retentionDays", .number(Double(retentionDays)))]))
      if json { return Output.json(answer) }
      let external = answer["externalId"]?.stringValue ?? ""
      Terminal.print(
        """
        Created account \(Terminal.safe(answer["name"]?.stringValue ?? name)) (\(answer["id"]?.stringValue ?? "")).
        External ID: \(external)
        Its first admin's token, shown only now:
          \(answer["adminToken"]?.stringValue ?? "")
        """)
      return
    }
    let account = try await store.use { store in
      try await store.createAccount(
        name: name, externalIDPrefix: externalIDPrefix, retentionDays: retentionDays,
        actor: CLIActor.current)
    }
    if json {
      Terminal.print(AccountJSON.encode(account))
    } else {
      Terminal.print(
        """
        Created account \(Terminal.safe(account.name)) (\(account.id.rawValue)).
        External ID: \(account.externalID)
          Every role this account connects must require it: put it in the trust policy's
          sts:ExternalId condition (ferry policy trust --external-id \(account.externalID) ...).
        Retention:   \(account.retentionDays) days
        """)
    }
  }
}

struct AccountList: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "List every account, oldest first.")

  @Flag(help: "Print JSON instead of text.")
  var json = false

  @OptionGroup var store: StoreOptions

  @Flag(help: "List them over the API of the server ferry login signed in to (operators).")
  var api = false

  func run() async throws {
    if api {
      let answer = try await ServerOptions.parse([]).client().call(.GET, "/api/v1/accounts")
      if json { return Output.json(answer) }
      let rows =
        [["ID", "NAME", "EXTERNAL ID", "RETENTION"]]
        + (answer["accounts"]?.arrayValue ?? []).map { a in
          [
            a["id"]?.stringValue ?? "", Terminal.safe(a["name"]?.stringValue ?? ""),
            a["externalId"]?.stringValue ?? "",
            "\(a["retentionDays"]?.intValue.map(String.init) ?? "?") days",
          ]
        }
      Terminal.print(TextTable.render(rows))
      return
    }
    let accounts = try await store.use(existing: true) { try await $0.accounts() }
    if json {
      Terminal.print("[" + accounts.map(AccountJSON.encode).joined(separator: ",") + "]")
      return
    }
    if accounts.isEmpty {
      Terminal.print("No accounts yet. Create one with: ferry account create NAME")
      return
    }
    let rows =
      [["ID", "NAME", "EXTERNAL ID", "RETENTION"]]
      + accounts.map {
        [$0.id.rawValue, Terminal.safe($0.name), $0.externalID, "\($0.retentionDays) days"]
      }
    Terminal.print(TextTable.render(rows))
  }
}

struct AccountShow: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "show", abstract: "Show one account.")

  @Argument(help: "The account's ID (acct_...).")
  var id: String

  @Flag(help: "Print JSON instead of text.")
  var json = false

  @OptionGroup var store: StoreOptions

  func run() async throws {
    let found = try await store.use(existing: true) {
      try await $0.account(AccountID(rawValue: id))
    }
    guard let account = found else {
      throw CLIError.usage(
        "there is no account \(Terminal.safe(id)); list them with: ferry account list")
    }
    if json {
      Terminal.print(AccountJSON.encode(account))
    } else {
      Terminal.print(
        TextTable.render(
          [
            ["ID", account.id.rawValue], ["Name", Terminal.safe(account.name)],
            ["External ID", account.externalID], ["Retention", "\(account.retentionDays) days"],
            ["Created", ISO8601DateFormatter().string(from: account.createdAt)],
          ]))
    }
  }
}

/// Accounts as JSON for scripts: stable keys, ISO 8601 times.
enum AccountJSON {
  static func encode(_ account: Account) -> String {
    let object: [String: Any] = [
      "id": account.id.rawValue, "name": account.name, "externalID": account.externalID,
      "retentionDays": account.retentionDays,
      "createdAt": ISO8601DateFormatter().string(from: account.createdAt),
    ]
    let data =
      (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    return String(decoding: data, as: UTF8.self)
  }
}

/// Plain-text columns, padded to the widest cell.
enum TextTable {
  static func render(_ rows: [[String]]) -> String {
    let widths = rows.reduce(into: [Int]()) { widths, row in
      for (i, cell) in row.enumerated() {
        if i >= widths.count { widths.append(0) }
        widths[i] = max(widths[i], cell.count)
      }
    }
    return rows.map { row in
      row.enumerated().map { i, cell in
        i == row.count - 1
          ? cell : cell.padding(toLength: widths[i] + 2, withPad: " ", startingAt: 0)
      }.joined()
    }.joined(separator: "\n")
  }
}

/// `ferry account import-legacy`: an operator brings in a configuration made before Ferry
/// generated external IDs, over the API (Ferry checks it with the customer's own ID first).
struct AccountImportLegacy: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import-legacy",
    abstract:
      "Import a connection that uses a customer-chosen (legacy) external ID into an account (operators).",
    discussion: """
      The only way a connection gets an external ID other than its account's generated one. \
      Ferry assumes the role with the legacy ID and proves each permission before saving; \
      the connection is flagged legacy and listed by ferry migrate inventory until it is \
      migrated. Runs over the API of the server ferry login signed in to, with an \
      operator's token. Exit status 1 when the check fails (nothing is saved).
      """)
  @Argument(help: "The account's ID (ferry account list --api).") var account: String
  @Option(help: "The S3 bucket.") var bucket: String
  @Option(help: "The bucket's region.") var region = "us-east-1"
  @Option(help: "The key prefix, if the logs are under one.") var prefix: String?
  @Option(name: .customLong("role-arn"), help: "The ARN of the customer's role.") var roleARN:
    String
  @Option(name: .customLong("external-id"), help: "The external ID the customer chose.")
  var externalID: String
  @Option(help: "fetcher or archive.") var purpose = "fetcher"
  @Option(name: .customLong("kms-key-arn"), help: "The KMS key the objects are encrypted with.")
  var kmsKeyARN: String?
  @OptionGroup var server: ServerOptions

  func run() async throws {
    var body: [(key: String, value: JSONValue)] = [
      ("purpose", .string(purpose)), ("bucket", .string(bucket)), ("region", .string(region)),
      ("roleArn", .string(roleARN)), ("externalId", .string(externalID)),
    ]
    if let prefix { body.append(("prefix", .string(prefix))) }
    if let kmsKeyARN { body.append(("kmsKeyArn", .string(kmsKeyARN))) }
    let answer = try await server.postChecked(
      "/api/v1/accounts/\(Output.pathSegment(account))/legacy-connections", body: body,
      refused: "Ferry cannot use the role with that external ID. Nothing was saved.")
    if server.json { return Output.json(answer) }
    print(
      Terminal.safe(
        "Imported \(answer["id"]?.stringValue ?? "") (s3://\(bucket)/\(prefix ?? "")) with its legacy external ID; migrate it with ferry migrate plan."
      ))
  }
}
