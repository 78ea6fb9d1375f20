/// One problem the linter found.
public struct LintFinding: Sendable, Equatable, CustomStringConvertible {
  public enum Severity: String, Sendable, Comparable, CaseIterable {
    case info, warning, error

    private var rank: Int {
      switch self {
      case .info: 0
      case .warning: 1
      case .error: 2
      }
    }

    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
  }

  public var severity: Severity
  /// A stable rule name, such as `object-action-on-bucket`.
  public var rule: String
  /// The statement, by Sid (`"ReadLogs"`) or position (`#0`); nil for the whole document.
  public var statement: String?
  public var message: String
  public var fix: String

  public var description: String {
    "\(severity.rawValue) [\(rule)]\(statement.map { " statement \($0)" } ?? ""): \(message) Fix: \(fix)"
  }
}

/// Finds common mistakes in IAM policies: misplaced S3 resources, trust policies that do
/// not pin the external ID, guessable external IDs, privilege escalation, overly broad
/// grants, unknown actions, Denies that cancel Allows, sizes over AWS's limits, outdated
/// versions, duplicate Sids. One file per concern: `PolicyLinter+Trust`, `+Deny`,
/// `+Escalation`, `+Size`.
public enum PolicyLinter {
  /// Lints a document.
  /// - Parameters:
  ///   - scope: also report Deny statements that cancel a permission Ferry needs for it.
  ///   - externalID: the account's generated external ID, when known: a trust policy that
  ///     does not require it is an error.
  public static func lint(
    _ document: PolicyDocument, scope: AccessScope? = nil, externalID: String? = nil
  ) -> [LintFinding] {
    var findings: [LintFinding] = []
    switch document.version {
    case nil:
      findings.append(
        LintFinding(
          severity: .warning, rule: "version-missing", statement: nil,
          message:
            "the policy has no Version, so AWS reads it as 2008-10-17, without policy variables.",
          fix: "Add \"Version\": \"2012-10-17\" at the top."))
    case PolicyDocument.legacyVersion:
      findings.append(
        LintFinding(
          severity: .warning, rule: "version-outdated", statement: nil,
          message: "Version 2008-10-17 is outdated and does not support policy variables.",
          fix: "Use \"Version\": \"2012-10-17\"."))
    case PolicyDocument.currentVersion: break
    case let other?:
      findings.append(
        LintFinding(
          severity: .error, rule: "version-invalid", statement: nil,
          message: "\"\(other)\" is not a policy language version; AWS will reject the policy.",
          fix: "Use \"Version\": \"2012-10-17\" (a date AWS defines, not today's date)."))
    }

    var seenSids: Set<String> = []
    for (index, statement) in document.statements.enumerated() {
      let label = statement.sid.map { "\"\($0)\"" } ?? "#\(index)"
      func add(_ severity: LintFinding.Severity, _ rule: String, _ message: String, _ fix: String) {
        findings.append(
          LintFinding(severity: severity, rule: rule, statement: label, message: message, fix: fix))
      }
      if let sid = statement.sid {
        if !seenSids.insert(sid).inserted {
          add(
            .error, "duplicate-sid", "the Sid \"\(sid)\" is used by more than one statement.",
            "Give each statement its own Sid.")
        }
      }
      lintActions(statement, add: add)
      lintResources(
        statement, isResourceBased: statement.principal != nil || statement.notPrincipal != nil,
        add: add)
      lintPrincipal(statement, add: add)
      lintTrust(statement, externalID: externalID, add: add)
      lintEscalation(statement, add: add)
    }
    findings += denyFindings(document, scope: scope)
    findings += sizeFindings(document)
    return findings
  }

  typealias Add = (LintFinding.Severity, String, String, String) -> Void

  /// A statement's label in findings: its Sid in quotes, or its position.
  static func label(_ statement: Statement, _ index: Int) -> String {
    statement.sid.map { "\"\($0)\"" } ?? "#\(index)"
  }

  private static func lintActions(_ statement: Statement, add: Add) {
    let allows = statement.effect == .allow
    if allows, statement.notAction != nil {
      add(
        .warning, "allow-not-action",
        "Allow with NotAction grants every action except those listed, including ones AWS adds later.",
        "List the actions to allow in \"Action\" instead.")
    }
    for action in (statement.action?.values ?? []) + (statement.notAction?.values ?? []) {
      if action == "*" {
        if allows && statement.action != nil {
          add(
            .warning, "action-wildcard", "\"Action\": \"*\" allows every action of every service.",
            "List only the actions needed, e.g. \"s3:GetObject\".")
        }
        continue
      }
      let service = action.split(separator: ":").first.map(String.init) ?? ""
      if allows, statement.action != nil, action.hasSuffix(":*") {
        add(
          .warning, "service-wildcard",
          "\"\(action)\" allows every \(service) action, including deletes and policy changes.",
          "List only the \(service) actions needed.")
      }
      switch ActionCatalog.lookup(action) {
      case .known, .notCataloged: break
      case .unknownService(let suggestion):
        add(
          .warning, "unknown-service", "\"\(service)\" is not an AWS service prefix.",
          suggestion.map { "Did you mean \"\($0):…\"?" }
            ?? "Check the service prefix in the Service Authorization Reference.")
      case .unknownAction(let suggestion):
        add(
          .error, "unknown-action",
          "\"\(action)\" is not an action of \(service), so it grants nothing.",
          suggestion.map { "Did you mean \"\($0)\"?" }
            ?? "Check the action name in the Service Authorization Reference.")
      case .matchesNothing:
        add(
          .warning, "action-matches-nothing",
          "the pattern \"\(action)\" matches no \(service) action.",
          "Check the spelling of the pattern.")
      }
    }
  }

  private static func lintResources(_ statement: Statement, isResourceBased: Bool, add: Add) {
    let actions = statement.action?.values ?? []
    guard let resources = statement.resource?.values else {
      if !isResourceBased, statement.notResource == nil {
        add(
          .error, "missing-resource",
          "the statement has no \"Resource\", so it applies to nothing in an identity policy.",
          "Add \"Resource\" with the ARNs it is for, e.g. \"arn:aws:s3:::my-bucket/*\".")
      }
      return
    }
    let s3Resources = resources.filter { $0.hasPrefix("arn:aws:s3:::") }
    let bucketARNs = s3Resources.filter { !$0.dropFirst("arn:aws:s3:::".count).contains("/") }
    let objectARNs = s3Resources.filter { $0.dropFirst("arn:aws:s3:::".count).contains("/") }
    let coversAll = resources.contains("*") || resources.contains("arn:aws:s3:::*")
    for action in actions where ActionCatalog.isS3ObjectAction(action) {
      if !bucketARNs.isEmpty, objectARNs.isEmpty, !coversAll {
        let fixed = bucketARNs.map { "\"\($0)/*\"" }.joined(separator: ", ")
        add(
          .error, "object-action-on-bucket",
          "\(action) acts on objects, but the resource names only the bucket (\(bucketARNs.joined(separator: ", "))), so it grants nothing.",
          "Use the objects' ARN: \(fixed), or BUCKET/PREFIX* for one prefix.")
      }
    }
    for action in actions where ActionCatalog.isS3BucketAction(action) {
      if !objectARNs.isEmpty, bucketARNs.isEmpty, !coversAll {
        let buckets = Set(
          objectARNs.map { "\"" + ($0.split(separator: "/").first.map(String.init) ?? $0) + "\"" })
        add(
          .error, "bucket-action-on-object",
          "\(action) acts on the bucket, but the resource names only objects (\(objectARNs.joined(separator: ", "))), so it grants nothing.",
          "Use the bucket's ARN: \(buckets.sorted().joined(separator: ", ")); to limit listing to a prefix, add a Condition on s3:prefix."
        )
      }
    }
    if statement.effect == .allow, resources.contains("*") {
      // Where every action reads or writes existing S3 data, a bucket ARN always serves;
      // actions that create resources (e.g. for metric shipping) may need "*".
      let dataActions =
        !actions.isEmpty
        && actions.allSatisfy {
          ActionCatalog.isS3ObjectAction($0)
            || ["s3:listbucket", "s3:listbucketversions", "s3:listbucketmultipartuploads"].contains(
              $0.lowercased())
        }
      add(
        dataActions ? .warning : .info, "resource-wildcard",
        "\"Resource\": \"*\" applies the statement to every resource in the account.",
        dataActions
          ? "Name the bucket (arn:aws:s3:::BUCKET) and its objects (arn:aws:s3:::BUCKET/PREFIX*)."
          : "Narrow the resource where the names are known in advance.")
    }
  }
}
