import FerryCore
import Foundation
import GRDB

/// CloudWatch metrics shipped through Firehose: delivery keys, deliveries, points.
extension SQLiteStore {
  // MARK: Delivery keys

  public func issueDeliveryKey(name: String, of account: AccountID, actor: String) async throws
    -> IssuedDeliveryKey
  {
    let (key, secret) = try StoreRules.newDeliveryKey(name: name, of: account)
    try await write { db in
      try db.execute(
        sql:
          "INSERT INTO metric_keys (id, account_id, name, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)",
        arguments: [
          key.id, account.rawValue, key.name, MetricDeliveryKey.hash(secret), key.createdAt.micros,
        ])
      try Self.audit(
        db,
        AuditEntry(
          accountID: account, actor: actor, action: "metrics-key.create", target: key.id,
          after: StoreJSON.audit(key)))
    }
    return IssuedDeliveryKey(key: key, secret: secret)
  }

  public func deliveryKeys(of account: AccountID) async throws -> [MetricDeliveryKey] {
    try await read { db in
      try Row.fetchAll(
        db, sql: "SELECT * FROM metric_keys WHERE account_id = ? ORDER BY created_at, id",
        arguments: [account.rawValue]
      ).map(Self.deliveryKey)
    }
  }

  public func revokeDeliveryKey(_ id: String, of account: AccountID, actor: String) async throws
    -> Bool
  {
    try await write { db in
      guard
        let row = try Row.fetchOne(
          db, sql: "SELECT * FROM metric_keys WHERE id = ? AND account_id = ?",
          arguments: [id, account.rawValue])
      else { return false }
      try db.execute(
        sql: "DELETE FROM metric_keys WHERE id = ? AND account_id = ?",
        arguments: [id, account.rawValue])
      try Self.audit(
        db,
        AuditEntry(
          accountID: account, actor: actor, action: "metrics-key.revoke", target: id,
          before: StoreJSON.audit(Self.deliveryKey(row))))
      return true
    }
  }

  public func authenticate(deliveryKey secret: String) async throws -> MetricDeliveryKey? {
    let hash = MetricDeliveryKey.hash(secret)
    return try await read { db in
      try Row.fetchOne(
        db, sql: "SELECT * FROM metric_keys WHERE secret_hash = ?", arguments: [hash]
      )
      .map(Self.deliveryKey)
    }
  }

  static func deliveryKey(_ row: Row) -> MetricDeliveryKey {
    MetricDeliveryKey(
      id: row["id"], accountID: AccountID(rawValue: row["account_id"]), name: row["name"],
      createdAt: Date(micros: row["created_at"]),
      lastUsedAt: (row["last_used_at"] as Int64?).map { Date(micros: $0) })
  }

  // MARK: Deliveries and points

  public func commitMetricDelivery(_ delivery: MetricDelivery, of account: AccountID) async throws
    -> MetricDeliveryRecord?
  {
    let record = MetricDeliveryRecord(delivery)
    let batches = MetricRows.bySeries(delivery.points)
    return try await write { db -> MetricDeliveryRecord? in
      if let body = try String.fetchOne(
        db, sql: "SELECT body FROM metric_deliveries WHERE account_id = ? AND request_id = ?",
        arguments: [account.rawValue, delivery.requestID])
      {
        return try MetricRows.delivery(body)
      }
      try db.execute(
        sql:
          "INSERT INTO metric_deliveries (account_id, request_id, key_id, received_at, body) VALUES (?, ?, ?, ?, ?)",
        arguments: [
          account.rawValue, delivery.requestID, delivery.keyID, delivery.receivedAt.micros,
          MetricRows.deliveryBody(record),
        ])
      try db.execute(
        sql: "UPDATE metric_keys SET last_used_at = ? WHERE id = ? AND account_id = ?",
        arguments: [delivery.receivedAt.micros, delivery.keyID, account.rawValue])
      let upsertSeries = try db.cachedStatement(
        sql: """
          INSERT INTO metric_series (account_id, namespace, metric_name, dimensions, unit, first_ms, last_ms)
          VALUES (?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (account_id, namespace, metric_name, dimensions, unit) DO UPDATE SET
            first_ms = MIN(first_ms, excluded.first_ms), last_ms = MAX(last_ms, excluded.last_ms)
          RETURNING id
          """)
      let upsertPoint = try db.cachedStatement(
        sql: """
          INSERT INTO metric_points (series_id, start_ms, period, count, sum, min, max, statistics)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (series_id, start_ms) DO UPDATE SET period = excluded.period,
            count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max,
            statistics = excluded.statistics
          """)
      for batch in batches {
        let key = batch.key
        guard
          let seriesID = try Int64.fetchOne(
            upsertSeries,
            arguments: [
              account.rawValue, key.namespace, key.metricName, key.dimensionsText, key.unit,
              batch.firstMillis, batch.lastMillis,
            ])
        else { throw StoreError.corrupt("a metric series row was not written") }
        for point in batch.points {
          try upsertPoint.execute(arguments: [
            seriesID, point.start.millis, point.periodSeconds, point.count, point.sum, point.min,
            point.max, MetricRows.statisticsText(point.statistics),
          ])
        }
      }
      return nil
    }
  }

  public func metricDeliveries(of account: AccountID, limit: Int) async throws
    -> [MetricDeliveryRecord]
  {
    try await read { db in
      try String.fetchAll(
        db,
        sql:
          "SELECT body FROM metric_deliveries WHERE account_id = ? ORDER BY received_at DESC, request_id LIMIT ?",
        arguments: [account.rawValue, limit]
      ).map(MetricRows.delivery)
    }
  }

  public func metricSeries(of account: AccountID, limit: Int) async throws
    -> [MetricSeriesSummary]
  {
    try await read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT s.*, (SELECT COUNT(*) FROM metric_points p WHERE p.series_id = s.id) AS points
          FROM metric_series s WHERE s.account_id = ?
          ORDER BY s.namespace, s.metric_name, s.dimensions, s.unit LIMIT ?
          """, arguments: [account.rawValue, limit]
      ).map { row in
        MetricSeriesSummary(
          key: Self.seriesKey(row), firstPoint: Date(millis: row["first_ms"]),
          lastPoint: Date(millis: row["last_ms"]), points: row["points"])
      }
    }
  }

  static func seriesKey(_ row: Row) -> MetricSeriesKey {
    MetricSeriesKey(
      namespace: row["namespace"], metricName: row["metric_name"],
      dimensions: MetricRows.dimensions(row["dimensions"]), unit: row["unit"])
  }

  public func metricPoints(
    of account: AccountID, namespace: String, metricName: String, dimensions: [String: String],
    from: Date, to: Date, limit: Int
  ) async throws -> [MetricPoint] {
    try await read { db in
      let series = try Row.fetchAll(
        db,
        sql:
          "SELECT * FROM metric_series WHERE account_id = ? AND namespace = ? AND metric_name = ? AND last_ms >= ? AND first_ms < ?",
        arguments: [account.rawValue, namespace, metricName, from.millis, to.millis]
      ).compactMap { row -> (Int64, MetricSeriesKey)? in
        let key = Self.seriesKey(row)
        return MetricRows.includes(key.dimensions, dimensions) ? (row["id"], key) : nil
      }
      var points: [MetricPoint] = []
      let statement = try db.cachedStatement(
        sql: """
          SELECT * FROM metric_points WHERE series_id = ? AND start_ms >= ? AND start_ms < ?
          ORDER BY start_ms LIMIT ?
          """)
      for (id, key) in series {
        let rows = try Row.fetchCursor(
          statement, arguments: [id, from.millis, to.millis, limit - points.count + 1])
        while let row = try rows.next() {
          points.append(
            MetricPoint(
              series: key, start: Date(millis: row["start_ms"]), periodSeconds: row["period"],
              count: row["count"], sum: row["sum"], min: row["min"], max: row["max"],
              statistics: MetricRows.statistics(row["statistics"])))
        }
        if points.count > limit { break }
      }
      return Array(points.sorted { $0.start < $1.start }.prefix(limit + 1))
    }
  }

  public func deleteMetrics(of account: AccountID, olderThan cutoff: Date) async throws -> Int {
    let millis = cutoff.millis
    let micros = cutoff.micros
    return try await write { db in
      try db.execute(
        sql: """
          DELETE FROM metric_points WHERE start_ms < ? AND series_id IN
            (SELECT id FROM metric_series WHERE account_id = ?)
          """, arguments: [millis, account.rawValue])
      let removed = db.changesCount
      try db.execute(
        sql: "DELETE FROM metric_series WHERE account_id = ? AND last_ms < ?",
        arguments: [account.rawValue, millis])
      try db.execute(
        sql: "UPDATE metric_series SET first_ms = ? WHERE account_id = ? AND first_ms < ?",
        arguments: [millis, account.rawValue, millis])
      try db.execute(
        sql: "DELETE FROM metric_deliveries WHERE account_id = ? AND received_at < ?",
        arguments: [account.rawValue, micros])
      return removed
    }
  }
}
