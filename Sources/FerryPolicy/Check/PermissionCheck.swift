/// Whether a set of policies grants everything Ferry needs for a scope.
public struct PermissionCheckResult: Sendable, Equatable {
  public enum Status: Sendable, Equatable {
    case granted(by: [StatementReference])
    case missing
    case denied(by: [StatementReference])
  }

  public struct Entry: Sendable, Equatable {
    public var permission: RequiredPermission
    public var status: Status

    /// A statement to add for a missing permission.
    public var fix: Statement? {
      if case .missing = status { return permission.grantingStatement }
      return nil
    }
  }

  public var entries: [Entry]

  public var allGranted: Bool {
    entries.allSatisfy { if case .granted = $0.status { true } else { false } }
  }
}

/// Checks policies against the permissions a purpose needs.
public enum PermissionCheck {
  /// Evaluates every required permission of `scope` against the identity policies (and an
  /// optional resource policy such as the bucket policy).
  public static func check(
    _ policies: [NamedPolicy], resourcePolicy: NamedPolicy? = nil, scope: AccessScope
  ) -> PermissionCheckResult {
    PermissionCheckResult(
      entries: scope.requiredPermissions.map { permission in
        var grantedBy: [StatementReference] = []
        for probe in permission.probes {
          let result = PolicyEvaluator.evaluate(
            identityPolicies: policies, resourcePolicy: resourcePolicy, request: probe,
            requireResourcePolicy: false)
          switch result.decision {
          case .explicitDeny:
            return .init(permission: permission, status: .denied(by: result.decidingStatements))
          case .implicitDeny:
            return .init(permission: permission, status: .missing)
          case .allow:
            for ref in result.decidingStatements where !grantedBy.contains(ref) {
              grantedBy.append(ref)
            }
          }
        }
        return .init(permission: permission, status: .granted(by: grantedBy))
      })
  }
}
