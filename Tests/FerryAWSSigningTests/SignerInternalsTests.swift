import Crypto
import Foundation
import Testing

@testable import FerryAWSSigning

/// The byte-level pieces behind the signer, checked on their own so that a failure names
/// the piece (the AWS suite checks them together, and only where its files are present).
@Suite("Signer internals")
struct SignerInternalsTests {
  @Test func prekeyedHMACEqualsSwiftCryptosHMAC() {
    var generator = SystemRandomNumberGenerator()
    for length in [0, 1, 55, 56, 63, 64, 65, 200, 1000] {
      let key = SymmetricKey(size: .bits256)
      let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
      let ours = SigningKey(key).authenticate(message)
      let reference = HMAC<SHA256>.authenticationCode(for: message, using: key)
      #expect(Array(ours) == Array(reference), "message of \(length) bytes")
    }
  }

  @Test func canonicalHeadersLowercaseSortJoinAndTrim() {
    var out: [UInt8] = []
    let signed = CanonicalHeaders.append(
      [
        .init("X-Amz-Date", "20150830T123600Z"),
        .init("Host", "example.amazonaws.com"),
        .init("My-Header1", "  a   b \t c  "),
        .init("User-Agent", "not signed"),
        .init("my-header1", "second"),
        .init("Authorization", "never signed"),
        .init("My-Header2", "\"a   b   c\""),
        .init("Empty", ""),
      ], to: &out)
    let text = String(decoding: out, as: UTF8.self)
    #expect(
      text
        == "empty:\nhost:example.amazonaws.com\nmy-header1:a b c,second\nmy-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n\nempty;host;my-header1;my-header2;x-amz-date"
    )
    #expect(
      String(decoding: out[signed], as: UTF8.self) == "empty;host;my-header1;my-header2;x-amz-date")
  }

  @Test func signingReplacesOldAuthorizationAndDate() {
    let signer = SigV4Signer(
      credentials: AWSCredentials(accessKeyID: "AKID", secretAccessKey: "secret"),
      region: "us-east-1", service: "sts", keyCache: SigningKeyCache())
    let request = SigningRequest(
      method: "POST", path: "/",
      headers: [
        .init("host", "sts.amazonaws.com"), .init("AUTHORIZATION", "stale"),
        .init("x-AMZ-date", "19990101T000000Z"),
      ])
    let date = Date(timeIntervalSince1970: 1_440_938_160)
    let signed = signer.sign(request, date: date)
    #expect(signed.request.headers.filter { $0.name.lowercased() == "authorization" }.count == 1)
    #expect(signed.request.header("X-Amz-Date") == "20150830T123600Z")
    #expect(
      signed.request.header("authorization")?.contains("SignedHeaders=host;x-amz-date,") == true)
    // Signing again gives the same signature: nothing of the first signing leaks in.
    #expect(signer.sign(signed.request, date: date).signature == signed.signature)
  }

  @Test func keysDifferPerSecretDayRegionAndService() {
    let cache = SigningKeyCache()
    let message = Array("string to sign".utf8)
    func mac(_ secret: String, _ day: String, _ region: String, _ service: String) -> [UInt8] {
      Array(
        cache.key(accessKeyID: "AKID", secret: secret, day: day, region: region, service: service)
          .authenticate(message))
    }
    let base = mac("s1", "20150830", "us-east-1", "s3")
    #expect(mac("s1", "20150830", "us-east-1", "s3") == base)
    #expect(mac("s2", "20150830", "us-east-1", "s3") != base)
    #expect(mac("s1", "20150831", "us-east-1", "s3") != base)
    #expect(mac("s1", "20150830", "eu-west-1", "s3") != base)
    #expect(mac("s1", "20150830", "us-east-1", "sqs") != base)
    #expect(cache.count == 5)
  }
}
