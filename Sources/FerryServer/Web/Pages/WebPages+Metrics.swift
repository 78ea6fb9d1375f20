import FerryCore
import FerryMetrics
import FerryPolicy
import Foundation
import Hummingbird

/// CloudWatch metrics: the Metrics page (a metric picker, dimension filters, a line chart of
/// the chosen statistic per series drawn by Ferry as SVG, the deliveries' status) and the
/// Ship metrics page (delivery keys, the stack's template and how to deploy it). Both work
/// without JavaScript: the picker is a GET form, so a chart's URL can be shared.
extension WebPages {
  func addMetrics(to web: RouterGroup<FerryRequestContext>) {
    web.get("cloud-metrics", use: metricsPage)
    web.get("cloud-metrics/ship", use: shipMetricsPage)
    web.get("cloud-metrics/template.json", use: metricsTemplate)
    web.post("cloud-metrics/keys", use: createDeliveryKey)
    web.post("cloud-metrics/keys/{id}/revoke", use: revokeDeliveryKey)
  }

  static let metricStatistics = ["avg", "sum", "min", "max", "count"]

  @Sendable func metricsPage(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try caller(context)
    let parameters = request.formQuery
    let series = try await store.metricSeries(of: caller.account.id, limit: 5000)
    let deliveries = try await store.metricDeliveries(
      of: caller.account.id, limit: MetricRoutes.statusDeliveries)
    let streams = MetricStreamStatus.of(deliveries)
    // The metrics received, one picker entry per namespace and metric name.
    var metrics: [(namespace: String, metric: String)] = []
    for s in series
    where !metrics.contains(where: {
      $0.namespace == s.key.namespace && $0.metric == s.key.metricName
    }) {
      metrics.append((s.key.namespace, s.key.metricName))
    }
    let chosen =
      parameters.get("metric").flatMap { text -> (String, String)? in
        guard let space = text.lastIndex(of: " ") else { return nil }
        return (String(text[..<space]), String(text[text.index(after: space)...]))
      } ?? metrics.first
    // A chart per statistic chosen (avg when none is).
    let chosenStatistics = parameters.getAll("statistic").flatMap { $0.split(separator: ",") }
      .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    let statistics = Array((chosenStatistics.isEmpty ? ["avg"] : chosenStatistics).prefix(6))
    let from = parameters.get("from") ?? "3h"
    let dimensionText = parameters.get("dimensions") ?? ""
    var data: [String: Any] = [
      "from": from, "dimensions": dimensionText, "hasMetrics": !metrics.isEmpty,
      "metrics": metrics.map { m in
        let value = "\(m.namespace) \(m.metric)"
        return [
          "value": value, "label": "\(m.namespace) · \(m.metric)",
          "selected": chosen.map { $0 == m } ?? false,
        ] as [String: Any]
      },
      "statistics": Self.metricStatistics.map {
        ["value": $0, "selected": statistics.contains($0)]
      },
      "otherStatistics": statistics.filter { !Self.metricStatistics.contains($0) }.joined(
        separator: ","),
      "streams": streams.map(Self.streamRow),
      "deliveries": deliveries.prefix(20).map(Self.deliveryRow),
      "hasDeliveries": !deliveries.isEmpty,
    ]
    if let (namespace, metric) = chosen {
      var charts: [[String: Any]] = []
      for statistic in statistics {
        do {
          var pairs: [(String, String?)] = [
            ("namespace", namespace), ("metric", metric), ("statistic", statistic),
            ("from", from),
          ]
          if let to = parameters.get("to") { pairs.append(("to", to)) }
          let dimensions = dimensionText.split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
          }.filter { !$0.isEmpty }
          let query = try MetricRoutes.query(pairs, dimensions: dimensions)
          let results = try await MetricRoutes(store: store).run(query, of: caller.account.id)
          var chart = MetricChart.data(
            results, from: query.from, to: query.to,
            title: "\(namespace) \(metric) \(statistic)", step: query.stepSeconds)
          chart["id"] = "chart-\(charts.count)"
          charts.append(chart)
        } catch let problem as APIProblem {
          data["queryProblem"] = WebPage.problem(problem)
          break
        }
      }
      data["charts"] = charts
    }
    return try pages.page(
      "metrics", title: "Metrics", context: context, data: data, section: .metrics)
  }

  static func streamRow(_ s: MetricStreamStatus) -> [String: Any] {
    var row: [String: Any] = [
      "stream": s.stream, "deliveryStream": s.deliveryStream ?? "—",
      "formats": s.formats.joined(separator: ", "), "last": WebPage.time(s.lastDelivery),
      "hour": WebPage.count(s.deliveriesLastHour),
      "records": MetricsFormat.value(s.recordsPerMinute),
      "points": MetricsFormat.value(s.pointsPerMinute),
    ]
    // Mustache takes 0 as true: keys for problems only when there are some.
    if s.refusedLastHour > 0 {
      row["refused"] = WebPage.count(s.refusedLastHour)
      row["error"] = s.lastError ?? ""
    }
    if Date().timeIntervalSince(s.lastDelivery) > 600 { row["quiet"] = true }
    return row
  }

  static func deliveryRow(_ d: MetricDeliveryRecord) -> [String: Any] {
    [
      "received": WebPage.time(d.receivedAt), "stream": d.streamName ?? "—",
      "records": WebPage.count(d.records), "points": WebPage.count(d.points),
      "rejected": d.rejected, "failed": d.rejected > 0, "error": d.errorMessage ?? "",
    ]
  }

  func shipMetricsPage(
    _ context: FerryRequestContext, caller: Caller, extra: [String: Any] = [:],
    status: HTTPResponse.Status = .ok
  ) async throws -> Response {
    let keys = caller.isAdmin ? try await store.deliveryKeys(of: caller.account.id) : []
    var data: [String: Any] = [
      "keys": keys.map { key in
        [
          "id": key.id, "name": key.name, "created": WebPage.time(key.createdAt),
          "lastUsed": WebPage.time(key.lastUsedAt),
        ]
      },
      "hasKeys": !keys.isEmpty, "prefix": MetricShipping.namePrefix,
    ]
    for (key, value) in extra { data[key] = value }
    return try pages.page(
      "metrics-ship", title: "Ship metrics", context: context, data: data, section: .metrics,
      status: status)
  }

  @Sendable func shipMetricsPage(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    try await shipMetricsPage(context, caller: try caller(context))
  }

  /// The template as a download, with the endpoint the form gave as its default.
  @Sendable func metricsTemplate(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try caller(context)
    let endpoint = request.formQuery.get("endpoint").flatMap { $0.isEmpty ? nil : $0 }
    if let endpoint, !MetricStreamTemplate.isEndpoint(endpoint) {
      return try await shipMetricsPage(
        context, caller: caller,
        extra: [
          "templateProblem": WebPage.problem(
            APIProblem.badInput(
              field: "endpoint", "\"\(endpoint)\" is not an https:// address without a path",
              fix:
                "Give Ferry's public address as Firehose reaches it, e.g. https://ferry.example.com."
            )),
          "endpoint": endpoint,
        ], status: .badRequest)
    }
    var buffer = ByteBuffer()
    buffer.writeString(MetricStreamTemplate.template(endpoint: endpoint).serialized(pretty: true))
    return Response(
      status: .ok,
      headers: [
        .contentType: "application/json",
        .contentDisposition: "attachment; filename=\"ferry-metrics.json\"",
      ], body: ResponseBody(byteBuffer: buffer))
  }

  @Sendable func createDeliveryKey(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try caller(context)
    try caller.requireAdmin()
    let form = try await WebForm.read(request, context: context)
    do {
      let body = form.body(known: ["name"])
      let name = try AccessRoutes.name(
        try body.requiredString("name", example: "firehose-prod"), field: "name")
      let issued = try await store.issueDeliveryKey(
        name: name, of: caller.account.id, actor: caller.actor)
      // The only time the key is shown; the page is not cached.
      return try await shipMetricsPage(
        context, caller: caller,
        extra: ["issued": ["name": issued.key.name, "key": issued.secret.revealed]])
    } catch let problem as APIProblem {
      return try await shipMetricsPage(
        context, caller: caller,
        extra: ["keyProblem": WebPage.problem(problem), "keyForm": form.values],
        status: problem.status)
    }
  }

  @Sendable func revokeDeliveryKey(_ request: Request, context: FerryRequestContext) async throws
    -> Response
  {
    let caller = try caller(context)
    try caller.requireAdmin()
    let id = context.parameters.get("id") ?? ""
    guard try await store.revokeDeliveryKey(id, of: caller.account.id, actor: caller.actor) else {
      throw APIProblem.notFound("delivery key", id)
    }
    return WebRequestMiddleware.redirect(
      to: "/cloud-metrics/ship", notice: "Revoked the delivery key \(id).")
  }
}

/// A line chart of query results in a 600×200 box: one polyline per series (a gap where a
/// step has no point), the value axis from zero (or the lowest value, if negative) to the
/// highest, labelled at both ends.
enum MetricChart {
  static let width = 600.0
  static let height = 200.0
  /// Colours told apart by more than hue (each also dashed differently).
  static let styles = [
    ("#1f5fa8", ""), ("#b8520a", "6 3"), ("#2f7d32", "2 3"), ("#7b3fa0", "8 3 2 3"),
    ("#5a5a5a", "1 2"),
  ]

  static func data(
    _ series: [MetricSeriesResult], from: Date, to: Date, title: String, step: Int
  ) -> [String: Any] {
    let values = series.flatMap { $0.points.map(\.value) }
    let low = min(0, values.min() ?? 0)
    var high = values.max() ?? 1
    if high <= low { high = low + 1 }
    let span = max(to.timeIntervalSince(from), 1)
    func x(_ time: Date) -> Double { width * time.timeIntervalSince(from) / span }
    func y(_ value: Double) -> Double { height - height * (value - low) / (high - low) }
    let lines: [[String: Any]] = series.prefix(20).enumerated().map { index, s in
      // Runs of consecutive steps, so a missing step is a gap, not a slope.
      var runs: [[MetricSeriesResult.Point]] = []
      for point in s.points {
        if let last = runs.last?.last,
          point.time.timeIntervalSince(last.time) <= Double(step) + 0.5
        {
          runs[runs.count - 1].append(point)
        } else {
          runs.append([point])
        }
      }
      let style = styles[index % styles.count]
      let label =
        s.key.dimensions.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        .joined(separator: ", ")
      return [
        "colour": style.0, "dash": style.1,
        "label": label.isEmpty ? "(no dimensions)" : label, "unit": s.key.unit,
        "runs": runs.map { run in
          [
            "points": run.map { String(format: "%.1f,%.1f", x($0.time), y($0.value)) }
              .joined(separator: " "),
            "single": run.count == 1, "cx": String(format: "%.1f", x(run[0].time)),
            "cy": String(format: "%.1f", y(run[0].value)),
          ] as [String: Any]
        },
        "last": s.points.last.map { MetricsFormat.value($0.value) } ?? "",
      ]
    }
    var data: [String: Any] = [
      "title": title, "lines": lines, "empty": series.isEmpty,
      "high": MetricsFormat.value(high), "low": MetricsFormat.value(low),
      "from": WebPage.time(from), "to": WebPage.time(to), "step": WebPage.duration(Double(step)),
    ]
    if series.count > 20 { data["more"] = series.count - 20 }
    return data
  }
}

enum MetricsFormat {
  static func value(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return String(format: "%.4g", value)
  }
}
