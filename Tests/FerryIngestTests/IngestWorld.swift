import FerryCore
import FerryStore
import FerryTesting

/// Where the ingest tests start: the real embedded store (SQLite in a temporary directory) with one account, a fetch connection
/// on bucket `logs` under `app/`, and one fetcher on it.
struct IngestWorld {
  let store: any Store
  let account: Account
  let connection: Connection
  let fetcher: Fetcher

  init(
    retentionDays: Int = 3650, fetcherName: String = "app", logType: String = "json",
    queueURL: String? = nil, accountName: String = "acme", on given: (any Store)? = nil
  ) async throws {
    let store = try given ?? TestStore.sqlite()
    self.store = store
    account = try await store.createAccount(
      name: accountName, externalIDPrefix: "ferry", retentionDays: retentionDays, actor: "test")
    connection = Connection(
      accountID: account.id, purpose: .fetcher, bucket: "logs", region: "us-east-1",
      prefix: "app/", roleARN: "arn:aws:iam::123456789012:role/r", externalID: account.externalID,
      usesLegacyExternalID: false)
    try await store.addConnection(connection, of: account.id, actor: "test")
    fetcher = Fetcher(
      accountID: account.id, connectionID: connection.id, name: fetcherName, logType: logType,
      queueURL: queueURL)
    try await store.addFetcher(fetcher, of: account.id, actor: "test")
  }
}
