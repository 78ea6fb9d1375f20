/// One problem the linter found.
public struct LintFinding: Sendable, Equatable, CustomStringConvertible {
  public enum Severity: String, Sendable, Comparable, CaseIterable {
    case info, warning, error

    public static func < (a: Severity, b: Severity) -> Bool {
      allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
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

/// Finds common mistakes in IAM policies: misplaced S3 resources, missing external ID
/// conditions, overly broad grants, unknown actions, outdated versions, duplicate Sids.
public enum PolicyLinter {
  /// Lints a document. With a scope, also reports Deny statements that cancel a permission
  /// Ferry needs for it.
  public static func lint(_ document: PolicyDocument, scope: AccessScope? = nil) -> [LintFinding] {
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
    }
    findings += denyFindings(document, scope: scope)
    return findings
  }

  private typealias Add = (LintFinding.Severity, String, String, String) -> Void

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

  private static func lintPrincipal(_ statement: Statement, add: Add) {
    guard let principal = statement.principal, statement.effect == .allow else { return }
    let everyone = principal == .everyone || principal.values(of: .aws).contains("*")
    if everyone {
      let constrained = statement.condition?.entries.isEmpty == false
      add(
        constrained ? .warning : .error, "wildcard-principal",
        "the principal \"*\" lets anyone, in any AWS account, use this statement\(constrained ? " when its condition holds" : "").",
        "Name the account or role that needs access, e.g. {\"AWS\": \"arn:aws:iam::123456789012:root\"}."
      )
    }
    let assumes = (statement.action?.values ?? []).contains {
      wildcardMatch($0, "sts:AssumeRole", caseInsensitive: true)
    }
    let awsPrincipals = principal.values(of: .aws)
    if assumes, !awsPrincipals.isEmpty {
      let hasExternalID =
        statement.condition?.entries.contains {
          $0.key.lowercased() == "sts:externalid" && !$0.op.base.isNegated && !$0.op.ifExists
        } ?? false
      if !hasExternalID {
        add(
          .error, "trust-without-external-id",
          "the trust policy lets \(awsPrincipals.joined(separator: ", ")) assume the role without an external ID (the confused deputy problem).",
          "Add \"Condition\": {\"StringEquals\": {\"sts:ExternalId\": \"YOUR-EXTERNAL-ID\"}}.")
      }
    }
  }

  private static func denyFindings(_ document: PolicyDocument, scope: AccessScope?) -> [LintFinding]
  {
    var findings: [LintFinding] = []
    let policy = NamedPolicy("policy", document)
    let denies = document.statements.enumerated().filter { $0.element.effect == .deny }
    guard !denies.isEmpty else { return [] }
    // Concrete grants of this policy that an unconditional Deny cancels.
    for (index, statement) in document.statements.enumerated()
    where statement.effect == .allow && statement.principal == nil {
      for action in statement.action?.values ?? []
      where !action.contains("*") && !action.contains("?") {
        for resource in statement.resource?.values ?? []
        where !resource.contains("*") && !resource.contains("?") && !resource.contains("$") {
          let request = AuthorizationRequest(action: action, resource: resource)
          for (denyIndex, deny) in denies where deny.condition == nil {
            if PolicyEvaluator.applies(
              deny, version: document.version, isResourcePolicy: false, request: request)
            {
              findings.append(
                LintFinding(
                  severity: .warning, rule: "deny-cancels-allow",
                  statement: deny.sid.map { "\"\($0)\"" } ?? "#\(denyIndex)",
                  message:
                    "this Deny cancels \(action) on \(resource), which statement \(statement.sid.map { "\"\($0)\"" } ?? "#\(index)") allows.",
                  fix: "Narrow the Deny's Action or Resource, or remove the Allow."))
            }
          }
        }
      }
    }
    if let scope {
      for permission in scope.requiredPermissions {
        for probe in permission.probes {
          let result = PolicyEvaluator.evaluate(identityPolicies: [policy], request: probe)
          guard result.decision == .explicitDeny else { continue }
          findings.append(
            LintFinding(
              severity: .error, rule: "deny-cancels-required",
              statement: result.decidingStatements.map {
                $0.sid.map { "\"\($0)\"" } ?? "#\($0.index)"
              }.joined(separator: ", "),
              message:
                "this Deny cancels \(permission.action) on \(permission.resource), which Ferry needs to \(permission.reason).",
              fix: "Exclude \(permission.resource) from the Deny, or remove it."))
          break
        }
      }
    }
    return findings
  }
}
