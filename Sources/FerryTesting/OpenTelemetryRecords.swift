import Foundation

/// CloudWatch metric stream records in the OpenTelemetry formats, built by the PyPI package
/// opentelemetry-proto (Tests/FerryMetricsTests/Fixtures/otel_records.py): an encoder that
/// shares no code with Ferry's reader.
public enum OpenTelemetryRecords {
  /// One data point as the script takes it (`unit` in UCUM, as CloudWatch sends it;
  /// quantiles by their value as text: "0" is the minimum, "1" the maximum).
  public struct Point: Encodable, Sendable {
    public var namespace: String
    public var metric: String
    public var dimensions: [String: String]
    public var unit: String
    public var startMs: Int64
    public var endMs: Int64
    public var count: UInt64
    public var sum: Double
    public var quantiles: [String: Double]

    public init(
      namespace: String, metric: String, dimensions: [String: String], unit: String,
      startMs: Int64, endMs: Int64? = nil, count: UInt64, sum: Double,
      quantiles: [String: Double]
    ) {
      self.namespace = namespace
      self.metric = metric
      self.dimensions = dimensions
      self.unit = unit
      self.startMs = startMs
      self.endMs = endMs ?? startMs + 60_000
      self.count = count
      self.sum = sum
      self.quantiles = quantiles
    }

    enum CodingKeys: String, CodingKey {
      case namespace, metric, dimensions, unit, count, sum, quantiles
      case startMs = "start_ms"
      case endMs = "end_ms"
    }
  }

  /// Why the encoder cannot run here (nil: it can): opentelemetry-proto 1.20.0 for 1.0,
  /// and 1.0.0 in its own folder for 0.7, both installed by scripts/install-test-tools.
  public static let missing: String? = {
    let check = try? Subprocess.run(
      "python3",
      ["-c", "from opentelemetry.proto.metrics.v1 import metrics_pb2; metrics_pb2.ScopeMetrics"])
    guard check?.status == 0 else {
      return "opentelemetry-proto 1.20.0 is not installed (scripts/install-test-tools)"
    }
    let cache =
      ProcessInfo.processInfo.environment["XDG_CACHE_HOME"]
      ?? (NSHomeDirectory() + "/.cache")
    let legacy = cache + "/ferry-test-tools/opentelemetry-proto-0.7/opentelemetry/proto"
    guard FileManager.default.fileExists(atPath: legacy) else {
      return "opentelemetry-proto 1.0.0 is not in \(legacy) (scripts/install-test-tools)"
    }
    return nil
  }()

  /// The records (each a list of messages, each a list of points) in `format` ("1.0" or
  /// "0.7"), as the metric stream named in `arn` writes them.
  public static func make(
    format: String, records: [[[Point]]],
    arn: String = "arn:aws:cloudwatch:us-east-1:123456789012:metric-stream/MyMetricStream"
  ) throws -> [[UInt8]] {
    struct Spec: Encodable {
      var arn: String
      var account = "123456789012"
      var region = "us-east-1"
      var records: [[[Point]]]
    }
    let spec = String(
      decoding: try JSONEncoder().encode(Spec(arn: arn, records: records)), as: UTF8.self)
    let script = TestPaths.packageRoot.appendingPathComponent(
      "Tests/FerryMetricsTests/Fixtures/otel_records.py")
    let result = try Subprocess.run("python3", [script.path, format], stdin: spec)
    guard result.status == 0 else {
      throw TestSetupError("otel_records.py \(format) failed: \(result.stderr)")
    }
    let encoded = try JSONDecoder().decode([String].self, from: Data(result.stdout.utf8))
    return try encoded.map {
      guard let data = Data(base64Encoded: $0) else { throw TestSetupError("bad base64") }
      return [UInt8](data)
    }
  }
}
