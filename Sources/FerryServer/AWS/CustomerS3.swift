import FerryAWS
import FerryAWSSigning
import FerryCore
import Foundation

/// S3 in a customer's account through a connection's role, for work that outlasts one
/// session (a fetcher's pass, an archive's flush): assumed with the owning account's
/// external ID, refreshed before it expires, every call sending
/// `x-amz-expected-bucket-owner`.
enum CustomerS3 {
  /// The account that owns a connection, or why it cannot be had (as the failure of a call,
  /// so the schedulers record it like one).
  static func owner(of connection: Connection, in store: any Store) async throws(AWSFailure)
    -> Account
  {
    let account: Account?
    do {
      account = try await store.account(connection.accountID)
    } catch {
      throw AWSFailure(
        kind: .unreachable, operation: "Store", message: "the store is unavailable: \(error)")
    }
    guard let account else {
      throw AWSFailure(
        kind: .invalidInput, operation: "Store",
        message: "the connection's account \(connection.accountID.rawValue) no longer exists")
    }
    return account
  }

  /// Assumes the role once (so a broken role is reported at once), then keeps its
  /// credentials fresh.
  static func open(
    _ connection: Connection, account: Account, client: AWSClient,
    platformCredentials: any CredentialProvider
  ) async throws(AWSFailure) -> S3Client {
    s3(
      connection,
      credentials: try await roleCredentials(
        connection, account: account, client: client, platformCredentials: platformCredentials),
      client: client)
  }

  /// S3 in the connection's region with the role's credentials, every call sending the
  /// expected bucket owner.
  static func s3(_ connection: Connection, credentials: any CredentialProvider, client: AWSClient)
    -> S3Client
  {
    S3Client(
      client: client, credentials: credentials, region: connection.region,
      expectedBucketOwner: connection.bucketOwner)
  }

  /// The connection's role's credentials, assumed once now (so a broken role is reported
  /// at once) and refreshed before they expire.
  static func roleCredentials(
    _ connection: Connection, account: Account, client: AWSClient,
    platformCredentials: any CredentialProvider
  ) async throws(AWSFailure) -> any CredentialProvider {
    // The external ID is always the owning account's (a legacy import keeps its own).
    let externalID = connection.usesLegacyExternalID ? connection.externalID : account.externalID
    let sts = STSClient(client: client, credentials: platformCredentials)
    let session = ConnectionVerifier.sessionName(for: account)
    let assume: RefreshingCredentialProvider.Source = { () async throws(AWSError) in
      try await sts.assumeRole(
        roleARN: connection.roleARN, sessionName: session, externalID: externalID,
        durationSeconds: 3600
      ).credentials
    }
    let credentials = RefreshingCredentialProvider(assume)
    do {
      _ = try await credentials.credentials()
    } catch {
      throw AWSFailure(error)
    }
    return credentials
  }
}
