import Foundation

/// A JSON message indented for reading, cut into pieces by kind (key, string, number,
/// literal, punctuation) so that the page colours them with CSS. The pieces are text: the
/// template escapes each, so nothing of the message can become markup.
enum JSONHighlight {
  struct Piece {
    var kind: String
    var text: String
  }

  /// The pieces of `message` indented (keys sorted), or nil when it is not a JSON object
  /// or array, or is larger than `limit` bytes (shown as it is, then).
  static func pieces(_ message: String, limit: Int = 64 * 1024) -> [Piece]? {
    guard message.utf8.count <= limit, let first = message.first(where: { !$0.isWhitespace }),
      first == "{" || first == "[",
      let object = try? JSONSerialization.jsonObject(with: Data(message.utf8)),
      let data = try? JSONSerialization.data(
        withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    else { return nil }
    return split(Array(String(decoding: data, as: UTF8.self).unicodeScalars))
  }

  static func split(_ text: [Unicode.Scalar]) -> [Piece] {
    var pieces: [Piece] = []
    var i = 0
    func add(_ kind: String, _ start: Int, _ end: Int) {
      var s = String.UnicodeScalarView()
      s.append(contentsOf: text[start..<end])
      let piece = String(s)
      if let last = pieces.last, last.kind == kind, kind == "p" {
        pieces[pieces.count - 1].text += piece
      } else {
        pieces.append(Piece(kind: kind, text: piece))
      }
    }
    while i < text.count {
      let c = text[i]
      let start = i
      if c == "\"" {
        i += 1
        while i < text.count, text[i] != "\"" {
          i += text[i] == "\\" ? 2 : 1
        }
        i = min(i + 1, text.count)
        // A key is a string followed by a colon.
        var j = i
        while j < text.count, text[j] == " " { j += 1 }
        add(j < text.count && text[j] == ":" ? "k" : "s", start, i)
      } else if c == "-" || ("0"..."9").contains(c) {
        while i < text.count, "+-.eE0123456789".unicodeScalars.contains(text[i]) { i += 1 }
        add("n", start, i)
      } else if c == "t" || c == "f" || c == "n" {
        while i < text.count, ("a"..."z").contains(text[i]) { i += 1 }
        add("l", start, i)
      } else {
        i += 1
        add("p", start, i)
      }
    }
    return pieces
  }
}
