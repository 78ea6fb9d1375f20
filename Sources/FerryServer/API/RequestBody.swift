import FerryPolicy
import Foundation
import Hummingbird

/// A request's JSON object, read strictly (line and column on a syntax error) and checked
/// field by field, so each wrong field is named with its fix.
struct RequestBody {
  let fields: [(key: String, value: JSONValue)]
  /// Fields the route knows; any other is refused, so a typo is not silently ignored.
  let known: Set<String>

  static func read(_ request: Request, context: FerryRequestContext, known: Set<String>)
    async throws -> RequestBody
  {
    var request = request
    let buffer = try await request.collectBody(upTo: context.maxUploadSize)
    let data = Data(buffer.readableBytesView)
    if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
      throw APIProblem(
        status: .badRequest, name: "missing-body", title: "The request needs a JSON body",
        detail: "the body is empty", fix: "Send a JSON object with Content-Type: application/json.")
    }
    let value: JSONValue
    do {
      value = try JSONValue.parse(data)
    } catch {
      throw APIProblem.malformedJSON(error)
    }
    guard case .object(let pairs) = value else {
      throw APIProblem(
        status: .badRequest, name: "not-an-object", title: "The body must be a JSON object",
        detail: "the body is a JSON \(value.typeName), not an object",
        fix: "Send one JSON object, e.g. {\"bucket\": \"my-logs\"}.")
    }
    for pair in pairs where !known.contains(pair.key) {
      throw APIProblem.badInput(
        field: pair.key, "is not a field of this request",
        fix: "Known fields: \(known.sorted().joined(separator: ", ")).")
    }
    return RequestBody(fields: pairs, known: known)
  }

  /// A string field; nil when absent or null.
  func string(_ name: String) throws -> String? {
    guard let value = fields.first(where: { $0.key == name })?.value else { return nil }
    switch value {
    case .string(let text): return text
    case .null: return nil
    default:
      throw APIProblem.badInput(
        field: name, "must be a string, not a JSON \(value.typeName)", fix: "Quote the value.")
    }
  }

  func requiredString(_ name: String, example: String) throws -> String {
    guard let value = try string(name), !value.isEmpty else {
      throw APIProblem.badInput(field: name, "is required", fix: "Give \(name), e.g. \(example).")
    }
    return value
  }

  func int(_ name: String, range: ClosedRange<Int>) throws -> Int? {
    guard let value = fields.first(where: { $0.key == name })?.value else { return nil }
    switch value {
    case .null: return nil
    case .number(let number)
    where number.rounded() == number && number >= Double(range.lowerBound)
      && number <= Double(range.upperBound):
      return Int(number)
    default:
      throw APIProblem.badInput(
        field: name, "must be a whole number from \(range.lowerBound) to \(range.upperBound)",
        fix: "Give a whole number in that range.")
    }
  }

  /// An array of strings; nil when absent or null.
  func strings(_ name: String) throws -> [String]? {
    guard let value = fields.first(where: { $0.key == name })?.value else { return nil }
    switch value {
    case .null: return nil
    case .array(let items):
      return try items.map { item in
        guard case .string(let text) = item else {
          throw APIProblem.badInput(
            field: name, "must be an array of strings; one item is a JSON \(item.typeName)",
            fix: "Quote each item, e.g. [\"fet_0123456789abcdef\"].")
        }
        return text
      }
    default:
      throw APIProblem.badInput(
        field: name, "must be an array of strings, not a JSON \(value.typeName)",
        fix: "Give e.g. [\"fet_0123456789abcdef\"].")
    }
  }

  func bool(_ name: String) throws -> Bool? {
    guard let value = fields.first(where: { $0.key == name })?.value else { return nil }
    switch value {
    case .bool(let flag): return flag
    case .null: return nil
    default:
      throw APIProblem.badInput(
        field: name, "must be true or false, not a JSON \(value.typeName)",
        fix: "Use true or false.")
    }
  }
}

extension Request {
  /// A query parameter as an integer within bounds.
  func intQuery(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
    guard let text = uri.queryParameters.get(name) else { return value }
    guard let number = Int(text), range.contains(number) else {
      throw APIProblem.badInput(
        field: name, "\"\(text)\" is not a number from \(range.lowerBound) to \(range.upperBound)",
        fix: "Give a whole number in that range.")
    }
    return number
  }
}
