import FerryCore

extension AccountStore {
  /// An account for a test: Ferry's default external ID prefix and 30 days of retention.
  func testAccount(_ name: String) async throws -> Account {
    try await createAccount(name: name, externalIDPrefix: "ferry", retentionDays: 30, actor: "test")
  }
}
