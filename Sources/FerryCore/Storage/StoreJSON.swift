import Foundation

/// JSON for audit snapshots, stored records and event fields: one encoding for every
/// backend (keys sorted, so snapshots compare as text).
public enum StoreJSON {
  public static func encode<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
  }

  /// An audit snapshot of a record: as the API spells it (`accountId`, `roleArn`,
  /// `queueUrl`), dates in RFC 3339, keys sorted.
  public static func audit<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    encoder.keyEncodingStrategy = .custom { path in
      APIKey(apiName(path.last?.stringValue ?? ""))
    }
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
  }

  /// A Swift property name as the API spells it: acronyms in camel case (`accountID` is
  /// `accountId`, `fetcherIDs` is `fetcherIds`, `roleARN` is `roleArn`).
  public static func apiName(_ name: String) -> String {
    name.replacingOccurrences(of: "IDs", with: "Ids").replacingOccurrences(of: "ID", with: "Id")
      .replacingOccurrences(of: "ARN", with: "Arn").replacingOccurrences(of: "URL", with: "Url")
  }

  struct APIKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
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
