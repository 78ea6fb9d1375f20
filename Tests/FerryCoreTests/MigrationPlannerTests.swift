import FerryCore
import FerryPolicy
import Foundation
import Testing

/// The planner against the guide's rules ("Migrating to a new external ID"): a role used
/// by one Ferry account stays, through a transition trust policy that accepts both IDs,
/// then the generated one alone, in that order; a role used by several accounts is left to
/// them and this account gets a new role of its own that grants what its configurations
/// need; a role with no legacy configuration has nothing to plan. Each policy is evaluated
/// with FerryPolicy's evaluator (AWS's documented evaluation logic).
@Suite("Migration: the planner follows the guide")
struct MigrationPlannerTests {
  static let account = Account(
    id: AccountID(rawValue: "acct_plannerplanner01"), name: "Acme",
    externalID: "ferry:aws:extid:q8v2m5k9x3w7p1z4", retentionDays: 30, createdAt: Date())
  static let platform = "arn:aws:iam::999900001111:user/ferry-platform"
  static let role = "arn:aws:iam::111122223333:role/acme-logs"
  static let callerPolicies = [
    NamedPolicy(
      "platform",
      (try? PolicyDocument.parse(
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#
      )) ?? PolicyDocument(statements: []))
  ]

  func inventory(accounts: Int, legacy: Bool = true) -> RoleInventory {
    let fetch = Connection(
      accountID: Self.account.id, purpose: .fetcher, bucket: "acme-logs", region: "us-east-1",
      prefix: "app", roleARN: Self.role, externalID: legacy ? "acme-2019" : Self.account.externalID,
      usesLegacyExternalID: legacy)
    let archive = Connection(
      accountID: Self.account.id, purpose: .archive, bucket: "acme-archive", region: "us-east-1",
      prefix: "", roleARN: Self.role,
      externalID: legacy ? "acme-2019" : Self.account.externalID, usesLegacyExternalID: legacy)
    return RoleInventory(
      roleARN: Self.role, connections: [fetch, archive],
      fetchers: [
        Fetcher(accountID: Self.account.id, connectionID: fetch.id, name: "app", logType: "json")
      ], archives: [Archive(accountID: Self.account.id, connectionID: archive.id, name: "all")],
      accountsUsingRole: accounts)
  }

  func allows(_ policy: PolicyDocument?, _ externalID: String) -> Bool {
    guard let policy else { return false }
    return PolicyEvaluator.evaluateTrust(
      policy, roleARN: Self.role, caller: Self.platform, externalID: externalID,
      callerPolicies: Self.callerPolicies
    ).decision == .allow
  }

  @Test func oneAccountKeepsTheRoleThroughATransitionPolicy() throws {
    let plan = try #require(
      try MigrationPlanner.plan(
        inventory(accounts: 1), account: Self.account, principal: .arn(Self.platform)))
    #expect(plan.procedure == .sameRole && plan.newRoleName == nil)
    #expect(plan.steps.map(\.actor) == [.customer, .ferry, .customer, .ferry])
    let transition = plan.steps[0].policy
    let final = plan.steps[2].policy
    // First both IDs, so nothing stops working; the final policy only after the switch.
    #expect(allows(transition, "acme-2019") && allows(transition, Self.account.externalID))
    #expect(!allows(transition, "acme-2020"))
    #expect(allows(final, Self.account.externalID) && !allows(final, "acme-2019"))
    #expect(
      plan.steps[0].awsCLI?.contains("aws iam update-assume-role-policy --role-name 'acme-logs'")
        == true)
    #expect(plan.steps[0].cloudFormation?.contains("AssumeRolePolicyDocument") == true)
    #expect(plan.steps[1].ferryCommand == "ferry migrate apply --role \(Self.role)")
    #expect(
      plan.steps[0].detail.contains("fetcher \"app\"")
        && plan.steps[0].detail.contains("archive \"all\""))
  }

  @Test func aSharedRoleGivesThisAccountANewRoleOfItsOwn() throws {
    let plan = try #require(
      try MigrationPlanner.plan(
        inventory(accounts: 2), account: Self.account, principal: .arn(Self.platform)))
    #expect(plan.procedure == .newRole)
    let name = try #require(plan.newRoleName)
    #expect(name == "acme-logs-lanner01")
    #expect(throws: Never.self) { try IAMName.validateRoleName(name) }
    let trust = plan.steps[0].policy
    #expect(allows(trust, Self.account.externalID) && !allows(trust, "acme-2019"))
    // The script creates the role with permissions for both configurations.
    let script = try #require(plan.steps[0].awsCLI)
    #expect(
      script.contains("arn:aws:s3:::acme-logs") && script.contains("arn:aws:s3:::acme-archive"))
    #expect(
      plan.steps[1].ferryCommand?.contains("--new-role-arn arn:aws:iam::111122223333:role/\(name)")
        == true)
    // The old role is left alone: no step changes its trust policy.
    #expect(
      plan.steps.allSatisfy {
        $0.awsCLI?.contains("update-assume-role-policy --role-name 'acme-logs'") != true
      })
    #expect(plan.steps[2].detail.contains("1 other Ferry account still uses"))
  }

  @Test func nothingToPlanWithoutALegacyID() throws {
    #expect(
      try MigrationPlanner.plan(
        inventory(accounts: 1, legacy: false), account: Self.account,
        principal: .arn(Self.platform)) == nil)
  }

  @Test func newRoleNamesFitIAMsLimit() throws {
    let long = String(repeating: "r", count: 64)
    let name = MigrationPlanner.newRoleName(long, account: Self.account.id)
    #expect(name.count == 64 && name.hasSuffix("-lanner01"))
    try IAMName.validateRoleName(name)
  }
}
