import Foundation
import Testing

@testable import FerryServer

/// The Search page's indented JSON: its pieces put back together are JSONSerialization's
/// own indented text (nothing lost, nothing added), each piece of the right kind.
@Suite("JSON highlight")
struct JSONHighlightTests {
  @Test func piecesAreTheIndentedTextCutByKind() throws {
    let message =
      #"{"level":"warn","status":503,"ok":false,"ratio":-1.5e-3,"user":null,"path":"/a \"b\" <c>","tags":["x","y"],"http":{"ms":12}}"#
    let pieces = try #require(JSONHighlight.pieces(message))
    let object = try JSONSerialization.jsonObject(with: Data(message.utf8))
    let indented = String(
      decoding: try JSONSerialization.data(
        withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]),
      as: UTF8.self)
    #expect(pieces.map(\.text).joined() == indented)
    func kind(of text: String) -> String? { pieces.first { $0.text == text }?.kind }
    #expect(kind(of: "\"level\"") == "k" && kind(of: "\"http\"") == "k")
    #expect(kind(of: "\"warn\"") == "s" && kind(of: #""\/a \"b\" <c>""#) == nil)
    #expect(pieces.contains { $0.kind == "s" && $0.text.contains(#"\"b\""#) })
    #expect(kind(of: "503") == "n" && kind(of: "12") == "n")
    #expect(kind(of: "false") == "l" && kind(of: "null") == "l")
    #expect(JSONHighlight.pieces("plain text line") == nil)
    #expect(JSONHighlight.pieces("{not json") == nil)
  }
}
