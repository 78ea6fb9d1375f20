import FerryTesting
import Foundation
import Testing

@testable import FerryAWSSigning

let sigV4SuiteDirectory = TestPaths.sharedTestData?.appendingPathComponent(
  "sigv4/aws-c-auth-v4")

/// AWS's SigV4 signing test suite (aws-c-auth), read from ../shared/testdata/sigv4. Where
/// that folder is absent the suite is reported as skipped, with the reason.
@Suite(
  "SigV4 test suite",
  .enabled(
    if: sigV4SuiteDirectory != nil,
    "../shared/testdata/sigv4 is absent: AWS's SigV4 suite (aws-c-auth) cannot run; SignerInternalsTests and the botocore agreement test still guard the signer"
  ))
struct SigV4SuiteTests {
  struct Case: CustomTestStringConvertible, Sendable {
    let name: String
    let dir: URL
    var testDescription: String { name }
  }

  static var suiteDirectory: URL? { sigV4SuiteDirectory }

  static var cases: [Case] {
    guard let dir = suiteDirectory,
      let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path)
    else { return [] }
    return names.sorted().compactMap { name in
      let caseDir = dir.appendingPathComponent(name)
      guard
        FileManager.default.fileExists(atPath: caseDir.appendingPathComponent("request.txt").path)
      else {
        return nil
      }
      return Case(name: name, dir: caseDir)
    }
  }

  /// A case's inputs: the HTTP request and its signing context.
  struct Inputs {
    var request: SigningRequest
    var body: Data
    var signer: SigV4Signer
    var date: Date
    var signBody: Bool
    var expires: Int
  }

  static func read(_ c: Case) throws -> Inputs {
    let raw = try Data(contentsOf: c.dir.appendingPathComponent("request.txt"))
    let text = String(decoding: raw, as: UTF8.self)
    // Head and body split at the first blank line; folded header lines start with spaces.
    let parts = text.components(separatedBy: "\n\n")
    let head = parts[0].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let body = Data(parts.dropFirst().joined(separator: "\n\n").utf8)
    let requestLine = head[0].split(separator: " ")
    let method = String(requestLine[0])
    let target = requestLine[1..<(requestLine.count - 1)].joined(separator: " ")
    let pathAndQuery = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
    var headers: [SigningRequest.Header] = []
    for line in head.dropFirst() where !line.isEmpty {
      if line.first == " " || line.first == "\t", let last = headers.indices.last {
        headers[last].value += "\n" + line
      } else if let colon = line.firstIndex(of: ":") {
        headers.append(.init(String(line[..<colon]), String(line[line.index(after: colon)...])))
      }
    }
    let context =
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: c.dir.appendingPathComponent("context.json"))) as? [String: Any]
      ?? [:]
    let creds = context["credentials"] as? [String: Any] ?? [:]
    let credentials = AWSCredentials(
      accessKeyID: creds["access_key_id"] as? String ?? "",
      secretAccessKey: creds["secret_access_key"] as? String ?? "",
      sessionToken: creds["token"] as? String)
    let normalize = context["normalize"] as? Bool ?? true
    let signBody = context["sign_body"] as? Bool ?? false
    let omitToken = context["omit_session_token"] as? Bool ?? false
    let options = SigV4Signer.Options(
      normalizePath: normalize, doubleEncodePath: true, addContentSHA256Header: signBody,
      signSessionToken: !omitToken)
    let timestamp = context["timestamp"] as? String ?? ""
    let date = try #require(ISO8601DateFormatter().date(from: timestamp))
    return Inputs(
      request: SigningRequest(
        method: method, path: String(pathAndQuery[0]),
        query: pathAndQuery.count > 1 ? String(pathAndQuery[1]) : "", headers: headers),
      body: body,
      signer: SigV4Signer(
        credentials: credentials, region: context["region"] as? String ?? "",
        service: context["service"] as? String ?? "", options: options, keyCache: SigningKeyCache()),
      date: date, signBody: signBody, expires: context["expiration_in_seconds"] as? Int ?? 3600)
  }

  static func expected(_ c: Case, _ file: String) throws -> String? {
    let url = c.dir.appendingPathComponent(file)
    guard FileManager.default.fileExists(atPath: url.path) else { return nil }
    return try String(contentsOf: url, encoding: .utf8)
  }

  @Test func suiteIsPresent() throws {
    #expect(Self.cases.count >= 30)
  }

  @Test(arguments: cases)
  func headerSigningMatchesAWS(_ c: Case) throws {
    let inputs = try Self.read(c)
    let signed = inputs.signer.sign(
      inputs.request, payloadHash: SigV4Signer.hash(inputs.body), date: inputs.date)
    #expect(signed.canonicalRequest == (try Self.expected(c, "header-canonical-request.txt")))
    #expect(signed.stringToSign == (try Self.expected(c, "header-string-to-sign.txt")))
    #expect(
      signed.signature
        == (try Self.expected(c, "header-signature.txt"))?.trimmingCharacters(
          in: .whitespacesAndNewlines))
    // The Authorization header is the one of the signed request AWS published.
    let published = try #require(try Self.expected(c, "header-signed-request.txt"))
    let authorization = try #require(signed.request.header("Authorization"))
    #expect(published.contains("Authorization:\(authorization)"))
  }

  @Test(arguments: cases)
  func presigningMatchesAWS(_ c: Case) throws {
    let inputs = try Self.read(c)
    guard let expectedCanonical = try Self.expected(c, "query-canonical-request.txt") else {
      return
    }
    let signed = inputs.signer.presign(
      inputs.request, expires: inputs.expires, payloadHash: SigV4Signer.hash(inputs.body),
      date: inputs.date)
    #expect(signed.canonicalRequest == expectedCanonical)
    #expect(signed.stringToSign == (try Self.expected(c, "query-string-to-sign.txt")))
    #expect(
      signed.signature
        == (try Self.expected(c, "query-signature.txt"))?.trimmingCharacters(
          in: .whitespacesAndNewlines))
    // Same query parameters as the published presigned request (order aside).
    let published = try #require(try Self.expected(c, "query-signed-request.txt"))
    let line = try #require(published.split(separator: "\n").first)
    let target = line.split(separator: " ").dropFirst().dropLast().joined(separator: " ")
    let publishedQuery =
      target.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
    #expect(
      Set(signed.request.query.split(separator: "&")) == Set(publishedQuery.split(separator: "&")))
  }
}
