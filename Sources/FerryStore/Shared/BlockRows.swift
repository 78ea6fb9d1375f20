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
    var groups: [GroupKey: [Event]] = [:]
    var order: [GroupKey] = []
    // Events come in runs of one object: the dictionary is touched once per run.
    var run: (key: GroupKey, events: [Event])?
    func endRun() {
      guard let current = run else { return }
      if groups[current.key] == nil { order.append(current.key) }
      groups[current.key, default: []].append(contentsOf: current.events)
      run = nil
    }
    for original in events {
      let event = StoreRules.storable(original)
      if event.logType.isEmpty {
        throw StoreError.rejected(
          "an event of \(event.sourceKey) at offset \(event.sourceOffset) has no log type: every event needs one (e.g. cloudtrail)"
        )
      }
      if let current = run?.key, current.fetcherID == event.fetcherID,
        current.sourceKey == event.sourceKey
      {
        run?.events.append(event)
      } else {
        endRun()
        run = (GroupKey(fetcherID: event.fetcherID, sourceKey: event.sourceKey), [event])
      }
    }
    endRun()
    var rows: [BlockRow] = []
    for key in order {
      guard let group = groups[key], let first = group.first else { continue }
      // One event per offset (the first given), then in time order, so that each block
      // covers a short span and a search that wants the newest events reads few blocks;
      // ties keep offset order, so the same events always make the same blocks. Indexes
      // are sorted, not events, which are large to move.
      var order = Array(group.indices)
      order.sort { (group[$0].sourceOffset, $0) < (group[$1].sourceOffset, $1) }
      var kept: [Int] = []
      kept.reserveCapacity(order.count)
      for i in order where kept.last.map({ group[$0].sourceOffset }) != group[i].sourceOffset {
        kept.append(i)
      }
      kept.sort {
        (group[$0].time.micros, group[$0].sourceOffset)
          < (group[$1].time.micros, group[$1].sourceOffset)
      }
      let unique = kept.map { group[$0] }
      do {
        for block in try BlockCodec.encode(unique) {
          rows.append(
            BlockRow(fetcherID: first.fetcherID, sourceKey: first.sourceKey, block: block))
        }
      } catch {
        throw StoreError.rejected("the events could not be packed into a block: \(error)")
      }
    }
    return rows
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
