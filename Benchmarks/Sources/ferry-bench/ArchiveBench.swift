import FerryArchive
import FerryCore
import FerryStore
import Foundation

/// An archive bucket in a local directory: the writer's and the restorer's own work
/// (reading blocks, NDJSON, zstd, SHA-256, manifests; then checking, decompressing,
/// parsing, filtering and storing) without a network in the way. Not a test double: the
/// benchmark's figures say what they measure.
struct DirectoryBucket: ArchiveBucket {
  let root: URL
  var name: String { "directory \(root.path)" }

  func url(_ key: String) -> URL { root.appendingPathComponent(key) }

  func put(key: String, bytes: [UInt8], contentType: String) async throws(AWSFailure) {
    do {
      try FileManager.default.createDirectory(
        at: url(key).deletingLastPathComponent(), withIntermediateDirectories: true)
      try Data(bytes).write(to: url(key), options: .atomic)
    } catch {
      throw AWSFailure(kind: .unreachable, operation: "write", message: "\(error)")
    }
  }

  func get(key: String) async throws(AWSFailure) -> [UInt8]? {
    guard let data = FileManager.default.contents(atPath: url(key).path) else { return nil }
    return [UInt8](data)
  }

  func list(prefix: String) async throws(AWSFailure) -> [ArchiveListing] {
    let folder = url(prefix)
    guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return [] }
    var out: [ArchiveListing] = []
    while let relative = walker.nextObject() as? String {
      let size =
        (try? FileManager.default.attributesOfItem(
          atPath: folder.appendingPathComponent(relative).path)[.size] as? Int) ?? 0
      out.append(ArchiveListing(key: prefix + relative, size: Int64(size), storageClass: nil))
    }
    return out.sorted { $0.key < $1.key }
  }

  func folders(under prefix: String) async throws(AWSFailure) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: url(prefix).path)) ?? []
    var isFolder: ObjCBool = false
    return names.filter {
      FileManager.default.fileExists(
        atPath: url(prefix).appendingPathComponent($0).path, isDirectory: &isFolder)
        && isFolder.boolValue
    }.map { prefix + $0 + "/" }.sorted()
  }

  func thaw(key: String, days: Int) async throws(AWSFailure) -> ThawState { .ready }
}

/// Archive write and restore on `events` generated events (JSON app logs, CloudTrail, or
/// both, as the store benchmark), beside the store's own insert of the same events:
/// commits them into a SQLite store, archives them into `directory`, removes them from the
/// store (retention), and restores the whole day back. With `rawMessages`, writes the
/// events' raw records there too, one per line (after the timed parts), for the script's
/// `zstd` baseline.
func archiveBenchmark(
  storePath: String, directory: URL, events: Int, mix: LogGenerator.Mix = .mixed,
  rawMessages: URL? = nil
) async throws -> [String: Double] {
  let day = Date(timeIntervalSince1970: 1_732_406_400)
  let store = try SQLiteStore(path: storePath)
  let account = try await store.createAccount(
    name: "archive", externalIDPrefix: "ferry", retentionDays: 30, actor: "bench"
  ).id
  let logs = LogGenerator(account: account, day: day, total: events, mix: mix)
  let insert = try await storeInsert(store, logs)

  let connection = Connection(
    accountID: account, purpose: .archive, bucket: "bench-archive", region: "us-east-1",
    prefix: "archive/", roleARN: "arn:aws:iam::123456789012:role/bench",
    externalID: "ferry:bench", usesLegacyExternalID: false)
  try await store.addConnection(connection, of: account, actor: "bench")
  let archive = Archive(accountID: account, connectionID: connection.id, name: "bench")
  try await store.addArchive(archive, of: account, actor: "bench")
  let bucket = DirectoryBucket(root: directory)
  let writer = try ArchiveWriter(
    store: store, archive: archive, connection: connection, bucket: bucket)

  let clock = ContinuousClock()
  let phasePeaks = resetPeakResident()
  var cpu = processCPUSeconds()
  var start = clock.now
  var raw: Int64 = 0
  var stored: Int64 = 0
  var archived = 0
  flushing: while true {
    switch try await writer.flush(now: Date(), waitingSince: .distantPast) {
    case .idle, .waiting: break flushing
    case .wrote(let report):
      raw += report.rawBytes
      stored += report.bytes
      archived += report.events
    }
  }
  let writeSeconds = (clock.now - start).seconds
  let writeCPU = processCPUSeconds() - cpu
  let writePeak = peakResidentKiB()
  guard archived == events else {
    throw BenchError.failed("archived \(archived) events of \(events)")
  }

  let removed = try await store.deleteEvents(
    of: account, olderThan: day.addingTimeInterval(86_400), batchSize: 100_000)
  guard removed == events else { throw BenchError.failed("retention removed \(removed)") }
  let job = RestoreJob(
    accountID: account, archiveID: archive.id, from: day, to: day.addingTimeInterval(86_400),
    requestedBy: "bench")
  try await store.createRestoreJob(job, of: account, actor: "bench")
  let restorer = ArchiveRestorer(
    store: store, job: job, bucket: bucket, layout: try ArchiveLayout(prefix: connection.prefix))
  resetPeakResident()
  cpu = processCPUSeconds()
  start = clock.now
  guard try await restorer.run() == .finished else { throw BenchError.failed("restore stopped") }
  let restoreSeconds = (clock.now - start).seconds
  let restoreCPU = processCPUSeconds() - cpu
  let restorePeak = peakResidentKiB()
  let restored = try await store.restoreJob(job.id, of: account)?.eventsRestored ?? 0
  guard restored == events else { throw BenchError.failed("restored \(restored) of \(events)") }

  if let rawMessages {
    FileManager.default.createFile(atPath: rawMessages.path, contents: nil)
    let file = try FileHandle(forWritingTo: rawMessages)
    defer { try? file.close() }
    for n in 0..<logs.objects {
      var text: [UInt8] = []
      for event in logs.object(n).events {
        text.append(contentsOf: event.message.utf8)
        text.append(0x0A)
      }
      try file.write(contentsOf: text)
    }
  }

  return [
    "events": Double(events), "archive_level": Double(ArchiveSettings().level),
    "insert_events_per_second": insert.wall, "insert_events_per_cpu_second": insert.cpu,
    "archive_raw_mib_per_second": Double(raw) / 1_048_576 / writeSeconds,
    "archive_events_per_second": Double(events) / writeSeconds,
    "archive_events_per_cpu_second": Double(events) / writeCPU,
    "archive_raw_bytes": Double(raw), "archive_stored_bytes": Double(stored),
    "restore_events_per_second": Double(events) / restoreSeconds,
    "restore_events_per_cpu_second": Double(events) / restoreCPU,
    // The process's peak resident set during each phase (0 where it cannot be measured
    // apart: a kernel without /proc/self/clear_refs).
    "archive_peak_rss_mib": phasePeaks ? Double(writePeak) / 1024 : 0,
    "restore_peak_rss_mib": phasePeaks ? Double(restorePeak) / 1024 : 0,
  ]
}
