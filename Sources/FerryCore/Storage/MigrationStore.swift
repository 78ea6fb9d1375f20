import Foundation

/// Migrations to the generated external ID: who uses a role, and the one-step switch of a
/// role's configurations.
public protocol MigrationStore: Sendable {
  /// How many Ferry accounts have a connection on `roleARN`, this one included. The only
  /// question asked across tenants, and it answers a count, never who they are.
  func accountsUsingRole(_ roleARN: String) async throws -> Int

  /// In one transaction: every switched connection of `account` must still use exactly its
  /// `from` role and legacy external ID (else nothing changes and the answer is false);
  /// each then uses its `to` role with the account's generated external ID, whatever the
  /// record says, no longer flagged legacy; its fetchers and archives (cursors, ledgers,
  /// watermarks) are untouched. The migration is recorded and the change audited.
  func recordMigration(_ migration: Migration, of account: AccountID, actor: String)
    async throws -> Bool

  /// Puts a migration's connections back on their role and legacy ID and deletes its
  /// record (audited): the undo when a check after the switch fails. False if there is no
  /// such migration or a connection has changed since.
  func revertMigration(_ id: String, of account: AccountID, actor: String) async throws -> Bool

  /// The account's migrations, newest first.
  func migrations(of account: AccountID) async throws -> [Migration]

  /// Marks a migration finished: the legacy ID was refused (audited). False if there is no
  /// such migration.
  func finishMigration(_ id: String, of account: AccountID, at: Date, actor: String)
    async throws -> Bool
}
