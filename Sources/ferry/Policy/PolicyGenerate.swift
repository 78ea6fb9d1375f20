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
    if accountID != nil && principalARN != nil {
      throw CLIError.usage(
        "--principal-arn: give either --account-id (the whole platform account) or --principal-arn (one role or user), not both"
      )
    }
    if format == .json {
      for (flag, value) in [
        ("--account-id", accountID), ("--principal-arn", principalARN),
        ("--external-id", externalID), ("--role-name", roleName),
      ] where value != nil {
        throw CLIError.usage(
          "\(flag): applies to --format cli and cloudformation only (they write the role and its trust policy); --format json prints just the permissions policy. Remove \(flag) or add --format cli"
        )
      }
    }
    let scope = try scope.scope()
    switch format {
    case .json:
      Terminal.print(PolicyGenerator.permissionsPolicy(for: scope).json())
    case .cli, .cloudformation:
      guard principalARN != nil || accountID != nil else {
        throw CLIError.usage(
          "--account-id: --format \(format.rawValue) writes the trust policy too, so it needs the platform's account ID (or --principal-arn). Add --account-id 123456789012"
        )
      }
      guard let externalID else {
        throw CLIError.usage(
          "--external-id: --format \(format.rawValue) writes the trust policy too, so it needs the tenant's external ID. Add --external-id ID (see the connection page)"
        )
      }
      let principal: PlatformPrincipal =
        principalARN.map(PlatformPrincipal.arn) ?? .account(accountID ?? "")
      let setup = try validated { () throws(InputError) in
        try RoleSetup(
          scope: scope, principal: principal, externalID: externalID, roleName: roleName)
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
    if accountID != nil && principalARN != nil {
      throw CLIError.usage(
        "--principal-arn: give either --account-id (the whole platform account) or --principal-arn (one role or user), not both"
      )
    }
    guard principalARN != nil || accountID != nil else {
      throw CLIError.usage(
        "--account-id: name who may assume the role. Add --account-id 123456789012 (or --principal-arn ARN)"
      )
    }
    let principal: PlatformPrincipal =
      principalARN.map(PlatformPrincipal.arn) ?? .account(accountID ?? "")
    let policy = try validated { () throws(InputError) in
      try PolicyGenerator.trustPolicy(principal: principal, externalID: externalID)
    }
    Terminal.print(policy.json())
  }
}
