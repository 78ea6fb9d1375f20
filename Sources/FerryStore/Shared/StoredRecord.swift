import FerryCore
import Foundation

/// What fetchers and archives have in common in storage: a name unique in the account and
/// a connection.
protocol NamedRecord: StoredRecord {
  var id: String { get }
  var accountID: AccountID { get }
  var connectionID: String { get }
  var name: String { get }
  var createdAt: Date { get }
}

/// A record kept as JSON in the `body` column of its table.
protocol StoredRecord: Codable, Sendable {
  static var table: String { get }
}

extension Fetcher: NamedRecord { static var table: String { "fetchers" } }
extension Archive: NamedRecord { static var table: String { "archives" } }
extension RestoreJob: StoredRecord { static var table: String { "restore_jobs" } }

/// Fetchers, archives and restore jobs. Each row keeps its record as JSON beside the
/// columns queries need (account, connection, name, state).
