import Foundation
import Testing

@testable import FerryIngest

/// The scanner reads strings and containers 8 bytes at a time, so every quote, backslash
/// and bracket must be found wherever it falls in a word. Objects written by Foundation's
/// JSONSerialization (an independent writer) are read at every alignment and must give
/// back what JSONSerialization reads in them.
@Suite("JSON scanner: strings and containers read a word at a time")
struct JSONScannerTests {
  /// Texts with the bytes the scanner looks for at many places: quotes and backslashes
  /// (escaped by the writer), brackets inside strings, and non-ASCII text.
  static let texts = [
    "", "a", "\"", "\\", "\\\"", "ab\"cd", "abcdefg\"", "abcdefgh\\", "{[}]", "a{b[c]d}e",
    "say \"hi\" {not} [json]", "ünïcödé \"quoted\"", "tab\tand\nnewline", "12345678\"12345678",
    String(repeating: "x", count: 31) + "\\" + String(repeating: "y", count: 17),
  ]

  static func object(_ seed: Int) -> [String: Any] {
    var object: [String: Any] = [:]
    for (i, text) in texts.enumerated() {
      let n = (i + seed) % texts.count
      object["k\(i)\(texts[n])"] = texts[(n + 3) % texts.count]
    }
    object["nested"] =
      ["a": texts[seed % texts.count], "b": [1, [2, "]"], ["x": "}"]]] as [String: Any]
    object["list"] = texts
    object["number"] = -12.5
    object["flag"] = true
    return object
  }

  @Test func objectsAreReadWholeAtEveryAlignment() throws {
    for seed in 0..<8 {
      let expected = Self.object(seed)
      let json = [UInt8](try JSONSerialization.data(withJSONObject: expected))
      for padding in 0..<16 {
        // The object at `padding` bytes into the buffer, followed by more bytes.
        let buffer = [UInt8](repeating: 0x20, count: padding) + json + Array(#",{"next":1}"#.utf8)
        try buffer.withUnsafeBufferPointer { all in
          let bytes = UnsafeBufferPointer(rebasing: all[padding...])
          var strings: [String: String] = [:]
          var kinds: [String: JSONScanner.Kind] = [:]
          let end = JSONScanner.objectEnd(bytes) { key, kind, value in
            let name = JSONScanner.decodeString(bytes, key)
            kinds[name] = kind
            if kind == .string { strings[name] = JSONScanner.decodeString(bytes, value) }
            if kind == .object || kind == .array {
              // A container's bytes are the whole value: JSONSerialization reads it back.
              let inner = Data(UnsafeBufferPointer(rebasing: bytes[value]))
              #expect(
                (try? JSONSerialization.jsonObject(with: inner)) != nil, "\(name) at \(padding)")
            }
          }
          #expect(end == json.count, "seed \(seed), padding \(padding)")
          #expect(Set(kinds.keys) == Set(expected.keys))
          for (key, value) in expected {
            if let text = value as? String {
              #expect(strings[key] == text, "\(key) at \(padding)")
            }
          }
          #expect(kinds["nested"] == .object && kinds["list"] == .array)
          #expect(kinds["number"] == .number && kinds["flag"] == .literal)
        }
      }
    }
  }

  /// The end of a string, from every start, agrees with reading one byte at a time.
  @Test func aStringEndsWhereReadingByteByByteEndsIt() {
    let text = Array(#"ab\"cdefgh\\"ijklmnop\\\"qrstuvwx"yz"\"#.utf8)
    func byteByByte(_ from: Int) -> Int? {
      var i = from
      while i < text.count {
        if text[i] == UInt8(ascii: "\\") {
          i += 2
        } else if text[i] == UInt8(ascii: "\"") {
          return i
        } else {
          i += 1
        }
      }
      return nil
    }
    text.withUnsafeBufferPointer { bytes in
      for from in 0...text.count {
        #expect(JSONScanner.stringEnd(bytes, from) == byteByByte(from), "from \(from)")
      }
      #expect(JSONScanner.hasBackslash(bytes))
      #expect(!JSONScanner.hasBackslash(UnsafeBufferPointer(rebasing: bytes[..<2])))
    }
  }

  /// An object cut anywhere is not a whole object.
  @Test func anObjectCutShortHasNoEnd() throws {
    let json = [UInt8](try JSONSerialization.data(withJSONObject: Self.object(1)))
    json.withUnsafeBufferPointer { all in
      for cut in 0..<json.count {
        #expect(
          JSONScanner.objectEnd(UnsafeBufferPointer(rebasing: all[..<cut])) { _, _, _ in } == nil)
      }
    }
  }
}
