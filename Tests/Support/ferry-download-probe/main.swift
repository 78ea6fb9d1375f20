// A test helper, not part of Ferry: streams one S3 object through FerryAWS and prints
// "SHA256 BYTES". The streaming test runs it as a child process, so that the child's peak
// memory (measured by the parent with getrusage) is the download's alone, whatever other
// tests run in the test process.
//
//   ferry-download-probe ENDPOINT BUCKET KEY   (credentials from AWS_ACCESS_KEY_ID and
//                                               AWS_SECRET_ACCESS_KEY)
import Crypto
import FerryAWS
import FerryAWSSigning
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 4, let endpoint = URL(string: arguments[1]) else {
  FileHandle.standardError.write(Data("usage: ferry-download-probe ENDPOINT BUCKET KEY\n".utf8))
  exit(2)
}
let client = AWSClient(configuration: .init(endpoint: .custom(endpoint)))
let s3 = S3Client(
  client: client, credentials: EnvironmentCredentialProvider(), region: "us-east-1")
var hasher = SHA256()
var bytes = 0
do {
  for try await buffer in try await s3.getObject(bucket: arguments[2], key: arguments[3]) {
    buffer.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
    bytes += buffer.readableBytes
  }
} catch {
  FileHandle.standardError.write(Data("download failed: \(error)\n".utf8))
  exit(1)
}
print(hasher.finalize().map { String(format: "%02x", $0) }.joined(), bytes)
