import ArgumentParser
import FerryPolicy

struct PolicyCheck: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check",
    abstract: "Say which permissions Ferry needs that a policy grants, misses or denies.",
    discussion: "Exit code 0 when everything is granted, 1 when something is missing or denied."
  )

  @Argument(help: "The policy document (JSON); - reads standard input.")
  var file: String

  @OptionGroup var scope: ScopeOptions

  @Flag(help: "Print JSON for machines.")
  var json = false

  func run() throws {
    let scope = try scope.scope()
    let document = try PolicyFile.load(file)
    let result = PermissionCheck.check(
      [NamedPolicy(file == "-" ? "<stdin>" : file, document)], scope: scope)
    if json {
      Terminal.print(Self.json(result, scope: scope).serialized())
    } else {
      Terminal.print(Self.text(result, scope: scope))
    }
    if !result.allGranted { throw ExitCode(ExitStatus.findings) }
  }

  static func text(_ result: PermissionCheckResult, scope: AccessScope) -> String {
    let target =
      scope.purpose == .metrics
      ? "metric shipping" : "\(scope.purpose.rawValue) on \(scope.location)"
    var lines = [Terminal.safe("Permissions Ferry needs for \(target):")]
    var fixes: [Statement] = []
    for entry in result.entries {
      let p = entry.permission
      switch entry.status {
      case .granted(let by):
        lines.append(
          Terminal.safe(
            "  granted  \(p.action) on \(p.resource) (by \(by.map(\.description).joined(separator: ", ")))"
          )
        )
      case .missing:
        lines.append(
          Terminal.safe("  MISSING  \(p.action) on \(p.resource): needed to \(p.reason)"))
        if let fix = entry.fix { fixes.append(fix) }
      case .denied(let by):
        lines.append(
          Terminal.safe(
            "  DENIED   \(p.action) on \(p.resource): needed to \(p.reason); denied by \(by.map(\.description).joined(separator: ", "))"
          )
        )
      }
    }
    let missing = result.entries.filter { if case .granted = $0.status { false } else { true } }
      .count
    lines.append(
      missing == 0
        ? "All \(result.entries.count) permissions granted."
        : "\(missing) of \(result.entries.count) permissions not granted.")
    if !fixes.isEmpty {
      lines.append("Add \(fixes.count == 1 ? "this statement" : "these statements") to the policy:")
      lines.append(JSONValue.array(fixes.map(\.json)).serialized())
    }
    if result.entries.contains(where: { if case .denied = $0.status { true } else { false } }) {
      lines.append(
        "Narrow or remove the Deny statements named above: an explicit Deny cannot be overridden by an Allow."
      )
    }
    return lines.joined(separator: "\n")
  }

  static func json(_ result: PermissionCheckResult, scope: AccessScope) -> JSONValue {
    .object([
      ("purpose", .string(scope.purpose.rawValue)),
      ("allGranted", .bool(result.allGranted)),
      (
        "permissions",
        .array(
          result.entries.map { entry in
            var pairs: [(key: String, value: JSONValue)] = [
              ("action", .string(entry.permission.action)),
              ("resource", .string(entry.permission.resource)),
              ("reason", .string(entry.permission.reason)),
            ]
            switch entry.status {
            case .granted(let by):
              pairs.append(("status", .string("granted")))
              pairs.append(("statements", .array(by.map { .string($0.description) })))
            case .missing:
              pairs.append(("status", .string("missing")))
              if let fix = entry.fix { pairs.append(("fix", fix.json)) }
            case .denied(let by):
              pairs.append(("status", .string("denied")))
              pairs.append(("statements", .array(by.map { .string($0.description) })))
            }
            return .object(pairs)
          })
      ),
    ])
  }
}
