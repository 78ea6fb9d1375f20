import ArgumentParser
import FerryPolicy
import Foundation

/// `ferry connection-info`: what to paste into AWS.
struct ConnectionInfoCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "connection-info",
    abstract:
      "Show Ferry's AWS account ID and your account's external ID, for the role's trust policy.")
  @OptionGroup var server: ServerOptions

  func run() async throws {
    let info = try await server.client().call(.GET, "/api/v1/connection-info")
    if server.json { return Output.json(info) }
    Output.table([
      ["Account ID", info["awsAccountId"]?.stringValue ?? ""],
      ["Principal", info["principalArn"]?.stringValue ?? ""],
      ["External ID", info["externalId"]?.stringValue ?? ""],
    ])
  }
}

/// `ferry role-policy`: the role's policies and ready-to-run set-up.
struct RolePolicyCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "role-policy",
    abstract:
      "Get the role policy: permissions and trust policies, an AWS CLI script, a CloudFormation template."
  )
  @OptionGroup var server: ServerOptions
  @Option(help: "The S3 bucket.") var bucket: String
  @Option(help: "The bucket's region.") var region = "us-east-1"
  @Option(help: "The key prefix, if the logs are under one.") var prefix: String?
  @Option(help: "fetcher (Ferry reads logs) or archive (Ferry writes archives).") var purpose =
    "fetcher"
  @Option(name: .customLong("kms-key-arn"), help: "The KMS key the objects are encrypted with.")
  var kmsKeyARN: String?
  @Option(
    name: .customLong("queue-arn"),
    help:
      "The SQS queue that receives the bucket's S3 event notifications, for a fetcher that reads them."
  )
  var queueARN: String?
  @Option(help: "What to print: all (default), permissions, trust, cli or cloudformation.")
  var format = "all"

  func run() async throws {
    var body: [(key: String, value: JSONValue)] = [
      ("bucket", .string(bucket)), ("region", .string(region)), ("purpose", .string(purpose)),
    ]
    if let prefix { body.append(("prefix", .string(prefix))) }
    if let kmsKeyARN { body.append(("kmsKeyArn", .string(kmsKeyARN))) }
    if let queueARN { body.append(("queueArn", .string(queueARN))) }
    let answer = try await server.client().call(.POST, "/api/v1/role-policy", body: .object(body))
    if server.json { return Output.json(answer) }
    switch format {
    case "permissions": print(answer["permissionsPolicy"]?.serialized() ?? "")
    case "trust": print(answer["trustPolicy"]?.serialized() ?? "")
    case "cli": print(answer["awsCliScript"]?.stringValue ?? "", terminator: "")
    case "cloudformation":
      print(answer["cloudFormationTemplate"]?.stringValue ?? "", terminator: "")
    case "all":
      print("Permissions policy (attach to the role):")
      print(answer["permissionsPolicy"]?.serialized() ?? "")
      print("\nTrust policy (the role's trust relationship):")
      print(answer["trustPolicy"]?.serialized() ?? "")
      print("\nOr create the role in one go: ferry role-policy ... --format cli | bash")
    default:
      throw CLIError.usage(
        "--format: \"\(format)\" is not a format; use all, permissions, trust, cli or cloudformation"
      )
    }
  }
}

struct ConnectionCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "connection",
    abstract: "Connect buckets through roles, and check them.",
    subcommands: [
      ConnectionCreate.self, ConnectionList.self, ConnectionShow.self, ConnectionCheck.self,
      ConnectionDelete.self,
    ])
}

struct ConnectionCreate: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "create",
    abstract:
      "Connect a bucket: Ferry assumes the role with your external ID and proves every permission it needs.",
    discussion: "Exit status 1 when a check fails; the steps and the diagnosis are printed.")
  @OptionGroup var server: ServerOptions
  @Option(help: "The S3 bucket.") var bucket: String
  @Option(help: "The bucket's region.") var region = "us-east-1"
  @Option(help: "The key prefix, if the logs are under one.") var prefix: String?
  @Option(name: .customLong("role-arn"), help: "The ARN of the role you created.") var roleARN:
    String
  @Option(help: "fetcher or archive.") var purpose = "fetcher"
  @Option(
    name: .customLong("bucket-owner"), help: "The account that owns the bucket, if not the role's.")
  var bucketOwner: String?
  @Flag(
    name: .customLong("allow-duplicate"),
    help:
      "Add it even if a connection of this purpose already covers the same bucket and prefix (a fetcher on each would store every event twice)."
  )
  var allowDuplicate = false
  @Option(name: .customLong("kms-key-arn"), help: "The KMS key the objects are encrypted with.")
  var kmsKeyARN: String?

  func run() async throws {
    var body: [(key: String, value: JSONValue)] = [
      ("purpose", .string(purpose)), ("bucket", .string(bucket)), ("region", .string(region)),
      ("roleArn", .string(roleARN)),
    ]
    if let prefix { body.append(("prefix", .string(prefix))) }
    if let bucketOwner { body.append(("bucketOwner", .string(bucketOwner))) }
    if let kmsKeyARN { body.append(("kmsKeyArn", .string(kmsKeyARN))) }
    if allowDuplicate { body.append(("allowDuplicate", .bool(true))) }
    let answer = try await server.postChecked(
      "/api/v1/connections", body: body,
      refused: "Ferry cannot use the role yet. Nothing was saved.")
    if server.json { return Output.json(answer) }
    print(
      Terminal.safe(
        "Connected: \(answer["id"]?.stringValue ?? "") (s3://\(bucket)/\(prefix ?? ""))"))
    if let check = answer["lastCheck"] { Output.check(check) }
  }
}

struct ConnectionList: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "List the account's connections.")
  @OptionGroup var server: ServerOptions

  func run() async throws {
    let answer = try await server.client().call(.GET, "/api/v1/connections")
    if server.json { return Output.json(answer) }
    let rows = answer["connections"]?.arrayValue ?? []
    if rows.isEmpty {
      print(
        "No connections yet. Create one: ferry connection create --bucket BUCKET --role-arn ARN")
      return
    }
    Output.listing(
      answer, "connections",
      [
        ("ID", "id"), ("PURPOSE", "purpose"), ("BUCKET", "bucket"), ("PREFIX", "prefix"),
        ("STATE", "state"), ("ROLE", "roleArn"),
      ])
  }
}

struct ConnectionShow: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "show", abstract: "Show one connection and its latest check.")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The connection's ID.") var id: String

  func run() async throws {
    let answer = try await server.client().call(
      .GET, "/api/v1/connections/\(Output.pathSegment(id))")
    if server.json { return Output.json(answer) }
    Output.table(
      ["id", "purpose", "bucket", "region", "prefix", "roleArn", "externalId", "state"].map {
        [$0, answer[$0]?.stringValue ?? ""]
      })
    if let check = answer["lastCheck"], check != .null { Output.check(check) }
  }
}

struct ConnectionCheck: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check", abstract: "Run a connection's checks now.",
    discussion: "Exit status 1 when a step fails.")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The connection's ID.") var id: String

  func run() async throws {
    let check = try await server.client().call(
      .POST, "/api/v1/connections/\(Output.pathSegment(id))/check")
    if server.json { Output.json(check) } else { Output.check(check) }
    if check["succeeded"]?.boolValue != true { throw ExitCode(ExitStatus.findings) }
  }
}

struct ConnectionDelete: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "delete",
    abstract:
      "Remove a connection (refused while a fetcher or archive uses it). The role in AWS stays.")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The connection's ID.") var id: String

  func run() async throws {
    try await server.client().call(.DELETE, "/api/v1/connections/\(Output.pathSegment(id))")
    if !server.json { print(Terminal.safe("Removed \(id).")) }
  }
}

extension ServerOptions {
  /// POSTs a request whose answer is a connection check: a failed check (422) prints the
  /// steps and the diagnosis (or the JSON) and exits 1; any other refusal is an error.
  func postChecked(
    _ path: String, body: [(key: String, value: JSONValue)], refused: String
  ) async throws -> JSONValue {
    let (status, answer) = try await client().send(.POST, path, body: .object(body))
    if status == 422 {
      if json {
        Output.json(answer)
      } else if let check = answer["check"] {
        print(refused)
        Output.check(check)
      }
      throw ExitCode(ExitStatus.findings)
    }
    guard (200..<300).contains(status) else {
      throw CLIError.server(
        status: status, APIClient.problemText(answer, status: status), problem: answer)
    }
    return answer
  }
}
