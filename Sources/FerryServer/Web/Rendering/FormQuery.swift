import Foundation
import Hummingbird
import HummingbirdCore

extension Request {
  /// The query's parameters as an HTML form sends them (`application/x-www-form-urlencoded`):
  /// `+` is a space, then percent-decoding. The web pages read their GET forms with this;
  /// Hummingbird's `queryParameters` keeps `+` as it is, which the API's clients (the CLI's
  /// URLComponents among them) rely on, so that a `+02:00` offset stays one.
  var formQuery: FlatDictionary<Substring, Substring> {
    guard let query = uri.query, !query.isEmpty else { return [:] }
    func decoded(_ part: Substring) -> Substring {
      let spaced = part.replacingOccurrences(of: "+", with: " ")
      return Substring(spaced.removingPercentEncoding ?? spaced)
    }
    return FlatDictionary(
      query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
        guard let equals = pair.firstIndex(of: "=") else { return (decoded(pair), "") }
        return (decoded(pair[..<equals]), decoded(pair[pair.index(after: equals)...]))
      })
  }
}
