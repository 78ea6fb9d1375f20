/// Ready-to-run set-up of the customer's role: an AWS CLI script and a CloudFormation
/// template that create the same role with the same two policies.
public struct RoleSetup: Sendable {
  public let scope: AccessScope
  /// Every scope the role serves (`scope` is the first).
  public let scopes: [AccessScope]
  public let permissions: PolicyDocument
  public let trust: PolicyDocument
  public let roleName: String

  /// - Parameters:
  ///   - platformPrincipal: the platform's account ID or the ARN Ferry runs as.
  ///   - externalID: the tenant's external ID.
  public init(
    scope: AccessScope, platformPrincipal: String, externalID: String, roleName: String? = nil
  ) throws(InputError) {
    try self.init(
      scope: scope, principal: PlatformPrincipal(inferring: platformPrincipal),
      externalID: externalID, roleName: roleName)
  }

  public init(
    scope: AccessScope, principal: PlatformPrincipal, externalID: String, roleName: String? = nil
  ) throws(InputError) {
    try self.init(scopes: [scope], principal: principal, externalID: externalID, roleName: roleName)
  }

  /// A role for several scopes at once (a migration's new role, serving every configuration
  /// that used the old one): one permissions policy with what each needs.
  public init(
    scopes: [AccessScope], principal: PlatformPrincipal, externalID: String,
    roleName: String? = nil
  ) throws(InputError) {
    guard let scope = scopes.first else {
      throw InputError(
        field: "scope", problem: "a role needs at least one bucket to reach",
        fix: "Give the bucket and purpose the role is for.")
    }
    self.scope = scope
    self.scopes = scopes
    self.permissions =
      scopes.count == 1
      ? PolicyGenerator.permissionsPolicy(for: scope)
      : PolicyGenerator.permissionsPolicy(for: scopes)
    self.trust = try PolicyGenerator.trustPolicy(principal: principal, externalID: externalID)
    let name = roleName ?? scope.purpose.defaultRoleName
    try IAMName.validateRoleName(name, field: "role-name")
    self.roleName = name
  }

  var summary: String {
    if scopes.count > 1 {
      return "lets Ferry reach "
        + scopes.map { "\($0.location) (\($0.purpose.rawValue))" }.joined(separator: ", ")
    }
    return switch scope.purpose {
    case .fetcher: "lets Ferry read log files from \(scope.location)"
    case .archive: "lets Ferry write and restore archives in \(scope.location)"
    case .metrics: "lets Ferry set up metric shipping"
    }
  }

  /// The role's description: IAM allows at most 1,000 characters of printable Latin-1;
  /// when the location does not fit, it is left out.
  var roleDescription: String {
    let full = "Assumed by Ferry: \(summary)"
    let fits =
      full.count <= 1000
      && full.unicodeScalars.allSatisfy {
        (0x20...0x7E).contains($0.value) || (0xA1...0xFF).contains($0.value)
      }
    if fits { return full }
    switch scope.purpose {
    case .fetcher:
      return "Assumed by Ferry: lets Ferry read log files from the bucket \(scope.bucket)"
    case .archive:
      return "Assumed by Ferry: lets Ferry write and restore archives in the bucket \(scope.bucket)"
    case .metrics: return "Assumed by Ferry: lets Ferry set up metric shipping"
    }
  }

  /// A bash script of AWS CLI commands that creates the role, or updates it when it exists,
  /// so it is safe to run again: the trust policy is set on the role and the permissions
  /// are the role's inline policy (`put-role-policy` creates or replaces it). If a step
  /// fails after the script created the role, the role is deleted again, so nothing is
  /// left half made. Every value it embeds is single-quoted for the shell and the policies
  /// come from quoted here-documents, so no character of a prefix or name is interpreted.
  public var awsCLIScript: String {
    """
    #!/usr/bin/env bash
    # Creates (or updates) the IAM role that Ferry assumes; what for is in DESCRIPTION below.
    # Run it with credentials of the AWS account that owns the bucket; it needs the AWS CLI.
    # Safe to run again. Override the names with ROLE_NAME=... POLICY_NAME=... if you like.
    set -euo pipefail

    default_role_name=\(ShellQuote.quote(roleName))
    ROLE_NAME="${ROLE_NAME:-$default_role_name}"
    POLICY_NAME="${POLICY_NAME:-ferry-access}"
    DESCRIPTION=\(ShellQuote.quote(roleDescription))

    workdir="$(mktemp -d)"
    created_role=""
    cleanup() {
      local status=$?
      if [ "$status" -ne 0 ] && [ -n "$created_role" ]; then
        echo "Set-up failed; deleting the role this run created ($ROLE_NAME)." >&2
        aws iam delete-role-policy --role-name "$ROLE_NAME" --policy-name "$POLICY_NAME" >/dev/null 2>&1 || true
        aws iam delete-role --role-name "$ROLE_NAME" >/dev/null 2>&1 || true
      fi
      rm -rf "$workdir"
      exit "$status"
    }
    trap cleanup EXIT

    cat > "$workdir/permissions.json" <<'FERRY_POLICY'
    \(permissions.json())
    FERRY_POLICY

    cat > "$workdir/trust.json" <<'FERRY_POLICY'
    \(trust.json())
    FERRY_POLICY

    if aws iam get-role --role-name "$ROLE_NAME" >/dev/null 2>"$workdir/get-role.err"; then
      echo "Role $ROLE_NAME exists: updating its trust policy and permissions."
      aws iam update-assume-role-policy --role-name "$ROLE_NAME" \\
        --policy-document "file://$workdir/trust.json"
    elif grep -q NoSuchEntity "$workdir/get-role.err"; then
      aws iam create-role --role-name "$ROLE_NAME" \\
        --assume-role-policy-document "file://$workdir/trust.json" \\
        --description "$DESCRIPTION" > /dev/null
      created_role=1
    else
      cat "$workdir/get-role.err" >&2
      echo "Cannot read the role $ROLE_NAME; check the AWS credentials this script runs with." >&2
      exit 1
    fi
    aws iam put-role-policy --role-name "$ROLE_NAME" --policy-name "$POLICY_NAME" \\
      --policy-document "file://$workdir/permissions.json"

    echo "Role ready. Paste this role ARN into Ferry:"
    aws iam get-role --role-name "$ROLE_NAME" --query Role.Arn --output text

    """
  }

  /// A CloudFormation template (YAML) that creates the role, with the permissions as an
  /// inline policy, and outputs its ARN.
  public var cloudFormationTemplate: String {
    func block(_ document: PolicyDocument, indent: Int) -> String {
      let pad = String(repeating: " ", count: indent)
      return document.json().split(separator: "\n", omittingEmptySubsequences: false)
        .map { pad + $0 }.joined(separator: "\n")
    }
    let description = JSONValue.string(roleDescription).serialized()
    return """
      AWSTemplateFormatVersion: "2010-09-09"
      Description: \(description)
      Parameters:
        RoleName:
          Type: String
          Default: \(JSONValue.string(roleName).serialized())
          Description: Name of the IAM role to create.
      Resources:
        FerryRole:
          Type: AWS::IAM::Role
          Properties:
            RoleName: !Ref RoleName
            Description: \(description)
            AssumeRolePolicyDocument:
      \(block(trust, indent: 8))
            Policies:
              - PolicyName: ferry-access
                PolicyDocument:
      \(block(permissions, indent: 12))
      Outputs:
        RoleArn:
          Description: Paste this role ARN into Ferry.
          Value: !GetAtt FerryRole.Arn

      """
  }
}

/// Quoting for POSIX shells: a value in single quotes, each `'` written as `'\''`, so
/// no character of it is interpreted.
public enum ShellQuote {
  public static func quote(_ value: String) -> String {
    "'" + value.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''")
      + "'"
  }
}
