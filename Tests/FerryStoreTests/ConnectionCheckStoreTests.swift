import FerryCore
import FerryTesting
import Foundation
import Testing

@testable import FerryStore

/// The store's part of `ferry serve`: a connection keeps its bucket owner and KMS key, its
/// latest check is recorded per account, operators' tokens say so; on every backend.
@Suite("Store contract: connections' checks, owners and operators")
struct ConnectionCheckStoreTests {
  typealias Backend = StoreContractTests.Backend

  func connection(_ account: Account, owner: String = "", key: String? = nil) -> Connection {
    Connection(
      accountID: account.id, purpose: .fetcher, bucket: "logs", region: "eu-west-1",
      prefix: "app/", roleARN: "arn:aws:iam::222233334444:role/ferry", externalID: "chosen",
      usesLegacyExternalID: false, bucketOwner: owner, kmsKeyARN: key)
  }

  func check(_ id: String, failing: Bool) -> ConnectionCheck {
    ConnectionCheck(
      connectionID: id, checkedAt: Date(timeIntervalSince1970: 1_764_000_000),
      steps: [CheckStep(name: .assumeRole, status: failing ? .failed : .passed, detail: "d")],
      diagnosis: failing
        ? Diagnosis(
          code: "assume-role-denied", step: .assumeRole,
          awsError: AWSFailure(
            kind: .service, operation: "STS.AssumeRole", code: "AccessDenied", message: "no",
            requestID: "r-1", statusCode: 403),
          cause: "c", fix: "f", otherCauses: ["x"]) : nil)
  }

  @Test(arguments: Backend.allCases)
  func aConnectionKeepsItsOwnerAndKeyAndAlwaysTheAccountsExternalID(backend: Backend)
    async throws
  {
    let store = try await StoreContractTests.makeStore(backend)
    defer { (store as? PostgresStore)?.close() }
    let account = try await store.testAccount("Acme")
    let key = "arn:aws:kms:eu-west-1:222233334444:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    let c = connection(account, owner: "333344445555", key: key)
    try await store.addConnection(c, of: account.id, actor: "t")
    let stored = try #require(try await store.connection(c.id, of: account.id))
    #expect(stored.bucketOwner == "333344445555")
    #expect(stored.kmsKeyARN == key)
    // The record asked for "chosen"; a non-legacy connection takes the account's ID.
    #expect(stored.externalID == account.externalID)
  }

  @Test(arguments: Backend.allCases)
  func theLatestCheckIsKeptPerConnectionAndNeverAcrossAccounts(backend: Backend) async throws {
    let store = try await StoreContractTests.makeStore(backend)
    defer { (store as? PostgresStore)?.close() }
    let a = try await store.testAccount("A")
    let b = try await store.testAccount("B")
    let c = connection(a)
    try await store.addConnection(c, of: a.id, actor: "t")
    #expect(try await store.connectionStatuses(of: a.id).isEmpty)
    #expect(try await store.recordConnectionCheck(check(c.id, failing: false), of: a.id))
    let failing = check(c.id, failing: true)
    #expect(try await store.recordConnectionCheck(failing, of: a.id))
    let statuses = try await store.connectionStatuses(of: a.id)
    #expect(statuses.count == 1)
    #expect(statuses.first?.state == .failing)
    #expect(statuses.first?.lastCheck == failing)
    // Another account can neither record a check on it nor see it.
    #expect(try await store.recordConnectionCheck(check(c.id, failing: false), of: b.id) == false)
    #expect(try await store.connectionStatuses(of: b.id).isEmpty)
    #expect(try await store.connection(c.id, of: b.id) == nil)
    // Removing the connection removes its checks; checks are not audited.
    #expect(
      !(try await store.auditLog(of: a.id, limit: 50)).contains { $0.action.contains("check") })
    #expect(try await store.removeConnection(c.id, of: a.id, actor: "t"))
    #expect(try await store.connectionStatuses(of: a.id).isEmpty)
  }

  @Test(arguments: Backend.allCases)
  func operatorTokensSaySoAndMembersAreMembers(backend: Backend) async throws {
    let store = try await StoreContractTests.makeStore(backend)
    defer { (store as? PostgresStore)?.close() }
    let a = try await store.testAccount("A")
    let op = try await store.issueToken(
      name: "op", role: .admin, isOperator: true, of: a.id, actor: "t")
    let member = try await store.issueToken(name: "m", role: .member, of: a.id, actor: "t")
    #expect(try await store.authenticate(tokenSecret: op.secret.revealed)?.isOperator == true)
    let found = try await store.authenticate(tokenSecret: member.secret.revealed)
    #expect(found?.isOperator == false)
    #expect(found?.role == .member)
  }
}
