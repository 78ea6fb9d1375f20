import FerryTesting
import Foundation
import Testing

@testable import FerryCore

/// Users' password hashes: scrypt as RFC 7914 defines it (its published test vectors), in
/// Ferry's stored form.
@Suite("Password hashes")
struct PasswordHashTests {
  static func hex(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
      let next = text.index(index, offsetBy: 2)
      bytes.append(UInt8(text[index..<next], radix: 16) ?? 0)
      index = next
    }
    return bytes
  }

  /// RFC 7914 §12, the second vector (N=1024, r=8, p=16): the first 32 of its 64 bytes.
  @Test func scryptMatchesRFC7914() async throws {
    let derived = try await OffPool.run {
      try PasswordHash.derive(
        "password", salt: Array("NaCl".utf8), logRounds: 10, blockSize: 8, parallelism: 16)
    }
    let expected = Self.hex(
      "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162")
    #expect(derived == expected)
  }

  /// RFC 7914 §12, the third vector (N=16384, r=8, p=1), written in Ferry's stored form,
  /// verifies; any other password or a damaged value does not.
  @Test func aStoredHashOfTheRFCsVectorVerifies() async throws {
    let hash = Self.hex("7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2")
    let salt = Data("SodiumChloride".utf8).base64EncodedString()
    let stored = "scrypt$14$8$1$\(salt)$\(Data(hash).base64EncodedString())"
    let cases: [(String, String, Bool)] = [
      ("pleaseletmein", stored, true),
      ("pleaseletmeim", stored, false),
      ("", stored, false),
      ("pleaseletmein", stored.replacingOccurrences(of: "$14$", with: "$13$"), false),
      ("pleaseletmein", "bcrypt$14$8$1$\(salt)$x", false),
      ("pleaseletmein", "scrypt$14$8$1$\(salt)", false),
      ("pleaseletmein", "", false),
    ]
    for (password, stored, expected) in cases {
      let verified = try await OffPool.run { PasswordHash.verify(password, against: stored) }
      #expect(verified == expected, "\(password) against \(stored)")
    }
  }

  @Test func madeHashesVerifyAndAreSaltedEachTime() async throws {
    let password = "correct horse battery staple"
    let (a, b) = try await OffPool.run {
      (try PasswordHash.make(password), try PasswordHash.make(password))
    }
    #expect(a != b, "each hash has its own salt")
    #expect(a.hasPrefix("scrypt$15$8$1$"))
    #expect(!a.contains("correct"))
    let results = try await OffPool.run {
      [
        PasswordHash.verify(password, against: a), PasswordHash.verify(password, against: b),
        PasswordHash.verify(password + "r", against: a),
      ]
    }
    #expect(results == [true, true, false])
  }

  @Test func shortOrControlPasswordsAreRefusedWithTheFix() {
    #expect(PasswordHash.problem("short")?.field == "password")
    #expect(PasswordHash.problem(String(repeating: "a", count: 257)) != nil)
    #expect(PasswordHash.problem("twelve chars\u{7}") != nil)
    #expect(PasswordHash.problem("twelve chars") == nil)
  }
}
