import Foundation
import Testing

@testable import FerryServer

/// A diagnosis's fix that ends with the trust policy to set (DiagnosisRules writes it after
/// a newline) is shown as its sentence and, apart, the indented document.
@Suite("Diagnosis fix lines")
struct FixLinesTests {
  @Test func aTrustPolicyFixIsCutIntoItsSentenceAndDocument() throws {
    let policy = """
      {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]
      }
      """
    let sentence =
      "Set the role's trust policy to exactly this (aws iam update-assume-role-policy --role-name r --policy-document file://trust.json):"
    let cut = CheckView.fixLines(sentence + "\n" + policy)
    #expect(cut.sentence == sentence)
    #expect(cut.document == policy)
    let document = try #require(cut.document)
    #expect(try JSONSerialization.jsonObject(with: Data(document.utf8)) is [String: Any])
    #expect(document.contains("\n  \"Version\""), "indented, as generated")
    let plain = "Attach the statement below to the role's permissions policy."
    #expect(
      CheckView.fixLines(plain).sentence == plain && CheckView.fixLines(plain).document == nil)
    let twoLines = "First do this.\nThen that."
    #expect(CheckView.fixLines(twoLines).sentence == twoLines)
    #expect(CheckView.fixLines(twoLines).document == nil)
  }
}
