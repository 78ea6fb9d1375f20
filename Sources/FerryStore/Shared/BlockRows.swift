import FerryBlocks
import FerryCore
import Foundation

/// Events as both backends commit them: grouped by fetcher and source key (one commit is
/// one object, but nothing forbids a commit of several), one event per offset, in time
/// order, then cut into blocks, each under
/// the natural key (fetcher, object version, first offset), so that a commit repeated
/// after a lost answer writes the same blocks, which the database ignores.
struct BlockRow: Sendable {
  var fetcherID: String
  var sourceKey: String
  var block: EncodedBlock
}

/// What marks a block that a restore brought back: the job, and when it leaves search
/// (nil: kept).
struct RestoredMark: Sendable {
  var jobID: String
  var expiresAt: Date?
}

enum BlockRows {
  struct GroupKey: Hashable {
    var fetcherID: String
    var sourceKey: String
  }

  static func make(_ events: [Event]) throws -> [BlockRow] {
    // Indexes are grouped and sorted, not events, which are large to copy. Events come in
    // runs of one object (one commit is one object, nearly always): the dictionary is
    // touched once per run.
    var groups: [GroupKey: [Int]] = [:]
    var order: [GroupKey] = []
    var runKey: GroupKey?
    var run: [Int] = []
    func endRun() {
      guard let key = runKey else { return }
      if groups[key] == nil { order.append(key) }
      groups[key, default: []].append(contentsOf: run)
      run.removeAll(keepingCapacity: true)
    }
    for (i, event) in events.enumerated() {
      if event.logType.isEmpty {
        throw StoreError.rejected(
          "an event of \(event.sourceKey) at offset \(event.sourceOffset) has no log type: every event needs one (e.g. cloudtrail)"
        )
      }
      if let key = runKey, key.fetcherID == event.fetcherID, key.sourceKey == event.sourceKey {
        run.append(i)
      } else {
        endRun()
        runKey = GroupKey(fetcherID: event.fetcherID, sourceKey: event.sourceKey)
        run = [i]
      }
    }
    endRun()
    var rows: [BlockRow] = []
    for key in order {
      guard let group = groups[key] else { continue }
      // One event per offset (the first given), then in time order, so that each block
      // covers a short span and a search that wants the newest events reads few blocks;
      // ties keep offset order, so the same events always make the same blocks.
      var byOffset = group
      byOffset.sort { (events[$0].sourceOffset, $0) < (events[$1].sourceOffset, $1) }
      var kept: [Int] = []
      kept.reserveCapacity(byOffset.count)
      for i in byOffset where kept.last.map({ events[$0].sourceOffset }) != events[i].sourceOffset {
        kept.append(i)
      }
      kept.sort {
        (events[$0].time.micros, events[$0].sourceOffset)
          < (events[$1].time.micros, events[$1].sourceOffset)
      }
      // Read in place, in their new order; copied only where a NUL byte must be replaced
      // first (nearly never: the encoder's check of each block's columns says so).
      let fetcherID = StoreRules.storable(key.fetcherID)
      let sourceKey = StoreRules.storable(key.sourceKey)
      do {
        let blocks =
          try BlockCodec.encodeRefusingNUL(EventsInOrder(events, order: kept))
          ?? BlockCodec.encode(
            EventsInOrder(kept.map { StoreRules.storable(events[$0]) }, order: Array(kept.indices)))
        for block in blocks {
          rows.append(BlockRow(fetcherID: fetcherID, sourceKey: sourceKey, block: block))
        }
      } catch {
        throw StoreError.rejected("the events could not be packed into a block: \(error)")
      }
    }
    return rows
  }

  /// Whether a block's stored filter is of the layout before `FRB3` (its blocks are of an
  /// older layout too): the filter's length is a multiple of 8 (no header).
  static let olderFilterCondition = "% 8 = 0"

  /// A block of an older layout written again in the current one: the same events in the
  /// same order (so the same event IDs), one block whatever its size.
  static func upgraded(_ data: [UInt8]) throws -> EncodedBlock {
    let events = try BlockCodec.decode(data, accountID: AccountID(rawValue: ""), fetcherID: "")
    let order = EventsInOrder(events, order: Array(events.indices))
    guard
      let block = try BlockCodec.encodeRefusingNUL(order, targetBytes: Int.max)?.first
        ?? BlockCodec.encode(
          EventsInOrder(events.map(StoreRules.storable), order: Array(events.indices)),
          targetBytes: Int.max
        ).first
    else { throw StoreError.corrupt("a block of an older layout holds no events") }
    return block
  }

  /// What stays of a block's events after retention removes those before `cutoff`.
  static func keep(_ data: [UInt8], account: AccountID, fetcherID: String, from cutoff: Int64)
    throws -> (kept: [Event], removed: Int)
  {
    let events = try BlockCodec.decode(data, accountID: account, fetcherID: fetcherID)
    let kept = events.filter { $0.time.micros >= cutoff }
    return (kept, events.count - kept.count)
  }
}
