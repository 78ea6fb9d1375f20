import FerryAWS
import FerryAWSSigning
import Foundation

/// Streams one object from an S3 endpoint, discarding the bytes; reports throughput and
/// this process's peak resident memory.
func downloadBenchmark(endpoint: URL, bucket: String, key: String) async throws -> [String: Double]
{
  let client = AWSClient(configuration: .init(endpoint: .custom(endpoint)))
  let credentials = StaticCredentialProvider(
    AWSCredentials(accessKeyID: "AKIAFERRYBENCH000001", secretAccessKey: "bench-secret"))
  let s3 = S3Client(client: client, credentials: credentials, region: "us-east-1")
  let clock = ContinuousClock()
  let start = clock.now
  var bytes = 0
  for try await buffer in try await s3.getObject(bucket: bucket, key: key) {
    bytes += buffer.readableBytes
  }
  let elapsed = clock.now - start
  let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
  return [
    "bytes": Double(bytes), "seconds": seconds,
    "mib_per_second": Double(bytes) / 1_048_576 / seconds,
    "peak_rss_mib": Double(peakResidentKiB()) / 1024,
  ]
}

/// Starts the peak resident set size over from the current one (Linux: "5" written to
/// /proc/self/clear_refs), so that ``peakResidentKiB()`` measures one phase; false where
/// the kernel does not allow it.
@discardableResult
func resetPeakResident() -> Bool {
  (try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)) != nil
}

/// VmHWM from /proc/self/status: the peak resident set size, in KiB.
func peakResidentKiB() -> Int {
  guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
    return 0
  }
  for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
  }
  return 0
}
