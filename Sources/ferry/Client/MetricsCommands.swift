import ArgumentParser
import FerryPolicy
import Foundation

/// `ferry metrics`: CloudWatch metrics shipped through Firehose.
struct MetricsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "metrics",
    abstract: "Ship CloudWatch metrics to Ferry through Firehose, and list and query them.",
    discussion:
      "Create a delivery key, deploy the template's stack with it (ferry metrics template), then list and query what arrives.",
    subcommands: [
      MetricsTemplate.self, MetricsKeyCommand.self, MetricsList.self, MetricsQuery.self,
    ])
}

struct MetricsKeyCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "key",
    abstract: "Create, list and revoke the keys Firehose presents when it delivers (admins).",
    discussion:
      "To rotate a key without losing a delivery: create a new one, set it as the delivery stream's access key, then revoke the old one.",
    subcommands: [MetricsKeyCreate.self, MetricsKeyList.self, MetricsKeyRevoke.self])
}

struct MetricsKeyCreate: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "create", abstract: "Create a delivery key; the key is printed once.")
  @OptionGroup var server: ServerOptions
  @Option(help: "A name for the key, e.g. firehose-prod.") var name: String

  func run() async throws {
    let answer = try await server.client().call(
      .POST, "/api/v1/metrics/keys", body: .object([("name", .string(name))]))
    if server.json { return Output.json(answer) }
    print(
      Terminal.safe(
        "Created delivery key \(answer["id"]?.stringValue ?? ""). The key, shown only now (the stack's DeliveryKey parameter):"
      ))
    print(answer["key"]?.stringValue ?? "")
  }
}

struct MetricsKeyList: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "List the delivery keys (never the keys themselves).")
  @OptionGroup var server: ServerOptions

  func run() async throws {
    let answer = try await server.client().call(.GET, "/api/v1/metrics/keys")
    if server.json { return Output.json(answer) }
    Output.listing(
      answer, "keys",
      [("ID", "id"), ("NAME", "name"), ("CREATED", "createdAt"), ("LAST USED", "lastUsedAt")])
  }
}

struct MetricsKeyRevoke: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "revoke", abstract: "Revoke a delivery key: Firehose's deliveries with it fail.")
  @OptionGroup var server: ServerOptions
  @Argument(help: "The key's ID (mk_…), not the key.") var id: String

  func run() async throws {
    try await server.client().call(.DELETE, "/api/v1/metrics/keys/\(Output.pathSegment(id))")
    if !server.json { print(Terminal.safe("Revoked \(id).")) }
  }
}

struct MetricsList: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list",
    abstract:
      "List the metric series received, each stream's status, and the latest deliveries with their outcome."
  )
  @OptionGroup var server: ServerOptions

  func run() async throws {
    let answer = try await server.client().call(.GET, "/api/v1/metrics")
    if server.json { return Output.json(answer) }
    let series = answer["series"]?.arrayValue ?? []
    if series.isEmpty {
      print(
        "No metrics received yet. Create a key (ferry metrics key create) and deploy the stack (ferry metrics template)."
      )
    } else {
      var rows = [["NAMESPACE", "METRIC", "DIMENSIONS", "UNIT", "POINTS", "LAST"]]
      for s in series {
        let names: [String] = [
          s["namespace"]?.stringValue ?? "", s["metric"]?.stringValue ?? "",
          MetricsQuery.dimensions(s["dimensions"]), s["unit"]?.stringValue ?? "",
        ]
        let points = s["points"]?.intValue.map(String.init) ?? ""
        rows.append(names + [points, s["lastPoint"]?.stringValue ?? ""])
      }
      Output.table(rows)
    }
    let streams = answer["streams"]?.arrayValue ?? []
    if !streams.isEmpty {
      // Each stream's status: rates over the last ten minutes, refusals over the hour.
      print("")
      var rows = [
        ["STREAM", "LAST DELIVERY", "RECORDS/MIN", "POINTS/MIN", "REFUSED (1H)", "FORMATS"]
      ]
      for s in streams {
        func rate(_ name: String) -> String {
          guard let value = s[name]?.doubleValue else { return "" }
          return value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
        }
        rows.append([
          s["stream"]?.stringValue ?? "", s["lastDelivery"]?.stringValue ?? "",
          rate("recordsPerMinute"), rate("pointsPerMinute"),
          s["refusedLastHour"]?.intValue.map(String.init) ?? "",
          (s["formats"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ","),
        ])
      }
      Output.table(rows)
    }
    let deliveries = answer["deliveries"]?.arrayValue ?? []
    guard !deliveries.isEmpty else { return }
    print("")
    var rows = [["RECEIVED", "STREAM", "RECORDS", "POINTS", "REJECTED", "ERROR"]]
    for d in deliveries.prefix(10) {
      let counts: [String] = ["records", "points", "rejected"].map { name in
        d[name]?.intValue.map(String.init) ?? ""
      }
      let error = String((d["errorMessage"]?.stringValue ?? "").prefix(80))
      rows.append(
        [d["receivedAt"]?.stringValue ?? "", d["stream"]?.stringValue ?? ""] + counts + [error])
    }
    Output.table(rows)
  }
}

struct MetricsQuery: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "query",
    abstract: "One metric's statistic over time, per series, as a text chart.",
    discussion:
      "Example: ferry metrics query --namespace AWS/EC2 --metric CPUUtilization --statistic max --from 6h --dimension InstanceId=i-0abc"
  )
  @OptionGroup var server: ServerOptions
  @Option(help: "The CloudWatch namespace, e.g. AWS/EC2.") var namespace: String
  @Option(help: "The metric name, e.g. CPUUtilization.") var metric: String
  @Option(help: "sum, count, min, max, avg, or a percentile the stream sends (p99).")
  var statistic = "avg"
  @Option(help: "Start: now, 15m, 24h, 7d or an ISO 8601 time (default 3h).") var from: String?
  @Option(help: "End, as --from (default now).") var to: String?
  @Option(help: "Seconds or a duration per point (60, 5m, 1h); default a round step.")
  var step: String?
  @Option(help: "Only series with this dimension, Name=Value; repeat for several.")
  var dimension: [String] = []

  func run() async throws {
    var items = [
      URLQueryItem(name: "namespace", value: namespace),
      URLQueryItem(name: "metric", value: metric),
      URLQueryItem(name: "statistic", value: statistic),
    ]
    if let from { items.append(URLQueryItem(name: "from", value: from)) }
    if let to { items.append(URLQueryItem(name: "to", value: to)) }
    if let step { items.append(URLQueryItem(name: "step", value: step)) }
    for value in dimension { items.append(URLQueryItem(name: "dimension", value: value)) }
    var components = URLComponents()
    components.queryItems = items
    let query = (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
    let answer = try await server.client().call(.GET, "/api/v1/metrics/query?" + query)
    if server.json { return Output.json(answer) }
    let series = answer["series"]?.arrayValue ?? []
    if series.isEmpty {
      print(
        Terminal.safe(
          "No points of \(namespace) \(metric) in that range. See what arrived with: ferry metrics list"
        ))
    }
    for s in series {
      print(
        Terminal.safe(
          "\(namespace) \(metric) \(statistic) {\(Self.dimensions(s["dimensions"]))} (\(s["unit"]?.stringValue ?? ""))"
        ))
      for line in Self.chart(s["points"]?.arrayValue ?? []) { print(Terminal.safe(line)) }
      print("")
    }
    if let note = answer["note"]?.stringValue { Terminal.note(note) }
  }

  static func dimensions(_ value: JSONValue?) -> String {
    guard case .object(let pairs)? = value else { return "" }
    return pairs.map { "\($0.key)=\($0.value.stringValue ?? "")" }.joined(separator: ", ")
  }

  /// One line per point: its time, its value, and a bar scaled to the largest value.
  static func chart(_ points: [JSONValue]) -> [String] {
    let values: [(String, Double)] = points.compactMap { point in
      guard let time = point["time"]?.stringValue, case .number(let value)? = point["value"]
      else { return nil }
      return (time, value)
    }
    let most = values.map { abs($0.1) }.max() ?? 0
    return values.map { time, value in
      let width = most == 0 ? 0 : Int((abs(value) / most * 40).rounded(.up))
      let number = Self.format(value)
      return
        "  \(time)  \(number.padding(toLength: max(12, number.count), withPad: " ", startingAt: 0)) \(String(repeating: "#", count: width))"
    }
  }

  static func format(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return String(format: "%.4g", value)
  }
}

struct MetricsTemplate: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "template",
    abstract: "Print the CloudFormation template of the metric-shipping stack (JSON).",
    discussion: """
      Deploy it with a stack name that starts with ferry-metrics- (the minimum permissions, ferry policy generate --purpose metrics, cover exactly that):
        aws cloudformation create-stack --stack-name ferry-metrics-prod --capabilities CAPABILITY_NAMED_IAM \\
          --template-body file://ferry-metrics.json --parameters ParameterKey=DeliveryKey,ParameterValue=frm_...
      """)
  @Option(
    help: "Ferry's public HTTPS base URL as Firehose reaches it, e.g. https://ferry.example.com.")
  var endpoint: String?

  func run() async throws {
    if let endpoint, !MetricStreamTemplate.isEndpoint(endpoint) {
      throw CLIError.usage(
        "--endpoint \(Terminal.safe(endpoint)) is not an https:// base URL without a path; Firehose delivers only over HTTPS (e.g. https://ferry.example.com)"
      )
    }
    print(MetricStreamTemplate.template(endpoint: endpoint).serialized(pretty: true))
  }
}
