import Foundation
import Testing

@testable import FerryCore

/// The direct writers of flat JSON objects against Foundation's JSONEncoder (sorted keys,
/// slashes plain), which `StoreJSON.encode` uses: a metric series is found again by this
/// text, so both must write the same bytes.
@Suite("StoreJSON flat objects")
struct StoreJSONObjectTests {
  static let pieces = [
    "a", "B", "_", "z9", "10", "9", "é", "E", "日本", "😀", "/", "\\", "\"", "\n", "\t", "\r",
    "\u{08}", "\u{0C}", "\u{01}", "\u{1F}", "\u{7F}", "\u{2028}", " ", "a/b", "e\u{301}", "",
  ]

  @Test func stringObjectsAreJSONEncodersBytes() {
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<2_000 {
      var members: [String: String] = [:]
      for _ in 0..<Int.random(in: 0...6, using: &generator) {
        let key = (0..<Int.random(in: 1...3, using: &generator)).map { _ in
          Self.pieces.randomElement(using: &generator) ?? "a"
        }.joined()
        let value = (0..<Int.random(in: 0...4, using: &generator)).map { _ in
          Self.pieces.randomElement(using: &generator) ?? "a"
        }.joined()
        members[key] = value
      }
      #expect(StoreJSON.object(members) == StoreJSON.encode(members), "\(members)")
    }
  }

  @Test func numberObjectsReadBackBitForBit() throws {
    var generator = SystemRandomNumberGenerator()
    let specials: [Double] = [0, -0.0, 1, 0.1, 1e-7, 5e-324, 1.7976931348623157e308, 1e21, -2.5]
    for _ in 0..<2_000 {
      var members: [String: Double] = [:]
      for n in 0..<Int.random(in: 0...5, using: &generator) {
        let value =
          n % 2 == 0
          ? Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &generator))
          : specials.randomElement(using: &generator) ?? 0
        guard value.isFinite else { continue }
        members["p\(n)\(Self.pieces.randomElement(using: &generator) ?? "")"] = value
      }
      let text = try #require(StoreJSON.object(members))
      let back = try JSONDecoder().decode([String: Double].self, from: Data(text.utf8))
      #expect(back.mapValues(\.bitPattern) == members.mapValues(\.bitPattern), "\(text)")
    }
    #expect(StoreJSON.object(["p99": .nan]) == nil)
    #expect(StoreJSON.object(["p99": .infinity]) == nil)
  }
}
