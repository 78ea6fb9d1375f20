import FerryCore
import FerryTesting

/// Where the ingest tests start: an in-memory store with one account, a fetch connection
/// on bucket `logs` under `app/`, and one fetcher on it.
struct IngestWorld {
  let store = InMemoryStore()
  let account: Account
  let connection: Connection
  let fetcher: Fetcher

  init(
    retentionDays: Int = 3650, fetcherName: String = "app", logType: String = "json",
    queueURL: String? = nil
  ) async throws {
    account = try await store.createAccount(
      name: "acme", externalIDPrefix: "ferry", retentionDays: retentionDays, actor: "test")
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
