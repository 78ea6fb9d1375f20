import FerryCore
import FerryStore
import FerryTesting
import Foundation
import Synchronization
import Testing

/// The runner's undo: a role that takes the generated ID while Ferry checks it and refuses
/// it right after the switch (the customer changed the trust policy in between). That race
/// cannot be staged against the emulator on purpose, so AWS is a small model here: each
/// role accepts a set of external IDs, as a trust policy's `StringEquals` on
/// `sts:ExternalId` does (AWS's documented rule), and the set changes after a given number
/// of AssumeRole calls. The store is the real embedded one (SQLite in a temporary directory).
@Suite("Migration runner: check, switch, undo")
struct MigrationRunnerTests {
  final class TrustModel: RoleAssumer, BucketSession, Sendable {
    struct State {
      var accepted: [String: Set<String>] = [:]
      var calls = 0
      /// After this many AssumeRole calls, `later` replaces `accepted`.
      var changeAfter: Int?
      var later: [String: Set<String>] = [:]
    }
    let state: Mutex<State>

    init(_ accepted: [String: Set<String>]) { state = Mutex(State(accepted: accepted)) }

    func assumeRole(
      roleARN: String, externalID: String, sessionName: String, region: String,
      expectedBucketOwner: String
    ) async throws(AWSFailure) -> any BucketSession {
      let ok = state.withLock { s in
        s.calls += 1
        if let n = s.changeAfter, s.calls > n { s.accepted = s.later }
        return s.accepted[roleARN]?.contains(externalID) == true
      }
      guard ok else {
        throw AWSFailure(
          kind: .service, operation: "STS.AssumeRole", code: "AccessDenied",
          message: "not authorized to perform sts:AssumeRole", statusCode: 403)
      }
      return self
    }
    func listObjects(bucket: String, prefix: String, maxKeys: Int) async throws(AWSFailure)
      -> [ObjectSample]
    { [ObjectSample(key: "app/a.log", size: 3)] }
    func readObject(bucket: String, key: String, maxBytes: Int) async throws(AWSFailure)
      -> ObjectRead
    { ObjectRead(bytes: Array("log".utf8)) }
    func putObject(bucket: String, key: String, body: [UInt8], kmsKeyARN: String?)
      async throws(AWSFailure)
    {}
    func deleteObject(bucket: String, key: String) async throws(AWSFailure) {}
  }

  static let role = "arn:aws:iam::123456789012:role/legacy"
  static let platform = PlatformIdentity(
    accountID: "999900001111", principalARN: "arn:aws:iam::999900001111:role/ferry")

  func world() async throws -> (SQLiteStore, Account, Connection) {
    let store = try TestStore.sqlite()
    let account = try await store.createAccount(
      name: "acme", externalIDPrefix: "ferry", retentionDays: 30, actor: "test")
    let connection = Connection(
      accountID: account.id, purpose: .fetcher, bucket: "acme-logs", region: "us-east-1",
      prefix: "app", roleARN: Self.role, externalID: "acme-chosen", usesLegacyExternalID: true)
    try await store.addConnection(connection, of: account.id, actor: "operator")
    return (store, account, connection)
  }

  @Test func aRoleThatRefusesTheGeneratedIDRightAfterTheSwitchIsUndone() async throws {
    let (store, account, connection) = try await world()
    let aws = TrustModel([Self.role: ["acme-chosen", account.externalID]])
    // The check assumes twice (the generated ID, then a wrong one that must be refused);
    // the third call is the one after the switch, by when the trust has changed.
    aws.state.withLock {
      $0.changeAfter = 2
      $0.later = [Self.role: ["acme-chosen"]]
    }
    let runner = MigrationRunner(store: store, aws: aws, platform: Self.platform)
    do {
      _ = try await runner.apply(role: Self.role, newRoleARN: nil, account: account, actor: "admin")
      Issue.record("the switch should have been undone")
    } catch let failure as MigrationFailure {
      #expect(failure.kind == .rolledBack)
      #expect(failure.cause.contains("undone"))
      #expect(failure.fix.contains(account.externalID))
    }
    let after = try #require(try await store.connection(connection.id, of: account.id))
    #expect(after.usesLegacyExternalID)
    #expect(after.externalID == "acme-chosen")
    #expect(try await store.migrations(of: account.id).isEmpty)
    let actions = try await store.auditLog(of: account.id, limit: 50).map(\.action)
    #expect(actions.contains("connection.migrate"))
    #expect(actions.contains("connection.migrate-revert"))
  }

  @Test func aLegacyConfigurationWhoseRoleChangedTooEarlyIsFixedByTheSwitch() async throws {
    let (store, account, connection) = try await world()
    // The customer put the final policy in place before Ferry switched.
    let aws = TrustModel([Self.role: [account.externalID]])
    let runner = MigrationRunner(store: store, aws: aws, platform: Self.platform)
    let report = try await runner.status(of: account, actor: "admin")
    #expect(report.checked == 1)
    #expect(report.broken.map(\.connection.id) == [connection.id])
    #expect(report.broken.first?.check.diagnosis?.code == "legacy-external-id-refused")
    #expect(report.broken.first?.fix.contains("ferry migrate apply --role \(Self.role)") == true)
    // The fix works: the switch passes its check now, and the status is clean.
    let applied = try await runner.apply(
      role: Self.role, newRoleARN: nil, account: account, actor: "admin")
    #expect(applied.migration.switches.count == 1)
    let clean = try await runner.status(of: account, actor: "admin")
    #expect(clean.broken.isEmpty)
    #expect(clean.migrations.first?.migration.state == .finished)
  }
}
