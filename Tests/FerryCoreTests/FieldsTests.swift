import FerryCore
import Foundation
import Testing

/// An event's fields keep the log's order, hold each key once, and compare and encode as
/// the dictionary they stand for.
struct FieldsTests {
  @Test func keepTheOrderTheyWereGivenIn() {
    var fields = Fields()
    fields["zeta"] = "1"
    fields["alpha"] = "2"
    fields["mid"] = "3"
    #expect(fields.keys == ["zeta", "alpha", "mid"])
    #expect(fields.values == ["1", "2", "3"])
    #expect(fields.map(\.key) == ["zeta", "alpha", "mid"])
    #expect(fields.count == 3)
  }

  @Test func eachKeyOnceSettingReplacesInPlaceAndNilRemoves() {
    var fields: Fields = ["a": "1", "b": "2", "c": "3"]
    fields["b"] = "two"
    #expect(fields.keys == ["a", "b", "c"])
    #expect(fields["b"] == "two")
    fields["a"] = nil
    #expect(fields.keys == ["b", "c"])
    #expect(fields["a"] == nil)
    fields["missing"] = nil
    #expect(fields.count == 2)
    // Of a repeated key in a literal or a sequence, the first pair stays.
    let repeated: Fields = ["k": "first", "other": "x", "k": "second"]
    #expect(repeated.count == 2)
    #expect(repeated["k"] == "first")
    let fromPairs = Fields([(key: "k", value: "1"), (key: "k", value: "2")])
    #expect(fromPairs["k"] == "1")
    #expect(fromPairs.count == 1)
  }

  @Test func equalWhenTheyHoldTheSamePairsInAnyOrder() {
    let one: Fields = ["status": "200", "path": "/x"]
    let other: Fields = ["path": "/x", "status": "200"]
    #expect(one == other)
    #expect(one != ["path": "/x", "status": "500"])
    #expect(one != ["path": "/x"])
    #expect(one != ["path": "/x", "status": "200", "extra": ""])
    // Same size, same keys but one, which another key replaces.
    #expect(one != ["path": "/x", "code": "200"])
  }

  @Test func encodeAsAJSONObjectAndDecodeFromOne() throws {
    let fields: Fields = ["b": "2", "a": "1 \"quoted\"", "ü": "ß"]
    let data = try JSONEncoder().encode(fields)
    // Read by Foundation's own parser, not by the type under test.
    let object = try #require(JSONSerialization.jsonObject(with: data) as? [String: String])
    #expect(object == ["b": "2", "a": "1 \"quoted\"", "ü": "ß"])
    let decoded = try JSONDecoder().decode(Fields.self, from: Data(#"{"x":"1","y":"2"}"#.utf8))
    #expect(decoded == ["y": "2", "x": "1"])
    #expect(decoded.dictionary == ["x": "1", "y": "2"])
    #expect(throws: (any Error).self) {
      try JSONDecoder().decode(Fields.self, from: Data(#"{"x":1}"#.utf8))
    }
  }

  @Test func fromADictionaryInKeyOrderSoTheSameDictionaryGivesTheSameFields() {
    let fields = Fields(["c": "3", "a": "1", "b": "2"])
    #expect(fields.keys == ["a", "b", "c"])
    #expect(fields.values == ["1", "2", "3"])
  }
  /// Values given as bytes: kept as they are when ASCII, repaired as Swift's own decoder
  /// repairs invalid UTF-8 (U+FFFD), replaced in place by a later set, and seen as bytes
  /// by the block encoder's walk.
  @Test func valuesGivenAsBytesAreValidTextWhateverTheBytes() {
    var fields = Fields()
    let ascii = Array("GET /index.html 200".utf8)
    let mixed = Array("caf\u{E9} \u{1F600}".utf8)
    let invalid: [UInt8] = [0x61, 0xFF, 0x62, 0xC3]  // a, a stray byte, b, a cut sequence
    ascii.withUnsafeBufferPointer { fields.appendNew("request", utf8: $0) }
    mixed.withUnsafeBufferPointer { fields.appendNew("text", utf8: $0) }
    invalid.withUnsafeBufferPointer { fields.appendNew("bad", utf8: $0) }
    #expect(fields["request"] == "GET /index.html 200")
    #expect(fields["text"] == "caf\u{E9} \u{1F600}")
    #expect(fields["bad"] == "a\u{FFFD}b\u{FFFD}")
    // A set replaces the value and keeps the key's place.
    Array("POST".utf8).withUnsafeBufferPointer { fields.set("request", utf8: $0) }
    Array("new".utf8).withUnsafeBufferPointer { fields.set("added", utf8: $0) }
    #expect(fields.keys == ["request", "text", "bad", "added"])
    #expect(
      fields == [
        "request": "POST", "text": "caf\u{E9} \u{1F600}", "bad": "a\u{FFFD}b\u{FFFD}",
        "added": "new",
      ])
    var walked: [String] = []
    fields.forEachUTF8 { key, value in
      walked.append(key + "=" + String(decoding: value, as: UTF8.self))
    }
    #expect(
      walked == ["request=POST", "text=caf\u{E9} \u{1F600}", "bad=a\u{FFFD}b\u{FFFD}", "added=new"])
    #expect(!fields.containsByte(0))
    fields["bad"] = nil
    fields["text"] = "a\u{0}b"
    #expect(fields.containsByte(0))
    #expect(fields.count == 3)
    var keyed = Fields()
    keyed["k\u{0}"] = "v"
    #expect(keyed.containsByte(0))
  }
}
