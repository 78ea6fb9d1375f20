import FerryCore
import FerryTesting
import Foundation
import Testing

@testable import FerryStore

/// What a migration keeps in the store, on every backend: a role's legacy connections move
/// to the account's generated external ID in one step or not at all, their fetchers stay
/// as they were (cursor and ledger live on the fetcher), the switch is undone exactly,
/// every change is audited, and the only question asked across tenants answers a count.
@Suite("Store contract: migrations")
struct MigrationStoreTests {
  typealias Backend = StoreContractTests.Backend
  static let role = "arn:aws:iam::111122223333:role/legacy-shared"
  static let newRole = "arn:aws:iam::111122223333:role/ferry-own"

  /// A legacy import on the shared role.
  static func legacy(_ account: AccountID, purpose: ConnectionPurpose, id: String) -> Connection {
    Connection(
      accountID: account, purpose: purpose, bucket: "acme-\(purpose.rawValue)",
      region: "us-east-1", prefix: "", roleARN: role, externalID: "acme-chosen-\(id)",
      usesLegacyExternalID: true)
  }

  @Test(arguments: Backend.allCases)
  func aSwitchIsAllOrNothingUndoneExactlyAndAudited(backend: Backend) async throws {
    let t = try await JobsStoreTests().tenant(backend)
    defer { (t.store as? PostgresStore)?.close() }
    let store = t.store
    let a = Self.legacy(t.account, purpose: .fetcher, id: "1")
    let b = Self.legacy(t.account, purpose: .archive, id: "2")
    try await store.addConnection(a, of: t.account, actor: "operator")
    try await store.addConnection(b, of: t.account, actor: "operator")
    // The legacy ID is kept for an import (the generated one otherwise).
    let stored = try #require(try await store.connection(a.id, of: t.account))
    #expect(stored.externalID == "acme-chosen-1" && stored.usesLegacyExternalID)
    let fetcher = Fetcher(
      accountID: t.account, connectionID: a.id, name: "legacy-alb", logType: "alb")
    try await store.addFetcher(fetcher, of: t.account, actor: "admin")

    let other = try await JobsStoreTests().tenant(backend, store: store)
    try await store.addConnection(
      Self.legacy(other.account, purpose: .fetcher, id: "3"), of: other.account, actor: "operator")
    #expect(try await store.accountsUsingRole(Self.role) == 2)
    #expect(try await store.accountsUsingRole("arn:aws:iam::111122223333:role/none") == 0)

    let account = try #require(try await store.account(t.account))
    let switches = [a, b].map {
      ConnectionSwitch(
        connectionID: $0.id, fromRoleARN: Self.role, fromExternalID: $0.externalID,
        toRoleARN: Self.newRole)
    }
    // A switch that names a connection as it no longer is changes nothing.
    var stale = switches
    stale[1].fromExternalID = "something-else"
    let refused = Migration(
      accountID: t.account, procedure: .newRole, roleARN: Self.role, newRoleARN: Self.newRole,
      switches: stale)
    #expect(try await store.recordMigration(refused, of: t.account, actor: "alice") == false)
    #expect(try await store.connection(a.id, of: t.account) == stored)
    #expect(try await store.migrations(of: t.account).isEmpty)
    // Another tenant cannot switch this tenant's connections.
    let mine = Migration(
      accountID: other.account, procedure: .newRole, roleARN: Self.role,
      newRoleARN: Self.newRole, switches: switches)
    #expect(try await store.recordMigration(mine, of: other.account, actor: "mallory") == false)

    #expect(try await store.recordMigration(mine, of: t.account, actor: "alice"))
    for c in [a, b] {
      let now = try #require(try await store.connection(c.id, of: t.account))
      #expect(now.roleARN == Self.newRole)
      #expect(now.externalID == account.externalID && !now.usesLegacyExternalID)
      #expect(now.bucket == c.bucket && now.purpose == c.purpose)
    }
    #expect(try await store.fetchers(of: t.account).map(\.id) == [fetcher.id])
    let recorded = try await store.migrations(of: t.account)
    #expect(recorded.count == 1 && recorded.first?.accountID == t.account)
    #expect(recorded.first?.legacyExternalIDs == ["acme-chosen-1", "acme-chosen-2"])
    #expect(try await store.migrations(of: other.account).isEmpty)
    #expect(try await store.accountsUsingRole(Self.newRole) == 1)
    // The same switch again finds nothing as it was.
    #expect(try await store.recordMigration(mine, of: t.account, actor: "alice") == false)

    // Undone: each connection exactly as it was; the record gone.
    #expect(try await store.revertMigration(mine.id, of: other.account, actor: "x") == false)
    #expect(try await store.revertMigration(mine.id, of: t.account, actor: "alice"))
    #expect(try await store.connection(a.id, of: t.account) == stored)
    #expect(try await store.connection(b.id, of: t.account)?.externalID == "acme-chosen-2")
    #expect(try await store.migrations(of: t.account).isEmpty)

    #expect(try await store.recordMigration(mine, of: t.account, actor: "alice"))
    let at = Date(timeIntervalSince1970: 1_796_000_000)
    #expect(
      try await store.finishMigration(mine.id, of: other.account, at: at, actor: "x") == false)
    #expect(try await store.finishMigration(mine.id, of: t.account, at: at, actor: "alice"))
    let finished = try #require(try await store.migrations(of: t.account).first)
    #expect(finished.state == .finished && finished.finishedAt == at)

    let actions = try await store.auditLog(of: t.account, limit: 50).map(\.action)
    #expect(actions.filter { $0 == "connection.migrate" }.count == 4)
    #expect(actions.filter { $0 == "connection.migrate-revert" }.count == 2)
    for action in ["migration.apply", "migration.revert", "migration.finish"] {
      #expect(actions.contains(action), "\(actions)")
    }
    #expect(
      try await store.auditLog(of: other.account, limit: 50).allSatisfy {
        !$0.action.hasPrefix("migration")
      })
  }
}
