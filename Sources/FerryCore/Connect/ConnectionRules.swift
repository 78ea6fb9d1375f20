import FerryPolicy
import Foundation

/// What a new connection must satisfy before Ferry tries it: a bucket name S3 accepts, a
/// region, a role ARN in another account than the platform's, an owner account of 12 digits
/// and a KMS key ARN. Each problem names the field and the fix.
public enum ConnectionRules {
  /// Why `roleARN` cannot be used (nil: it can): its shape, partition and account, and that
  /// it is not in the platform's own AWS account (Ferry never assumes its own roles for a
  /// tenant: that would let a tenant reach the platform's resources).
  public static func roleProblem(_ roleARN: String, platformAccount: String) -> InputError? {
    do {
      let arn = try ARN.parseRole(roleARN, field: "roleArn")
      if arn.account == platformAccount {
        return InputError(
          field: "roleArn",
          problem:
            "\(roleARN) is in Ferry's own AWS account (\(platformAccount)); Ferry assumes only roles in your account",
          fix: "Create the role in the AWS account that owns the bucket and paste that role's ARN.")
      }
      return nil
    } catch {
      return error
    }
  }

  /// The connection a request describes, or the first problem with it. The external ID is
  /// never taken from the request: it is the account's.
  public static func newConnection(
    purpose: String?, bucket: String?, region: String?, prefix: String?, roleARN: String?,
    bucketOwner: String?, kmsKeyARN: String?, account: Account, platformAccount: String
  ) throws(InputError) -> Connection {
    let (purpose, scope) = try Self.scope(
      purpose: purpose, bucket: bucket, prefix: prefix, kmsKeyARN: kmsKeyARN)
    let region = try Self.region(region)
    let roleARN = roleARN ?? ""
    if let problem = roleProblem(roleARN, platformAccount: platformAccount) { throw problem }
    var owner = bucketOwner ?? ""
    if !owner.isEmpty {
      owner = try AWSAccountID.parse(owner, field: "bucketOwner")
    }
    return Connection(
      accountID: account.id, purpose: purpose, bucket: scope.bucket, region: region,
      prefix: scope.prefix, roleARN: roleARN, externalID: account.externalID,
      usesLegacyExternalID: false, bucketOwner: owner, kmsKeyARN: scope.kmsKeyARN)
  }

  /// The purpose (default `fetcher`) and what the role must reach, with the API's field
  /// names in errors.
  public static func scope(
    purpose: String?, bucket: String?, prefix: String?, kmsKeyARN: String?,
    queueARN: String? = nil
  )
    throws(InputError) -> (ConnectionPurpose, AccessScope)
  {
    let text = purpose ?? "fetcher"
    guard let purpose = ConnectionPurpose(rawValue: text) else {
      throw InputError(
        field: "purpose", problem: "\"\(text)\" is not a purpose",
        fix: "Use fetcher (Ferry reads log files) or archive (Ferry writes archives).")
    }
    do {
      let scope = try AccessScope(
        purpose: purpose == .fetcher ? .fetcher : .archive, bucket: bucket, prefix: prefix,
        kmsKeyARN: kmsKeyARN?.isEmpty == true ? nil : kmsKeyARN,
        queueARN: queueARN?.isEmpty == true ? nil : queueARN)
      return (purpose, scope)
    } catch {
      throw error.named(apiField(error.field))
    }
  }

  /// A bucket's region as AWS names it.
  public static func region(_ text: String?) throws(InputError) -> String {
    let region = text ?? ""
    guard isRegion(region) else {
      throw InputError(
        field: "region", problem: "\"\(region)\" is not an AWS region",
        fix: "Give the bucket's region as AWS names it, e.g. us-east-1 or eu-west-2.")
    }
    return region
  }

  /// The API's name of a field the policy engine names as a CLI option.
  public static func apiField(_ field: String) -> String {
    switch field {
    case "kms-key", "kms-key-arn", "KMS key ARN": "kmsKeyArn"
    case "queue-arn": "queueArn"
    case "--bucket": "bucket"
    case "--prefix": "prefix"
    default: field.hasPrefix("--") ? String(field.dropFirst(2)) : field
    }
  }

  /// `xx-name-N` as AWS names regions (`us-east-1`, `ap-southeast-3`, `us-gov-west-1`).
  public static func isRegion(_ text: String) -> Bool {
    let parts = text.split(separator: "-", omittingEmptySubsequences: false)
    guard (3...4).contains(parts.count), let last = parts.last, !last.isEmpty,
      last.allSatisfy(\.isNumber)
    else { return false }
    return parts.dropLast().allSatisfy {
      !$0.isEmpty && $0.allSatisfy { $0.isLowercase && $0.isASCII }
    }
  }
}

/// The URL of an SQS queue, as `aws sqs get-queue-url` prints it:
/// `https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`. Ferry sends its SQS calls to the AWS
/// endpoint of the connection's region and names the queue by this URL, so the host is
/// not where Ferry connects; the path must name an account and a queue.
public enum QueueURL {
  public static func validate(_ text: String, field: String = "queueUrl") throws(InputError)
    -> String
  {
    let example = "https://sqs.us-east-1.amazonaws.com/123456789012/ferry-s3-events"
    guard let url = URL(string: text), let scheme = url.scheme?.lowercased(),
      scheme == "https" || scheme == "http", url.host?.isEmpty == false
    else {
      throw InputError(
        field: field, problem: "\"\(text)\" is not a queue URL",
        fix: "Give the queue's URL (aws sqs get-queue-url --queue-name NAME), e.g. \(example).")
    }
    let parts = url.path.split(separator: "/").map(String.init)
    guard parts.count == 2, parts[0].count == 12, parts[0].allSatisfy(\.isASCII),
      parts[0].allSatisfy(\.isNumber)
    else {
      throw InputError(
        field: field,
        problem:
          "\"\(text)\" does not end in /ACCOUNT/QUEUE (a 12-digit account, then the queue's name)",
        fix: "Give the queue's URL as SQS prints it, e.g. \(example).")
    }
    try QueueName.validate(parts[1], field: field)
    return text
  }
}
