import FerryAWS
import FerryCore
import Foundation
import Synchronization

/// Who Ferry runs as in AWS: configured by the operator, or asked of STS
/// (`GetCallerIdentity` on Ferry's own credentials) once and then kept.
final class PlatformIdentityResolver: Sendable {
  private let configuredAccount: String?
  private let principalARN: String?
  private let sts: STSClient
  private let known = Mutex<PlatformIdentity?>(nil)
  private let lastError = Mutex<String?>(nil)

  init(configuration: ServerConfiguration, sts: STSClient) {
    configuredAccount = configuration.platformAccountID
    principalARN = configuration.platformPrincipalARN
    self.sts = sts
    if let account = configuration.platformAccountID {
      known.withLock {
        $0 = PlatformIdentity(accountID: account, principalARN: configuration.platformPrincipalARN)
      }
    }
  }

  /// The identity if it is known already.
  var current: PlatformIdentity? { known.withLock { $0 } }
  /// Why the identity could not be learned, if it could not.
  var problem: String? { lastError.withLock { $0 } }

  /// The identity, asking STS if it is not known yet.
  func resolve() async throws(AWSFailure) -> PlatformIdentity {
    if let identity = current { return identity }
    do {
      let me = try await sts.getCallerIdentity()
      let identity = PlatformIdentity(accountID: me.account, principalARN: principalARN)
      known.withLock { $0 = identity }
      lastError.withLock { $0 = nil }
      return identity
    } catch {
      let failure = AWSFailure(error)
      lastError.withLock { $0 = failure.description }
      throw failure
    }
  }

  /// The identity, or the problem a request answers while it is not known.
  func resolveForRequest() async throws(APIProblem) -> PlatformIdentity {
    do {
      return try await resolve()
    } catch {
      throw APIProblem.platformIdentityUnknown(error)
    }
  }
}
