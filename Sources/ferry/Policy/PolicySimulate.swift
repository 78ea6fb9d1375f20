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
      The evaluation follows AWS's logic: a trust or bucket policy that names a whole
      account (arn:aws:iam::ACCOUNT:root) delegates to that account, so the caller's own
      policies must allow too (give them with --identity-policy); so must both sides of a
      cross-account request. KMS keys need their key policy to allow (--resource-policy):
      an identity policy alone is never enough.
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

  @Option(
    name: .customLong("identity-policy"),
    help: "An identity policy of the caller (JSON file); repeat for more.")
  var identityPolicyFiles: [String] = []

  @Option(
    name: .customLong("resource-policy"),
    help: "The resource's policy (bucket, key or trust policy) when FILE is an identity policy.")
  var resourcePolicyFile: String?

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
    if isResourcePolicy && resourcePolicyFile != nil {
      throw CLIError.usage(
        "--resource-policy: \(name) is already a resource policy (it names principals); give the caller's policies with --identity-policy instead"
      )
    }
    let request = AuthorizationRequest(
      action: action, resource: resource, principal: principal, context: context)
    let policy = NamedPolicy(name, document)
    var identity = try identityPolicyFiles.map { file throws(CLIError) in
      NamedPolicy(file, try PolicyFile.load(file))
    }
    var resourcePolicy: NamedPolicy?
    if isResourcePolicy {
      resourcePolicy = policy
    } else {
      identity.insert(policy, at: 0)
      if let file = resourcePolicyFile {
        resourcePolicy = NamedPolicy(file, try PolicyFile.load(file))
      }
    }
    let result = PolicyEvaluator.evaluate(
      identityPolicies: identity, resourcePolicy: resourcePolicy, request: request)
    if json {
      var pairs: [(key: String, value: JSONValue)] = [
        ("decision", .string(result.decision.rawValue)),
        ("statements", .array(result.decidingStatements.map { .string($0.description) })),
      ]
      if let note = result.note { pairs.append(("note", .string(note))) }
      Terminal.print(JSONValue.object(pairs).serialized())
    } else {
      let by = result.decidingStatements.map(\.description).joined(separator: ", ")
      let line: String
      switch result.decision {
      case .allow: line = "Allow: \(action) on \(resource), by \(by)."
      case .explicitDeny: line = "ExplicitDeny: \(action) on \(resource) is denied by \(by)."
      case .implicitDeny:
        line =
          result.note.map { "ImplicitDeny: \(action) on \(resource): \($0)" }
          ?? "ImplicitDeny: no statement allows \(action) on \(resource) with this context."
      }
      Terminal.print(Terminal.safe(line))
    }
    if result.decision != .allow { throw ExitCode(ExitStatus.findings) }
  }
}
