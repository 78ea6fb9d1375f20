import FerryCore
import FerryTesting
import Foundation
import Testing

@testable import FerryStore

/// Browser sessions on every backend: a session acts as its token until it expires, is
/// ended or its token is revoked; the store never holds the secret itself.
@Suite("Session store")
struct SessionStoreTests {
  typealias Backend = StoreContractTests.Backend

  @Test(arguments: Backend.allCases)
  func sessionActsAsItsTokenUntilEndedExpiredOrRevoked(backend: Backend) async throws {
    let store = try await StoreContractTests.makeStore(backend)
    defer { (store as? PostgresStore)?.close() }
    let account = try await store.createAccount(
      name: "acme", externalIDPrefix: "ferry", retentionDays: 30, actor: "test")
    let other = try await store.createAccount(
      name: "globex", externalIDPrefix: "ferry", retentionDays: 30, actor: "test")
    let admin = try await store.issueToken(
      name: "alice", role: .admin, of: account.id, actor: "test")
    let member = try await store.issueToken(
      name: "bob", role: .member, of: other.id, actor: "test")
    let now = Date()

    let session = try await store.startSession(
      as: admin.token, expiresAt: now.addingTimeInterval(3600), actor: "alice")
    #expect(session.secret.revealed.hasPrefix("frs_"))
    #expect(session.secret.revealed.count == 44)
    let found = try await store.session(secret: session.secret.revealed, at: now)
    #expect(found?.id == admin.token.id)
    #expect(found?.accountID == account.id)
    #expect(found?.role == .admin)
    // The token's own secret is not a session, nor is a near miss.
    #expect(try await store.session(secret: admin.secret.revealed, at: now) == nil)
    #expect(try await store.session(secret: session.secret.revealed + "x", at: now) == nil)
    // Past its expiry it is gone.
    #expect(
      try await store.session(secret: session.secret.revealed, at: now.addingTimeInterval(3601))
        == nil)

    // A second session of another account is independent.
    let second = try await store.startSession(
      as: member.token, expiresAt: now.addingTimeInterval(3600), actor: "bob")
    #expect(try await store.session(secret: second.secret.revealed, at: now)?.accountID == other.id)

    // Signing out ends only that session.
    try await store.endSession(secret: session.secret.revealed)
    #expect(try await store.session(secret: session.secret.revealed, at: now) == nil)
    #expect(try await store.session(secret: second.secret.revealed, at: now) != nil)
    try await store.endSession(secret: "frs_unknown")

    // Revoking the token ends its sessions.
    #expect(try await store.revokeToken(member.token.id, of: other.id, actor: "test"))
    #expect(try await store.session(secret: second.secret.revealed, at: now) == nil)

    // A sign-in is audited under its account, naming the token, never the secret.
    let third = try await store.startSession(
      as: admin.token, expiresAt: now.addingTimeInterval(60), actor: "alice (web)")
    let audit = try await store.auditLog(of: account.id, limit: 50)
    let starts = audit.filter { $0.action == "session.start" }
    #expect(starts.count == 2)
    #expect(starts.allSatisfy { $0.target == admin.token.id })
    let text = audit.map { "\($0)" }.joined()
    #expect(!text.contains(session.secret.revealed) && !text.contains(third.secret.revealed))
  }
}
