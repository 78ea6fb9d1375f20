import FerryPolicy
import Foundation
import Hummingbird

/// A posted HTML form (`application/x-www-form-urlencoded`), and its fields as the
/// ``RequestBody`` the API's actions read, so a form and a JSON request are checked by the
/// same code.
struct WebForm: Sendable {
  var pairs: [(name: String, value: String)]

  init(pairs: [(name: String, value: String)]) { self.pairs = pairs }

  /// Parses `a=1&b=two+words`; a malformed escape keeps the raw text.
  init(encoded text: String) {
    pairs = text.split(separator: "&").map { part in
      let halves = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      func decode(_ s: Substring) -> String {
        let spaced = s.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
      }
      return (decode(halves[0]), halves.count > 1 ? decode(halves[1]) : "")
    }
  }

  static func read(_ request: Request, context: FerryRequestContext) async throws -> WebForm {
    var request = request
    let buffer = try await request.collectBody(upTo: context.maxUploadSize)
    return WebForm(encoded: String(buffer: buffer))
  }

  /// A field's value, trimmed; nil when absent or blank.
  func value(_ name: String) -> String? {
    guard let raw = pairs.first(where: { $0.name == name })?.value else { return nil }
    let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
    return trimmed.isEmpty ? nil : trimmed
  }

  /// The known, non-blank fields as a request body (form fields are always strings).
  func body(known: Set<String>) -> RequestBody {
    var fields: [(key: String, value: JSONValue)] = []
    for name in known.sorted() {
      if let value = value(name) { fields.append((name, .string(value))) }
    }
    return RequestBody(fields: fields, known: known)
  }

  /// Every field but the CSRF token, to put back into a form shown again.
  var values: [String: String] {
    var values: [String: String] = [:]
    for pair in pairs where pair.name != CSRF.field { values[pair.name] = pair.value }
    return values
  }
}
