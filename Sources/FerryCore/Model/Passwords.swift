import Crypto
import FerryPolicy
import Foundation
import _CryptoExtras

/// Users' passwords as the store keeps them: scrypt (N=2^15, r=8, p=1: 32 MiB and about a
/// tenth of a second per guess), a 16-byte random salt, in one self-describing text,
/// `scrypt$15$8$1$SALT$HASH` (base64). Never the password itself.
public enum PasswordHash {
  /// Why a new password is refused, if it is.
  public static func problem(_ password: String) -> InputError? {
    guard (12...256).contains(password.count) else {
      return InputError(
        field: "password", problem: "must be 12 to 256 characters long",
        fix: "Choose a longer password; a few unrelated words make a good one.")
    }
    guard !password.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
    else {
      return InputError(
        field: "password", problem: "must not contain control characters",
        fix: "Use letters, digits, spaces and punctuation.")
    }
    return nil
  }

  /// The stored form of `password`, with a new salt.
  public static func make(_ password: String) throws -> String {
    var salt = [UInt8](repeating: 0, count: 16)
    var generator = SystemRandomNumberGenerator()
    for i in salt.indices { salt[i] = UInt8.random(in: 0...255, using: &generator) }
    let hash = try derive(password, salt: salt, logRounds: 15, blockSize: 8, parallelism: 1)
    return "scrypt$15$8$1$\(Data(salt).base64EncodedString())$\(Data(hash).base64EncodedString())"
  }

  /// True when `password` is the one `stored` was made from. A malformed stored value never
  /// verifies.
  public static func verify(_ password: String, against stored: String) -> Bool {
    let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
    guard parts.count == 6, parts[0] == "scrypt", let logRounds = Int(parts[1]),
      let blockSize = Int(parts[2]), let parallelism = Int(parts[3]),
      (10...20).contains(logRounds), (1...16).contains(blockSize), (1...4).contains(parallelism),
      let salt = Data(base64Encoded: String(parts[4])),
      let expected = Data(base64Encoded: String(parts[5])), expected.count == 32,
      let actual = try? derive(
        password, salt: Array(salt), logRounds: logRounds, blockSize: blockSize,
        parallelism: parallelism)
    else { return false }
    var difference: UInt8 = 0
    for (a, b) in zip(actual, expected) { difference |= a ^ b }
    return difference == 0
  }

  static func derive(
    _ password: String, salt: [UInt8], logRounds: Int, blockSize: Int, parallelism: Int
  ) throws -> [UInt8] {
    let key = try KDF.Scrypt.deriveKey(
      from: Array(password.utf8), salt: salt, outputByteCount: 32, rounds: 1 << logRounds,
      blockSize: blockSize, parallelism: parallelism)
    return key.withUnsafeBytes { Array($0) }
  }
}

/// Who a browser session acts as: an API token, or a user who signed in with a password
/// (with the user's role; users are never operators).
public enum SessionPrincipal: Sendable, Equatable {
  case token(APIToken)
  case user(User)

  public var accountID: AccountID {
    switch self {
    case .token(let token): token.accountID
    case .user(let user): user.accountID
    }
  }

  /// `token` or `user`, as the store records it.
  public var kind: String {
    switch self {
    case .token: "token"
    case .user: "user"
    }
  }

  public var id: String {
    switch self {
    case .token(let token): token.id
    case .user(let user): user.id
    }
  }
}
