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

enum BlockRows {
  static func make(_ events: [Event]) throws -> [BlockRow] {
    var groups: [String: [Event]] = [:]
    var order: [String] = []
    for original in events {
      let event = StoreRules.storable(original)
      if event.logType.isEmpty {
        throw StoreError.rejected(
          "an event of \(event.sourceKey) at offset \(event.sourceOffset) has no log type: every event needs one (e.g. cloudtrail)"
        )
      }
      let key = event.fetcherID + "\u{0}" + event.sourceKey
      if groups[key] == nil { order.append(key) }
      groups[key, default: []].append(event)
    }
    var rows: [BlockRow] = []
    for key in order {
      guard let group = groups[key], let first = group.first else { continue }
      // In offset order, so that the same events always make the same blocks.
      let sorted = group.sorted { $0.sourceOffset < $1.sourceOffset }
      var unique: [Event] = []
      for event in sorted where unique.last?.sourceOffset != event.sourceOffset {
        unique.append(event)
      }
      // Then in time order, so that each block covers a short span and a search that
      // wants the newest events reads few blocks (ties keep offset order: still the same
      // blocks every time).
      unique.sort { ($0.time.micros, $0.sourceOffset) < ($1.time.micros, $1.sourceOffset) }
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
