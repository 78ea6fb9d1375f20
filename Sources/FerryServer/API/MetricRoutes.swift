import FerryCore
import FerryMetrics
import FerryPolicy
import Foundation
import Hummingbird

/// The account's CloudWatch metrics: delivery keys (`/api/v1/metrics/keys`, admins
/// change them), what was received (`/api/v1/metrics`), and queries
/// (`/api/v1/metrics/query`).
struct MetricRoutes {
  let store: any Store

  func add(to api: RouterGroup<FerryRequestContext>) {
    api.get("metrics", use: catalog)
    api.get("metrics/query", use: query)
    api.get("metrics/template", use: template)
    api.get("metrics/keys", use: keys)
    api.post("metrics/keys", use: createKey)
    api.delete("metrics/keys/{id}", use: revokeKey)
  }

  // MARK: The stack

  /// The CloudFormation template of the metric-shipping stack; `endpoint` (Ferry's public
  /// HTTPS base URL) becomes the default of its FerryEndpoint parameter.
  @Sendable func template(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    _ = try context.requireCaller()
    let endpoint = request.uri.queryParameters.get("endpoint")
    if let endpoint, !MetricStreamTemplate.isEndpoint(endpoint) {
      throw APIProblem.badInput(
        field: "endpoint", "\"\(endpoint)\" is not an https:// base URL without a path",
        fix: "Give Ferry's public URL as Firehose reaches it, e.g. https://ferry.example.com.")
    }
    return JSONResponse.make(MetricStreamTemplate.template(endpoint: endpoint))
  }

  // MARK: Delivery keys

  @Sendable func keys(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let caller = try context.requireCaller()
    try caller.requireAdmin()
    let keys = try await store.deliveryKeys(of: caller.account.id)
    return JSONResponse.make(JSONViews.list("keys", keys.map(Self.key)))
  }

  @Sendable func createKey(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try context.requireCaller()
    try caller.requireAdmin()
    let body = try await RequestBody.read(request, context: context, known: ["name"])
    let name = try AccessRoutes.name(
      try body.requiredString("name", example: "firehose-prod"), field: "name")
    let issued = try await store.issueDeliveryKey(
      name: name, of: caller.account.id, actor: caller.actor)
    guard case .object(var pairs) = Self.key(issued.key) else { throw APIProblem.internalError() }
    // The only time the key leaves Ferry.
    pairs.append(("key", .string(issued.secret.revealed)))
    return JSONResponse.make(.object(pairs), status: .created)
  }

  @Sendable func revokeKey(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try context.requireCaller()
    try caller.requireAdmin()
    let id = context.parameters.get("id") ?? ""
    guard try await store.revokeDeliveryKey(id, of: caller.account.id, actor: caller.actor) else {
      throw APIProblem.notFound("delivery key", id)
    }
    return Response(status: .noContent)
  }

  static func key(_ key: MetricDeliveryKey) -> JSONValue {
    .object([
      ("id", .string(key.id)), ("name", .string(key.name)),
      ("createdAt", JSONViews.date(key.createdAt)),
      ("lastUsedAt", key.lastUsedAt.map(JSONViews.date) ?? .null),
    ])
  }

  // MARK: What was received

  /// The series received (namespace, metric, dimensions, unit, the span of their points),
  /// each stream's delivery status and the latest deliveries with their outcome.
  @Sendable func catalog(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try context.requireCaller()
    let series = try await store.metricSeries(of: caller.account.id, limit: 5000)
    let deliveries = try await store.metricDeliveries(
      of: caller.account.id, limit: Self.statusDeliveries)
    return JSONResponse.make(
      .object([
        ("series", .array(series.map(Self.series))),
        ("streams", .array(MetricStreamStatus.of(deliveries).map(Self.stream))),
        ("deliveries", .array(deliveries.prefix(50).map(Self.delivery))),
      ]))
  }

  /// The latest deliveries a stream status is drawn from (a stream delivering every
  /// minute for an hour, 20 streams at once).
  static let statusDeliveries = 1_200

  static func stream(_ s: MetricStreamStatus) -> JSONValue {
    .object([
      ("stream", .string(s.stream)), ("deliveryStream", JSONViews.optional(s.deliveryStream)),
      ("formats", .array(s.formats.map { .string($0) })),
      ("lastDelivery", JSONViews.date(s.lastDelivery)),
      ("deliveriesLastHour", .number(Double(s.deliveriesLastHour))),
      ("recordsPerMinute", .number(s.recordsPerMinute)),
      ("pointsPerMinute", .number(s.pointsPerMinute)),
      ("refusedLastHour", .number(Double(s.refusedLastHour))),
      ("lastError", JSONViews.optional(s.lastError)),
    ])
  }

  static func dimensions(_ dimensions: [String: String]) -> JSONValue {
    .object(dimensions.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
  }

  static func series(_ s: MetricSeriesSummary) -> JSONValue {
    .object([
      ("namespace", .string(s.key.namespace)), ("metric", .string(s.key.metricName)),
      ("dimensions", dimensions(s.key.dimensions)), ("unit", .string(s.key.unit)),
      ("firstPoint", JSONViews.date(s.firstPoint)), ("lastPoint", JSONViews.date(s.lastPoint)),
      ("points", .number(Double(s.points))),
    ])
  }

  static func delivery(_ d: MetricDeliveryRecord) -> JSONValue {
    .object([
      ("requestId", .string(d.requestID)), ("keyId", .string(d.keyID)),
      ("receivedAt", JSONViews.date(d.receivedAt)), ("sourceArn", JSONViews.optional(d.sourceARN)),
      ("stream", JSONViews.optional(d.streamName)), ("format", .string(d.format)),
      ("labels", dimensions(d.labels)), ("records", .number(Double(d.records))),
      ("points", .number(Double(d.points))), ("rejected", .number(Double(d.rejected))),
      ("errorMessage", JSONViews.optional(d.errorMessage)),
    ])
  }

  // MARK: Queries

  /// Points read for one query at most; past that the answer asks for a narrower query.
  static let maxPoints = 200_000
  /// Steps per series at most.
  static let maxSteps = 5_000

  /// What a query asks, checked.
  struct Query {
    var namespace: String
    var metric: String
    var dimensions: [String: String]
    var statistic: MetricStatistic
    var from: Date
    var to: Date
    var stepSeconds: Int
  }

  static func query(_ parameters: [(String, String?)], dimensions dimensionTexts: [String])
    throws -> Query
  {
    func value(_ name: String) -> String? {
      parameters.first { $0.0 == name }?.1.flatMap { $0.isEmpty ? nil : $0 }
    }
    guard let namespace = value("namespace") else {
      throw APIProblem.badInput(
        field: "namespace", "is required", fix: "Give the namespace, e.g. namespace=AWS/EC2.")
    }
    guard let metric = value("metric") else {
      throw APIProblem.badInput(
        field: "metric", "is required", fix: "Give the metric name, e.g. metric=CPUUtilization.")
    }
    let statisticText = value("statistic") ?? "avg"
    guard let statistic = MetricStatistic(statisticText) else {
      throw APIProblem.badInput(
        field: "statistic", "\"\(statisticText)\" is not a statistic",
        fix: "Use sum, count, min, max, avg, or a percentile the stream sends, e.g. p99.")
    }
    var dimensions: [String: String] = [:]
    for text in dimensionTexts {
      guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
        throw APIProblem.badInput(
          field: "dimension", "\"\(text)\" is not Name=Value",
          fix: "Give each dimension as dimension=Name=Value, e.g. dimension=InstanceId=i-0abc.")
      }
      dimensions[String(text[..<equals])] = String(text[text.index(after: equals)...])
    }
    let now = Date()
    func time(_ name: String, _ fallback: Date) throws -> Date {
      guard let text = value(name) else { return fallback }
      guard let date = QueryTime.parse(text, now: now) else {
        throw APIProblem.badInput(
          field: name, "\"\(text)\" is not a time", fix: "For \(name), \(QueryTime.help).")
      }
      return date
    }
    let from = try time("from", now.addingTimeInterval(-3 * 3600))
    let to = try time("to", now)
    guard from < to else {
      throw APIProblem.badInput(
        field: "from", "the range starts at or after its end", fix: "Give a from earlier than to.")
    }
    let span = to.timeIntervalSince(from)
    let step: Int
    if let text = value("step") {
      guard let seconds = Self.seconds(text), seconds >= 60, seconds % 60 == 0 else {
        throw APIProblem.badInput(
          field: "step", "\"\(text)\" is not a step of whole minutes",
          fix:
            "Give seconds (60, 300) or a duration (1m, 5m, 1h, 1d); metric streams send one point a minute."
        )
      }
      guard span / Double(seconds) <= Double(maxSteps) else {
        throw APIProblem.badInput(
          field: "step", "a step of \(seconds) s gives more than \(maxSteps) points per series",
          fix: "Give a longer step or a shorter range.")
      }
      step = seconds
    } else {
      step = Self.defaultStep(span: span)
    }
    return Query(
      namespace: namespace, metric: metric, dimensions: dimensions, statistic: statistic,
      from: from, to: to, stepSeconds: step)
  }

  /// A round step that gives at most a few hundred points over `span`.
  static func defaultStep(span: TimeInterval) -> Int {
    let steps = [60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 86400]
    return steps.first { span / Double($0) <= 360 } ?? 86400
  }

  /// `300`, `5m`, `1h`, `1d` as seconds.
  static func seconds(_ text: String) -> Int? {
    if let plain = Int(text) { return plain }
    guard let unit = text.last, let number = Int(text.dropLast()), number > 0 else { return nil }
    switch unit {
    case "s": return number
    case "m": return number * 60
    case "h": return number * 3600
    case "d": return number * 86400
    default: return nil
    }
  }

  /// A query's series: its points read (at most ``maxPoints``) and combined over its step
  /// (the web UI's chart too).
  func run(_ query: Query, of account: AccountID) async throws -> [MetricSeriesResult] {
    let points = try await store.metricPoints(
      of: account, namespace: query.namespace, metricName: query.metric,
      dimensions: query.dimensions, from: query.from, to: query.to, limit: Self.maxPoints)
    if points.count > Self.maxPoints {
      throw APIProblem.badInput(
        field: "from",
        "the range holds more than \(Self.maxPoints) points of \(query.namespace) \(query.metric)",
        fix: "Give a shorter range, or narrow it with a dimension (Name=Value).")
    }
    return MetricAggregation.series(
      points, statistic: query.statistic, stepSeconds: query.stepSeconds)
  }

  @Sendable func query(_ request: Request, context: FerryRequestContext) async throws -> Response {
    let caller = try context.requireCaller()
    let parameters = request.uri.queryParameters
    let query = try Self.query(
      parameters.map { (String($0.key), String($0.value)) },
      dimensions: parameters.getAll("dimension").map { String($0) })
    let series = try await run(query, of: caller.account.id)
    var pairs: [(key: String, value: JSONValue)] = [
      ("namespace", .string(query.namespace)), ("metric", .string(query.metric)),
      ("statistic", .string(query.statistic.description)),
      ("from", JSONViews.date(query.from)), ("to", JSONViews.date(query.to)),
      ("step", .number(Double(query.stepSeconds))),
      (
        "series",
        .array(
          series.map { s -> JSONValue in
            .object([
              ("dimensions", Self.dimensions(s.key.dimensions)), ("unit", .string(s.key.unit)),
              (
                "points",
                .array(
                  s.points.map { point -> JSONValue in
                    .object([("time", JSONViews.date(point.time)), ("value", .number(point.value))])
                  })
              ),
            ])
          })
      ),
    ]
    if case .stored = query.statistic, query.stepSeconds > 60 {
      pairs.append(
        (
          "note",
          .string(
            "a percentile cannot be combined from the minutes' percentiles: each step shows the largest of its minutes' values (an upper bound); use step=60 for CloudWatch's own figures"
          )
        ))
    }
    return JSONResponse.make(.object(pairs))
  }
}
