import FerryCore
import FerryTesting
import Foundation
import Testing

@testable import FerryIngest

/// Decompression checked against the real tools: files made by `gzip`, `zstd` and
/// `bzip2` (and joined with `cat`, as AWS services and pbzip2 write multi-member files)
/// must come back byte for byte, fed in pieces of every size; damaged and cut files must
/// be errors, never short text.
@Suite("Decompression: gzip, zstd, bzip2 as their tools write them")
struct DecompressionTests {
  static let text: [UInt8] = Array(
    (0..<8_000).map { "line \($0) {\"level\":\"info\",\"n\":\($0 * 7919 % 10007)}\n" }.joined()
      .utf8)

  /// Every compressed form, made once, off the cooperative threads (the tools are
  /// subprocesses).
  static let fixtures = Shared { () throws -> [String: [UInt8]] in
    let text = DecompressionTests.text
    let half = Array(text[0..<text.count / 2])
    let rest = Array(text[(text.count / 2)..<text.count])
    func make(_ input: [UInt8], _ tool: String, _ arguments: [String]) throws -> [UInt8] {
      try DecompressionTests.compress(input, tool, arguments)
    }
    let gzip = try make(text, "gzip", ["-c"])
    return [
      "gzip": gzip,
      "gzip, two members": try make(half, "gzip", ["-c"]) + make(rest, "gzip", ["-c"]),
      "gzip inside gzip": try make(gzip, "gzip", ["-c"]),
      "zstd": try make(text, "zstd", ["-q", "-c"]),
      "zstd, two frames": try make(half, "zstd", ["-q", "-c"]) + make(rest, "zstd", ["-q", "-c"]),
      "bzip2": try make(text, "bzip2", ["-c"]),
      "bzip2, two streams": try make(half, "bzip2", ["-c"]) + make(rest, "bzip2", ["-c"]),
      "plain": text,
    ]
  }

  static func tool(_ name: String) throws -> String {
    guard let path = Subprocess.which(name) else {
      throw TestSetupError("\(name) is not installed (scripts/install-test-tools installs it)")
    }
    return path
  }

  /// Compresses `input` with a command that reads stdin (via a file) and writes stdout.
  static func compress(_ input: [UInt8], _ command: String, _ arguments: [String]) throws
    -> [UInt8]
  {
    let dir = try TestPaths.temporaryDirectory("ferry-compress")
    let file = dir.appendingPathComponent("in")
    try Data(input).write(to: file)
    let out = dir.appendingPathComponent("out")
    let result = try Subprocess.run(
      "/bin/sh",
      ["-c", "\"$0\" \"$@\" < '\(file.path)' > '\(out.path)'", try tool(command)] + arguments)
    guard result.status == 0 else { throw TestSetupError("\(command) failed: \(result.stderr)") }
    return try [UInt8](Data(contentsOf: out))
  }

  /// Decompresses in pieces of `piece` bytes.
  func decompress(_ data: [UInt8], piece: Int) throws -> (bytes: [UInt8], kind: Compression?) {
    var d = AutoDecompressor()
    var out: [UInt8] = []
    var i = 0
    while i < data.count {
      try d.feed(Array(data[i..<min(i + piece, data.count)])) { out += $0 }
      i += piece
    }
    try d.finish { out += $0 }
    return (out, d.compression)
  }

  @Test(arguments: [1, 3, 4, 1000, 65_536, 1 << 22])
  func eachToolsOutputComesBackWhole(piece: Int) async throws {
    let fixtures = try await Self.fixtures.get()
    let kinds: [String: Compression] = [
      "gzip": .gzip, "gzip, two members": .gzip, "gzip inside gzip": .gzip, "zstd": .zstd,
      "zstd, two frames": .zstd, "bzip2": .bzip2, "bzip2, two streams": .bzip2, "plain": .none,
    ]
    #expect(fixtures.count == kinds.count)
    for (name, data) in fixtures {
      let (bytes, detected) = try decompress(data, piece: piece)
      #expect(detected == kinds[name], "\(name)")
      #expect(bytes == Self.text, "\(name): \(bytes.count) bytes, expected \(Self.text.count)")
    }
  }

  @Test func cutAndDamagedFilesAreErrors() async throws {
    let fixtures = try await Self.fixtures.get()
    for name in ["gzip", "zstd", "bzip2"] {
      let data = try #require(fixtures[name])
      let cut = Array(data[0..<data.count * 2 / 3])
      #expect(throws: DecompressionError.self, "a cut \(name) file") {
        _ = try decompress(cut, piece: 4096)
      }
      var damaged = data
      for i in stride(from: 20, to: damaged.count - 20, by: 97) { damaged[i] ^= 0x5A }
      #expect(throws: DecompressionError.self, "a damaged \(name) file") {
        _ = try decompress(damaged, piece: 4096)
      }
    }
  }

  /// One decoder over `data` in pieces of `piece` bytes.
  func decode(_ decoder: some Decompressor, _ data: [UInt8], piece: Int) throws -> [UInt8] {
    var d = decoder
    var out: [UInt8] = []
    var i = 0
    while i < data.count {
      try Array(data[i..<min(i + piece, data.count)]).withUnsafeBytes { raw in
        try d.feed(raw) { out += $0 }
      }
      i += piece
    }
    try d.finish { out += $0 }
    return out
  }

  /// ISA-L (the fetcher's gzip decoder) and zlib (its fallback) read what `gzip` wrote,
  /// member by member, and both refuse a member whose CRC-32 is wrong (RFC 1952, 2.3.1).
  @Test(arguments: [1, 7, 65_536])
  func isalAndZlibReadTheSameGzipAndCheckItsCRC(piece: Int) async throws {
    let fixtures = try await Self.fixtures.get()
    for name in ["gzip", "gzip, two members"] {
      let data = try #require(fixtures[name])
      #expect(try decode(IsalGzipDecompressor(), data, piece: piece) == Self.text, "\(name)")
      #expect(try decode(GzipDecompressor(), data, piece: piece) == Self.text, "\(name)")
    }
    // The trailer's CRC-32 is the 4 bytes before the last 4 (the length).
    var wrongCRC = try #require(fixtures["gzip"])
    wrongCRC[wrongCRC.count - 8] ^= 0xFF
    #expect(throws: DecompressionError.self, "ISA-L") {
      _ = try decode(IsalGzipDecompressor(), wrongCRC, piece: piece)
    }
    #expect(throws: DecompressionError.self, "zlib") {
      _ = try decode(GzipDecompressor(), wrongCRC, piece: piece)
    }
  }

  @Test func textShorterThanAGzipHeaderComesOutOfItsGzip() async throws {
    // Fewer than 4 bytes of text: too short to be gzip inside gzip, so it is the text.
    for text in ["ab\n", "x", "{}\n\n"] {
      let data = try await OffPool.run { try Self.compress(Array(text.utf8), "gzip", ["-c"]) }
      for piece in [1, 4096] {
        #expect(try decompress(data, piece: piece).bytes == Array(text.utf8), "\(text)")
      }
    }
  }

  @Test func anEmptyObjectIsEmptyNotAnError() throws {
    let (bytes, kind) = try decompress([], piece: 10)
    #expect(bytes.isEmpty)
    #expect(kind == nil)
  }
}
