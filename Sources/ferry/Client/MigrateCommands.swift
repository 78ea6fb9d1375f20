import ArgumentParser
import FerryPolicy
import Foundation

/// `ferry migrate`: move configurations off legacy, customer-chosen external IDs.
struct MigrateCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "migrate",
    abstract: "Move configurations on a legacy external ID to your account's generated one.",
    discussion: """
      In order: inventory (the roles in use), plan (per role, which procedure and every \
      step, with policies, AWS CLI commands and CloudFormation changes), apply (Ferry checks \
      the role with the generated ID, then switches every configuration on it in one step), \
      status (confirms the legacy ID is refused and lists every configuration that fails, \
      with its fix). Admins only.
      """,
    subcommands: [
      MigrateInventory.self, MigratePlan.self, MigrateApply.self, MigrateStatus.self,
    ])
}

extension Output {
  /// Several lines that came from the server, each made safe, indented.
  static func lines(_ text: String, indent: String = "    ") {
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      print(Terminal.safe(indent + line))
    }
  }

  static func configurations(_ value: JSONValue?) -> String {
    let names = (value?.arrayValue ?? []).map {
      "\($0["kind"]?.stringValue ?? "") \"\($0["name"]?.stringValue ?? "")\""
    }
    return names.isEmpty ? "no fetcher or archive" : names.joined(separator: ", ")
  }

  static func migrationStep(_ step: JSONValue, number: Int) {
    let who = step["actor"]?.stringValue == "customer" ? "in AWS" : "in Ferry"
    print(Terminal.safe("  \(number). \(step["title"]?.stringValue ?? "") (\(who))"))
    lines(step["detail"]?.stringValue ?? "", indent: "     ")
    if let command = step["ferryCommand"]?.stringValue {
      print(Terminal.safe("     Run: \(command)"))
    }
    if let cli = step["awsCli"]?.stringValue {
      print("     AWS CLI:")
      lines(cli, indent: "       ")
    }
    if let cfn = step["cloudFormation"]?.stringValue {
      print("     CloudFormation:")
      lines(cfn, indent: "       ")
    }
  }
}

struct MigrateInventory: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "inventory",
    abstract: "List every role the account uses, its configurations and their external IDs.")
  @OptionGroup var server: ServerOptions

  func run() async throws {
    let answer = try await server.client().call(.GET, "/api/v1/migration/inventory")
    if server.json { return Output.json(answer) }
    let roles = answer["roles"]?.arrayValue ?? []
    if roles.isEmpty {
      print("No connections yet: nothing uses a role.")
      return
    }
    for role in roles {
      let accounts = role["accountsUsingRole"]?.intValue ?? 1
      let flag = role["needsMigration"]?.boolValue == true ? "  [legacy external ID]" : ""
      print(Terminal.safe("\(role["roleArn"]?.stringValue ?? "")\(flag)"))
      print(
        "  used by \(accounts) Ferry account\(accounts == 1 ? "" : "s")\(accounts > 1 ? " (this one and others)" : "")"
      )
      for c in role["connections"]?.arrayValue ?? [] {
        let legacy = c["legacyExternalId"]?.boolValue == true ? "legacy" : "generated"
        print(
          Terminal.safe(
            "  \(c["id"]?.stringValue ?? "") \(c["purpose"]?.stringValue ?? "") s3://\(c["bucket"]?.stringValue ?? "")/\(c["prefix"]?.stringValue ?? "")  external ID \(c["externalId"]?.stringValue ?? "") (\(legacy))"
          ))
      }
      print(Terminal.safe("  configurations: \(Output.configurations(role["configurations"]))"))
    }
  }
}

struct MigratePlan: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "plan",
    abstract: "Show, per role on a legacy external ID, the procedure that applies and each step.")
  @OptionGroup var server: ServerOptions
  @Option(name: .customLong("role"), help: "Only this role's plan (its ARN).") var role: String?

  func run() async throws {
    var path = "/api/v1/migration/plan"
    if let role {
      path += "?role=" + (role.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
    }
    let answer = try await server.client().call(.GET, path)
    if server.json { return Output.json(answer) }
    let plans = answer["plans"]?.arrayValue ?? []
    if plans.isEmpty {
      print(
        role == nil
          ? "Nothing to migrate: every configuration uses the account's generated external ID."
          : "Nothing to migrate on that role.")
      return
    }
    for (index, plan) in plans.enumerated() {
      if index > 0 { print("") }
      print(Terminal.safe("Role \(plan["roleArn"]?.stringValue ?? "")"))
      print(Terminal.safe("Procedure: \(plan["procedure"]?.stringValue ?? "")"))
      Output.lines("Why: " + (plan["reason"]?.stringValue ?? ""), indent: "")
      for (n, step) in (plan["steps"]?.arrayValue ?? []).enumerated() {
        Output.migrationStep(step, number: n + 1)
      }
    }
  }
}

struct MigrateApply: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "apply",
    abstract:
      "Check a role with the generated external ID, then switch every configuration on it in one step.",
    discussion: """
      Fetchers keep their position and archives their watermark: nothing is fetched twice \
      or skipped. If a check fails, nothing changes (exit status 1, with the step, the \
      cause and the fix).
      """)
  @OptionGroup var server: ServerOptions
  @Option(name: .customLong("role"), help: "The ARN of the role the configurations use now.")
  var role: String
  @Option(
    name: .customLong("new-role-arn"),
    help: "The account's own new role, when the old one is shared with other accounts.")
  var newRoleARN: String?

  func run() async throws {
    var body: [(key: String, value: JSONValue)] = [("roleArn", .string(role))]
    if let newRoleARN { body.append(("newRoleArn", .string(newRoleARN))) }
    let (status, answer) = try await server.client().send(
      .POST, "/api/v1/migration/apply", body: .object(body))
    if status == 422 {
      if server.json {
        Output.json(answer)
      } else {
        print(
          Terminal.safe(
            "\(answer["title"]?.stringValue ?? "The migration failed"). Nothing was switched."))
        Output.lines("Cause: " + (answer["detail"]?.stringValue ?? ""), indent: "")
        if let check = answer["check"], check != .null { Output.check(check) }
        Output.lines("Fix: " + (answer["fix"]?.stringValue ?? ""), indent: "")
      }
      throw ExitCode(ExitStatus.findings)
    }
    guard (200..<300).contains(status) else {
      throw CLIError.server(
        status: status, APIClient.problemText(answer, status: status), problem: answer)
    }
    if server.json { return Output.json(answer) }
    let migration = answer["migration"]
    let switched = migration?["switches"]?.arrayValue ?? []
    print(
      Terminal.safe(
        "Switched \(switched.count) configuration\(switched.count == 1 ? "" : "s") to \(migration?["newRoleArn"]?.stringValue ?? "") with the generated external ID (\(migration?["id"]?.stringValue ?? ""))."
      ))
    let next = answer["nextSteps"]?.arrayValue ?? []
    if next.isEmpty { return }
    print("Still to do:")
    for (n, step) in next.enumerated() { Output.migrationStep(step, number: n + 1) }
  }
}

struct MigrateStatus: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status",
    abstract:
      "Check every configuration now; list the migrations, what is left, and every configuration that fails.",
    discussion: "Exit status 1 when a configuration fails.")
  @OptionGroup var server: ServerOptions

  func run() async throws {
    let answer = try await server.client().call(.POST, "/api/v1/migration/check")
    let broken = answer["broken"]?.arrayValue ?? []
    if server.json {
      Output.json(answer)
    } else {
      for entry in answer["migrations"]?.arrayValue ?? [] {
        let m = entry["migration"]
        print(
          Terminal.safe(
            "\(m?["id"]?.stringValue ?? "") \(m?["procedure"]?.stringValue ?? "") \(m?["roleArn"]?.stringValue ?? ""): \(m?["state"]?.stringValue ?? "")"
          ))
        Output.lines(entry["note"]?.stringValue ?? "", indent: "  ")
        if let step = entry["nextStep"], step != .null { Output.migrationStep(step, number: 1) }
      }
      for plan in answer["pending"]?.arrayValue ?? [] {
        print(
          Terminal.safe(
            "Not migrated yet: \(plan["roleArn"]?.stringValue ?? "") (ferry migrate plan --role \(plan["roleArn"]?.stringValue ?? ""))"
          ))
      }
      let checked = answer["checked"]?.intValue ?? 0
      if broken.isEmpty {
        print("All \(checked) configuration\(checked == 1 ? "" : "s") work.")
      } else {
        print("\(broken.count) of \(checked) configurations fail:")
        for b in broken {
          let c = b["connection"]
          print(
            Terminal.safe(
              "  \(c?["id"]?.stringValue ?? "") s3://\(c?["bucket"]?.stringValue ?? "")/\(c?["prefix"]?.stringValue ?? "") through \(c?["roleArn"]?.stringValue ?? "") (\(Output.configurations(b["configurations"])))"
            ))
          Output.lines(
            "Cause: " + (b["diagnosis"]?["cause"]?.stringValue ?? ""), indent: "    ")
          Output.lines("Fix: " + (b["fix"]?.stringValue ?? ""), indent: "    ")
        }
      }
    }
    if !broken.isEmpty { throw ExitCode(ExitStatus.findings) }
  }
}
