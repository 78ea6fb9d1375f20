import ArgumentParser
import FerryPolicy

struct PolicySimulate: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "simulate",
    abstract: "Evaluate one request against a policy: Allow, explicit Deny or implicit deny.",
    discussion: """
      A policy with Principal elements (a trust or bucket policy) is evaluated as a
      resource policy and needs --principal, the caller's ARN. For a trust policy use
      --action sts:AssumeRole --resource ROLE_ARN --context sts:ExternalId=ID.
      Exit code 0 when allowed, 1 when denied.
      """
  )

  @Argument(help: "The policy document (JSON); - reads standard input.")
  var file: String

  @Option(help: "The action, e.g. s3:GetObject.")
  var action: String

  @Option(help: "The resource ARN, e.g. arn:aws:s3:::my-logs/app/1.log.")
  var resource: String

  @Option(help: "The caller's ARN (for trust and bucket policies).")
  var principal: String?

  @Option(
    name: .customLong("context"),
    help: "A condition key and value, key=value; repeat for more keys or values.")
  var contextPairs: [String] = []

  @Flag(help: "Print JSON for machines.")
  var json = false

  func run() throws {
    var context = RequestContext()
    for pair in contextPairs {
      guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
        throw CLIError.usage(
          "--context: \"\(pair)\" is not key=value. Write e.g. --context aws:SourceIp=203.0.113.7")
      }
      context.add(String(pair[..<eq]), String(pair[pair.index(after: eq)...]))
    }
    guard action == "*" || action.split(separator: ":").count == 2 else {
      throw CLIError.usage(
        "--action: \"\(action)\" is not an action. Write service:Action, e.g. s3:GetObject")
    }
    let document = try PolicyFile.load(file)
    let name = file == "-" ? "<stdin>" : file
    let isResourcePolicy = document.statements.contains {
      $0.principal != nil || $0.notPrincipal != nil
    }
    if isResourcePolicy && principal == nil {
      throw CLIError.usage(
        "--principal: \(name) names principals (a trust or bucket policy), so the caller matters. Add --principal ARN, e.g. arn:aws:iam::123456789012:role/ferry"
      )
    }
    let request = AuthorizationRequest(
      action: action, resource: resource, principal: principal, context: context)
    let policy = NamedPolicy(name, document)
    let result =
      isResourcePolicy
      ? PolicyEvaluator.evaluate(identityPolicies: [], resourcePolicy: policy, request: request)
      : PolicyEvaluator.evaluate(identityPolicies: [policy], request: request)
    if json {
      Terminal.print(
        JSONValue.object([
          ("decision", .string(result.decision.rawValue)),
          ("statements", .array(result.decidingStatements.map { .string($0.description) })),
        ]).serialized())
    } else {
      let by = result.decidingStatements.map(\.description).joined(separator: ", ")
      switch result.decision {
      case .allow: Terminal.print("Allow: \(action) on \(resource), by \(by).")
      case .explicitDeny:
        Terminal.print("ExplicitDeny: \(action) on \(resource) is denied by \(by).")
      case .implicitDeny:
        Terminal.print(
          "ImplicitDeny: no statement allows \(action) on \(resource) with this context.")
      }
    }
    if result.decision != .allow { throw ExitCode(ExitStatus.findings) }
  }
}
