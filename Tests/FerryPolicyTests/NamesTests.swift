import Testing

@testable import FerryPolicy

@Suite("Names AWS accepts")
struct NamesTests {
  @Test(arguments: [
    "my-logs", "logs.example.com", "abc", "a1-b2.c3", String(repeating: "a", count: 63),
  ])
  func validBucketNames(name: String) throws {
    try BucketName.validate(name)
  }

  @Test(arguments: [
    "ab", "My-Logs", "my_logs", "-logs", "logs-", "my..logs", "192.168.5.4", "xn--logs",
    "logs-s3alias", "s3://my-logs", "my-logs/prefix", String(repeating: "a", count: 64), "sthree-x",
  ])
  func invalidBucketNamesSayWhy(name: String) {
    #expect {
      try BucketName.validate(name, field: "bucket")
    } throws: { error in
      guard let error = error as? InputError else { return false }
      return error.field == "bucket" && error.problem.contains(name) && !error.fix.isEmpty
    }
  }

  @Test func parsesRoleARNs() throws {
    let arn = try ARN.parseRole("arn:aws:iam::123456789012:role/path/ferry-s3-fetcher")
    #expect(arn.account == "123456789012")
    #expect(arn.resource == "role/path/ferry-s3-fetcher")
    #expect(arn.description == "arn:aws:iam::123456789012:role/path/ferry-s3-fetcher")
  }

  @Test(arguments: [
    "arn:aws:iam::12345678901:role/x", "arn:aws:iam::123456789012:user/x", "role/x",
    "arn:aws:s3:::bucket", "arn:aws:iam::123456789012:role/bad name",
    "arn:awz:iam::123456789012:role/x",
  ])
  func rejectsBadRoleARNs(text: String) {
    #expect(throws: InputError.self) { try ARN.parseRole(text) }
  }

  @Test func validatesAccountIDsAndExternalIDs() throws {
    #expect(try AWSAccountID.parse("012345678901") == "012345678901")
    #expect(throws: InputError.self) { try AWSAccountID.parse("12345") }
    #expect(throws: InputError.self) { try AWSAccountID.parse("12345678901a") }
    try ExternalID.validate("ferry:aws:extid:k3j4h5g6")
    #expect(throws: InputError.self) { try ExternalID.validate("x") }
    #expect(throws: InputError.self) { try ExternalID.validate("has space") }
  }

  @Test func kmsKeyARNs() throws {
    _ = try ARN.parseKMSKey(
      "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    // AWS authorizes KMS use by the key's ARN: a policy naming an alias grants nothing
    // (KMS developer guide, "Using aliases to control access to KMS keys").
    #expect {
      try ARN.parseKMSKey("arn:aws:kms:eu-west-1:111122223333:alias/logs")
    } throws: { error in
      let e = error as? InputError
      return e?.problem.contains("alias") == true && e?.fix.contains(":key/") == true
        && e?.fix.contains("iam") == false
    }
    // The example in the error is a KMS key ARN, not an IAM role ARN.
    #expect {
      try ARN.parseKMSKey("not-an-arn")
    } throws: { error in
      (error as? InputError)?.fix.contains("arn:aws:kms:") == true
    }
    #expect(throws: InputError.self) { try ARN.parseKMSKey("arn:aws:kms::111122223333:key/abc") }
    #expect(throws: InputError.self) { try ARN.parseKMSKey("1234abcd-12ab") }
  }
}
