/// Ready-to-run set-up of the customer's role: an AWS CLI script and a CloudFormation
/// template that create the same role with the same two policies.
public struct RoleSetup: Sendable {
  public let scope: AccessScope
  public let permissions: PolicyDocument
  public let trust: PolicyDocument
  public let roleName: String

  /// - Parameters:
  ///   - platformPrincipal: the platform's account ID or the ARN Ferry runs as.
  ///   - externalID: the tenant's external ID.
  public init(
    scope: AccessScope, platformPrincipal: String, externalID: String, roleName: String? = nil
  ) throws(InputError) {
    self.scope = scope
    self.permissions = PolicyGenerator.permissionsPolicy(for: scope)
    self.trust = try PolicyGenerator.trustPolicy(
      platformPrincipal: platformPrincipal, externalID: externalID)
    let name = roleName ?? scope.purpose.defaultRoleName
    try IAMName.validateRoleName(name, field: "role-name")
    self.roleName = name
  }

  var summary: String {
    switch scope.purpose {
    case .fetcher: "lets Ferry read log files from \(scope.location)"
    case .archive: "lets Ferry write and restore archives in \(scope.location)"
    case .metrics: "lets Ferry set up metric shipping"
    }
  }

  /// A bash script of AWS CLI commands: create the policy, create the role with the trust
  /// policy, attach the policy, print the role ARN. Policies are passed as files written
  /// from quoted here-documents, so nothing in them is expanded by the shell.
  public var awsCLIScript: String {
    """
    #!/usr/bin/env bash
    # Creates the IAM role that \(summary).
    # Run it with credentials of the AWS account that owns the bucket; it needs the AWS CLI.
    # Override the names with ROLE_NAME=... POLICY_NAME=... if you like.
    set -euo pipefail

    ROLE_NAME="${ROLE_NAME:-\(roleName)}"
    POLICY_NAME="${POLICY_NAME:-${ROLE_NAME}-policy}"

    workdir="$(mktemp -d)"
    trap 'rm -rf "$workdir"' EXIT

    cat > "$workdir/permissions.json" <<'FERRY_POLICY'
    \(permissions.json())
    FERRY_POLICY

    cat > "$workdir/trust.json" <<'FERRY_POLICY'
    \(trust.json())
    FERRY_POLICY

    policy_arn="$(aws iam create-policy --policy-name "$POLICY_NAME" \\
      --policy-document "file://$workdir/permissions.json" \\
      --query Policy.Arn --output text)"
    aws iam create-role --role-name "$ROLE_NAME" \\
      --assume-role-policy-document "file://$workdir/trust.json" \\
      --description "Assumed by Ferry: \(summary)" > /dev/null
    aws iam attach-role-policy --role-name "$ROLE_NAME" --policy-arn "$policy_arn"

    echo "Role created. Paste this role ARN into Ferry:"
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
    let description = JSONValue.string("IAM role that \(summary).").serialized()
    return """
      AWSTemplateFormatVersion: "2010-09-09"
      Description: \(description)
      Parameters:
        RoleName:
          Type: String
          Default: \(roleName)
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
              - PolicyName: \(roleName)-policy
                PolicyDocument:
      \(block(permissions, indent: 12))
      Outputs:
        RoleArn:
          Description: Paste this role ARN into Ferry.
          Value: !GetAtt FerryRole.Arn

      """
  }
}
