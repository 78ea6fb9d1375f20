import ArgumentParser
import FerryPolicy

/// `ferry policy`: write and check the IAM policies of the roles Ferry assumes.
struct PolicyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "policy",
    abstract: "Write and check the IAM policies of the roles Ferry assumes.",
    subcommands: [
      PolicyGenerate.self, PolicyTrust.self, PolicyCheck.self, PolicyLint.self,
      PolicySimulate.self,
    ]
  )
}

/// Options naming what a role is for, shared by `generate` and `check`.
struct ScopeOptions: ParsableArguments {
  @Option(help: "What the role is for: fetcher, archive or metrics.")
  var purpose: String

  @Option(help: "The S3 bucket (not needed for metrics).")
  var bucket: String?

  @Option(help: "Limit access to keys under this prefix, e.g. logs/app/.")
  var prefix: String?

  @Option(
    name: .customLong("kms-key"), help: "ARN of the KMS key that encrypts the objects (SSE-KMS).")
  var kmsKey: String?

  @Option(
    name: .customLong("queue-arn"),
    help:
      "ARN of the SQS queue that receives the bucket's S3 event notifications (fetchers that discover objects from them)."
  )
  var queueARN: String?

  /// The validated scope; notes on how the prefix is read go to standard error.
  func scope() throws(CLIError) -> AccessScope {
    try Self.scope(
      purpose: purpose, bucket: bucket, prefix: prefix, kmsKey: kmsKey, queueARN: queueARN)
  }

  static func scope(
    purpose: String, bucket: String?, prefix: String?, kmsKey: String?, queueARN: String? = nil
  )
    throws(CLIError) -> AccessScope
  {
    let scope = try validated { () throws(InputError) in
      try AccessScope(
        purpose: Purpose.parse(purpose), bucket: bucket, prefix: prefix, kmsKeyARN: kmsKey,
        queueARN: queueARN)
    }
    for note in KeyPrefix.notes(for: prefix) { Terminal.note(note) }
    return scope
  }
}
