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
    let account = try await store.testAccount("acme")
    let other = try await store.testAccount("globex")
    let admin = try await store.issueToken(
      name: "alice", role: .admin, of: account.id, actor: "test")
    let member = try await store.issueToken(
      name: "bob", role: .member, of: other.id, actor: "test")
    let now = Date()

    let session = try await store.startSession(
      as: .token(admin.token), expiresAt: now.addingTimeInterval(3600), actor: "alice")
    #expect(session.secret.revealed.hasPrefix("frs_"))
    #expect(session.secret.revealed.count == 44)
    let found = try await store.session(secret: session.secret.revealed, at: now)
    #expect(found?.kind == "token" && found?.id == admin.token.id)
    #expect(found?.accountID == account.id)
    // The token's own secret is not a session, nor is a near miss.
    #expect(try await store.session(secret: admin.secret.revealed, at: now) == nil)
    #expect(try await store.session(secret: session.secret.revealed + "x", at: now) == nil)
    // Past its expiry it is gone.
    #expect(
      try await store.session(secret: session.secret.revealed, at: now.addingTimeInterval(3601))
        == nil)

    // A second session of another account is independent.
    let second = try await store.startSession(
      as: .token(member.token), expiresAt: now.addingTimeInterval(3600), actor: "bob")
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
      as: .token(admin.token), expiresAt: now.addingTimeInterval(60), actor: "alice (web)")
    let audit = try await store.auditLog(of: account.id, limit: 50)
    let starts = audit.filter { $0.action == "session.start" }
    #expect(starts.count == 2)
    #expect(starts.allSatisfy { $0.target == admin.token.id })
    let text = audit.map { "\($0)" }.joined()
    #expect(!text.contains(session.secret.revealed) && !text.contains(third.secret.revealed))
  }

  /// A user chooses a password through a one-time invitation, then signs in with it; the
  /// session acts as the user. Invitations expire, work once, and stay in their account.
  @Test(arguments: Backend.allCases)
  func invitationsSetPasswordsOnceAndUserSessionsActAsTheUser(backend: Backend) async throws {
    let store = try await StoreContractTests.makeStore(backend)
    defer { (store as? PostgresStore)?.close() }
    let account = try await store.testAccount("acme")
    let other = try await store.testAccount("globex")
    let alice = User(accountID: account.id, email: "Alice@Example.com", role: .member)
    try await store.addUser(alice, actor: "test")
    let now = Date()

    // Another account cannot invite alice; an unknown user gets no invitation.
    #expect(
      try await store.inviteUser(alice.id, of: other.id, expiresAt: now + 60, actor: "x") == nil)
    #expect(
      try await store.inviteUser("user_nobody", of: account.id, expiresAt: now + 60, actor: "x")
        == nil)
    #expect(try await store.passwordUsers(email: "alice@example.com").isEmpty)

    let first = try #require(
      try await store.inviteUser(alice.id, of: account.id, expiresAt: now + 60, actor: "admin"))
    #expect(first.revealed.hasPrefix("fri_") && first.revealed.count == 44)
    // A newer invitation replaces the first.
    let second = try #require(
      try await store.inviteUser(alice.id, of: account.id, expiresAt: now + 60, actor: "admin"))
    #expect(
      try await store.acceptInvitation(secret: first.revealed, passwordHash: "h1", at: now) == nil)
    // Past its expiry it does nothing.
    #expect(
      try await store.acceptInvitation(secret: second.revealed, passwordHash: "h1", at: now + 61)
        == nil)
    let accepted = try await store.acceptInvitation(
      secret: second.revealed, passwordHash: "scrypt$hash", at: now)
    #expect(accepted?.id == alice.id && accepted?.email == alice.email)
    // Used once only.
    #expect(
      try await store.acceptInvitation(secret: second.revealed, passwordHash: "h2", at: now)
        == nil)

    // Found by email in any case, with the stored hash.
    let found = try await store.passwordUsers(email: "ALICE@example.com")
    #expect(found.count == 1)
    #expect(found.first?.user.id == alice.id && found.first?.passwordHash == "scrypt$hash")

    let session = try await store.startSession(
      as: .user(alice), expiresAt: now + 3600, actor: "alice")
    let signedIn = try await store.session(secret: session.secret.revealed, at: now)
    #expect(signedIn?.kind == "user" && signedIn?.id == alice.id)
    #expect(signedIn?.accountID == account.id)
    try await store.endSession(secret: session.secret.revealed)
    #expect(try await store.session(secret: session.secret.revealed, at: now) == nil)

    let actions = try await store.auditLog(of: account.id, limit: 50).map(\.action)
    #expect(actions.filter { $0 == "user.invite" }.count == 2)
    #expect(actions.contains("user.set-password") && actions.contains("session.start"))
    #expect(
      !(try await store.auditLog(of: other.id, limit: 50)).contains { $0.action == "user.invite" })
  }

  @Test(arguments: Backend.allCases)
  func usersCanBeDisabledDemotedAndRemovedButTheLastAdminStays(backend: Backend) async throws {
    let store = try await StoreContractTests.makeStore(backend)
    defer { (store as? PostgresStore)?.close() }
    let account = try await store.testAccount("lifecycle")
    let other = try await store.testAccount("elsewhere")
    let now = Date()
    /// A user with a password, set the way an invitation sets it.
    func user(_ email: String, _ role: Role) async throws -> User {
      let user = User(accountID: account.id, email: email, role: role)
      try await store.addUser(user, actor: "test")
      let invitation = try #require(
        try await store.inviteUser(
          user.id, of: account.id, expiresAt: now.addingTimeInterval(600), actor: "test"))
      _ = try await store.acceptInvitation(
        secret: invitation.revealed, passwordHash: "scrypt$test$\(email)", at: now)
      return user
    }
    let ada = try await user("ada@example.com", .admin)
    let bob = try await user("bob@example.com", .member)
    let session = try await store.startSession(
      as: .user(bob), expiresAt: now.addingTimeInterval(3600), actor: "bob")
    #expect(try await store.session(secret: session.secret.revealed, at: now) != nil)

    // Disabled: no sign-in, no session, no invitation; the change is audited.
    let disabled = try #require(
      try await store.updateUser(bob.id, of: account.id, role: nil, disabled: true, actor: "ada"))
    #expect(disabled.disabled && disabled.role == .member)
    #expect(try await store.session(secret: session.secret.revealed, at: now) == nil)
    #expect(try await store.passwordUsers(email: bob.email).isEmpty)
    #expect(try await store.users(of: account.id).first { $0.id == bob.id }?.disabled == true)
    let audit = try await store.auditLog(of: account.id, limit: 5)
    #expect(audit.first?.action == "user.update" && audit.first?.actor == "ada")
    #expect(
      audit.first?.after?.contains("\"disabled\":true") == true, "\(audit.first?.after ?? "")")
    // Enabled again, promoted: Bob signs in again, as an admin.
    let back = try #require(
      try await store.updateUser(
        bob.id, of: account.id, role: .admin, disabled: false, actor: "ada"))
    #expect(!back.disabled && back.role == .admin)
    #expect(try await store.passwordUsers(email: bob.email).map(\.user.role) == [.admin])
    // Not through another account.
    #expect(
      try await store.updateUser(bob.id, of: other.id, role: .member, disabled: nil, actor: "x")
        == nil)
    #expect(try await store.removeUser(bob.id, of: other.id, actor: "x") == false)

    // Two admins with passwords: one may go; the last one may be neither demoted, disabled
    // nor removed (the account has no admin token).
    #expect(try await store.removeUser(ada.id, of: account.id, actor: "bob"))
    #expect(try await store.users(of: account.id).map(\.email) == [bob.email])
    for change in [(Role.member, nil), (nil, true)] as [(Role?, Bool?)] {
      await #expect {
        try await store.updateUser(
          bob.id, of: account.id, role: change.0, disabled: change.1, actor: "bob")
      } throws: { error in
        "\(error)".contains("last admin credential")
      }
    }
    await #expect(throws: StoreError.self) {
      try await store.removeUser(bob.id, of: account.id, actor: "bob")
    }
    // With an admin token, the user may go.
    _ = try await store.issueToken(name: "ops", role: .admin, of: account.id, actor: "test")
    #expect(try await store.removeUser(bob.id, of: account.id, actor: "ops"))
    #expect(
      try await store.auditLog(of: account.id, limit: 3).contains { $0.action == "user.remove" })
  }
}
