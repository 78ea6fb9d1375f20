import FerryCore
import Foundation

/// An emulator of its own with IAM enforcement on, with Ferry's platform user (allowed to
/// assume roles) and a customer administrator who creates buckets and roles. moto checks
/// signatures, identity, bucket and trust policies once enforcement is on, but it checks a
/// trust policy only when the role is in the caller's own emulator account (measured with
/// moto 5: a role in another account is assumed whatever its trust policy says). So both
/// users live in the emulator's account 123456789012, and Ferry is told that its platform
/// account is ``platformAccountID`` (another one), as an operator can with
/// `--platform-account-id`: the customer's roles are then in "another account" for Ferry,
/// and moto enforces their trust policies. What moto does not check even then is in
/// DESIGN.md's test-bed facts.
public struct EnforcedAWS: Sendable {
  public let emulator: AWSEmulator
  public let platformAccessKey: String
  public let platformSecretKey: String
  public let platformUserARN = "arn:aws:iam::123456789012:user/ferry-platform"
  /// The platform account Ferry is configured with (`--platform-account-id`).
  public let platformAccountID = "999900001111"
  /// Where the customer's buckets and roles are.
  public let customerAccount = "123456789012"
  let customerAccessKey: String
  let customerSecretKey: String

  public static func start() throws -> EnforcedAWS {
    let emulator = try AWSEmulator.start()
    func must(_ output: Subprocess.Output, _ what: String) throws -> Subprocess.Output {
      guard output.status == 0 else { throw TestSetupError("\(what): \(output.stderr)") }
      return output
    }
    func key(_ output: Subprocess.Output) throws -> (String, String) {
      guard
        let json = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8))
          as? [String: Any],
        let key = json["AccessKey"] as? [String: Any], let id = key["AccessKeyId"] as? String,
        let secret = key["SecretAccessKey"] as? String
      else { throw TestSetupError("create-access-key answered \(output.stdout)") }
      return (id, secret)
    }
    func user(_ name: String, policy: String) throws -> (String, String) {
      _ = try must(emulator.aws(["iam", "create-user", "--user-name", name]), "user \(name)")
      _ = try must(
        emulator.aws([
          "iam", "put-user-policy", "--user-name", name, "--policy-name", "main",
          "--policy-document", policy,
        ]), "policy of \(name)")
      return try key(
        must(
          emulator.aws(["iam", "create-access-key", "--user-name", name, "--output", "json"]),
          "key of \(name)"))
    }
    let platform = try user(
      "ferry-platform",
      policy:
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","sts:GetCallerIdentity"],"Resource":"*"}]}"#
    )
    let customer = try user(
      "customer-admin",
      policy:
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
    )
    _ = try must(
      Subprocess.run(
        "curl",
        [
          "-sf", "-X", "POST", "-H", "Content-Type: text/plain", "--data", "0",
          emulator.url.absoluteString + "/moto-api/reset-auth",
        ]), "reset-auth")
    return EnforcedAWS(
      emulator: emulator, platformAccessKey: platform.0, platformSecretKey: platform.1,
      customerAccessKey: customer.0, customerSecretKey: customer.1)
  }

  /// Environment for the AWS CLI as the customer's administrator.
  public var customerEnvironment: [String: String] {
    emulator.cliEnvironment(accessKey: customerAccessKey, secret: customerSecretKey)
  }

  /// Runs the AWS CLI as the customer's administrator.
  public func customer(_ arguments: [String]) throws -> Subprocess.Output {
    try Subprocess.run("aws", arguments, environment: customerEnvironment)
  }

  /// Environment that makes Ferry run as the platform user against the emulator.
  public var platformEnvironment: [String: String] {
    [
      "AWS_ACCESS_KEY_ID": platformAccessKey, "AWS_SECRET_ACCESS_KEY": platformSecretKey,
      "AWS_SESSION_TOKEN": "", "AWS_CONFIG_FILE": "/dev/null",
      "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_EC2_METADATA_DISABLED": "true",
      "AWS_REGION": "us-east-1",
    ]
  }

  public func stop() { emulator.stop() }

  /// Switches IAM enforcement off (moto's `reset-auth` with a count no test reaches), for a
  /// test whose S3 keys moto cannot verify when it enforces: with enforcement on, moto
  /// answers `SignatureDoesNotMatch` to any request whose key has `=` or `:` (boto3 and
  /// the AWS CLI included; real S3 accepts them), and Hive-style partitions are all `=`.
  /// Likewise a ListObjectsV2 whose `start-after` holds `/` (encoded `%2F`, as SigV4 says):
  /// refused with enforcement on, answered with it off.
  /// Roles, trust policies and external IDs set up before still exist; they are no longer
  /// checked.
  /// Switches IAM enforcement on again (`reset-auth` with 0), after
  /// ``disableEnforcement()``: for the calls of a test that has no key with `=`.
  public func enableEnforcement() throws {
    let out = try Subprocess.run(
      "curl",
      [
        "-sf", "-X", "POST", "-H", "Content-Type: text/plain", "--data", "0",
        emulator.url.absoluteString + "/moto-api/reset-auth",
      ])
    guard out.status == 0 else { throw TestSetupError("reset-auth: \(out.stderr)") }
  }

  public func disableEnforcement() throws {
    let out = try Subprocess.run(
      "curl",
      [
        "-sf", "-X", "POST", "-H", "Content-Type: text/plain", "--data", "1000000000",
        emulator.url.absoluteString + "/moto-api/reset-auth",
      ])
    guard out.status == 0 else { throw TestSetupError("reset-auth: \(out.stderr)") }
  }
}

extension EnforcedAWS {
  /// ``customer(_:)`` off the cooperative threads, for async tests.
  public func customerOffPool(_ arguments: [String]) async throws -> Subprocess.Output {
    try await OffPool.run { try self.customer(arguments) }
  }
}
