import FerryCore
import FerryTesting
import Foundation
import Testing

@testable import FerryIngest

/// A JSON-lines parser keeps the previous line's keys (``JSONKeyCache``): whatever the
/// lines, every record must be what the line gives parsed on its own.
@Suite("Parsers: JSON keys kept from line to line")
struct JSONKeyCacheTests {
  @Test func everyLineReadsAsItReadsAlone() throws {
    var rng = SeededGenerator(seed: 5)
    let keys = ["a", "b", "ts", "level", "a.b", "http", "k\\u0041", "kA", "x"]
    var lines: [String] = []
    for i in 0..<4000 {
      // Runs of the same shape, then a change: keys added, dropped, reordered, repeated in
      // a line, an object where a scalar was, an escaped key equal to another.
      let shape = (i / 7) % 11
      var members: [String] = []
      let count = 1 + Int(rng.next() % 5)
      for m in 0..<count {
        let key = keys[(shape + m * (shape % 3 + 1)) % keys.count]
        switch (shape + m) % 4 {
        case 0: members.append("\"\(key)\":{\"b\":\(i),\"c\":\"v\(m)\"}")
        case 1: members.append("\"\(key)\":\"s\(i % 13)\"")
        case 2: members.append("\"\(key)\":[1,2]")
        default: members.append("\"\(key)\":\(m)")
        }
      }
      if shape == 4 { members.append(members[0]) }
      lines.append("{" + members.joined(separator: ",") + "}")
    }
    var parser = JSONLinesParser()
    var records: [ParsedRecord] = []
    let text = lines.joined(separator: "\n") + "\n"
    try parser.feed(Array(text.utf8)) { records.append($0) }
    try parser.finish { records.append($0) }
    #expect(records.count == lines.count)
    for (record, line) in zip(records, lines) {
      let alone = try #require(JSONLines.record(Array(line.utf8)[...], offset: record.offset))
      #expect(record.fields.keys == alone.fields.keys, "\(line)")
      #expect(record.fields == alone.fields, "\(line)")
      #expect(Set(record.fields.keys).count == record.fields.keys.count, "each name once")
    }
  }
}
