import ArgumentParser
import FerryPolicy

struct PolicyGenerate: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "generate",
    abstract: "Write the least-privilege permissions policy for a role, or a ready-to-run set-up.",
    discussion: """
      --format json prints the permissions policy to attach to the role.
      --format cli prints a bash script of AWS CLI commands that creates the role;
      --format cloudformation prints a CloudFormation template that does the same.
      Both need the trust policy's principal (--account-id or --principal-arn) and
      the tenant's --external-id.
      """
  )

  enum Format: String, ExpressibleByArgument, CaseIterable {
    case json, cli, cloudformation
  }

  @OptionGroup var scope: ScopeOptions

  @Option(
    help: "Output: json (the policy), cli (AWS CLI script) or cloudformation (YAML template).")
  var format: Format = .json

  @Option(
    name: .customLong("account-id"),
    help: "The platform's 12-digit AWS account ID (for cli and cloudformation).")
  var accountID: String?

  @Option(
    name: .customLong("principal-arn"),
    help: "The exact role or user ARN Ferry runs as, instead of the account root.")
  var principalARN: String?

  @Option(
    name: .customLong("external-id"), help: "The tenant's external ID (for cli and cloudformation)."
  )
  var externalID: String?

  @Option(
    name: .customLong("role-name"),
    help: "Name of the role to create (default: ferry-s3-fetcher, ferry-archive or ferry-metrics).")
  var roleName: String?

  func run() throws {
    let scope = try scope.scope()
    switch format {
    case .json:
      Terminal.print(PolicyGenerator.permissionsPolicy(for: scope).json())
    case .cli, .cloudformation:
      guard let principal = principalARN ?? accountID else {
        throw CLIError.usage(
          "--account-id: --format \(format.rawValue) writes the trust policy too, so it needs the platform's account ID (or --principal-arn). Add --account-id 123456789012"
        )
      }
      guard let externalID else {
        throw CLIError.usage(
          "--external-id: --format \(format.rawValue) writes the trust policy too, so it needs the tenant's external ID. Add --external-id ID (see the connection page)"
        )
      }
      let setup = try validated { () throws(InputError) in
        try RoleSetup(
          scope: scope, platformPrincipal: principal, externalID: externalID, roleName: roleName)
      }
      Swift.print(
        format == .cli ? setup.awsCLIScript : setup.cloudFormationTemplate, terminator: "")
    }
  }
}

struct PolicyTrust: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "trust",
    abstract:
      "Write the trust policy that lets Ferry assume a role only with the tenant's external ID."
  )

  @Option(name: .customLong("account-id"), help: "The platform's 12-digit AWS account ID.")
  var accountID: String?

  @Option(
    name: .customLong("principal-arn"),
    help: "The exact role or user ARN Ferry runs as, instead of the account root.")
  var principalARN: String?

  @Option(name: .customLong("external-id"), help: "The tenant's external ID.")
  var externalID: String

  func run() throws {
    guard let principal = principalARN ?? accountID else {
      throw CLIError.usage(
        "--account-id: name who may assume the role. Add --account-id 123456789012 (or --principal-arn ARN)"
      )
    }
    let policy = try validated { () throws(InputError) in
      try PolicyGenerator.trustPolicy(platformPrincipal: principal, externalID: externalID)
    }
    Terminal.print(policy.json())
  }
}
