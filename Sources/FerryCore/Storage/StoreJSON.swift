import Foundation

/// JSON for audit snapshots, stored records and event fields: one encoding for every
/// backend (keys sorted, so snapshots compare as text).
public enum StoreJSON {
  public static func encode<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
  }

  /// A stored record; a body that does not decode is reported as damage, with the table.
  public static func decode<T: Decodable>(_ type: T.Type, _ text: String, table: String) throws -> T
  {
    do {
      return try decoder.decode(type, from: Data(text.utf8))
    } catch {
      throw StoreError.corrupt("a row of \(table) could not be read back (\(error))")
    }
  }

  private static let decoder = JSONDecoder()

  public static func decodeFields(_ text: String) -> Fields {
    (try? JSONDecoder().decode(Fields.self, from: Data(text.utf8))) ?? [:]
  }
}
