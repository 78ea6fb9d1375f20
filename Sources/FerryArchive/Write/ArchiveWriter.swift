import FerryBlocks
import FerryCore
import FerryIngest
import Foundation

/// How the writer flushes: by size and by age.
public struct ArchiveSettings: Sendable {
  /// A flush starts once this much event text (uncompressed, as the store holds it) waits.
  public var flushBytes = 32 << 20
  /// ... or once the oldest waiting block has waited this long.
  public var flushAge: TimeInterval = 300
  /// Objects larger than this are uploaded in parts.
  public var multipartBytes = 16 << 20
  /// zstd's level (``ArchivePartWriter/defaultLevel``).
  public var level = ArchivePartWriter.defaultLevel
  /// Blocks read per look at what waits.
  public var scanLimit = 1000
  /// The lease's time to live; renewed at a third of it while a flush goes on.
  public var leaseTTL: TimeInterval = 60

  public init() {}
}

/// What one call of ``ArchiveWriter/flush(now:waitingSince:)`` did.
public enum FlushOutcome: Sendable, Equatable {
  /// Nothing waits.
  case idle
  /// Events wait, but neither size nor age calls for a flush yet.
  case waiting(rawBytes: Int)
  /// A batch was written: its objects and manifests are in the bucket and its blocks are
  /// marked archived.
  case wrote(FlushReport)
}

public struct FlushReport: Sendable, Equatable {
  public var sequence: Int
  public var objects = 0
  public var events = 0
  /// Stored (compressed) bytes of the objects.
  public var bytes: Int64 = 0
  public var rawBytes: Int64 = 0
  /// True when the batch was one a previous writer started and did not finish.
  public var resumed = false
}

/// Writes an archive's events into its bucket, exactly once: a batch of blocks is recorded
/// in the store first; its events become one object per partition (hour), named by their
/// content; each partition's manifest is rewritten with its new object; only then is the
/// batch finished, its blocks marked archived, in one transaction. A writer that crashes
/// anywhere before that finds the batch open and writes the same objects again, under the
/// same keys, and the manifests list each key once. docs/archive-format.md.
public struct ArchiveWriter: Sendable {
  public let store: any Store
  public let archive: Archive
  public let connection: Connection
  public let bucket: any ArchiveBucket
  public let layout: ArchiveLayout
  public let settings: ArchiveSettings
  /// Called between steps: throws to stop (the lease was lost, the task was cancelled).
  let check: @Sendable () async throws -> Void

  public init(
    store: any Store, archive: Archive, connection: Connection, bucket: any ArchiveBucket,
    settings: ArchiveSettings = ArchiveSettings(),
    check: @escaping @Sendable () async throws -> Void = {}
  ) throws {
    self.store = store
    self.archive = archive
    self.connection = connection
    self.bucket = bucket
    self.layout = try ArchiveLayout(prefix: connection.prefix)
    self.settings = settings
    self.check = check
  }

  var account: AccountID { archive.accountID }

  /// Flushes one batch if one is open or due. `waitingSince` is when the caller first saw
  /// events waiting (the age of a flush counts from it).
  public func flush(now: Date = Date(), waitingSince: Date?) async throws -> FlushOutcome {
    if let open = try await store.openArchiveBatch(archiveID: archive.id, of: account) {
      var report = try await write(open)
      report.resumed = true
      return .wrote(report)
    }
    let waiting = try await store.unarchivedBlocks(
      archiveID: archive.id, fetcherIDs: archive.fetcherIDs, of: account,
      limit: settings.scanLimit)
    guard !waiting.isEmpty else { return .idle }
    var chosen: [ArchivableBlock] = []
    var raw = 0
    for block in waiting {
      if !chosen.isEmpty && raw + block.rawBytes > settings.flushBytes { break }
      chosen.append(block)
      raw += block.rawBytes
    }
    let full =
      raw >= settings.flushBytes || chosen.count < waiting.count
      || waiting.count == settings.scanLimit
    let old = waitingSince.map { now.timeIntervalSince($0) >= settings.flushAge } ?? false
    guard full || old else { return .waiting(rawBytes: raw) }
    try await check()
    let batch = try await store.startArchiveBatch(
      archiveID: archive.id, blockIDs: chosen.map(\.id), of: account)
    return .wrote(try await write(batch))
  }

  /// Writes a recorded batch: objects, then manifests, then the store.
  func write(_ batch: ArchiveBatch) async throws -> FlushReport {
    var report = FlushReport(sequence: batch.sequence)
    let blocks = try await store.blocks(batch.blockIDs, of: account)
    let sources = try await sourceBuckets()
    // Events this archive held before their objects were reprocessed: not taken twice.
    let held = ArchivedSpan.byObject(
      try await store.archivedSpans(
        archiveID: archive.id, keys: Array(Set(blocks.map(\.sourceKey))), of: account))
    // One object per hour; blocks in the batch's order, events in each block's.
    // Writers live in an array (mutated in place), found by hour through an index.
    var writers: [ArchivePartWriter] = []
    var index: [Date: Int] = [:]
    var newest: Date?
    for block in blocks {
      try await check()
      // Read in place: each line is written from the block's bytes.
      guard let data = try await store.storedBlock(block.id, of: account) else { continue }
      let view = try BlockCodec.view(data, skipsFields: skipsFields)
      let sourceBucket = sources[block.fetcherID] ?? ""
      let before = held[
        ArchivedSpan.objectName(fetcherID: block.fetcherID, key: block.sourceKey, eTag: block.eTag)]
      for n in 0..<view.count {
        if let before, before.contains(where: { $0.contains(view.offset(n)) }) { continue }
        let time = view.time(n)
        let hour = ArchiveLayout.hour(of: time)
        let i: Int
        if let found = index[hour] {
          i = found
        } else {
          i = writers.count
          index[hour] = i
          writers.append(partWriter(hour))
        }
        try writers[i].append(
          view, n, fetcherID: block.fetcherID, eTag: block.eTag, sourceBucket: sourceBucket)
        newest = max(newest ?? time, time)
      }
    }
    var entries: [(hour: Date, entry: ArchiveManifest.Object)] = []
    for (hour, i) in index.sorted(by: { $0.key < $1.key }) {
      let part = try writers[i].finish(layout: layout, sequence: batch.sequence)
      try await check()
      do {
        try await bucket.put(
          key: part.entry.key, bytes: part.bytes, contentType: "application/x-ndjson")
      } catch {
        throw ArchiveWriteError(
          step: "writing s3://\(bucket.name)/\(part.entry.key)", permission: "s3:PutObject",
          failure: error, connection: connection)
      }
      // Its memory goes.
      writers[i] = partWriter(hour)
      entries.append((hour, part.entry))
      report.objects += 1
      report.events += part.entry.events
      report.bytes += Int64(part.entry.bytes)
      report.rawBytes += Int64(part.entry.rawBytes)
    }
    for (hour, entry) in entries {
      try await check()
      try await addToManifest(entry, hour: hour)
    }
    try await check()
    guard
      try await store.finishArchiveBatch(
        batch, objects: report.objects, events: report.events, bytes: report.bytes,
        through: newest, of: account)
    else {
      throw ArchiveWriteError(
        step: "finishing batch \(batch.sequence)",
        description:
          "batch \(batch.sequence) of archive \(archive.id) was finished by another writer; this one stops (its objects were the same)"
      )
    }
    return report
  }

  /// Whether the archive's lines leave out every field of a block with that dictionary and
  /// those log types, so that its fields need not be read: compact lines, log types whose
  /// messages give their fields back, and no event cut by its parser (no such name).
  func skipsFields(_ dictionary: [String], _ logTypes: Set<Int32>) -> Bool {
    Self.skipsFields(lines: archive.lines, dictionary, logTypes)
  }

  static func skipsFields(lines: ArchiveLines, _ dictionary: [String], _ logTypes: Set<Int32>)
    -> Bool
  {
    lines == .compact
      && MessageFields.derivable(
        logTypes: logTypes.lazy.map { dictionary[Int($0)] }, names: dictionary)
  }

  /// An empty object of `hour`, in the archive's form.
  func partWriter(_ hour: Date) -> ArchivePartWriter {
    ArchivePartWriter(
      account: account, hour: hour, lines: archive.lines, compression: archive.compression,
      level: settings.level)
  }

  /// Rewrites a partition's manifest with `entry` in it (listed once, whatever came before).
  func addToManifest(_ entry: ArchiveManifest.Object, hour: Date) async throws {
    let key = layout.manifestKey(account: account, hour: hour)
    let place = "s3://\(bucket.name)/\(key)"
    var manifest = ArchiveManifest(account: account, hour: hour)
    let existing: [UInt8]?
    do {
      existing = try await bucket.get(key: key)
    } catch {
      throw ArchiveWriteError(
        step: "reading \(place)", permission: "s3:GetObject", failure: error,
        connection: connection)
    }
    if let existing {
      do {
        manifest = try ArchiveManifest.decode(Data(existing))
      } catch {
        throw ArchiveWriteError(
          step: "reading \(place)",
          description:
            "the manifest \(place) cannot be read (\(error)); Ferry does not overwrite it. Fix: move it aside; Ferry then writes a new one listing the objects it adds from then on"
        )
      }
    }
    do {
      try await bucket.put(
        key: key, bytes: Array(try manifest.adding(entry).encoded()),
        contentType: "application/json")
    } catch let error as AWSFailure {
      throw ArchiveWriteError(
        step: "writing \(place)", permission: "s3:PutObject", failure: error,
        connection: connection)
    }
  }

  /// The bucket each fetcher reads, for the records' `source.bucket`.
  func sourceBuckets() async throws -> [String: String] {
    let connections = try await store.connections(of: account)
    var out: [String: String] = [:]
    for fetcher in try await store.fetchers(of: account) {
      out[fetcher.id] = connections.first { $0.id == fetcher.connectionID }?.bucket
    }
    return out
  }
}
