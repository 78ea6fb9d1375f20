import FerryPolicy
import Foundation

/// Proves that a connection works, one step at a time, as Ferry will use it: assume the
/// customer's role with the owning account's external ID, check that the role refuses any
/// other ID, list the prefix, read a sample object (decrypting it when it uses SSE-KMS),
/// and for archives write, read back and delete a probe object. Stops at the first failed
/// step with a ``Diagnosis``.
public struct ConnectionVerifier: Sendable {
  let aws: any RoleAssumer
  /// Who Ferry runs as, for the trust policy in fixes.
  let platform: PlatformIdentity

  public init(aws: any RoleAssumer, platform: PlatformIdentity) {
    self.aws = aws
    self.platform = platform
  }

  /// The key of the probe object an archive check writes and deletes, under the prefix.
  public static let probeKeyName = ".ferry-connect-check"

  /// Checks `connection`, which belongs to `account`. The external ID is the connection's,
  /// which the store keeps equal to the account's generated ID unless it is a legacy import.
  /// `onStep` hears each step as soon as its result is known (the web UI shows them live).
  public func verify(
    _ connection: Connection, account: Account,
    onStep: @Sendable (CheckStep) -> Void = { _ in }
  ) async -> ConnectionCheck {
    var steps: [CheckStep] = []
    func record(_ step: CheckStep) {
      steps.append(step)
      onStep(step)
    }
    let rules = DiagnosisRules(connection: connection, platform: platform)
    func finish(_ diagnosis: Diagnosis?) -> ConnectionCheck {
      let ran = Set(steps.map(\.name))
      for name in applicableSteps(connection) where !ran.contains(name) {
        record(
          CheckStep(name: name, status: .skipped, detail: "not run: an earlier step failed"))
      }
      return ConnectionCheck(connectionID: connection.id, steps: steps, diagnosis: diagnosis)
    }
    func fail(_ diagnosis: Diagnosis) -> ConnectionCheck {
      record(CheckStep(name: diagnosis.step, status: .failed, detail: diagnosis.cause))
      return finish(diagnosis)
    }

    // 1. The role ARN.
    if let problem = ConnectionRules.roleProblem(
      connection.roleARN, platformAccount: platform.accountID)
    {
      return fail(rules.invalidRole(problem))
    }
    record(
      CheckStep(name: .validateRole, status: .passed, detail: "\(connection.roleARN) is a role ARN")
    )
    let owner = connection.bucketOwner.isEmpty ? rules.roleAccount : connection.bucketOwner
    let sessionName = Self.sessionName(for: account)

    // 2. Assume the role with the account's external ID.
    let session: any BucketSession
    do {
      session = try await aws.assumeRole(
        roleARN: connection.roleARN, externalID: connection.externalID, sessionName: sessionName,
        region: connection.region, expectedBucketOwner: owner)
    } catch {
      return fail(rules.assumeFailed(error))
    }
    record(
      CheckStep(
        name: .assumeRole, status: .passed,
        detail: "assumed \(connection.roleARN) as session \(sessionName)"))

    // 3. A wrong external ID must be refused, or any other tenant could use the role.
    let wrongID = connection.externalID + "-not-yours"
    do {
      _ = try await aws.assumeRole(
        roleARN: connection.roleARN, externalID: wrongID, sessionName: sessionName,
        region: connection.region, expectedBucketOwner: owner)
      return fail(rules.externalIDNotRequired())
    } catch {
      guard error.isDenied else { return fail(rules.unreachable(error, step: .externalIDRequired)) }
    }
    record(
      CheckStep(
        name: .externalIDRequired, status: .passed,
        detail: "the role refused another external ID, as it should"))

    // 4. List the prefix, in the bucket's own region: asked first, since a request to the
    // wrong region fails in ways that look like missing permissions.
    if let actual = await session.bucketRegion(bucket: connection.bucket),
      actual != connection.region
    {
      return fail(rules.otherRegion(actual))
    }
    let objects: [ObjectSample]
    do {
      objects = try await session.listObjects(
        bucket: connection.bucket, prefix: connection.prefix, maxKeys: 50)
    } catch {
      return fail(rules.listFailed(error))
    }
    record(
      CheckStep(
        name: .list, status: .passed,
        detail: objects.isEmpty
          ? "listed s3://\(connection.bucket)/\(connection.prefix): no objects yet"
          : "listed s3://\(connection.bucket)/\(connection.prefix): found objects"))

    // 5. Read a sample object, if there is one that can be read now.
    if let sample = objects.first(where: { !$0.isArchived && !$0.key.hasSuffix("/") }) {
      do {
        let read = try await session.readObject(
          bucket: connection.bucket, key: sample.key, maxBytes: 1024)
        record(
          CheckStep(
            name: .read, status: .passed,
            detail: "read the first \(read.bytes.count) bytes of \(sample.key)"))
        if read.serverSideEncryption == "aws:kms" {
          record(
            CheckStep(
              name: .decrypt, status: .passed,
              detail:
                "the object is encrypted with \(read.kmsKeyID ?? "a KMS key"), and S3 decrypted it for the role"
            ))
        } else if connection.purpose == .fetcher {
          record(
            CheckStep(
              name: .decrypt, status: .skipped, detail: "the sample object does not use SSE-KMS"))
        }
      } catch {
        return fail(rules.readFailed(error, key: sample.key))
      }
    } else {
      record(
        CheckStep(
          name: .read, status: .skipped,
          detail: objects.isEmpty
            ? "no object under the prefix yet; Ferry reads the first one when it arrives"
            : "every object found is in an archive storage class (Glacier); none can be read now"
        ))
      if connection.purpose == .fetcher {
        record(
          CheckStep(name: .decrypt, status: .skipped, detail: "no object to decrypt yet"))
      }
    }

    // 6. Archives: write, read back and delete a probe object.
    if connection.purpose == .archive {
      let key = connection.prefix + Self.probeKeyName
      let body = Array("Ferry checks that it can write archives here: \(connection.id)\n".utf8)
      do {
        try await session.putObject(
          bucket: connection.bucket, key: key, body: body, kmsKeyARN: connection.kmsKeyARN)
      } catch {
        return fail(rules.writeFailed(error, key: key))
      }
      record(CheckStep(name: .write, status: .passed, detail: "wrote \(key)"))
      do {
        let read = try await session.readObject(
          bucket: connection.bucket, key: key, maxBytes: body.count + 16)
        guard read.bytes == body else {
          return fail(rules.readBackMismatch(key: key))
        }
      } catch {
        return fail(rules.readFailed(error, key: key, step: .readBack))
      }
      record(
        CheckStep(name: .readBack, status: .passed, detail: "\(key) read back as written"))
      do {
        try await session.deleteObject(bucket: connection.bucket, key: key)
        record(CheckStep(name: .delete, status: .passed, detail: "removed \(key)"))
      } catch {
        // Least privilege: the archive policy grants no deletion. The probe stays, small,
        // at one key that every check overwrites.
        record(
          CheckStep(
            name: .delete, status: .skipped,
            detail: error.isDenied
              ? "the role may not delete objects (Ferry's archive policy grants no deletion), so the \(body.count)-byte probe \(key) stays; each check overwrites it"
              : "could not remove \(key): \(error)"))
      }
    }
    return finish(nil)
  }

  func applicableSteps(_ connection: Connection) -> [CheckStepName] {
    switch connection.purpose {
    case .fetcher: [.validateRole, .assumeRole, .externalIDRequired, .list, .read, .decrypt]
    case .archive:
      [.validateRole, .assumeRole, .externalIDRequired, .list, .read, .write, .readBack, .delete]
    }
  }

  /// The role session name names the tenant, so the customer's CloudTrail shows who acted.
  public static func sessionName(for account: Account) -> String {
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@-_")
    let name = String(account.name.map { allowed.contains($0) ? $0 : "-" })
    return String("ferry-\(name)".prefix(64))
  }
}

/// Who Ferry runs as in AWS: its account (the "Account ID" customers trust) and, when the
/// operator chose a narrower trust principal, the exact ARN.
public struct PlatformIdentity: Sendable, Equatable, Codable {
  public var accountID: String
  /// The principal the trust policy names: `arn:aws:iam::ACCOUNT:root` by default.
  public var principalARN: String

  public init(accountID: String, principalARN: String? = nil) {
    self.accountID = accountID
    self.principalARN = principalARN ?? "arn:aws:iam::\(accountID):root"
  }
}
