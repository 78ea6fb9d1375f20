import FerryPolicy
import Foundation

/// The rules a store enforces on fetchers, archives and restore jobs, shared by both
/// backends so that both refuse the same things with the same words.
public enum StoreRules {
  /// Why an account cannot be created so (nil: it can).
  public static func accountProblem(name: String, externalIDPrefix: String, retentionDays: Int)
    -> StoreError?
  {
    if let problem = nameProblem(name, kind: "account") { return problem }
    let allowed = externalIDPrefix.unicodeScalars.allSatisfy {
      ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
        || $0 == "-" || $0 == "_" || $0 == "."
    }
    if externalIDPrefix.isEmpty || externalIDPrefix.count > 32 || !allowed {
      return .invalid(
        "the external ID prefix \"\(externalIDPrefix)\" must be 1 to 32 letters, digits, '-', '_' or '.' (for example ferry)"
      )
    }
    if !(1...3650).contains(retentionDays) {
      return .invalid("the retention is \(retentionDays) days; use 1 to 3650 days")
    }
    return nil
  }

  /// A new account with a newly generated external ID, once its name, prefix and
  /// retention pass the rules (every backend creates accounts through here).
  public static func newAccount(name: String, externalIDPrefix: String, retentionDays: Int)
    throws(StoreError) -> Account
  {
    if let problem = accountProblem(
      name: name, externalIDPrefix: externalIDPrefix, retentionDays: retentionDays)
    {
      throw problem
    }
    return Account(
      id: .generate(), name: name,
      externalID: ExternalIDGenerator.generate(prefix: externalIDPrefix),
      retentionDays: retentionDays, createdAt: Date())
  }

  /// A new API token and its secret (`fry_…`): the store keeps the token and only the
  /// secret's hash.
  public static func newToken(
    name: String, role: Role, isOperator: Bool = false, of account: AccountID
  ) -> (token: APIToken, secret: String) {
    let token = APIToken(
      id: "tok_" + String(TokenSecret.generate().dropFirst(4).prefix(16)), accountID: account,
      name: name, role: role, isOperator: isOperator, createdAt: Date())
    return (token, TokenSecret.generate())
  }

  /// The audit entry of a sign-in: who, as which token or user (never the session's secret).
  public static func sessionAudit(_ principal: SessionPrincipal, actor: String) -> AuditEntry {
    AuditEntry(
      accountID: principal.accountID, actor: actor, action: "session.start",
      target: principal.id)
  }

  /// A restore job as it is once cancelled.
  public static func cancelled(_ job: RestoreJob) -> RestoreJob {
    var after = job
    after.state = .cancelled
    after.updatedAt = Date()
    return after
  }

  /// Why a retention batch size cannot be used (nil: it can).
  public static func batchProblem(_ batchSize: Int) -> StoreError? {
    batchSize >= 1
      ? nil : .invalid("the batch size is \(batchSize); delete at least 1 event per batch")
  }

  /// An event as both backends store it: NUL characters, which PostgreSQL's text cannot
  /// hold, become U+FFFD in the message, the fields and the source key, on SQLite too, so
  /// that the same object commits, and reads back, the same on either backend.
  /// A ledger row that starts over: pending from the object's first byte, no attempts, no
  /// error (for reprocessing).
  public static func reprocessed(_ entry: LedgerEntry, now: Date = Date()) -> LedgerEntry {
    var out = entry
    out.state = .pending
    out.offset = 0
    out.events = 0
    out.attempts = 0
    out.error = nil
    out.updatedAt = now
    return out
  }

  /// The audit record of a reprocess: the key range and how many objects start over.
  public static func reprocessAudit(_ keys: ClosedRange<String>, objects: Int) -> String {
    struct Record: Encodable {
      var fromKey: String
      var toKey: String
      var objects: Int
    }
    return StoreJSON.encode(
      Record(fromKey: keys.lowerBound, toKey: keys.upperBound, objects: objects))
  }

  /// Why a ledger page size is refused (nil: it is fine).
  public static func ledgerLimitProblem(_ limit: Int) -> StoreError? {
    (1...1000).contains(limit)
      ? nil : .invalid("a ledger page holds 1 to 1000 objects, not \(limit)")
  }

  /// A fetcher asked to read `keys` again: its next pass lists the whole prefix and reads
  /// the keys in the span even where compaction removed their rows; its cursor stays, so
  /// the keys before it that were written long ago are not all read again.
  public static func reprocessing(_ fetcher: Fetcher, keys: ClosedRange<String>) -> Fetcher {
    var out = fetcher
    out.status.lastFullListAt = nil
    let span = KeySpan(from: keys.lowerBound, to: keys.upperBound)
    out.status.reprocessKeys = out.status.reprocessKeys.map { $0.union(span) } ?? span
    return out
  }

  /// The lease a fetcher's pass holds. Pausing or removing the fetcher deletes it in the
  /// same transaction, so a pass under way loses it at its next renewal and stops before
  /// its next commit.
  public static func fetcherLease(_ id: String) -> String { "fetcher:" + id }

  /// A fetcher whose ledger compaction removed `removed`: its totals keep them.
  public static func compacted(_ fetcher: Fetcher, by removed: LedgerCompaction) -> Fetcher {
    var out = fetcher
    out.status.compactedObjects = (out.status.compactedObjects ?? 0) + removed.objects
    out.status.compactedEvents = (out.status.compactedEvents ?? 0) + removed.events
    return out
  }

  /// A fetcher whose reprocess deleted the events of objects whose ledger rows compaction
  /// had removed (`removed`): the totals no longer count them (the objects read again count
  /// in their new rows), never below zero.
  public static func uncompacted(_ fetcher: Fetcher, by removed: LedgerCompaction) -> Fetcher {
    var out = fetcher
    if let objects = out.status.compactedObjects {
      out.status.compactedObjects = max(0, objects - removed.objects)
    }
    if let events = out.status.compactedEvents {
      out.status.compactedEvents = max(0, events - removed.events)
    }
    return out
  }

  /// Whether `text` holds a NUL (read at memchr's speed: this runs on every event).
  static func hasNUL(_ text: String) -> Bool {
    var text = text
    return text.withUTF8 { bytes in
      guard let base = bytes.baseAddress else { return false }
      return memchr(base, 0, bytes.count) != nil
    }
  }

  /// Text as the store keeps it: NUL bytes replaced with U+FFFD (PostgreSQL's text cannot
  /// hold them; both backends keep the same).
  public static func storable(_ text: String) -> String {
    hasNUL(text) ? String(text.map { $0 == "\u{0}" ? "\u{FFFD}" : $0 }) : text
  }

  /// Whether a text of `event` holds a NUL byte, which ``storable(_:)-Event`` replaces.
  public static func needsCleaning(_ event: Event) -> Bool {
    hasNUL(event.message) || hasNUL(event.sourceKey) || hasNUL(event.logType)
      || hasNUL(event.fetcherID)
      || event.fields.containsByte(0)
  }

  /// `event` as the store keeps it (``storable(_:)-String`` for every text); the event
  /// itself, uncopied, when it holds no NUL byte, as nearly every event.
  public static func storable(_ event: Event) -> Event {
    guard needsCleaning(event) else { return event }
    var out = event
    out.message = storable(event.message)
    out.sourceKey = storable(event.sourceKey)
    out.logType = storable(event.logType)
    out.fetcherID = storable(event.fetcherID)
    out.fields = Fields(
      event.fields.lazy.map { (key: storable($0.key), value: storable($0.value)) })
    return out
  }

  /// The account a call names does not exist.
  public static func noSuchAccount(_ account: AccountID) -> StoreError {
    .rejected("there is no account \(account.rawValue); list them with: ferry account list")
  }

  /// A connection as it is stored in `account`: in that account, and, unless it is a
  /// legacy import, with the account's own generated external ID, whatever the caller put.
  public static func placed(_ connection: Connection, in account: Account) -> Connection {
    var placed = connection.scoped(to: account.id)
    if !placed.usesLegacyExternalID { placed.externalID = account.externalID }
    return placed
  }

  /// Why a fetcher cannot be saved on `connection` (nil: it can).
  public static func problem(with fetcher: Fetcher, on connection: Connection?) -> StoreError? {
    if let problem = nameProblem(fetcher.name, kind: "fetcher") { return problem }
    if fetcher.logType.trimmingCharacters(in: .whitespaces).isEmpty {
      return .invalid("a fetcher needs a log type (for example alb, cloudtrail or vpcflow)")
    }
    if !(10...86_400).contains(fetcher.pollInterval) {
      return .invalid(
        "the poll interval is \(fetcher.pollInterval) seconds; use 10 to 86400 seconds")
    }
    return connectionProblem(connection, id: fetcher.connectionID, wanted: .fetcher)
  }

  /// Why an archive cannot be saved on `connection` (nil: it can).
  public static func problem(with archive: Archive, on connection: Connection?) -> StoreError? {
    if let problem = nameProblem(archive.name, kind: "archive") { return problem }
    return connectionProblem(connection, id: archive.connectionID, wanted: .archive)
  }

  /// Why a restore job cannot be queued (nil: it can).
  public static func problem(with job: RestoreJob, archiveExists: Bool) -> StoreError? {
    guard archiveExists else {
      return .rejected(
        "there is no archive \(job.archiveID) in this account; restore from one of the account's archives"
      )
    }
    guard job.from < job.to else {
      return .invalid("the restore range is empty: its start must be before its end")
    }
    return nil
  }

  public static func duplicateName(_ name: String, kind: String) -> StoreError {
    .rejected("a \(kind) named \"\(name)\" already exists in this account; choose another name")
  }

  /// Why a connection cannot be removed while these use it.
  public static func connectionInUse(_ id: String, by users: [String]) -> StoreError {
    .rejected(
      "connection \(id) is used by \(users.joined(separator: ", ")); remove those first, or move them to another connection"
    )
  }

  /// Why the last admin credential of an account (an admin token, or an admin user with a
  /// password) cannot be revoked: the account would have no admin and no way back.
  public static func lastAdminCredential(_ tokenID: String) -> StoreError {
    .rejected(
      "token \(tokenID) is the account's last admin credential: revoking it would leave no admin and no way back; issue another admin token (or give an admin user a password) first"
    )
  }

  /// Why the last admin credential of an account (an admin user with a password) cannot
  /// be demoted, disabled or removed.
  public static func lastAdminUser(_ userID: String) -> StoreError {
    .rejected(
      "user \(userID) is the account's last admin credential: without them the account would have no admin and no way back; make another user an admin (or issue an admin token) first"
    )
  }

  public static func archiveBusy(_ id: String) -> StoreError {
    .rejected(
      "archive \(id) has a restore queued or running; cancel it or wait for it to finish, then retry"
    )
  }

  /// A new metric delivery key and its secret, once its name passes the rules.
  public static func newDeliveryKey(name: String, of account: AccountID) throws(StoreError)
    -> (key: MetricDeliveryKey, secret: String)
  {
    if let problem = nameProblem(name, kind: "delivery key") { throw problem }
    guard (1...64).contains(name.count) else {
      throw .invalid("a delivery key name must be 1 to 64 characters (for example firehose-prod)")
    }
    let key = MetricDeliveryKey(
      id: MetricDeliveryKey.newID(), accountID: account, name: name, createdAt: Date())
    return (key, MetricDeliveryKey.generateSecret())
  }

  private static func nameProblem(_ name: String, kind: String) -> StoreError? {
    let article = kind.first.map { "aeiou".contains($0) } == true ? "an" : "a"
    // Names are shown in tables, terminals and pages: a control character (a newline, an
    // escape sequence) could fake rows or drive a terminal, and U+FFFD marks bytes that
    // were not valid UTF-8.
    if let scalar = ShownText.forbiddenScalar(in: name) {
      return .invalid(
        "\(article) \(kind) name must not contain control characters (found \(ShownText.name(scalar))); use letters, digits, spaces and punctuation"
      )
    }
    if name.unicodeScalars.contains("\u{FFFD}") {
      return .invalid(
        "the \(kind) name is not valid UTF-8 text (or contains U+FFFD); type it again in a UTF-8 terminal"
      )
    }
    let trimmed = name.trimmingCharacters(in: .whitespaces)
    if trimmed.isEmpty || trimmed.count > 100 || trimmed != name {
      return .invalid(
        "\(article) \(kind) name must be 1 to 100 characters without leading or trailing spaces")
    }
    return nil
  }

  /// Why an account cannot take `name` when these names exist already (nil: it can).
  /// Names are unique without regard to case, so "Acme" and "ACME" are not two tenants.
  public static func duplicateAccountName(_ name: String, existing: [String]) -> StoreError? {
    let key = name.lowercased()
    guard let taken = existing.first(where: { $0.lowercased() == key }) else { return nil }
    return .rejected(
      "an account named \"\(taken)\" exists already (names are unique regardless of case); choose another name, or use that account (ferry account list)"
    )
  }

  private static func connectionProblem(
    _ connection: Connection?, id: String, wanted: ConnectionPurpose
  ) -> StoreError? {
    guard let connection else {
      return .rejected(
        "there is no connection \(id) in this account; connect the bucket first and use that connection's ID"
      )
    }
    guard connection.purpose == wanted else {
      return .rejected(
        "connection \(id) was made for \(connection.purpose.rawValue == "archive" ? "archives" : "fetchers"); a \(wanted.rawValue) needs a connection made for \(wanted == .archive ? "archives" : "fetchers") (its role's permissions differ)"
      )
    }
    return nil
  }
}

// MARK: - Restores

extension StoreRules {
  /// Why a page size of restore objects cannot be used (nil: it can).
  public static func restoreLimitProblem(_ limit: Int) -> StoreError? {
    (1...10_000).contains(limit)
      ? nil : .invalid("the page size must be between 1 and 10000, not \(limit)")
  }

  /// A job once its objects are listed: running, with the totals of what it will read.
  public static func planned(_ job: RestoreJob, objects: [RestoreObject]) -> RestoreJob {
    var after = job
    after.state = .running
    after.objectsTotal = objects.count
    after.bytesTotal = objects.reduce(0) { $0 + $1.bytes }
    after.eventsTotal = objects.reduce(0) { $0 + $1.events }
    after.objectsFrozen = objects.filter { $0.state == .frozen }.count
    // Manifests that could not be read are listed as failed at once.
    after.objectsFailed = objects.filter { $0.state == .failed }.count
    after.objectsDone = after.objectsFailed
    after.updatedAt = Date()
    after.startedAt = after.updatedAt
    return after
  }

  /// Whether an object in `state` may be recorded again (planned ones, and frozen ones
  /// once thawed).
  public static func isRecordable(_ state: RestoreObjectState) -> Bool {
    state == .planned || state == .frozen
  }

  /// A job with one more object recorded, which was in `previous` before.
  public static func recorded(
    _ outcome: RestoreObjectOutcome, previous: RestoreObjectState, in job: RestoreJob
  ) -> RestoreJob {
    var after = job
    if previous == .frozen { after.objectsFrozen -= 1 }
    switch outcome.state {
    case .frozen: after.objectsFrozen += 1
    case .failed:
      after.objectsDone += 1
      after.objectsFailed += 1
    case .done: after.objectsDone += 1
    case .planned: break
    }
    after.bytesRead += outcome.bytesRead
    after.eventsRead += outcome.eventsRead
    after.eventsMatched += outcome.eventsMatched
    after.updatedAt = Date()
    return after
  }

  /// The object with its outcome recorded.
  public static func recorded(_ outcome: RestoreObjectOutcome, object: RestoreObject)
    -> RestoreObject
  {
    var after = object
    after.state = outcome.state
    after.error = outcome.error
    return after
  }

  /// A job paused or resumed, or nil when it is not in a state to be.
  public static func pausing(_ job: RestoreJob, paused: Bool) -> RestoreJob? {
    var after = job
    if paused {
      guard job.state == .queued || job.state == .running else { return nil }
      after.state = .paused
    } else {
      guard job.state == .paused else { return nil }
      after.state = .queued
    }
    after.updatedAt = Date()
    return after
  }

  /// A running job once it ends.
  public static func finished(_ job: RestoreJob, error: String?) -> RestoreJob {
    var after = job
    after.state = error == nil ? .succeeded : .failed
    after.error = error
    after.updatedAt = Date()
    return after
  }

  /// The restored events of `events` that are not stored yet, given the offsets already
  /// stored for each object version they came from, grouped by object version in order.
  public static func unstored(_ events: [SourcedEvent], stored: [RestoredSource: Set<Int64>])
    -> [(eTag: String, events: [Event])]
  {
    // Events come in runs from one object version: a run is added to its group without
    // hashing the version's strings again.
    var order: [RestoredSource] = []
    var groups: [[Event]] = []
    var place: [RestoredSource: Int] = [:]
    var current = -1
    for item in events {
      if current < 0 || !order[current].holds(item) {
        let source = RestoredSource(item)
        if let found = place[source] {
          current = found
        } else {
          current = order.count
          place[source] = current
          order.append(source)
          groups.append([])
        }
      }
      groups[current].append(item.event)
    }
    return zip(order, groups).compactMap { source, group in
      var seen = stored[source] ?? []
      seen.reserveCapacity(seen.count + group.count)
      // Nearly always every event is new: the group is kept as it is, not copied.
      guard let repeated = group.firstIndex(where: { !seen.insert($0.sourceOffset).inserted })
      else { return (source.eTag, group) }
      var fresh = Array(group[..<repeated])
      for event in group[(repeated + 1)...] where seen.insert(event.sourceOffset).inserted {
        fresh.append(event)
      }
      return fresh.isEmpty ? nil : (source.eTag, fresh)
    }
  }
}

/// One object version restored events came from: where a store looks for the offsets it
/// holds already.
public struct RestoredSource: Hashable, Sendable {
  public var fetcherID: String
  public var key: String
  public var eTag: String

  public init(_ item: SourcedEvent) {
    fetcherID = item.event.fetcherID
    key = item.event.sourceKey
    eTag = item.eTag
  }

  /// Whether `item` came from this object version.
  @inline(__always)
  func holds(_ item: SourcedEvent) -> Bool {
    item.event.sourceKey == key && item.eTag == eTag && item.event.fetcherID == fetcherID
  }

  /// The object versions `events` came from, each once, in order (a run of events from one
  /// version is looked at once).
  public static func of(_ events: [SourcedEvent]) -> [RestoredSource] {
    var seen = Set<RestoredSource>()
    var out: [RestoredSource] = []
    for item in events where out.last?.holds(item) != true {
      let source = RestoredSource(item)
      if seen.insert(source).inserted { out.append(source) }
    }
    return out
  }
}

extension StoreRules {
  /// A migration as it is stored in `account`: in that account, switched now.
  public static func placed(_ migration: Migration, in account: AccountID) -> Migration {
    var placed = migration
    placed.accountID = account
    placed.state = .switched
    placed.finishedAt = nil
    return placed
  }

  /// Why a migration cannot be recorded (nil: it can).
  public static func problem(with migration: Migration) -> StoreError? {
    if migration.switches.isEmpty {
      return .invalid("a migration needs at least one connection to switch")
    }
    if Set(migration.switches.map(\.connectionID)).count != migration.switches.count {
      return .invalid("a migration switches each connection once")
    }
    return nil
  }

  /// Which way a migration rewrites its connections.
  public enum MigrationDirection: Sendable {
    /// From the legacy role and ID to the new role and the generated ID.
    case apply
    /// Back, as they were.
    case revert

    /// The audit action of each connection it rewrites.
    public var auditAction: String {
      self == .apply ? "connection.migrate" : "connection.migrate-revert"
    }
  }

  /// Each connection a migration rewrites, as it is now and as it becomes; nil when one is
  /// missing from `current` or no longer as the migration expects (then nothing changes).
  public static func rewrites(
    of migration: Migration, _ direction: MigrationDirection, current: [Connection],
    in account: Account
  ) -> [(before: Connection, after: Connection)]? {
    var out: [(before: Connection, after: Connection)] = []
    for change in migration.switches {
      guard let now = current.first(where: { $0.id == change.connectionID }) else { return nil }
      switch direction {
      case .apply:
        guard isBefore(now, change) else { return nil }
        out.append((now, switched(now, change, in: account)))
      case .revert:
        guard isAfter(now, change, in: account) else { return nil }
        out.append((now, reverted(now, change)))
      }
    }
    return out
  }

  /// A connection after its switch: on the new role with the account's generated ID.
  static func switched(
    _ connection: Connection, _ change: ConnectionSwitch, in account: Account
  )
    -> Connection
  {
    var after = connection
    after.roleARN = change.toRoleARN
    after.externalID = account.externalID
    after.usesLegacyExternalID = false
    return after
  }

  /// A connection put back as it was before its switch.
  static func reverted(_ connection: Connection, _ change: ConnectionSwitch) -> Connection {
    var before = connection
    before.roleARN = change.fromRoleARN
    before.externalID = change.fromExternalID
    before.usesLegacyExternalID = true
    return before
  }

  /// Whether `connection` is still exactly what `change` switches from.
  static func isBefore(_ connection: Connection, _ change: ConnectionSwitch) -> Bool {
    connection.usesLegacyExternalID && connection.roleARN == change.fromRoleARN
      && connection.externalID == change.fromExternalID
  }

  /// Whether `connection` is still exactly what `change` switched it to.
  static func isAfter(
    _ connection: Connection, _ change: ConnectionSwitch, in account: Account
  )
    -> Bool
  {
    !connection.usesLegacyExternalID && connection.roleARN == change.toRoleARN
      && connection.externalID == account.externalID
  }
}
