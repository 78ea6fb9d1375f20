import FerryCore
import Foundation

/// JSON for audit snapshots and event fields.
enum StoreJSON {
  static func encode<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
  }

  /// A stored record; a body that does not decode is reported as damage, with the table.
  static func decode<T: Decodable>(_ type: T.Type, _ text: String, table: String) throws -> T {
    do {
      return try decoder.decode(type, from: Data(text.utf8))
    } catch {
      throw StoreError.corrupt("a row of \(table) could not be read back (\(error))")
    }
  }

  private static let decoder = JSONDecoder()

  static func decodeFields(_ text: String) -> [String: String] {
    (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:]
  }
}
