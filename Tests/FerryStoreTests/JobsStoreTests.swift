import FerryCore
import FerryTesting
import Foundation
import Testing

@testable import FerryStore

/// Fetchers, archives and restore jobs: the same contract on both backends.
@Suite("Store contract: fetchers, archives, restore jobs")
struct JobsStoreTests {
  typealias Backend = StoreContractTests.Backend

  struct Tenant {
    let store: any Store
    let account: AccountID
    let fetchConnection: Connection
    let archiveConnection: Connection
  }

  func tenant(_ backend: Backend, store existing: (any Store)? = nil) async throws -> Tenant {
    let store: any Store
    if let existing {
      store = existing
    } else {
      store = try await StoreContractTests.makeStore(backend)
    }
    // Each tenant of one store has its own name: names are unique.
    let account = try await store.createAccount(
      name: "Acme \(UUID().uuidString.prefix(8))", externalIDPrefix: "ferry", retentionDays: 30,
      actor: "setup"
    ).id
    let fetch = Connection(
      accountID: account, purpose: .fetcher, bucket: "acme-logs", region: "us-east-1",
      prefix: "AWSLogs/", roleARN: "arn:aws:iam::111122223333:role/ferry-fetch",
      externalID: "ferry:aws:extid:abc", usesLegacyExternalID: false)
    let archive = Connection(
      accountID: account, purpose: .archive, bucket: "acme-archive", region: "us-east-1",
      prefix: "", roleARN: "arn:aws:iam::111122223333:role/ferry-archive",
      externalID: "ferry:aws:extid:abc", usesLegacyExternalID: false)
    try await store.addConnection(fetch, of: account, actor: "admin")
    try await store.addConnection(archive, of: account, actor: "admin")
    return Tenant(
      store: store, account: account, fetchConnection: fetch, archiveConnection: archive)
  }

  @Test(arguments: Backend.allCases)
  func fetchersAreKeptUpdatedAndRemovedWithAudit(backend: Backend) async throws {
    let t = try await tenant(backend)
    let fetcher = Fetcher(
      accountID: t.account, connectionID: t.fetchConnection.id, name: "alb", logType: "alb",
      queueURL: "https://sqs.us-east-1.amazonaws.com/111122223333/acme",
      createdAt: Date(timeIntervalSince1970: 1_732_400_000.123456))
    try await t.store.addFetcher(fetcher, of: t.account, actor: "alice")
    #expect(try await t.store.fetchers(of: t.account) == [fetcher])

    // The scheduler's bookkeeping is kept, and a configuration change does not erase it.
    let status = FetcherStatus(
      lastRunAt: Date(timeIntervalSince1970: 1_732_400_100), lastError: "listing failed",
      objectsIngested: 3, eventsIngested: 1200)
    #expect(try await t.store.recordFetcherRun(fetcher.id, of: t.account, status: status))
    var changed = fetcher
    changed.enabled = false
    changed.pollInterval = 60
    #expect(try await t.store.updateFetcher(changed, of: t.account, actor: "bob"))
    let stored = try #require(try await t.store.fetchers(of: t.account).first)
    #expect(stored.enabled == false && stored.pollInterval == 60)
    #expect(stored.status == status)

    // Its ledger goes with it.
    try await t.store.commitObject(
      LedgerEntry(fetcherID: fetcher.id, key: "k", eTag: "e", size: 1, state: .ingested),
      events: [], of: t.account)
    #expect(try await t.store.removeFetcher(fetcher.id, of: t.account, actor: "carol"))
    #expect(try await t.store.fetchers(of: t.account).isEmpty)
    #expect(
      try await t.store.ledgerEntry(of: t.account, fetcherID: fetcher.id, key: "k", eTag: "e")
        == nil)
    #expect(try await t.store.removeFetcher(fetcher.id, of: t.account, actor: "carol") == false)

    let log = try await t.store.auditLog(of: t.account, limit: 10)
    #expect(
      Array(log.map(\.action).prefix(3)) == ["fetcher.remove", "fetcher.update", "fetcher.add"])
    #expect(Array(log.map(\.actor).prefix(3)) == ["carol", "bob", "alice"])
    #expect(log[1].before?.contains("\"enabled\":true") == true)
    #expect(log[1].after?.contains("\"enabled\":false") == true)
  }

  @Test(arguments: Backend.allCases)
  func badFetchersAreRefusedWithTheReason(backend: Backend) async throws {
    let t = try await tenant(backend)
    let other = try await tenant(backend, store: t.store)
    func refusal(_ fetcher: Fetcher) async -> String? {
      do {
        try await t.store.addFetcher(fetcher, of: t.account, actor: "alice")
        return nil
      } catch let error as StoreError {
        return error.description
      } catch {
        return "\(error)"
      }
    }
    let good = Fetcher(
      accountID: t.account, connectionID: t.fetchConnection.id, name: "alb", logType: "alb")
    var onArchive = good
    onArchive.connectionID = t.archiveConnection.id
    #expect(await refusal(onArchive)?.contains("made for archives") == true)
    // Another tenant's connection does not exist, as far as this account can tell.
    var foreign = good
    foreign.connectionID = other.fetchConnection.id
    #expect(await refusal(foreign)?.contains("there is no connection") == true)
    var noType = good
    noType.logType = " "
    #expect(await refusal(noType)?.contains("log type") == true)
    var fast = good
    fast.pollInterval = 1
    #expect(await refusal(fast)?.contains("10 to 86400 seconds") == true)
    #expect(await refusal(good) == nil)
    var twin = good
    twin.id = Fetcher.newID()
    #expect(await refusal(twin)?.contains("already exists") == true)
    // Nothing refused was kept, nor audited.
    #expect(try await t.store.fetchers(of: t.account).count == 1)
    #expect(
      try await t.store.auditLog(of: t.account, limit: 20).filter { $0.action == "fetcher.add" }
        .count == 1)
    // A connection in use cannot be removed; the message names the user.
    await #expect {
      try await t.store.removeConnection(t.fetchConnection.id, of: t.account, actor: "alice")
    } throws: { error in
      (error as? StoreError)?.description.contains("fetcher \"alb\"") == true
    }
    #expect(try await t.store.connections(of: t.account).count == 2)
  }

  @Test(arguments: Backend.allCases)
  func archivesAndRestoreJobsFollowTheirLifecycle(backend: Backend) async throws {
    let t = try await tenant(backend)
    let archive = Archive(
      accountID: t.account, connectionID: t.archiveConnection.id, name: "main archive")
    try await t.store.addArchive(archive, of: t.account, actor: "alice")
    let through = Date(timeIntervalSince1970: 1_732_400_000)
    #expect(try await t.store.advanceArchive(archive.id, of: t.account, through: through))
    // The watermark never moves back.
    #expect(
      try await t.store.advanceArchive(
        archive.id, of: t.account, through: through.addingTimeInterval(-3600)))
    #expect(try await t.store.archives(of: t.account).first?.archivedThrough == through)

    let day = Date(timeIntervalSince1970: 1_732_320_000)
    let first = RestoreJob(
      accountID: t.account, archiveID: archive.id, from: day, to: day.addingTimeInterval(86_400),
      requestedBy: "alice", createdAt: day)
    let second = RestoreJob(
      accountID: t.account, archiveID: archive.id, from: day, to: day.addingTimeInterval(3600),
      requestedBy: "bob", createdAt: day.addingTimeInterval(60))
    try await t.store.createRestoreJob(first, of: t.account, actor: "alice")
    try await t.store.createRestoreJob(second, of: t.account, actor: "bob")
    #expect(try await t.store.restoreJobs(of: t.account).map(\.id) == [second.id, first.id])

    // Progress is saved; the range and requester cannot be rewritten by an update.
    var running = first
    running.state = .running
    running.objectsTotal = 24
    running.objectsDone = 5
    running.eventsRestored = 5000
    running.to = day.addingTimeInterval(999_999)
    #expect(try await t.store.updateRestoreJob(running, of: t.account))
    let saved = try #require(try await t.store.restoreJob(first.id, of: t.account))
    #expect(saved.state == .running && saved.objectsDone == 5 && saved.objectsTotal == 24)
    #expect(saved.to == first.to)

    // An archive with a restore under way cannot be removed.
    await #expect {
      try await t.store.removeArchive(archive.id, of: t.account, actor: "alice")
    } throws: { error in
      (error as? StoreError)?.description.contains("restore queued or running") == true
    }
    // A cancelled job stays cancelled, even if a worker reports progress afterwards.
    #expect(try await t.store.cancelRestoreJob(first.id, of: t.account, actor: "carol"))
    #expect(try await t.store.cancelRestoreJob(first.id, of: t.account, actor: "carol") == false)
    running.objectsDone = 6
    #expect(try await t.store.updateRestoreJob(running, of: t.account) == false)
    #expect(try await t.store.restoreJob(first.id, of: t.account)?.state == .cancelled)
    var done = second
    done.state = .succeeded
    #expect(try await t.store.updateRestoreJob(done, of: t.account))

    #expect(try await t.store.removeArchive(archive.id, of: t.account, actor: "alice"))
    #expect(try await t.store.archives(of: t.account).isEmpty)
    #expect(try await t.store.restoreJobs(of: t.account).isEmpty)
    let actions = try await t.store.auditLog(of: t.account, limit: 10).map(\.action)
    #expect(
      Array(actions.prefix(5)) == [
        "archive.remove", "restore.cancel", "restore.create", "restore.create", "archive.add",
      ])
  }

  @Test(arguments: Backend.allCases)
  func restoreJobsAreCheckedAndIsolated(backend: Backend) async throws {
    let t = try await tenant(backend)
    let other = try await tenant(backend, store: t.store)
    let archive = Archive(accountID: t.account, connectionID: t.archiveConnection.id, name: "a")
    try await t.store.addArchive(archive, of: t.account, actor: "alice")
    let day = Date(timeIntervalSince1970: 1_732_320_000)
    // Another account cannot restore from this archive, nor see its jobs.
    await #expect {
      try await t.store.createRestoreJob(
        RestoreJob(
          accountID: other.account, archiveID: archive.id, from: day,
          to: day.addingTimeInterval(60), requestedBy: "mallory"), of: other.account,
        actor: "mallory")
    } throws: { error in
      (error as? StoreError)?.description.contains("there is no archive") == true
    }
    await #expect {
      try await t.store.createRestoreJob(
        RestoreJob(
          accountID: t.account, archiveID: archive.id, from: day, to: day, requestedBy: "alice"),
        of: t.account, actor: "alice")
    } throws: { error in
      (error as? StoreError)?.description.contains("range is empty") == true
    }
    let job = RestoreJob(
      accountID: t.account, archiveID: archive.id, from: day, to: day.addingTimeInterval(60),
      requestedBy: "alice")
    try await t.store.createRestoreJob(job, of: t.account, actor: "alice")
    #expect(try await t.store.restoreJobs(of: other.account).isEmpty)
    #expect(try await t.store.restoreJob(job.id, of: other.account) == nil)
    #expect(try await t.store.cancelRestoreJob(job.id, of: other.account, actor: "m") == false)
    #expect(try await t.store.archives(of: other.account).isEmpty)
    #expect(try await t.store.removeArchive(archive.id, of: other.account, actor: "m") == false)
    #expect(try await t.store.advanceArchive(archive.id, of: other.account, through: day) == false)
    // Every account is listed for the operator, in creation order.
    #expect(try await t.store.accounts().map(\.id) == [t.account, other.account])
  }

  @Test(arguments: Backend.allCases)
  func awkwardTextRoundTripsThroughTheEventPath(backend: Backend) async throws {
    let t = try await tenant(backend)
    let message = "tab\there\nnew line \\ back\\slash 'quote' \"double\" \r café ÅNGSTRÖM 東京 ok"
    let event = Event(
      accountID: t.account, fetcherID: "f", logType: "custom",
      time: Date(timeIntervalSince1970: 1_732_400_000), sourceKey: "k\tkey", sourceOffset: 7,
      message: message, fields: ["path": "a\\b\t\"c\"", "ünï": "cödé"])
    try await t.store.commitObject(
      LedgerEntry(fetcherID: "f", key: "k", eTag: "e", size: 1, state: .ingested, events: 1),
      events: [event], of: t.account)
    for words in ["slash quote", "café", "ångström", "東京", "back"] {
      let page = try await t.store.search(
        EventQuery(from: .distantPast, to: .distantFuture, text: words), of: t.account)
      #expect(page.events.count == 1, "search for \(words)")
      let found = try #require(page.events.first)
      #expect(found.message == message)
      #expect(found.sourceKey == "k\tkey")
      #expect(found.fields == event.fields)
    }
    #expect(
      try await t.store.search(
        EventQuery(from: .distantPast, to: .distantFuture, text: "tab absentword"), of: t.account
      ).events.isEmpty)
  }

  /// Tenants are isolated by construction: the account a call names decides where a record
  /// goes, whatever account the record itself names.
  @Test(arguments: Backend.allCases)
  func recordsLandInTheAccountTheCallNames(backend: Backend) async throws {
    let t = try await tenant(backend)
    let other = try await tenant(backend, store: t.store)
    // A connection built for t, added for other: it is other's, with other's external ID.
    let stray = Connection(
      accountID: t.account, purpose: .fetcher, bucket: "stray-logs", region: "us-east-1",
      prefix: "", roleARN: "arn:aws:iam::111122223333:role/stray",
      externalID: "chosen-by-the-caller", usesLegacyExternalID: false)
    try await t.store.addConnection(stray, of: other.account, actor: "admin")
    let otherAccount = try #require(try await t.store.account(other.account))
    let stored = try #require(
      try await t.store.connections(of: other.account).first { $0.id == stray.id })
    #expect(stored.accountID == other.account)
    #expect(stored.externalID == otherAccount.externalID)
    #expect(!(try await t.store.connections(of: t.account).contains { $0.id == stray.id }))
    // A fetcher on t's connection cannot be added for other: that connection does not exist
    // there.
    await #expect {
      try await t.store.addFetcher(
        Fetcher(
          accountID: t.account, connectionID: t.fetchConnection.id, name: "sneaky",
          logType: "alb"),
        of: other.account, actor: "mallory")
    } throws: { error in
      (error as? StoreError)?.description.contains("no connection") == true
    }
  }

  /// Only a legacy import keeps a chosen external ID.
  @Test(arguments: Backend.allCases)
  func aLegacyImportKeepsItsExternalID(backend: Backend) async throws {
    let t = try await tenant(backend)
    let legacy = Connection(
      accountID: t.account, purpose: .fetcher, bucket: "old-logs", region: "us-east-1",
      prefix: "", roleARN: "arn:aws:iam::111122223333:role/old", externalID: "acme-2019",
      usesLegacyExternalID: true)
    try await t.store.addConnection(legacy, of: t.account, actor: "operator")
    let stored = try #require(
      try await t.store.connections(of: t.account).first { $0.id == legacy.id })
    #expect(stored.externalID == "acme-2019")
    let generated = try #require(try await t.store.account(t.account)).externalID
    #expect(t.fetchConnection.externalID != generated)
    #expect(
      try await t.store.connections(of: t.account).first { $0.id == t.fetchConnection.id }?
        .externalID == generated)
  }

  /// Removing another tenant's connection that has a fetcher answers "no such connection",
  /// and does not name that tenant's fetchers.
  @Test(arguments: Backend.allCases)
  func anotherTenantsConnectionInUseDoesNotExist(backend: Backend) async throws {
    let t = try await tenant(backend)
    let other = try await tenant(backend, store: t.store)
    try await t.store.addFetcher(
      Fetcher(
        accountID: t.account, connectionID: t.fetchConnection.id, name: "secret-project-logs",
        logType: "alb"),
      of: t.account, actor: "alice")
    #expect(
      try await t.store.removeConnection(t.fetchConnection.id, of: other.account, actor: "m")
        == false)
    #expect(try await t.store.connections(of: t.account).contains { $0.id == t.fetchConnection.id })
  }
}
