import FerryCore
import FerryPolicy
import Foundation
import Testing

/// The first steps of migrating to the generated external ID, against the guide's and
/// AWS's rules: the inventory finds every role an account uses with the configurations on
/// it and how many Ferry accounts share it; the transition trust policy accepts the legacy
/// and the generated ID at once (IAM's `StringEquals` with several values matches any of
/// them) and nothing else, so nothing stops working while configurations move.
@Suite("Migration: inventory and transition trust policy")
struct MigrationInventoryTests {
  static let account = AccountID(rawValue: "acct_migrate")
  static let shared = "arn:aws:iam::111122223333:role/logs-shared"
  static let own = "arn:aws:iam::111122223333:role/ferry-s3-fetcher"

  func connection(_ role: String, legacy: String?, purpose: ConnectionPurpose = .fetcher)
    -> Connection
  {
    Connection(
      accountID: Self.account, purpose: purpose, bucket: "acme-\(purpose.rawValue)",
      region: "us-east-1", prefix: "", roleARN: role,
      externalID: legacy ?? "ferry:aws:extid:generated0000000001",
      usesLegacyExternalID: legacy != nil)
  }

  @Test func theInventoryGroupsConfigurationsByRoleAndFlagsLegacyIDs() {
    let a = connection(Self.shared, legacy: "acme-2019")
    let b = connection(Self.shared, legacy: "acme-2019", purpose: .archive)
    let c = connection(Self.own, legacy: nil)
    let fetcher = Fetcher(accountID: Self.account, connectionID: a.id, name: "alb", logType: "alb")
    let other = Fetcher(accountID: Self.account, connectionID: c.id, name: "ct", logType: "json")
    let archive = Archive(accountID: Self.account, connectionID: b.id, name: "all")
    let roles = RoleInventory.of(
      connections: [a, b, c], fetchers: [fetcher, other], archives: [archive],
      accountsUsing: { $0 == Self.shared ? 2 : 0 })
    #expect(roles.map(\.roleARN) == [Self.shared, Self.own])
    #expect(roles[0].connections.map(\.id) == [a.id, b.id])
    #expect(
      roles[0].fetchers.map(\.id) == [fetcher.id] && roles[0].archives.map(\.id) == [archive.id])
    #expect(roles[0].legacyExternalIDs == ["acme-2019"] && roles[0].needsMigration)
    #expect(roles[0].accountsUsingRole == 2)
    #expect(roles[1].fetchers.map(\.id) == [other.id] && !roles[1].needsMigration)
    // The account itself uses the role even when the count has not caught up.
    #expect(roles[1].accountsUsingRole == 1)
  }

  @Test func theTransitionTrustPolicyAcceptsBothIDsAndNothingElse() throws {
    let legacy = "acme-2019"
    let generated = "ferry:aws:extid:k3v9q2m8x7w1p4z6"
    let platform = "arn:aws:iam::999900001111:user/ferry-platform"
    let trust = try PolicyGenerator.trustPolicy(
      principal: .arn(platform), acceptingAnyOf: [legacy, generated])
    let text = trust.json()
    #expect(text.contains("StringEquals") && text.contains(legacy) && text.contains(generated))
    let role = Self.shared
    // Cross-account: the platform user's own policy must allow sts:AssumeRole as well.
    let callerPolicies = [
      NamedPolicy(
        "platform",
        try PolicyDocument.parse(
          #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#
        ))
    ]
    func decision(_ id: String?, _ policy: PolicyDocument? = nil) -> Decision {
      PolicyEvaluator.evaluateTrust(
        policy ?? trust, roleARN: role, caller: platform, externalID: id,
        callerPolicies: callerPolicies
      ).decision
    }
    #expect(decision(legacy) == .allow)
    #expect(decision(generated) == .allow)
    #expect(decision("acme-2020") == .implicitDeny)
    #expect(decision(nil) == .implicitDeny)
    // The final policy: the generated ID only.
    let final = try PolicyGenerator.trustPolicy(principal: .arn(platform), externalID: generated)
    #expect(decision(legacy, final) == .implicitDeny)
    #expect(decision(generated, final) == .allow)
    #expect(throws: InputError.self) {
      try PolicyGenerator.trustPolicy(principal: .arn(platform), acceptingAnyOf: [])
    }
  }

  @Test func aNewRoleForSeveralConfigurationsGrantsWhatEachNeeds() throws {
    let fetch = try AccessScope(purpose: .fetcher, bucket: "acme-logs")
    let archive = try AccessScope(purpose: .archive, bucket: "acme-archive", prefix: "ferry")
    let both = PolicyGenerator.permissionsPolicy(for: [fetch, archive, fetch])
    let alone = [fetch, archive].map { PolicyGenerator.permissionsPolicy(for: $0) }
    let principal = "arn:aws:iam::111122223333:role/new"
    for (scope, policy) in zip([fetch, archive], alone) {
      for permission in scope.requiredPermissions {
        guard permission.condition == nil else {
          // A listing scoped by a condition (s3:prefix): the same statement, action included.
          #expect(
            both.statements.contains {
              $0.resource?.values == [permission.resource] && $0.condition == permission.condition
                && $0.action?.values.contains(permission.action) == true
            }, "\(permission.action) on \(permission.resource)")
          continue
        }
        let request = AuthorizationRequest(
          action: permission.action, resource: permission.resource, principal: principal)
        #expect(PolicyEvaluator.evaluate(policy, request: request).decision == .allow)
        #expect(PolicyEvaluator.evaluate(both, request: request).decision == .allow)
      }
    }
    // Nothing more than the two together: every action granted is one of theirs.
    let needed = Set((fetch.requiredPermissions + archive.requiredPermissions).map(\.action))
    let granted = Set(both.statements.flatMap { $0.action?.values ?? [] })
    #expect(granted == needed)
  }
}
