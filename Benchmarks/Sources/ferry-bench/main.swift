// ferry-bench: Ferry's benchmarks. Not tests: `scripts/bench` builds this in release mode,
// runs it beside baselines measured in the same run, and writes Benchmarks/RESULTS.md.
//
// Usage (each prints one JSON object):
//   ferry-bench policy FIXTURES_DIR SECONDS
//   ferry-bench sign SECONDS
//   ferry-bench download ENDPOINT BUCKET KEY
//   ferry-bench store sqlite|postgres PATH|URL EVENTS
//   ferry-bench ingest ENDPOINT BUCKET STORE_PATH json|cloudtrail KEY...
//   ferry-bench archive STORE_PATH DIRECTORY EVENTS
//   ferry-bench metrics STORE_PATH BODIES_DIR json|otel
import Foundation

let args = Array(CommandLine.arguments.dropFirst())
do {
  let results: [String: Double]
  switch (args.first, args.count) {
  case ("policy", 3):
    guard let seconds = Double(args[2]) else { throw BenchError.usage }
    results = try policyBenchmarks(fixtures: URL(fileURLWithPath: args[1]), seconds: seconds)
  case ("sign", 2):
    guard let seconds = Double(args[1]) else { throw BenchError.usage }
    results = signingBenchmark(seconds: seconds)
  case ("download", 4):
    guard let endpoint = URL(string: args[1]) else { throw BenchError.usage }
    results = try await downloadBenchmark(endpoint: endpoint, bucket: args[2], key: args[3])
  case ("ingest", _) where args.count >= 6:
    guard let endpoint = URL(string: args[1]) else { throw BenchError.usage }
    results = try await ingestBenchmark(
      endpoint: endpoint, bucket: args[2], storePath: args[3], kind: args[4],
      keys: Array(args[5...]))
  case ("layout", 3):
    results = try layoutBenchmark(directory: URL(fileURLWithPath: args[1]), kind: args[2])
  case ("encode", 2):
    guard let events = Int(args[1]) else { throw BenchError.usage }
    results = try encodeBreakdown(events: events)
  case ("archive", 4), ("archive", 6):
    guard let events = Int(args[3]) else { throw BenchError.usage }
    let mix = args.count == 6 ? LogGenerator.Mix(rawValue: args[4]) : .mixed
    guard let mix else { throw BenchError.usage }
    results = try await archiveBenchmark(
      storePath: args[1], directory: URL(fileURLWithPath: args[2]), events: events, mix: mix,
      rawMessages: args.count == 6 ? URL(fileURLWithPath: args[5]) : nil)
  case ("metrics", 4):
    results = try await metricsBenchmark(
      storePath: args[1], directory: URL(fileURLWithPath: args[2]), kind: args[3])
  case ("store", 4):
    guard let events = Int(args[3]) else { throw BenchError.usage }
    results = try await storeBenchmark(backend: args[1], location: args[2], events: events)
  default:
    throw BenchError.usage
  }
  let json = try JSONSerialization.data(withJSONObject: results, options: [.sortedKeys])
  print(String(decoding: json, as: UTF8.self))
} catch BenchError.usage {
  FileHandle.standardError.write(
    Data(
      "usage: ferry-bench policy FIXTURES_DIR SECONDS | sign SECONDS | download ENDPOINT BUCKET KEY | store sqlite|postgres LOCATION EVENTS\n"
        .utf8))
  exit(2)
} catch {
  FileHandle.standardError.write(Data("ferry-bench: \(error)\n".utf8))
  exit(1)
}

enum BenchError: Error {
  case usage
  case failed(String)
}
