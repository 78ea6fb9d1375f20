import FerryCore
import Foundation
import Synchronization

/// A ``Store`` in memory, for the tests of higher layers (the server, the fetcher) that
/// need a store but not a database: fast, and nothing to clean up. It passes the same
/// contract suite as SQLite and PostgreSQL, so it refuses the same things with the same
/// words (``StoreRules``). Nothing survives the process.
public final class InMemoryStore: Store {
  private struct Tables {
    var accounts: [Account] = []
    var users: [User] = []
    var tokens: [(token: APIToken, hash: String)] = []
    var sessions: [String: (kind: String, id: String, expiresAt: Date)] = [:]
    var invitations: [String: (userID: String, expiresAt: Date)] = [:]
    var passwords: [String: String] = [:]
    var connections: [Connection] = []
    var connectionChecks: [String: ConnectionStatus] = [:]
    var fetchers: [Fetcher] = []
    var archives: [Archive] = []
    var restoreJobs: [RestoreJob] = []
    var ledger: [LedgerKey: LedgerEntry] = [:]
    var events: [Event] = []
    var eventKeys: Set<EventKey> = []
    var nextEventID: Int64 = 1
    var audit: [AuditEntry] = []
    var nextAuditID: Int64 = 1
    var leases: [String: Lease] = [:]
    /// Each commit's new events of one object form a block, as in the databases.
    var blocks: [MemoryBlock] = []
    var nextBlockID: Int64 = 1
    var batches:
      [(
        batch: ArchiveBatch, open: Bool, objects: Int, events: Int, bytes: Int64, finishedAt: Date?
      )] = []
    var archived: Set<ArchivedKey> = []
    var runs: [String: (error: String?, at: Date)] = [:]
    /// Each restore job's objects by key; restored events are kept in `events` (marked)
    /// under `restoredKeys`, with their expiry by job (kept when nil).
    var restoreObjects: [String: [String: RestoreObject]] = [:]
    var restoredKeys: [EventKey: Int64] = [:]
    var restoreExpiry: [String: Date?] = [:]
    var migrations: [Migration] = []

    /// Rewrites a migration's connections one way, each audited; false, changing nothing,
    /// when one is not as the migration expects.
    mutating func rewrite(
      _ m: Migration, _ direction: StoreRules.MigrationDirection, owner: Account, actor: String
    ) -> Bool {
      let ids = Set(m.switches.map(\.connectionID))
      let current = connections.filter { ids.contains($0.id) && $0.accountID == owner.id }
      guard let pairs = StoreRules.rewrites(of: m, direction, current: current, in: owner) else {
        return false
      }
      for (before, after) in pairs {
        guard let i = connections.firstIndex(where: { $0.id == after.id }) else { continue }
        connections[i] = after
        connectionChecks[after.id] = nil
        record(
          AuditEntry(
            accountID: owner.id, actor: actor, action: direction.auditAction, target: after.id,
            before: StoreJSON.encode(before), after: StoreJSON.encode(after)))
      }
      return true
    }

    mutating func record(_ entry: AuditEntry) {
      var entry = entry
      entry.id = nextAuditID
      nextAuditID += 1
      audit.append(entry)
    }
  }

  private struct MemoryBlock {
    let id: Int64
    let account: AccountID
    let fetcherID: String
    let key: String
    let eTag: String
    var eventIDs: [Int64]
  }

  private struct ArchivedKey: Hashable {
    let archiveID: String
    let blockID: Int64
  }

  private func describe(_ block: MemoryBlock, _ t: Tables) -> ArchivableBlock? {
    let ids = Set(block.eventIDs)
    let events = t.events.filter { ids.contains($0.id ?? -1) }
    guard let first = events.first else { return nil }
    return ArchivableBlock(
      id: block.id, fetcherID: block.fetcherID, sourceKey: block.key, eTag: block.eTag,
      minTime: events.map(\.time).min() ?? first.time,
      maxTime: events.map(\.time).max() ?? first.time, eventCount: events.count,
      rawBytes: events.reduce(0) { $0 + $1.message.utf8.count })
  }

  private struct LedgerKey: Hashable {
    let account: AccountID
    let fetcherID: String
    let key: String
    let eTag: String
  }

  private struct EventKey: Hashable {
    let account: AccountID
    let fetcherID: String
    let key: String
    let eTag: String
    let offset: Int64
  }

  private let tables = Mutex(Tables())

  public init() {}

  public func schemaVersion() async throws -> Int { 5 }

  // MARK: Accounts and access

  public func createAccount(
    name: String, externalIDPrefix: String, retentionDays: Int, actor: String
  ) async throws -> Account {
    let account = try StoreRules.newAccount(
      name: name, externalIDPrefix: externalIDPrefix, retentionDays: retentionDays)
    try tables.withLock { t throws(StoreError) in
      if let problem = StoreRules.duplicateAccountName(name, existing: t.accounts.map(\.name)) {
        throw problem
      }
      t.accounts.append(account)
      t.record(
        AuditEntry(
          accountID: account.id, actor: actor, action: "account.create",
          target: account.id.rawValue, after: StoreJSON.encode(account)))
    }
    return account
  }

  public func account(_ id: AccountID) async throws -> Account? {
    tables.withLock { $0.accounts.first { $0.id == id } }
  }

  public func accounts() async throws -> [Account] { tables.withLock { $0.accounts } }

  public func addUser(_ user: User, actor: String) async throws {
    try tables.withLock { t throws(StoreError) in
      guard t.accounts.contains(where: { $0.id == user.accountID }) else {
        throw StoreRules.noSuchAccount(user.accountID)
      }
      if t.users.contains(where: { $0.accountID == user.accountID && $0.email == user.email }) {
        throw .rejected("the change conflicts with existing data (a user with that email exists)")
      }
      t.users.append(user)
      t.record(
        AuditEntry(
          accountID: user.accountID, actor: actor, action: "user.add", target: user.id,
          after: StoreJSON.encode(user)))
    }
  }

  public func users(of account: AccountID) async throws -> [User] {
    tables.withLock { $0.users.filter { $0.accountID == account } }
  }

  public func issueToken(
    name: String, role: Role, isOperator: Bool, of account: AccountID, actor: String
  ) async throws -> IssuedToken {
    let (token, secret) = StoreRules.newToken(
      name: name, role: role, isOperator: isOperator, of: account)
    try tables.withLock { t throws(StoreError) in
      guard t.accounts.contains(where: { $0.id == account }) else {
        throw StoreRules.noSuchAccount(account)
      }
      t.tokens.append((token, TokenSecret.hash(secret)))
      t.record(
        AuditEntry(
          accountID: account, actor: actor, action: "token.issue", target: token.id,
          after: StoreJSON.encode(token)))
    }
    return IssuedToken(token: token, secret: secret)
  }

  public func authenticate(tokenSecret: String) async throws -> APIToken? {
    let hash = TokenSecret.hash(tokenSecret)
    return tables.withLock { $0.tokens.first { $0.hash == hash }?.token }
  }

  public func tokens(of account: AccountID) async throws -> [APIToken] {
    tables.withLock { $0.tokens.map(\.token).filter { $0.accountID == account } }
  }

  public func revokeToken(_ id: String, of account: AccountID, actor: String) async throws -> Bool {
    tables.withLock { t in
      guard
        let i = t.tokens.firstIndex(where: { $0.token.id == id && $0.token.accountID == account })
      else { return false }
      let before = t.tokens.remove(at: i).token
      t.record(
        AuditEntry(
          accountID: account, actor: actor, action: "token.revoke", target: id,
          before: StoreJSON.encode(before)))
      return true
    }
  }

  // MARK: Sessions

  public func startSession(as principal: SessionPrincipal, expiresAt: Date, actor: String)
    async throws -> WebSession
  {
    let secret = WebSession.generateSecret()
    tables.withLock { t in
      t.sessions = t.sessions.filter { $0.value.expiresAt > Date() }
      t.sessions[TokenSecret.hash(secret)] = (principal.kind, principal.id, expiresAt)
      t.record(StoreRules.sessionAudit(principal, actor: actor))
    }
    return WebSession(principal: principal, expiresAt: expiresAt, secret: secret)
  }

  public func session(secret: String, at now: Date) async throws -> SessionPrincipal? {
    tables.withLock { t in
      guard let session = t.sessions[TokenSecret.hash(secret)], session.expiresAt > now else {
        return nil
      }
      if session.kind == "user" {
        return t.users.first { $0.id == session.id }.map(SessionPrincipal.user)
      }
      return t.tokens.first { $0.token.id == session.id }.map { .token($0.token) }
    }
  }

  public func endSession(secret: String) async throws {
    tables.withLock { t in t.sessions[TokenSecret.hash(secret)] = nil }
  }

  public func inviteUser(_ userID: String, of account: AccountID, expiresAt: Date, actor: String)
    async throws -> Secret?
  {
    let secret = WebSession.generateInvitation()
    return tables.withLock { t -> Secret? in
      guard t.users.contains(where: { $0.id == userID && $0.accountID == account }) else {
        return nil
      }
      t.invitations = t.invitations.filter { $0.value.userID != userID }
      t.invitations[TokenSecret.hash(secret)] = (userID, expiresAt)
      t.record(AuditEntry(accountID: account, actor: actor, action: "user.invite", target: userID))
      return Secret(secret)
    }
  }

  public func acceptInvitation(secret: String, passwordHash: String, at now: Date) async throws
    -> User?
  {
    tables.withLock { t -> User? in
      let key = TokenSecret.hash(secret)
      guard let invitation = t.invitations[key], invitation.expiresAt > now,
        let user = t.users.first(where: { $0.id == invitation.userID })
      else { return nil }
      t.invitations[key] = nil
      t.passwords[user.id] = passwordHash
      t.record(
        AuditEntry(
          accountID: user.accountID, actor: "user \(user.email) (\(user.id))",
          action: "user.set-password", target: user.id))
      return user
    }
  }

  public func passwordUsers(email: String) async throws -> [(user: User, passwordHash: String)] {
    tables.withLock { t in
      t.users.filter { $0.email.lowercased() == email.lowercased() }.compactMap { user in
        t.passwords[user.id].map { (user, $0) }
      }
    }
  }

  // MARK: Configuration

  public func addConnection(_ connection: Connection, of account: AccountID, actor: String)
    async throws
  {
    try tables.withLock { t throws(StoreError) in
      guard let owner = t.accounts.first(where: { $0.id == account }) else {
        throw StoreRules.noSuchAccount(account)
      }
      let c = StoreRules.placed(connection, in: owner)
      guard !t.connections.contains(where: { $0.id == c.id }) else {
        throw .rejected("the change conflicts with existing data (connection \(c.id) exists)")
      }
      t.connections.append(c)
      t.record(
        AuditEntry(
          accountID: account, actor: actor, action: "connection.add", target: c.id,
          after: StoreJSON.encode(c)))
    }
  }

  public func connections(of account: AccountID) async throws -> [Connection] {
    tables.withLock { $0.connections.filter { $0.accountID == account } }
  }

  public func removeConnection(_ id: String, of account: AccountID, actor: String) async throws
    -> Bool
  {
    try tables.withLock { t throws(StoreError) in
      guard let i = t.connections.firstIndex(where: { $0.id == id && $0.accountID == account })
      else { return false }
      let users =
        t.fetchers.filter { $0.connectionID == id && $0.accountID == account }.map {
          "fetcher \"\($0.name)\""
        }
        + t.archives.filter { $0.connectionID == id && $0.accountID == account }.map {
          "archive \"\($0.name)\""
        }
      if !users.isEmpty { throw StoreRules.connectionInUse(id, by: users) }
      let before = t.connections.remove(at: i)
      t.connectionChecks[id] = nil
      t.record(
        AuditEntry(
          accountID: account, actor: actor, action: "connection.remove", target: id,
          before: StoreJSON.encode(before)))
      return true
    }
  }

  public func recordConnectionCheck(_ check: ConnectionCheck, of account: AccountID)
    async throws -> Bool
  {
    tables.withLock { t in
      guard
        t.connections.contains(where: { $0.id == check.connectionID && $0.accountID == account })
      else { return false }
      t.connectionChecks[check.connectionID] = ConnectionStatus(check)
      return true
    }
  }

  public func connectionStatuses(of account: AccountID) async throws -> [ConnectionStatus] {
    tables.withLock { t in
      let mine = Set(t.connections.filter { $0.accountID == account }.map(\.id))
      return t.connectionChecks.values.filter { mine.contains($0.connectionID) }
        .sorted { $0.connectionID < $1.connectionID }
    }
  }

  public func addFetcher(_ fetcher: Fetcher, of account: AccountID, actor: String) async throws {
    try add(
      fetcher.scoped(to: account), to: \.fetchers, kind: "fetcher", actor: actor,
      problem: { StoreRules.problem(with: $0, on: $1) })
  }

  public func fetchers(of account: AccountID) async throws -> [Fetcher] {
    tables.withLock { $0.fetchers.filter { $0.accountID == account } }
  }

  public func updateFetcher(_ fetcher: Fetcher, of account: AccountID, actor: String)
    async throws -> Bool
  {
    let fetcher = fetcher.scoped(to: account)
    return try tables.withLock { t throws(StoreError) in
      guard let i = t.fetchers.firstIndex(where: { $0.id == fetcher.id && $0.accountID == account })
      else { return false }
      let before = t.fetchers[i]
      var after = fetcher
      after.status = before.status
      after.createdAt = before.createdAt
      let connection = t.connections.first {
        $0.id == after.connectionID && $0.accountID == account
      }
      if let problem = StoreRules.problem(with: after, on: connection) { throw problem }
      if after.name != before.name,
        t.fetchers.contains(where: { $0.accountID == account && $0.name == after.name })
      {
        throw StoreRules.duplicateName(after.name, kind: "fetcher")
      }
      t.fetchers[i] = after
      t.record(
        AuditEntry(
          accountID: account, actor: actor, action: "fetcher.update", target: after.id,
          before: StoreJSON.encode(before), after: StoreJSON.encode(after)))
      return true
    }
  }

  public func removeFetcher(_ id: String, of account: AccountID, actor: String) async throws
    -> Bool
  {
    tables.withLock { t in
      guard let i = t.fetchers.firstIndex(where: { $0.id == id && $0.accountID == account })
      else { return false }
      let before = t.fetchers.remove(at: i)
      t.ledger = t.ledger.filter { !($0.key.account == account && $0.key.fetcherID == id) }
      t.record(
        AuditEntry(
          accountID: account, actor: actor, action: "fetcher.remove", target: id,
          before: StoreJSON.encode(before)))
      return true
    }
  }

  public func recordFetcherRun(_ id: String, of account: AccountID, status: FetcherStatus)
    async throws -> Bool
  {
    tables.withLock { t in
      guard let i = t.fetchers.firstIndex(where: { $0.id == id && $0.accountID == account })
      else { return false }
      t.fetchers[i].status = status
      return true
    }
  }

  public func addArchive(_ archive: Archive, of account: AccountID, actor: String) async throws {
    try add(
      archive.scoped(to: account), to: \.archives, kind: "archive", actor: actor,
      problem: { StoreRules.problem(with: $0, on: $1) })
  }

  /// Adds a fetcher or an archive: its connection checked by `problem`, its name unique in
  /// the account, the addition audited.
  private func add<R: NamedConfiguration>(
    _ record: R, to table: WritableKeyPath<Tables, [R]>, kind: String, actor: String,
    problem: (R, Connection?) -> StoreError?
  ) throws {
    try tables.withLock { t throws(StoreError) in
      let connection = t.connections.first {
        $0.id == record.connectionID && $0.accountID == record.accountID
      }
      if let problem = problem(record, connection) { throw problem }
      if t[keyPath: table].contains(where: {
        $0.accountID == record.accountID && $0.name == record.name
      }) {
        throw StoreRules.duplicateName(record.name, kind: kind)
      }
      t[keyPath: table].append(record)
      t.record(
        AuditEntry(
          accountID: record.accountID, actor: actor, action: "\(kind).add", target: record.id,
          after: StoreJSON.encode(record)))
    }
  }

  public func archives(of account: AccountID) async throws -> [Archive] {
    tables.withLock { $0.archives.filter { $0.accountID == account } }
  }

  public func updateArchive(_ archive: Archive, of account: AccountID, actor: String)
    async throws -> Bool
  {
    let archive = archive.scoped(to: account)
    return try tables.withLock { t throws(StoreError) in
      guard let i = t.archives.firstIndex(where: { $0.id == archive.id && $0.accountID == account })
      else { return false }
      let before = t.archives[i]
      var after = archive
      after.archivedThrough = before.archivedThrough
      after.createdAt = before.createdAt
      let connection = t.connections.first {
        $0.id == after.connectionID && $0.accountID == account
      }
      if let problem = StoreRules.problem(with: after, on: connection) { throw problem }
      if after.name != before.name,
        t.archives.contains(where: { $0.accountID == account && $0.name == after.name })
      {
        throw StoreRules.duplicateName(after.name, kind: "archive")
      }
      t.archives[i] = after
      t.record(
        AuditEntry(
          accountID: account, actor: actor, action: "archive.update", target: after.id,
          before: StoreJSON.encode(before), after: StoreJSON.encode(after)))
      return true
    }
  }

  public func removeArchive(_ id: String, of account: AccountID, actor: String) async throws
    -> Bool
  {
    try tables.withLock { t throws(StoreError) in
      guard let i = t.archives.firstIndex(where: { $0.id == id && $0.accountID == account })
      else { return false }
      if t.restoreJobs.contains(where: {
        $0.archiveID == id && !$0.state.isFinal
      }) {
        throw StoreRules.archiveBusy(id)
      }
      t.restoreJobs.removeAll { $0.archiveID == id }
      t.batches.removeAll { $0.batch.archiveID == id }
      t.archived = t.archived.filter { $0.archiveID != id }
      t.runs[id] = nil
      let before = t.archives.remove(at: i)
      t.record(
        AuditEntry(
          accountID: account, actor: actor, action: "archive.remove", target: id,
          before: StoreJSON.encode(before)))
      return true
    }
  }

  public func advanceArchive(_ id: String, of account: AccountID, through: Date) async throws
    -> Bool
  {
    tables.withLock { t in
      guard let i = t.archives.firstIndex(where: { $0.id == id && $0.accountID == account })
      else { return false }
      if let current = t.archives[i].archivedThrough, current >= through { return true }
      t.archives[i].archivedThrough = through
      return true
    }
  }

  public func createRestoreJob(_ job: RestoreJob, of account: AccountID, actor: String)
    async throws
  {
    let job = job.scoped(to: account)
    try tables.withLock { t throws(StoreError) in
      let exists = t.archives.contains { $0.id == job.archiveID && $0.accountID == account }
      if let problem = StoreRules.problem(with: job, archiveExists: exists) { throw problem }
      t.restoreJobs.append(job)
      t.record(
        AuditEntry(
          accountID: account, actor: actor, action: "restore.create", target: job.id,
          after: StoreJSON.encode(job)))
    }
  }

  public func restoreJobs(of account: AccountID) async throws -> [RestoreJob] {
    tables.withLock { $0.restoreJobs.filter { $0.accountID == account }.reversed() }
  }

  public func restoreJob(_ id: String, of account: AccountID) async throws -> RestoreJob? {
    tables.withLock { $0.restoreJobs.first { $0.id == id && $0.accountID == account } }
  }

  public func updateRestoreJob(_ job: RestoreJob, of account: AccountID) async throws -> Bool {
    let job = job.scoped(to: account)
    return tables.withLock { t in
      guard
        let i = t.restoreJobs.firstIndex(where: { $0.id == job.id && $0.accountID == account }),
        !t.restoreJobs[i].state.isFinal
      else { return false }
      let current = t.restoreJobs[i]
      var next = job
      next.archiveID = current.archiveID
      next.from = current.from
      next.to = current.to
      next.requestedBy = current.requestedBy
      next.createdAt = current.createdAt
      t.restoreJobs[i] = next
      return true
    }
  }

  public func cancelRestoreJob(_ id: String, of account: AccountID, actor: String) async throws
    -> Bool
  {
    tables.withLock { t in
      guard
        let i = t.restoreJobs.firstIndex(where: { $0.id == id && $0.accountID == account }),
        !t.restoreJobs[i].state.isFinal
      else { return false }
      let before = t.restoreJobs[i]
      t.restoreJobs[i] = StoreRules.cancelled(before)
      t.record(
        AuditEntry(
          accountID: account, actor: actor, action: "restore.cancel", target: id,
          before: StoreJSON.encode(before), after: StoreJSON.encode(t.restoreJobs[i])))
      return true
    }
  }

  // MARK: Restore progress

  private func jobIndex(_ t: Tables, _ id: String, _ account: AccountID) -> Int? {
    t.restoreJobs.firstIndex { $0.id == id && $0.accountID == account }
  }

  public func planRestore(jobID: String, objects: [RestoreObject], of account: AccountID)
    async throws -> Bool
  {
    tables.withLock { t in
      guard let i = jobIndex(t, jobID, account),
        t.restoreJobs[i].state == .queued || t.restoreJobs[i].state == .running,
        t.restoreJobs[i].objectsTotal == nil, t.restoreObjects[jobID] == nil
      else { return false }
      var byKey: [String: RestoreObject] = [:]
      for object in objects where byKey[object.key] == nil { byKey[object.key] = object }
      t.restoreObjects[jobID] = byKey
      t.restoreJobs[i] = StoreRules.planned(t.restoreJobs[i], objects: objects)
      return true
    }
  }

  public func restoreObjects(
    jobID: String, state: RestoreObjectState?, afterKey: String?, limit: Int,
    of account: AccountID
  ) async throws -> [RestoreObject] {
    if let problem = StoreRules.restoreLimitProblem(limit) { throw problem }
    return tables.withLock { t in
      guard jobIndex(t, jobID, account) != nil else { return [] }
      return (t.restoreObjects[jobID] ?? [:]).values
        .filter { $0.key > (afterKey ?? "") && (state == nil || $0.state == state) }
        .sorted { $0.key < $1.key }.prefix(limit).map { $0 }
    }
  }

  public func commitRestored(_ events: [SourcedEvent], jobID: String, of account: AccountID)
    async throws -> Int
  {
    try tables.withLock { t throws(StoreError) in
      guard let i = jobIndex(t, jobID, account) else {
        throw .rejected("there is no restore job \(jobID) in this account")
      }
      if t.restoreJobs[i].state.isFinal {
        throw .rejected(
          "restore job \(jobID) is \(t.restoreJobs[i].state.rawValue): it stores nothing more")
      }
      // What is in search: ingested events (by their blocks) and restored ones.
      var present = Set(t.restoredKeys.keys)
      var offsets: [Int64: Int64] = [:]
      for event in t.events where event.accountID == account {
        if let id = event.id { offsets[id] = event.sourceOffset }
      }
      for block in t.blocks where block.account == account {
        for id in block.eventIDs {
          guard let offset = offsets[id] else { continue }
          present.insert(
            EventKey(
              account: account, fetcherID: block.fetcherID, key: block.key, eTag: block.eTag,
              offset: offset))
        }
      }
      var stored = 0
      for item in events {
        let key = EventKey(
          account: account, fetcherID: item.event.fetcherID, key: item.event.sourceKey,
          eTag: item.eTag, offset: item.event.sourceOffset)
        guard present.insert(key).inserted else { continue }
        var event = StoreRules.storable(item.event)
        event.accountID = account
        event.id = t.nextEventID
        event.restoredBy = jobID
        t.nextEventID += 1
        t.events.append(event)
        t.restoredKeys[key] = event.id
        stored += 1
      }
      t.restoreExpiry[jobID] = t.restoreJobs[i].expiresAt
      t.restoreJobs[i].eventsRestored += stored
      t.restoreJobs[i].updatedAt = Date()
      return stored
    }
  }

  public func finishRestoreObject(
    jobID: String, key: String, outcome: RestoreObjectOutcome, of account: AccountID
  ) async throws -> Bool {
    tables.withLock { t in
      guard let i = jobIndex(t, jobID, account), !t.restoreJobs[i].state.isFinal,
        let object = t.restoreObjects[jobID]?[key], StoreRules.isRecordable(object.state)
      else { return false }
      t.restoreObjects[jobID]?[key] = StoreRules.recorded(outcome, object: object)
      t.restoreJobs[i] = StoreRules.recorded(outcome, previous: object.state, in: t.restoreJobs[i])
      return true
    }
  }

  public func finishRestore(jobID: String, error: String?, of account: AccountID) async throws
    -> Bool
  {
    tables.withLock { t in
      guard let i = jobIndex(t, jobID, account), t.restoreJobs[i].state == .running else {
        return false
      }
      t.restoreJobs[i] = StoreRules.finished(t.restoreJobs[i], error: error)
      return true
    }
  }

  public func setRestorePaused(
    _ paused: Bool, jobID: String, of account: AccountID, actor: String
  ) async throws -> Bool {
    tables.withLock { t in
      guard let i = jobIndex(t, jobID, account),
        let after = StoreRules.pausing(t.restoreJobs[i], paused: paused)
      else { return false }
      let before = t.restoreJobs[i]
      t.restoreJobs[i] = after
      t.record(
        AuditEntry(
          accountID: account, actor: actor, action: paused ? "restore.pause" : "restore.resume",
          target: jobID, before: StoreJSON.encode(before), after: StoreJSON.encode(after)))
      return true
    }
  }

  public func setRestoreExpiry(
    _ expiresAt: Date?, jobID: String, of account: AccountID, actor: String
  ) async throws -> Bool {
    tables.withLock { t in
      guard let i = jobIndex(t, jobID, account) else { return false }
      let before = t.restoreJobs[i]
      t.restoreJobs[i].expiresAt = expiresAt
      t.restoreJobs[i].updatedAt = Date()
      t.restoreExpiry[jobID] = expiresAt
      t.record(
        AuditEntry(
          accountID: account, actor: actor, action: "restore.expiry", target: jobID,
          before: StoreJSON.encode(before), after: StoreJSON.encode(t.restoreJobs[i])))
      return true
    }
  }

  public func deleteExpiredRestores(of account: AccountID, now: Date) async throws -> Int {
    tables.withLock { t in
      let expired = Set(
        t.restoreExpiry.compactMap { job, expiry in expiry.flatMap { $0 < now ? job : nil } })
      let before = t.events.count
      let gone = Set(
        t.events.filter { $0.accountID == account && expired.contains($0.restoredBy ?? "") }
          .compactMap(\.id))
      t.events.removeAll { gone.contains($0.id ?? -1) }
      t.restoredKeys = t.restoredKeys.filter { !gone.contains($0.value) }
      return before - t.events.count
    }
  }

  // MARK: Ledger and events

  public func ledgerEntry(of account: AccountID, fetcherID: String, key: String, eTag: String)
    async throws -> LedgerEntry?
  {
    tables.withLock {
      $0.ledger[LedgerKey(account: account, fetcherID: fetcherID, key: key, eTag: eTag)]
    }
  }

  public func ledger(
    of account: AccountID, fetcherID: String, state: LedgerState?, afterKey: String?, limit: Int
  ) async throws -> [LedgerEntry] {
    if let problem = StoreRules.ledgerLimitProblem(limit) { throw problem }
    return tables.withLock { t in
      Array(
        t.ledger.filter {
          $0.key.account == account && $0.key.fetcherID == fetcherID
            && (state == nil || $0.value.state == state) && $0.key.key > (afterKey ?? "")
        }.values.sorted { ($0.key, $0.eTag) < ($1.key, $1.eTag) }.prefix(limit))
    }
  }

  public func ledgerSummary(of account: AccountID, fetcherID: String) async throws
    -> LedgerSummary
  {
    tables.withLock { t in
      var summary = LedgerSummary()
      for (key, entry) in t.ledger where key.account == account && key.fetcherID == fetcherID {
        summary.objects[entry.state, default: 0] += 1
        summary.events += entry.events
        summary.rows += 1
        summary.bytes +=
          entry.key.utf8.count + entry.eTag.utf8.count + (entry.error?.utf8.count ?? 0)
          + LedgerSummary.fixedRowBytes
      }
      return summary
    }
  }

  public func reprocess(
    fetcherID: String, keys: ClosedRange<String>, of account: AccountID, actor: String
  ) async throws -> Int? {
    tables.withLock { t in
      guard let i = t.fetchers.firstIndex(where: { $0.id == fetcherID && $0.accountID == account })
      else { return nil }
      var count = 0
      for (key, entry) in t.ledger
      where key.account == account && key.fetcherID == fetcherID && keys.contains(key.key) {
        t.ledger[key] = StoreRules.reprocessed(entry)
        count += 1
      }
      let before = t.fetchers[i]
      t.fetchers[i] = StoreRules.reprocessing(before, keys: keys)
      t.record(
        AuditEntry(
          accountID: account, actor: actor, action: "fetcher.reprocess", target: fetcherID,
          before: nil, after: StoreRules.reprocessAudit(keys, objects: count)))
      return count
    }
  }

  public func compactLedger(
    of account: AccountID, fetcherID: String, throughKey: String?, updatedBefore: Date,
    limit: Int
  ) async throws -> LedgerCompaction {
    tables.withLock { t in
      guard let i = t.fetchers.firstIndex(where: { $0.id == fetcherID && $0.accountID == account })
      else { return LedgerCompaction() }
      let doomed = t.ledger.filter { key, entry in
        key.account == account && key.fetcherID == fetcherID && entry.state == .ingested
          && entry.updatedAt < updatedBefore && throughKey.map { key.key <= $0 } ?? true
      }
      .sorted { ($0.key.key, $0.key.eTag) < ($1.key.key, $1.key.eTag) }
      .prefix(max(0, limit))
      var removed = LedgerCompaction()
      for (key, entry) in doomed {
        t.ledger[key] = nil
        removed.objects += 1
        removed.events += entry.events
      }
      t.fetchers[i] = StoreRules.compacted(t.fetchers[i], by: removed)
      return removed
    }
  }

  public func commitObject(_ entry: LedgerEntry, events: [Event], of account: AccountID)
    async throws
  {
    let stored = events.map { StoreRules.storable($0) }
    if stored.contains(where: { $0.logType.isEmpty }) {
      throw StoreError.rejected(
        "the change conflicts with existing data (an event has no log type)")
    }
    tables.withLock { t in
      t.ledger[
        LedgerKey(account: account, fetcherID: entry.fetcherID, key: entry.key, eTag: entry.eTag)] =
        entry
      var newBlocks: [String: Int] = [:]
      for original in stored {
        let key = EventKey(
          account: account, fetcherID: original.fetcherID, key: original.sourceKey,
          eTag: entry.eTag, offset: original.sourceOffset)
        guard t.eventKeys.insert(key).inserted else { continue }
        var event = original
        event.accountID = account
        event.id = t.nextEventID
        t.nextEventID += 1
        t.events.append(event)
        let group = original.fetcherID + "\u{0}" + original.sourceKey
        if let i = newBlocks[group] {
          t.blocks[i].eventIDs.append(t.nextEventID - 1)
        } else {
          newBlocks[group] = t.blocks.count
          t.blocks.append(
            MemoryBlock(
              id: t.nextBlockID, account: account, fetcherID: original.fetcherID,
              key: original.sourceKey, eTag: entry.eTag, eventIDs: [t.nextEventID - 1]))
          t.nextBlockID += 1
        }
      }
    }
  }

  public func search(_ query: EventQuery, of account: AccountID) async throws -> EventPage {
    let cursor = try query.cursor.map { cursor throws(StoreError) in try EventCursor.decode(cursor)
    }
    let limit = max(1, min(query.limit, 1000))
    let words = SearchText.words(query.text)
    let from = query.from.micros
    let to = query.to.micros
    let matching = tables.withLock { t in
      t.events.filter { event in
        let time = event.time.micros
        guard event.accountID == account, time >= from, time < to else { return false }
        let eventWords = SearchText.words(event.message)
        if !words.isEmpty {
          let tokens = Set(eventWords)
          guard words.allSatisfy(tokens.contains) else { return false }
        }
        for (key, value) in query.fields where event.fields[key] != value { return false }
        if let language = query.query, !language.matches(words: eventWords, fields: event.fields) {
          return false
        }
        if let cursor {
          let id = event.id ?? 0
          guard time < cursor.timeMicros || (time == cursor.timeMicros && id < cursor.id) else {
            return false
          }
        }
        return true
      }
    }
    let sorted = matching.sorted {
      ($0.time.micros, $0.id ?? 0) > ($1.time.micros, $1.id ?? 0)
    }
    let page = Array(sorted.prefix(limit))
    let next =
      sorted.count > limit
      ? page.last.map { EventCursor.encode(timeMicros: $0.time.micros, id: $0.id ?? 0) } : nil
    return EventPage(events: page, nextCursor: next)
  }

  public func histogram(_ query: EventQuery, of account: AccountID, bucketSeconds: Int)
    async throws -> [HistogramBucket]
  {
    var all = query
    all.cursor = nil
    all.limit = Int.max
    var counts: [Int: Int] = [:]
    let width = Int64(max(1, bucketSeconds)) * 1_000_000
    var cursor: String?
    repeat {
      all.cursor = cursor
      let page = try await search(all, of: account)
      for event in page.events {
        counts[Int((event.time.micros - query.from.micros) / width), default: 0] += 1
      }
      cursor = page.nextCursor
    } while cursor != nil
    return HistogramBucket.fill(
      from: query.from, to: query.to, bucketSeconds: bucketSeconds, counts: counts)
  }

  public func eventCount(of account: AccountID) async throws -> Int {
    tables.withLock { $0.events.count { $0.accountID == account } }
  }

  public func deleteEvents(of account: AccountID, olderThan cutoff: Date, batchSize: Int)
    async throws -> Int
  {
    if let problem = StoreRules.batchProblem(batchSize) { throw problem }
    let limit = cutoff.micros
    return tables.withLock { t in
      let before = t.events.count
      t.events.removeAll {
        $0.accountID == account && $0.time.micros < limit && $0.restoredBy == nil
      }
      let left = Set(t.events.compactMap(\.id))
      for i in t.blocks.indices { t.blocks[i].eventIDs.removeAll { !left.contains($0) } }
      let gone = Set(t.blocks.filter(\.eventIDs.isEmpty).map(\.id))
      t.blocks.removeAll { $0.eventIDs.isEmpty }
      t.archived = t.archived.filter { !gone.contains($0.blockID) }
      return before - t.events.count
    }
  }

  // MARK: Archive progress

  public func unarchivedBlocks(
    archiveID: String, fetcherIDs: [String], of account: AccountID, limit: Int
  ) async throws -> [ArchivableBlock] {
    guard (1...10_000).contains(limit) else {
      throw StoreError.rejected("limit must be between 1 and 10000, not \(limit)")
    }
    return tables.withLock { t in
      t.blocks.filter { block in
        block.account == account && (fetcherIDs.isEmpty || fetcherIDs.contains(block.fetcherID))
          && !t.archived.contains(ArchivedKey(archiveID: archiveID, blockID: block.id))
      }.prefix(limit).compactMap { describe($0, t) }
    }
  }

  public func blocks(_ ids: [Int64], of account: AccountID) async throws -> [ArchivableBlock] {
    tables.withLock { t in
      t.blocks.filter { $0.account == account && ids.contains($0.id) }.compactMap {
        describe($0, t)
      }
    }
  }

  public func blockEvents(_ blockID: Int64, of account: AccountID) async throws -> [Event]? {
    tables.withLock { t in
      guard let block = t.blocks.first(where: { $0.id == blockID && $0.account == account })
      else { return nil }
      let ids = Set(block.eventIDs)
      return t.events.filter { ids.contains($0.id ?? -1) }.sorted {
        ($0.time.micros, $0.sourceOffset) < ($1.time.micros, $1.sourceOffset)
      }
    }
  }

  public func openArchiveBatch(archiveID: String, of account: AccountID) async throws
    -> ArchiveBatch?
  {
    tables.withLock { t in
      guard t.archives.contains(where: { $0.id == archiveID && $0.accountID == account }) else {
        return nil
      }
      return t.batches.first { $0.batch.archiveID == archiveID && $0.open }?.batch
    }
  }

  public func startArchiveBatch(archiveID: String, blockIDs: [Int64], of account: AccountID)
    async throws -> ArchiveBatch
  {
    try tables.withLock { t throws(StoreError) in
      guard t.archives.contains(where: { $0.id == archiveID && $0.accountID == account }) else {
        throw StoreError.rejected("there is no archive \(archiveID) in this account")
      }
      if let open = t.batches.first(where: { $0.batch.archiveID == archiveID && $0.open }) {
        throw StoreError.rejected(
          "archive \(archiveID) already has batch \(open.batch.sequence) open: finish it before starting another"
        )
      }
      let last = t.batches.filter { $0.batch.archiveID == archiveID }.map(\.batch.sequence).max()
      let batch = ArchiveBatch(
        archiveID: archiveID, sequence: (last ?? 0) + 1, blockIDs: blockIDs,
        startedAt: Date(micros: Date().micros))
      t.batches.append((batch, true, 0, 0, 0, nil))
      return batch
    }
  }

  public func finishArchiveBatch(
    _ batch: ArchiveBatch, objects: Int, events: Int, bytes: Int64, through: Date?,
    of account: AccountID
  ) async throws -> Bool {
    tables.withLock { t in
      guard
        let a = t.archives.firstIndex(where: { $0.id == batch.archiveID && $0.accountID == account }
        ),
        let i = t.batches.firstIndex(where: {
          $0.batch.archiveID == batch.archiveID && $0.open && $0.batch.sequence == batch.sequence
        })
      else { return false }
      for id in t.batches[i].batch.blockIDs
      where t.blocks.contains(where: { $0.id == id && $0.account == account }) {
        t.archived.insert(ArchivedKey(archiveID: batch.archiveID, blockID: id))
      }
      t.batches[i].open = false
      t.batches[i].objects = objects
      t.batches[i].events = events
      t.batches[i].bytes = bytes
      t.batches[i].finishedAt = Date()
      if let through, t.archives[a].archivedThrough.map({ $0 < through }) ?? true {
        t.archives[a].archivedThrough = through
      }
      return true
    }
  }

  public func recordArchiveRun(
    archiveID: String, error: String?, at: Date, of account: AccountID
  ) async throws {
    tables.withLock { t in
      guard t.archives.contains(where: { $0.id == archiveID && $0.accountID == account }) else {
        return
      }
      t.runs[archiveID] = (error, at)
    }
  }

  public func archiveProgress(archiveID: String, fetcherIDs: [String], of account: AccountID)
    async throws -> ArchiveProgress
  {
    let pending = try await unarchivedBlocks(
      archiveID: archiveID, fetcherIDs: fetcherIDs, of: account, limit: 10_000)
    return tables.withLock { t in
      var progress = ArchiveProgress()
      guard t.archives.contains(where: { $0.id == archiveID && $0.accountID == account }) else {
        return progress
      }
      let done = t.batches.filter { $0.batch.archiveID == archiveID && !$0.open }
      progress.batches = done.count
      progress.objects = done.reduce(0) { $0 + $1.objects }
      progress.events = done.reduce(0) { $0 + $1.events }
      progress.bytes = done.reduce(0) { $0 + $1.bytes }
      progress.lastFlushAt = done.compactMap(\.finishedAt).max()
      progress.pendingBlocks = pending.count
      progress.pendingEvents = pending.reduce(0) { $0 + $1.eventCount }
      progress.openBatch =
        t.batches.first { $0.batch.archiveID == archiveID && $0.open }?.batch.sequence
      progress.lastError = t.runs[archiveID]?.error
      progress.lastRunAt = t.runs[archiveID]?.at
      return progress
    }
  }

  // MARK: Audit

  // MARK: Migrations

  public func accountsUsingRole(_ roleARN: String) async throws -> Int {
    tables.withLock { Set($0.connections.filter { $0.roleARN == roleARN }.map(\.accountID)).count }
  }

  public func recordMigration(_ migration: Migration, of account: AccountID, actor: String)
    async throws -> Bool
  {
    if let problem = StoreRules.problem(with: migration) { throw problem }
    let m = StoreRules.placed(migration, in: account)
    return try tables.withLock { t throws(StoreError) in
      guard let owner = t.accounts.first(where: { $0.id == account }) else {
        throw StoreRules.noSuchAccount(account)
      }
      guard t.rewrite(m, .apply, owner: owner, actor: actor) else { return false }
      t.migrations.append(m)
      t.record(
        AuditEntry(
          accountID: account, actor: actor, action: "migration.apply", target: m.id,
          after: StoreJSON.encode(m)))
      return true
    }
  }

  public func revertMigration(_ id: String, of account: AccountID, actor: String) async throws
    -> Bool
  {
    tables.withLock { t in
      guard let at = t.migrations.firstIndex(where: { $0.id == id && $0.accountID == account }),
        let owner = t.accounts.first(where: { $0.id == account })
      else { return false }
      let m = t.migrations[at]
      guard t.rewrite(m, .revert, owner: owner, actor: actor) else { return false }
      t.migrations.remove(at: at)
      t.record(
        AuditEntry(
          accountID: account, actor: actor, action: "migration.revert", target: id,
          before: StoreJSON.encode(m)))
      return true
    }
  }

  public func migrations(of account: AccountID) async throws -> [Migration] {
    tables.withLock { $0.migrations.filter { $0.accountID == account }.reversed() }
  }

  public func finishMigration(_ id: String, of account: AccountID, at: Date, actor: String)
    async throws -> Bool
  {
    tables.withLock { t in
      guard let i = t.migrations.firstIndex(where: { $0.id == id && $0.accountID == account })
      else { return false }
      let before = t.migrations[i]
      t.migrations[i].state = .finished
      t.migrations[i].finishedAt = at
      t.record(
        AuditEntry(
          accountID: account, actor: actor, action: "migration.finish", target: id,
          before: StoreJSON.encode(before), after: StoreJSON.encode(t.migrations[i])))
      return true
    }
  }

  public func auditLog(of account: AccountID, limit: Int) async throws -> [AuditEntry] {
    tables.withLock { Array($0.audit.filter { $0.accountID == account }.reversed().prefix(limit)) }
  }

  // MARK: Leases

  public func acquireLease(_ name: String, holder: String, ttl: TimeInterval) async throws -> Lease?
  {
    let now = Date()
    let expires = Date(micros: now.micros + Int64(ttl * 1_000_000))
    return tables.withLock { t in
      guard let current = t.leases[name] else {
        let lease = Lease(name: name, holder: holder, expiresAt: expires, version: 1)
        t.leases[name] = lease
        return lease
      }
      guard current.expiresAt <= now || current.holder == holder else { return nil }
      let lease = Lease(
        name: name, holder: holder, expiresAt: expires, version: current.version + 1)
      t.leases[name] = lease
      return lease
    }
  }

  public func renewLease(_ lease: Lease, ttl: TimeInterval) async throws -> Lease? {
    let expires = Date(micros: Date().micros + Int64(ttl * 1_000_000))
    return tables.withLock { t in
      guard let current = t.leases[lease.name], current.holder == lease.holder,
        current.version == lease.version
      else { return nil }
      let renewed = Lease(
        name: lease.name, holder: lease.holder, expiresAt: expires, version: lease.version)
      t.leases[lease.name] = renewed
      return renewed
    }
  }

  public func releaseLease(_ lease: Lease) async throws -> Bool {
    tables.withLock { t in
      guard let current = t.leases[lease.name], current.holder == lease.holder,
        current.version == lease.version
      else { return false }
      t.leases[lease.name] = nil
      return true
    }
  }
}

/// What fetchers and archives share in the in-memory tables.
protocol NamedConfiguration: AccountScoped, Encodable {
  var id: String { get }
  var name: String { get }
  var connectionID: String { get }
}

extension Fetcher: NamedConfiguration {}
extension Archive: NamedConfiguration {}
