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

extension StoreJSON {
  /// A flat object of strings, as `encode` writes it (keys sorted by code point, slashes
  /// plain, `"`, `\` and control characters escaped), written directly: metric series are
  /// compared by this text, once per series in every delivery.
  public static func object(_ members: [String: String]) -> String {
    var out: [UInt8] = [UInt8(ascii: "{")]
    out.reserveCapacity(2 + members.count * 24)
    for (n, member) in sortedByCodePoint(members).enumerated() {
      if n > 0 { out.append(UInt8(ascii: ",")) }
      appendString(member.key, to: &out)
      out.append(UInt8(ascii: ":"))
      appendString(member.value, to: &out)
    }
    out.append(UInt8(ascii: "}"))
    return String(decoding: out, as: UTF8.self)
  }

  /// A flat object of finite numbers, keys sorted, each number in the shortest form that
  /// reads back to the same Double (`encode` spells some differently, `1` for `1.0`; both
  /// read back the same). Nil if a number is not finite (JSON has no such number).
  public static func object(_ members: [String: Double]) -> String? {
    var out = "{"
    for (n, member) in sortedByCodePoint(members).enumerated() {
      guard member.value.isFinite else { return nil }
      if n > 0 { out += "," }
      var key: [UInt8] = []
      appendString(member.key, to: &key)
      out += String(decoding: key, as: UTF8.self) + ":" + member.value.description
    }
    return out + "}"
  }

  static func sortedByCodePoint<Value>(_ members: [String: Value]) -> [(key: String, value: Value)]
  {
    members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
  }

  static func appendString(_ text: String, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
      case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
      case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
      case 0x0C: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
      case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
      case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
      case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
      case 0..<0x20:
        let hex = Array("0123456789abcdef".utf8)
        out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
      default: out.append(byte)
      }
    }
    out.append(UInt8(ascii: "\""))
  }
}
