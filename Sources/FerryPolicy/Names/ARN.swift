/// An Amazon Resource Name: `arn:partition:service:region:account-id:resource`.
public struct ARN: Sendable, Hashable, CustomStringConvertible {
  public var partition: String
  public var service: String
  public var region: String
  public var account: String
  /// Everything after the fifth colon (`role/name`, `bucket/key`, `key/1234…`).
  public var resource: String

  public init(
    partition: String = "aws", service: String, region: String = "", account: String = "",
    resource: String
  ) {
    self.partition = partition
    self.service = service
    self.region = region
    self.account = account
    self.resource = resource
  }

  public var description: String { "arn:\(partition):\(service):\(region):\(account):\(resource)" }

  static let partitions: Set<String> = [
    "aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc",
  ]

  /// Parses an ARN, checking its shape (not that the resource exists).
  /// - Parameter example: an ARN of the kind expected, for the fix in errors.
  public static func parse(
    _ text: String, field: String = "ARN",
    example: String = "arn:aws:iam::123456789012:role/NAME"
  ) throws(InputError) -> ARN {
    let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
    guard parts.count == 6, parts[0] == "arn" else {
      throw InputError(
        field: field, problem: "\"\(text)\" is not an ARN",
        fix: "An ARN looks like \(example); copy it from the AWS console.")
    }
    let arn = ARN(
      partition: String(parts[1]), service: String(parts[2]), region: String(parts[3]),
      account: String(parts[4]), resource: String(parts[5]))
    guard partitions.contains(arn.partition) else {
      throw InputError(
        field: field, problem: "\"\(arn.partition)\" is not an AWS partition in \"\(text)\"",
        fix: "Use aws (or aws-cn, aws-us-gov) after \"arn:\".")
    }
    guard !arn.service.isEmpty, !arn.resource.isEmpty else {
      throw InputError(
        field: field, problem: "\"\(text)\" has no service or no resource",
        fix: "An ARN looks like arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE.")
    }
    if !arn.account.isEmpty, arn.account != "aws" {
      do throws(InputError) {
        _ = try AWSAccountID.parse(arn.account, field: field)
      } catch {
        throw InputError(
          field: field, problem: "the account \"\(arn.account)\" in \"\(text)\" is not 12 digits",
          fix: error.fix)
      }
    }
    return arn
  }

  /// Parses an IAM role ARN (`arn:aws:iam::ACCOUNT:role/PATH/NAME`).
  public static func parseRole(_ text: String, field: String = "role ARN") throws(InputError) -> ARN
  {
    let arn = try parse(text, field: field)
    guard arn.service == "iam", arn.resource.hasPrefix("role/"), !arn.account.isEmpty else {
      throw InputError(
        field: field, problem: "\"\(text)\" is not an IAM role ARN",
        fix: "Paste the role's ARN from its IAM summary page: arn:aws:iam::123456789012:role/NAME.")
    }
    try IAMName.validateRoleName(
      arn.resource.split(separator: "/").last.map(String.init) ?? "", field: field)
    return arn
  }

  static let queueExample = "arn:aws:sqs:us-east-1:123456789012:ferry-s3-events"

  /// Parses an SQS queue ARN (`arn:aws:sqs:REGION:ACCOUNT:NAME`): a name of 1 to 80
  /// letters, digits, `-` and `_` (a FIFO queue's ends in `.fifo`, and S3 cannot notify
  /// one, so it is refused).
  public static func parseQueue(_ text: String, field: String = "queue ARN") throws(InputError)
    -> ARN
  {
    let arn = try parse(text, field: field, example: queueExample)
    guard arn.service == "sqs", !arn.region.isEmpty, !arn.account.isEmpty else {
      throw InputError(
        field: field, problem: "\"\(text)\" is not an SQS queue ARN",
        fix:
          "Use the queue's ARN (aws sqs get-queue-attributes --queue-url URL --attribute-names QueueArn), e.g. \(queueExample)."
      )
    }
    try QueueName.validate(arn.resource, field: field)
    return arn
  }

  static let kmsKeyExample =
    "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

  /// Parses a KMS key ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID`). Alias ARNs are refused:
  /// AWS authorizes KMS calls against the key's ARN, so a policy that names an alias grants
  /// nothing.
  public static func parseKMSKey(_ text: String, field: String = "KMS key ARN") throws(InputError)
    -> ARN
  {
    let arn = try parse(text, field: field, example: kmsKeyExample)
    if arn.service == "kms", arn.resource.hasPrefix("alias/") {
      throw InputError(
        field: field,
        problem:
          "\"\(text)\" is an alias ARN, but AWS authorizes KMS use by the key's ARN, so a policy that names the alias grants nothing",
        fix:
          "Use the key's ARN (aws kms describe-key --key-id \(arn.resource) --query KeyMetadata.Arn), e.g. \(kmsKeyExample)."
      )
    }
    guard arn.service == "kms", !arn.region.isEmpty, !arn.account.isEmpty,
      arn.resource.hasPrefix("key/"), arn.resource.count > 4
    else {
      throw InputError(
        field: field, problem: "\"\(text)\" is not a KMS key ARN",
        fix: "Use the key's full ARN, e.g. \(kmsKeyExample).")
    }
    return arn
  }
}

/// SQS queue names as S3 event notifications can target them.
public enum QueueName {
  public static func validate(_ name: String, field: String = "queue") throws(InputError) {
    if name.hasSuffix(".fifo") {
      throw InputError(
        field: field,
        problem: "\"\(name)\" is a FIFO queue, and S3 cannot send event notifications to one",
        fix: "Create a standard queue for the bucket's notifications.")
    }
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
    guard (1...80).contains(name.count), name.allSatisfy({ allowed.contains($0) }) else {
      throw InputError(
        field: field, problem: "\"\(name)\" is not an SQS queue name",
        fix: "A queue's name has 1 to 80 letters, digits, hyphens and underscores.")
    }
  }
}
