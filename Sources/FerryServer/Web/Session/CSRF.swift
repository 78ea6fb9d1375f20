import Crypto
import FerryCore
import Foundation

/// Cross-site request forgery tokens. Signed in, a form's token is derived from the
/// session's secret (which only the browser's HttpOnly cookie holds), so no store is
/// needed and a page from another site cannot know it. Before sign-in, the sign-in form
/// carries the value of a random cookie (double submit).
enum CSRF {
  /// The form field every web form posts.
  static let field = "csrf"

  /// The token of a session.
  static func token(forSession secret: String) -> String {
    SHA256.hash(data: Data("ferry-csrf\u{0}\(secret)".utf8)).prefix(20)
      .map { String(format: "%02x", $0) }.joined()
  }

  /// A fresh value for the sign-in cookie.
  static func newSignInValue() -> String { RandomText.alphanumeric(32) }

  /// Compares in time independent of where the strings differ.
  static func matches(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    guard x.count == y.count, !x.isEmpty else { return false }
    var difference: UInt8 = 0
    for i in x.indices { difference |= x[i] ^ y[i] }
    return difference == 0
  }
}
