import FerryCore
import Foundation
import Logging
import PostgresNIO

/// CloudWatch metrics shipped through Firehose: delivery keys, deliveries, points.
extension PostgresStore {
  // MARK: Delivery keys

  public func issueDeliveryKey(name: String, of account: AccountID, actor: String) async throws
    -> IssuedDeliveryKey
  {
    let (key, secret) = try StoreRules.newDeliveryKey(name: name, of: account)
    let logger = self.logger
    try await transaction { tx in
      _ = try await Self.execute(
        tx,
        "INSERT INTO metric_keys (id, account_id, name, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        [key.id, account.rawValue, key.name, MetricDeliveryKey.hash(secret), key.createdAt.micros],
        logger: logger)
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: account, actor: actor, action: "metrics-key.create", target: key.id,
          after: StoreJSON.audit(key)), logger: logger)
    }
    return IssuedDeliveryKey(key: key, secret: secret)
  }

  public func deliveryKeys(of account: AccountID) async throws -> [MetricDeliveryKey] {
    try await query(
      "SELECT * FROM metric_keys WHERE account_id = $1 ORDER BY created_at, id",
      Self.binds([account.rawValue])
    ).map(deliveryKey)
  }

  public func revokeDeliveryKey(_ id: String, of account: AccountID, actor: String) async throws
    -> Bool
  {
    let logger = self.logger
    let store = self
    return try await transaction { tx in
      let rows = try await Self.execute(
        tx, "DELETE FROM metric_keys WHERE id = $1 AND account_id = $2 RETURNING *",
        [id, account.rawValue], logger: logger)
      guard let row = rows.first else { return false }
      try await Self.audit(
        tx,
        AuditEntry(
          accountID: account, actor: actor, action: "metrics-key.revoke", target: id,
          before: StoreJSON.audit(try store.deliveryKey(row))), logger: logger)
      return true
    }
  }

  public func authenticate(deliveryKey secret: String) async throws -> MetricDeliveryKey? {
    try await query(
      "SELECT * FROM metric_keys WHERE secret_hash = $1",
      Self.binds([MetricDeliveryKey.hash(secret)])
    ).first.map(deliveryKey)
  }

  func deliveryKey(_ row: PostgresRandomAccessRow) throws -> MetricDeliveryKey {
    do {
      return MetricDeliveryKey(
        id: try row["id"].decode(String.self),
        accountID: AccountID(rawValue: try row["account_id"].decode(String.self)),
        name: try row["name"].decode(String.self),
        createdAt: Date(micros: try row["created_at"].decode(Int64.self)),
        lastUsedAt: try row["last_used_at"].decode(Int64?.self).map { Date(micros: $0) })
    } catch {
      throw map(error)
    }
  }

  // MARK: Deliveries and points

  public func commitMetricDelivery(_ delivery: MetricDelivery, of account: AccountID) async throws
    -> MetricDeliveryRecord?
  {
    let record = MetricDeliveryRecord(delivery)
    let batches = MetricRows.bySeries(delivery.points)
    let logger = self.logger
    return try await transaction { tx -> MetricDeliveryRecord? in
      // The insert claims the request ID; a concurrent retry of the same request waits for
      // this transaction and then finds it.
      let claimed = try await Self.execute(
        tx,
        """
        INSERT INTO metric_deliveries (account_id, request_id, key_id, received_at, body)
        VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, request_id) DO NOTHING RETURNING request_id
        """,
        [
          account.rawValue, delivery.requestID, delivery.keyID, delivery.receivedAt.micros,
          MetricRows.deliveryBody(record),
        ], logger: logger)
      if claimed.isEmpty {
        let rows = try await Self.execute(
          tx, "SELECT body FROM metric_deliveries WHERE account_id = $1 AND request_id = $2",
          [account.rawValue, delivery.requestID], logger: logger)
        guard let body = try rows.first?["body"].decode(String.self) else {
          throw StoreError.corrupt("a metric delivery row vanished while it was read")
        }
        return try MetricRows.delivery(body)
      }
      _ = try await Self.execute(
        tx, "UPDATE metric_keys SET last_used_at = $1 WHERE id = $2 AND account_id = $3",
        [delivery.receivedAt.micros, delivery.keyID, account.rawValue], logger: logger)
      guard !batches.isEmpty else { return nil }
      // Every series in one statement, then every point in one.
      let seriesRows = try await Self.execute(
        tx,
        """
        INSERT INTO metric_series (account_id, namespace, metric_name, dimensions, unit, first_ms, last_ms)
        SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[])
        ON CONFLICT (account_id, namespace, metric_name, dimensions, unit) DO UPDATE SET
          first_ms = LEAST(metric_series.first_ms, excluded.first_ms),
          last_ms = GREATEST(metric_series.last_ms, excluded.last_ms)
        RETURNING id, namespace, metric_name, dimensions, unit
        """,
        [
          account.rawValue, PGArray(batches.map(\.key.namespace)),
          PGArray(batches.map(\.key.metricName)), PGArray(batches.map(\.key.dimensionsText)),
          PGArray(batches.map(\.key.unit)), batches.map(\.firstMillis),
          batches.map(\.lastMillis),
        ], logger: logger)
      var ids: [String: Int64] = [:]
      for row in seriesRows {
        let name = try Self.seriesName(
          row["namespace"].decode(String.self), row["metric_name"].decode(String.self),
          row["dimensions"].decode(String.self), row["unit"].decode(String.self))
        ids[name] = try row["id"].decode(Int64.self)
      }
      var seriesIDs: [Int64] = []
      var starts: [Int64] = []
      var periods: [Int64] = []
      var counts: [Double] = []
      var sums: [Double] = []
      var mins: [Double] = []
      var maxes: [Double] = []
      var statistics: [String] = []
      for batch in batches {
        let key = batch.key
        guard
          let id = ids[
            Self.seriesName(key.namespace, key.metricName, key.dimensionsText, key.unit)]
        else { throw StoreError.corrupt("a metric series row was not written") }
        // The latest figure of a period within one delivery wins, as across deliveries.
        var latest: [Int64: Int] = [:]
        for point in batch.points {
          let start = point.start.millis
          if let at = latest[start] {
            counts[at] = point.count
            sums[at] = point.sum
            mins[at] = point.min
            maxes[at] = point.max
            periods[at] = Int64(point.periodSeconds)
            statistics[at] = MetricRows.statisticsText(point.statistics) ?? ""
            continue
          }
          latest[start] = starts.count
          seriesIDs.append(id)
          starts.append(start)
          periods.append(Int64(point.periodSeconds))
          counts.append(point.count)
          sums.append(point.sum)
          mins.append(point.min)
          maxes.append(point.max)
          statistics.append(MetricRows.statisticsText(point.statistics) ?? "")
        }
      }
      _ = try await Self.execute(
        tx,
        """
        INSERT INTO metric_points (series_id, start_ms, period, count, sum, min, max, statistics)
        SELECT s, t, p, c, su, mi, ma, NULLIF(st, '') FROM UNNEST($1::bigint[], $2::bigint[],
          $3::bigint[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::text[])
          AS u(s, t, p, c, su, mi, ma, st)
        ON CONFLICT (series_id, start_ms) DO UPDATE SET period = excluded.period,
          count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max,
          statistics = excluded.statistics
        """,
        [
          seriesIDs, starts, periods, PGArray(counts), PGArray(sums), PGArray(mins),
          PGArray(maxes), PGArray(statistics),
        ], logger: logger)
      return nil
    }
  }

  /// A series' natural key as one string (for matching rows to what was sent).
  static func seriesName(
    _ namespace: String, _ metric: String, _ dimensions: String, _ unit: String
  )
    -> String
  {
    [namespace, metric, dimensions, unit].joined(separator: "\u{0}")
  }

  public func metricDeliveries(of account: AccountID, limit: Int) async throws
    -> [MetricDeliveryRecord]
  {
    let rows = try await query(
      "SELECT body FROM metric_deliveries WHERE account_id = $1 ORDER BY received_at DESC, request_id LIMIT $2",
      Self.binds([account.rawValue, limit]))
    do {
      return try rows.map { try MetricRows.delivery(try $0["body"].decode(String.self)) }
    } catch let error as StoreError {
      throw error
    } catch {
      throw map(error)
    }
  }

  public func metricSeries(of account: AccountID, limit: Int) async throws
    -> [MetricSeriesSummary]
  {
    let rows = try await query(
      """
      SELECT s.*, (SELECT COUNT(*) FROM metric_points p WHERE p.series_id = s.id) AS points
      FROM metric_series s WHERE s.account_id = $1
      ORDER BY s.namespace COLLATE "C", s.metric_name COLLATE "C", s.dimensions COLLATE "C", s.unit COLLATE "C"
      LIMIT $2
      """, Self.binds([account.rawValue, limit]))
    do {
      return try rows.map { row in
        MetricSeriesSummary(
          key: try Self.seriesKey(row),
          firstPoint: Date(millis: try row["first_ms"].decode(Int64.self)),
          lastPoint: Date(millis: try row["last_ms"].decode(Int64.self)),
          points: try row["points"].decode(Int.self))
      }
    } catch {
      throw map(error)
    }
  }

  static func seriesKey(_ row: PostgresRandomAccessRow) throws -> MetricSeriesKey {
    MetricSeriesKey(
      namespace: try row["namespace"].decode(String.self),
      metricName: try row["metric_name"].decode(String.self),
      dimensions: MetricRows.dimensions(try row["dimensions"].decode(String.self)),
      unit: try row["unit"].decode(String.self))
  }

  public func metricPoints(
    of account: AccountID, namespace: String, metricName: String, dimensions: [String: String],
    from: Date, to: Date, limit: Int
  ) async throws -> [MetricPoint] {
    let seriesRows = try await query(
      """
      SELECT * FROM metric_series WHERE account_id = $1 AND namespace = $2 AND metric_name = $3
      AND last_ms >= $4 AND first_ms < $5
      """, Self.binds([account.rawValue, namespace, metricName, from.millis, to.millis]))
    var keys: [Int64: MetricSeriesKey] = [:]
    do {
      for row in seriesRows {
        let key = try Self.seriesKey(row)
        if MetricRows.includes(key.dimensions, dimensions) {
          keys[try row["id"].decode(Int64.self)] = key
        }
      }
    } catch {
      throw map(error)
    }
    guard !keys.isEmpty else { return [] }
    let rows = try await query(
      """
      SELECT * FROM metric_points WHERE series_id = ANY($1) AND start_ms >= $2 AND start_ms < $3
      ORDER BY start_ms, series_id LIMIT $4
      """, Self.binds([Array(keys.keys), from.millis, to.millis, limit + 1]))
    do {
      return try rows.map { row in
        let series = try row["series_id"].decode(Int64.self)
        guard let key = keys[series] else {
          throw StoreError.corrupt("a point of an unread series")
        }
        return MetricPoint(
          series: key, start: Date(millis: try row["start_ms"].decode(Int64.self)),
          periodSeconds: try row["period"].decode(Int.self),
          count: try row["count"].decode(Double.self), sum: try row["sum"].decode(Double.self),
          min: try row["min"].decode(Double.self), max: try row["max"].decode(Double.self),
          statistics: MetricRows.statistics(try row["statistics"].decode(String?.self)))
      }
    } catch let error as StoreError {
      throw error
    } catch {
      throw map(error)
    }
  }

  public func deleteMetrics(of account: AccountID, olderThan cutoff: Date) async throws -> Int {
    let logger = self.logger
    let millis = cutoff.millis
    let micros = cutoff.micros
    return try await transaction { tx -> Int in
      let removed =
        try await Self.execute(
          tx,
          """
          WITH gone AS (DELETE FROM metric_points WHERE start_ms < $1 AND series_id IN
            (SELECT id FROM metric_series WHERE account_id = $2) RETURNING 1)
          SELECT COUNT(*) AS n FROM gone
          """, [millis, account.rawValue], logger: logger
        ).first.map { try $0["n"].decode(Int.self) } ?? 0
      _ = try await Self.execute(
        tx, "DELETE FROM metric_series WHERE account_id = $1 AND last_ms < $2",
        [account.rawValue, millis], logger: logger)
      _ = try await Self.execute(
        tx, "UPDATE metric_series SET first_ms = $1 WHERE account_id = $2 AND first_ms < $1",
        [millis, account.rawValue], logger: logger)
      _ = try await Self.execute(
        tx, "DELETE FROM metric_deliveries WHERE account_id = $1 AND received_at < $2",
        [account.rawValue, micros], logger: logger)
      return removed
    }
  }
}
