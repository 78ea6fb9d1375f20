import FerryArchive
import FerryCore
import FerryIngest
import FerryPolicy
import Foundation

/// How the API writes the domain's records: the fields the OpenAPI document names, dates
/// in ISO 8601, never a secret.
enum JSONViews {
  static func date(_ date: Date) -> JSONValue {
    .string(date.formatted(.iso8601))
  }

  static func optional(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }

  static func account(_ account: Account) -> JSONValue {
    .object([
      ("id", .string(account.id.rawValue)), ("name", .string(account.name)),
      ("externalId", .string(account.externalID)),
      ("retentionDays", .number(Double(account.retentionDays))),
      ("createdAt", date(account.createdAt)),
    ])
  }

  static func connection(_ c: Connection, status: ConnectionStatus?) -> JSONValue {
    .object([
      ("id", .string(c.id)), ("purpose", .string(c.purpose.rawValue)),
      ("bucket", .string(c.bucket)), ("region", .string(c.region)), ("prefix", .string(c.prefix)),
      ("roleArn", .string(c.roleARN)), ("externalId", .string(c.externalID)),
      ("legacyExternalId", .bool(c.usesLegacyExternalID)),
      ("bucketOwner", .string(c.bucketOwner)), ("kmsKeyArn", optional(c.kmsKeyARN)),
      ("state", .string((status?.state ?? .unchecked).rawValue)),
      ("lastCheck", status?.lastCheck.map(check) ?? .null),
      ("createdAt", date(c.createdAt)),
    ])
  }

  static func check(_ check: ConnectionCheck) -> JSONValue {
    .object([
      ("connectionId", .string(check.connectionID)),
      ("succeeded", .bool(check.succeeded)),
      ("checkedAt", date(check.checkedAt)),
      (
        "steps",
        .array(
          check.steps.map { step in
            .object([
              ("name", .string(step.name.rawValue)), ("title", .string(step.name.title)),
              ("status", .string(step.status.rawValue)), ("detail", .string(step.detail)),
            ])
          })
      ),
      ("diagnosis", check.diagnosis.map(diagnosis) ?? .null),
    ])
  }

  static func diagnosis(_ d: Diagnosis) -> JSONValue {
    var pairs: [(key: String, value: JSONValue)] = [
      ("code", .string(d.code)), ("step", .string(d.step.rawValue)),
      ("cause", .string(d.cause)), ("fix", .string(d.fix)),
      ("statementToAdd", optional(d.statementToAdd)),
      ("otherCauses", .array(d.otherCauses.map(JSONValue.string))),
    ]
    if let aws = d.awsError {
      pairs.append(
        (
          "awsError",
          .object([
            ("operation", .string(aws.operation)), ("code", optional(aws.code)),
            ("message", .string(aws.message)), ("requestId", optional(aws.requestID)),
            ("httpStatus", aws.statusCode.map { .number(Double($0)) } ?? .null),
          ])
        ))
    } else {
      pairs.append(("awsError", .null))
    }
    return .object(pairs)
  }

  static func event(_ e: Event) -> JSONValue {
    .object([
      ("id", e.id.map { .string(String($0)) } ?? .null),
      (
        "time", .string(e.time.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
      ),
      ("fetcherId", .string(e.fetcherID)), ("logType", .string(e.logType)),
      ("sourceKey", .string(e.sourceKey)), ("sourceOffset", .number(Double(e.sourceOffset))),
      ("message", .string(e.message)),
      ("fields", .object(e.fields.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
      ("restoredBy", optional(e.restoredBy)),
    ])
  }

  static func restore(_ j: RestoreJob, problems: [RestoreObject]) -> JSONValue {
    func number(_ n: Int) -> JSONValue { .number(Double(n)) }
    let pace = RestorePace(j)
    let started: JSONValue = j.startedAt.map(date) ?? .null
    let perSecond: JSONValue = pace.map { .number($0.eventsPerSecond.rounded()) } ?? .null
    let left: JSONValue = pace?.secondsLeft.map { .number($0.rounded(.up)) } ?? .null
    let paceText: JSONValue = optional(pace?.sentence)
    return .object([
      ("id", .string(j.id)), ("archiveId", .string(j.archiveID)), ("from", date(j.from)),
      ("to", date(j.to)), ("query", optional(j.query)), ("state", .string(j.state.rawValue)),
      ("requestedBy", .string(j.requestedBy)),
      ("expiresAt", j.expiresAt.map(date) ?? .null), ("thaw", .bool(j.thaw)),
      (
        "progress",
        .object([
          ("objectsTotal", j.objectsTotal.map(number) ?? .null),
          ("bytesTotal", j.bytesTotal.map { .number(Double($0)) } ?? .null),
          ("eventsTotal", j.eventsTotal.map(number) ?? .null),
          ("objectsDone", number(j.objectsDone)), ("objectsFailed", number(j.objectsFailed)),
          ("objectsFrozen", number(j.objectsFrozen)),
          ("bytesRead", .number(Double(j.bytesRead))), ("eventsRead", number(j.eventsRead)),
          ("eventsMatched", number(j.eventsMatched)),
          ("eventsRestored", number(j.eventsRestored)),
          ("startedAt", started), ("eventsPerSecond", perSecond), ("secondsLeft", left),
          ("pace", paceText),
        ])
      ),
      ("problems", .array(problems.map(restoreObject))),
      ("error", optional(j.error)), ("createdAt", date(j.createdAt)),
      ("updatedAt", date(j.updatedAt)),
    ])
  }

  static func restoreObject(_ o: RestoreObject) -> JSONValue {
    .object([
      ("key", .string(o.key)), ("state", .string(o.state.rawValue)),
      ("storageClass", optional(o.storageClass)), ("events", .number(Double(o.events))),
      ("bytes", .number(Double(o.bytes))), ("error", optional(o.error)),
    ])
  }

  static func restoreEstimate(_ plan: RestorePlan, _ request: RestoreRoutes.Request) -> JSONValue {
    .object([
      ("archiveId", .string(request.archive.id)), ("from", date(request.from)),
      ("to", date(request.to)), ("query", optional(request.query)),
      ("objects", .number(Double(plan.readable.count))), ("bytes", .number(Double(plan.bytes))),
      ("events", .number(Double(plan.events))),
      ("frozenObjects", .number(Double(plan.frozen.count))),
      ("frozenBytes", .number(Double(plan.frozen.reduce(0) { $0 + $1.bytes }))),
      ("problems", .array((plan.problems + plan.frozen).prefix(100).map(restoreObject))),
    ])
  }

  static func token(_ t: APIToken) -> JSONValue {
    .object([
      ("id", .string(t.id)), ("name", .string(t.name)), ("role", .string(t.role.rawValue)),
      ("operator", .bool(t.isOperator)), ("createdAt", date(t.createdAt)),
    ])
  }

  static func user(_ u: User) -> JSONValue {
    .object([
      ("id", .string(u.id)), ("email", .string(u.email)), ("role", .string(u.role.rawValue)),
      ("disabled", .bool(u.disabled)), ("createdAt", date(u.createdAt)),
    ])
  }

  static func audit(_ e: AuditEntry) -> JSONValue {
    func snapshot(_ text: String?) -> JSONValue {
      guard let text else { return .null }
      return (try? JSONValue.parse(text)) ?? .string(text)
    }
    return .object([
      ("id", e.id.map { .number(Double($0)) } ?? .null), ("at", date(e.at)),
      ("actor", .string(e.actor)),
      ("action", .string(e.action)), ("target", .string(e.target)),
      ("before", snapshot(e.before)), ("after", snapshot(e.after)),
    ])
  }

  static func ledgerEntry(_ e: LedgerEntry) -> JSONValue {
    .object([
      ("key", .string(e.key)), ("eTag", .string(e.eTag)), ("size", .number(Double(e.size))),
      ("state", .string(e.state.rawValue)), ("events", .number(Double(e.events))),
      ("offset", .number(Double(e.offset))), ("attempts", .number(Double(e.attempts))),
      ("error", optional(e.error)), ("updatedAt", date(e.updatedAt)),
    ])
  }

  /// A fetcher's progress, as `FetcherStatus` in the OpenAPI document says.
  static func fetcherStatus(_ s: FetcherStatus) -> JSONValue {
    let today: JSONValue = .number(Double(DailyLimit.today(s, now: Date())))
    let limitedUntil: JSONValue = s.limitedUntil.map(date) ?? .null
    let fields: [(String, JSONValue)] = [
      ("lastRunAt", s.lastRunAt.map(date) ?? .null),
      ("lastSuccessAt", s.lastSuccessAt.map(date) ?? .null),
      ("lastError", optional(s.lastError)),
      ("objectsIngested", .number(Double(s.objectsIngested))),
      ("objectsFailed", .number(Double(s.objectsFailed ?? 0))),
      ("objectsPending", .number(Double(s.objectsPending ?? 0))),
      ("eventsIngested", .number(Double(s.eventsIngested))),
      ("bytesIngested", .number(Double(s.bytesIngested ?? 0))),
      ("lagSeconds", s.lagSeconds.map { .number($0) } ?? .null),
      ("listCursor", optional(s.listCursor)),
      ("ledgerRows", .number(Double(s.ledgerRows ?? 0))),
      ("ledgerBytes", .number(Double(s.ledgerBytes ?? 0))),
      ("eventsToday", today), ("limitedUntil", limitedUntil),
    ]
    return .object(fields)
  }

  static func fetcher(_ f: Fetcher) -> JSONValue {
    let s = f.status
    return .object([
      ("id", .string(f.id)), ("name", .string(f.name)), ("connectionId", .string(f.connectionID)),
      ("logType", .string(f.logType)), ("enabled", .bool(f.enabled)),
      ("pollIntervalSeconds", .number(Double(f.pollInterval))), ("createdAt", date(f.createdAt)),
      ("queueUrl", optional(f.queueURL)), ("multilineStart", optional(f.multilineStart)),
      ("status", fetcherStatus(s)),
    ])
  }

  static func archive(
    _ a: Archive, connection: Connection?, progress: ArchiveProgress?, nextFlush: NextFlush?
  ) -> JSONValue {
    var fields: [(String, JSONValue)] = [
      ("id", .string(a.id)), ("name", .string(a.name)), ("connectionId", .string(a.connectionID)),
      ("bucket", optional(connection?.bucket)), ("prefix", optional(connection?.prefix)),
      ("fetcherIds", .array(a.fetcherIDs.map(JSONValue.string))), ("enabled", .bool(a.enabled)),
      ("compression", .string(a.compression.rawValue)), ("lines", .string(a.lines.rawValue)),
      ("archivedThrough", a.archivedThrough.map(date) ?? .null),
      ("createdAt", date(a.createdAt)),
    ]
    if let p = progress {
      let waitingSince: JSONValue = p.waitingSince.map(date) ?? .null
      let nextAt: JSONValue = nextFlush?.at.map(date) ?? .null
      let flushAt: JSONValue = .number(Double(nextFlush?.flushBytes ?? 0))
      let sentence: JSONValue = optional(nextFlush?.sentence())
      fields.append(
        (
          "status",
          .object([
            ("objects", .number(Double(p.objects))), ("events", .number(Double(p.events))),
            ("bytes", .number(Double(p.bytes))), ("flushes", .number(Double(p.batches))),
            ("lastFlushAt", p.lastFlushAt.map(date) ?? .null),
            ("pendingBlocks", .number(Double(p.pendingBlocks))),
            ("pendingEvents", .number(Double(p.pendingEvents))),
            ("pendingBytes", .number(Double(p.pendingBytes))), ("waitingSince", waitingSince),
            ("nextFlushAt", nextAt), ("flushAtBytes", flushAt), ("nextFlush", sentence),
            ("openBatch", p.openBatch.map { .number(Double($0)) } ?? .null),
            ("lastRunAt", p.lastRunAt.map(date) ?? .null),
            ("lastError", optional(p.lastError)),
          ])
        ))
    }
    return .object(fields)
  }

  static func list(_ key: String, _ items: [JSONValue]) -> JSONValue {
    .object([(key, .array(items))])
  }
}
