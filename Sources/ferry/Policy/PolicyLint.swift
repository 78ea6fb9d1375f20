import ArgumentParser
import FerryPolicy

struct PolicyLint: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lint",
    abstract: "Find common mistakes in an IAM policy (permissions, trust or bucket policy).",
    discussion: """
      Exit code 0 when there is nothing worse than info, 1 when there are warnings or errors.
      With --purpose (and --bucket, --prefix, --kms-key), also reports Deny statements that
      cancel a permission Ferry needs.
      """
  )

  @Argument(help: "The policy document (JSON); - reads standard input.")
  var file: String

  @Option(
    help: "Also check Deny statements against what this purpose needs: fetcher, archive or metrics."
  )
  var purpose: String?

  @Option(help: "The S3 bucket, with --purpose.")
  var bucket: String?

  @Option(help: "The key prefix, with --purpose.")
  var prefix: String?

  @Option(name: .customLong("kms-key"), help: "The KMS key ARN, with --purpose.")
  var kmsKey: String?

  @Option(
    name: .customLong("external-id"),
    help:
      "The account's generated external ID: a trust policy that does not require exactly it is an error."
  )
  var externalID: String?

  @Flag(help: "Print JSON for machines.")
  var json = false

  func run() throws {
    if purpose == nil {
      for (flag, value) in [("--bucket", bucket), ("--prefix", prefix), ("--kms-key", kmsKey)]
      where value != nil {
        throw CLIError.usage(
          "\(flag): applies only with --purpose (to check Denies against what Ferry needs). Add --purpose fetcher, archive or metrics, or remove \(flag)"
        )
      }
    }
    let scope: AccessScope? = try purpose.map { purpose throws(CLIError) in
      try ScopeOptions.scope(purpose: purpose, bucket: bucket, prefix: prefix, kmsKey: kmsKey)
    }
    let document = try PolicyFile.load(file)
    let findings = PolicyLinter.lint(document, scope: scope, externalID: externalID)
    let name = file == "-" ? "<stdin>" : file
    if json {
      Terminal.print(
        JSONValue.object([
          ("file", .string(name)),
          (
            "findings",
            .array(
              findings.map { f in
                .object([
                  ("severity", .string(f.severity.rawValue)), ("rule", .string(f.rule)),
                  ("statement", f.statement.map(JSONValue.string) ?? .null),
                  ("message", .string(f.message)), ("fix", .string(f.fix)),
                ])
              })
          ),
        ]).serialized())
    } else if findings.isEmpty {
      Terminal.print("\(Terminal.safe(name)): no findings.")
    } else {
      Terminal.print(
        "\(Terminal.safe(name)): \(findings.count) finding\(findings.count == 1 ? "" : "s")")
      for f in findings.sorted(by: { $0.severity > $1.severity }) {
        Terminal.print(
          Terminal.safe(
            "  \(f.severity.rawValue) [\(f.rule)]\(f.statement.map { " statement \($0)" } ?? ""): \(f.message)"
          ))
        Terminal.print(Terminal.safe("    fix: \(f.fix)"))
      }
    }
    if findings.contains(where: { $0.severity >= .warning }) { throw ExitCode(ExitStatus.findings) }
  }
}
