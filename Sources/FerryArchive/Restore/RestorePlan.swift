import FerryCore
import Foundation

/// What a restore will read, from the manifests alone: every archive object whose events
/// meet the range, with its size and event count, so an admin sees the cost before
/// starting. Objects in an archive storage class are listed as frozen (they need a
/// `RestoreObject` first); a manifest that cannot be read is listed as failed, with why,
/// and the rest of the plan stands.
public struct RestorePlan: Sendable, Equatable {
  public var objects: [RestoreObject]

  public init(objects: [RestoreObject]) { self.objects = objects }

  /// Objects to read, their stored bytes and their events (an hour the range covers only
  /// in part counts whole: the events outside the range are read and left out).
  public var readable: [RestoreObject] { objects.filter { $0.state == .planned } }
  public var bytes: Int64 { readable.reduce(0) { $0 + $1.bytes } }
  public var events: Int { readable.reduce(0) { $0 + $1.events } }
  public var frozen: [RestoreObject] { objects.filter { $0.state == .frozen } }
  public var problems: [RestoreObject] { objects.filter { $0.state == .failed } }

  /// The longest range a restore may cover: 100 years (what an archive holds is found
  /// from the partitions that exist, so a long range costs only what is there).
  public static let maxRange: TimeInterval = 100 * 366 * 86_400

  /// Lists the manifests of every hour in `[from, to)` of the account, and the objects
  /// they name that meet the range. The partitions are found from what exists, year by
  /// year, month by month, day by day (S3's common prefixes), so a range of decades over
  /// an archive of a few days costs a few listings, not one per day of the range.
  public static func make(
    bucket: any ArchiveBucket, layout: ArchiveLayout, account: AccountID, from: Date, to: Date
  ) async throws(ArchiveReadError) -> RestorePlan {
    var objects: [RestoreObject] = []
    let firstHour = ArchiveLayout.hour(of: from)
    for day in try await days(bucket: bucket, layout: layout, account: account, from: from, to: to)
    {
      try Task.checkCancellation(or: ArchiveReadError.cancelled)
      let folder = layout.dayFolder(account: account, day: day)
      let listing = try await listed(bucket, "listing \(folder)") { () throws(AWSFailure) in
        try await bucket.list(prefix: folder)
      }
      let classes = Dictionary(listing.map { ($0.key, $0.storageClass) }) { first, _ in first }
      var hour = max(day, firstHour)
      let dayEnd = day.addingTimeInterval(86_400)
      while hour < min(dayEnd, to) {
        let key = layout.manifestKey(account: account, hour: hour)
        hour = hour.addingTimeInterval(3600)
        guard classes[key] != nil else { continue }
        objects += try await entries(
          manifest: key, bucket: bucket, classes: classes, from: from, to: to)
      }
    }
    return RestorePlan(objects: objects)
  }

  /// The days of the account's archive that exist and meet `[from, to)`, in order.
  static func days(
    bucket: any ArchiveBucket, layout: ArchiveLayout, account: AccountID, from: Date, to: Date
  ) async throws(ArchiveReadError) -> [Date] {
    let start = Calendar.utc.dateComponents([.year, .month], from: from)
    let end = Calendar.utc.dateComponents([.year, .month], from: to)
    guard let firstYear = start.year, let firstMonth = start.month, let lastYear = end.year,
      let lastMonth = end.month
    else { return [] }
    func folders(_ parent: String, _ name: String) async throws(ArchiveReadError) -> [(Int, String)]
    {
      try Task.checkCancellation(or: ArchiveReadError.cancelled)
      let found = try await listed(bucket, "listing the folders of \(parent)") {
        () throws(AWSFailure) in try await bucket.folders(under: parent)
      }
      return found.compactMap { folder in
        ArchiveLayout.partitionNumber(folder, name: name, under: parent).map { ($0, folder) }
      }.sorted { $0.0 < $1.0 }
    }
    var days: [Date] = []
    for (year, yearFolder) in try await folders(layout.accountFolder(account: account), "year")
    where (firstYear...lastYear).contains(year) {
      for (month, monthFolder) in try await folders(yearFolder, "month") {
        let key = year * 100 + month
        guard key >= firstYear * 100 + firstMonth, key <= lastYear * 100 + lastMonth else {
          continue
        }
        for (dayNumber, _) in try await folders(monthFolder, "day") {
          guard let day = ArchiveLayout.day(year: year, month: month, day: dayNumber),
            day.addingTimeInterval(86_400) > from, day < to
          else { continue }
          days.append(day)
        }
      }
    }
    return days
  }

  /// A listing of the bucket, its failure named by the step.
  private static func listed<T: Sendable>(
    _ bucket: any ArchiveBucket, _ step: String, _ call: () async throws(AWSFailure) -> T
  ) async throws(ArchiveReadError) -> T {
    do {
      return try await call()
    } catch {
      throw ArchiveReadError(
        step: "\(step) in \(bucket.name)", permission: "s3:ListBucket", failure: error,
        bucket: bucket.name)
    }
  }

  /// The objects a manifest names that meet the range, or one failed entry saying why the
  /// manifest cannot be used.
  static func entries(
    manifest key: String, bucket: any ArchiveBucket, classes: [String: String], from: Date,
    to: Date
  ) async throws(ArchiveReadError) -> [RestoreObject] {
    func problem(_ why: String) -> [RestoreObject] {
      [
        RestoreObject(
          key: key, events: 0, bytes: 0, minTime: from, maxTime: from, sha256: "",
          state: .failed, error: why)
      ]
    }
    if let storageClass = classes[key], RestoreObject.frozenClasses.contains(storageClass) {
      return problem(
        "the manifest is in the \(storageClass) storage class, so its objects cannot be priced or read. Fix: move manifests to a storage class readable at once (a lifecycle rule can exclude manifest.json), or restore it in S3 and try again"
      )
    }
    let bytes: [UInt8]?
    do {
      bytes = try await bucket.get(key: key)
    } catch {
      throw ArchiveReadError(
        step: "reading \(key)", permission: "s3:GetObject", failure: error, bucket: bucket.name)
    }
    guard let bytes else { return problem("the manifest was deleted while the restore listed it") }
    let manifest: ArchiveManifest
    do {
      manifest = try ArchiveManifest.decode(Data(bytes))
    } catch {
      return problem("the manifest cannot be read (\(error)); its hour is left out")
    }
    return manifest.objects.filter { $0.maxTime >= from && $0.minTime < to }.map { entry in
      let storageClass = classes[entry.key]
      let frozen = storageClass.map(RestoreObject.frozenClasses.contains) ?? false
      return RestoreObject(
        key: entry.key, events: entry.events, bytes: Int64(entry.bytes), minTime: entry.minTime,
        maxTime: entry.maxTime, sha256: entry.sha256,
        storageClass: storageClass == "STANDARD" ? nil : storageClass,
        state: frozen ? .frozen : .planned,
        error: frozen
          ? "in the \(storageClass ?? "") storage class: S3 must restore a copy (RestoreObject) before it can be read. Fix: start the restore with thaw (ferry restore start --thaw): Ferry asks S3 and reads it once S3 has (hours for Glacier Flexible Retrieval, up to 12 for Deep Archive)"
          : nil)
    }
  }
}

/// Why a restore could not go on with the bucket: the step, what AWS said, the fix.
public struct ArchiveReadError: Error, Sendable, CustomStringConvertible {
  public var step: String
  public var failure: AWSFailure?
  public var description: String

  init(step: String, permission: String, failure: AWSFailure, bucket: String) {
    self.step = step
    self.failure = failure
    if failure.isDenied {
      description =
        "\(step) was refused (\(failure)). The archive role may lack \(permission) on \(bucket), a bucket policy may deny it, or a KMS key may refuse it. Fix: run `ferry connection check` on the archive's connection; resume the restore once the role works"
    } else if failure.code == "NoSuchBucket" {
      description =
        "\(step) failed: the bucket \(bucket) does not exist (\(failure)). Fix: restore from an archive whose bucket exists"
    } else {
      description = "\(step) failed (\(failure)); the restore tries again from where it stopped"
    }
  }

  private init(cancelled: Void) {
    step = "listing"
    failure = nil
    description = "the listing was stopped: the request that asked for it went away"
  }

  /// The plan was abandoned (its client went away).
  static let cancelled = ArchiveReadError(cancelled: ())

  /// Whether trying again later may work (AWS did not answer, or answered a server error).
  public var isTransient: Bool {
    guard let failure else { return false }
    return !failure.isDenied && failure.code != "NoSuchBucket"
      && (failure.kind == .unreachable || failure.isAWSSideFailure || failure.isThrottling
        || failure.signingProblem == .expired)
  }
}

extension Task where Success == Never, Failure == Never {
  /// Throws `error` when the current task is cancelled.
  static func checkCancellation<E: Error>(or error: E) throws(E) {
    if Task.isCancelled { throw error }
  }
}
