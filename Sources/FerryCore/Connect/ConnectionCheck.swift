import Foundation

/// One step of proving that a connection works, in the order they run.
public enum CheckStepName: String, Sendable, Codable, CaseIterable {
  /// The role ARN's shape and account.
  case validateRole = "validate-role"
  /// `sts:AssumeRole` with the account's external ID.
  case assumeRole = "assume-role"
  /// The role refuses a wrong external ID (else any tenant of the platform could use it).
  case externalIDRequired = "external-id-required"
  /// `s3:ListBucket` on the prefix.
  case list
  /// `s3:GetObject` of a sample object.
  case read
  /// `kms:Decrypt` of an SSE-KMS object.
  case decrypt
  /// Archives: `s3:PutObject` of a probe object.
  case write
  /// Archives: the probe object reads back as written.
  case readBack = "read-back"
  /// Archives: the probe object is removed again.
  case delete

  /// What the step proves, for people.
  public var title: String {
    switch self {
    case .validateRole: "The role ARN is valid"
    case .assumeRole: "Ferry can assume the role with your external ID"
    case .externalIDRequired: "The role refuses any other external ID"
    case .list: "Ferry can list the bucket under the prefix"
    case .read: "Ferry can read an object"
    case .decrypt: "Ferry can decrypt objects encrypted with KMS"
    case .write: "Ferry can write an archive object"
    case .readBack: "The object Ferry wrote reads back"
    case .delete: "Ferry's probe object is removed"
    }
  }
}

/// How one step went.
public struct CheckStep: Sendable, Equatable, Codable {
  public enum Status: String, Sendable, Codable {
    case passed
    case failed
    /// Not run: an earlier step failed, or there was nothing to check (no object yet).
    case skipped
  }

  public var name: CheckStepName
  public var status: Status
  /// What was done or found, for people.
  public var detail: String

  public init(name: CheckStepName, status: Status, detail: String) {
    self.name = name
    self.status = status
    self.detail = detail
  }
}

/// Why a connection does not work and what to do: the failed step, what AWS said, the
/// likely cause and the exact fix.
public struct Diagnosis: Sendable, Equatable, Codable {
  /// A short, stable name of the cause (`trust-policy-denied`, `list-not-granted`, ...).
  public var code: String
  public var step: CheckStepName
  /// What AWS answered, if it was asked.
  public var awsError: AWSFailure?
  /// The likely cause, in words.
  public var cause: String
  /// What to do.
  public var fix: String
  /// The IAM statement to add, as JSON, where a permission is missing.
  public var statementToAdd: String?
  /// Where AWS's answer cannot tell the cause: the other causes that remain, and how to
  /// tell them apart.
  public var otherCauses: [String]

  public init(
    code: String, step: CheckStepName, awsError: AWSFailure? = nil, cause: String, fix: String,
    statementToAdd: String? = nil, otherCauses: [String] = []
  ) {
    self.code = code
    self.step = step
    self.awsError = awsError
    self.cause = cause
    self.fix = fix
    self.statementToAdd = statementToAdd
    self.otherCauses = otherCauses
  }
}

/// The result of checking a connection: every step and, on failure, the diagnosis.
public struct ConnectionCheck: Sendable, Equatable, Codable {
  public var connectionID: String
  public var checkedAt: Date
  public var steps: [CheckStep]
  public var diagnosis: Diagnosis?

  public init(
    connectionID: String, checkedAt: Date = Date(), steps: [CheckStep], diagnosis: Diagnosis?
  ) {
    self.connectionID = connectionID
    self.checkedAt = checkedAt
    self.steps = steps
    self.diagnosis = diagnosis
  }

  public var succeeded: Bool { diagnosis == nil }
}
