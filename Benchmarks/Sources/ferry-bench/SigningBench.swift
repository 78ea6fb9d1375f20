import FerryAWSSigning
import Foundation

/// Requests signed per second: the same three requests as the botocore baseline.
func signingBenchmark(seconds: Double) -> [String: Double] {
  let credentials = AWSCredentials(
    accessKeyID: "AKIAIOSFODNN7EXAMPLE",
    secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    sessionToken: "session-token")
  let date = Date(timeIntervalSince1970: 1_732_420_800)
  let s3 = SigV4Signer(credentials: credentials, region: "us-east-1", service: "s3", options: .s3)
  let sts = SigV4Signer(credentials: credentials, region: "us-east-1", service: "sts")
  let sqs = SigV4Signer(credentials: credentials, region: "us-east-1", service: "sqs")
  let stsBody = Data(
    "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A999988887777%3Arole%2Fferry&RoleSessionName=ferry-acme&ExternalId=ferry%3Aaws%3Aextid%3Aabc"
      .utf8)
  let sqsBody = Data(
    #"{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/111122223333/ferry","MaxNumberOfMessages":10}"#
      .utf8)
  let requests: [(SigV4Signer, SigningRequest, Data)] = [
    (
      s3,
      SigningRequest(
        method: "GET", path: "/AWSLogs/2024/11/24/app.log.gz",
        headers: [.init("Host", "my-logs.s3.us-east-1.amazonaws.com"), .init("Range", "bytes=0-")]),
      Data()
    ),
    (
      sts,
      SigningRequest(
        method: "POST", path: "/",
        headers: [
          .init("Host", "sts.us-east-1.amazonaws.com"),
          .init("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
        ]), stsBody
    ),
    (
      sqs,
      SigningRequest(
        method: "POST", path: "/",
        headers: [
          .init("Host", "sqs.us-east-1.amazonaws.com"),
          .init("Content-Type", "application/x-amz-json-1.0"),
          .init("X-Amz-Target", "AmazonSQS.ReceiveMessage"),
        ]), sqsBody
    ),
  ]
  var i = 0
  let rate = measure(seconds: seconds) {
    let (signer, request, body) = requests[i % 3]
    // The body is hashed on every request, as botocore does.
    let signed = signer.sign(request, payloadHash: SigV4Signer.hash(body), date: date)
    sink &+= signed.signature.utf8.count
    i &+= 1
  }
  return ["signs_per_second": rate]
}
