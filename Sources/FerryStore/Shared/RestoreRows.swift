import FerryBlocks
import FerryCore
import Foundation

/// Restored events as both backends store them: only those whose offset no stored block of
/// their object version holds, cut into blocks under the same natural key as ingested
/// ones, so that a restore repeated after a crash writes the same blocks again.
enum RestoreRows {
  /// The offsets the blocks' data hold.
  static func offsets(_ blocks: [[UInt8]]) throws -> Set<Int64> {
    var out = Set<Int64>()
    for data in blocks {
      do {
        // The offsets alone: the blocks' text is not decompressed.
        for offset in try BlockCodec.offsets(data) { out.insert(offset) }
      } catch {
        throw StoreError.corrupt("a stored block cannot be read (\(error))")
      }
    }
    return out
  }

  /// The blocks to insert for `events`, given the data of the blocks stored for each
  /// object version they came from, with the ETag each goes under.
  static func make(_ events: [SourcedEvent], storedBlocks: [RestoredSource: [[UInt8]]]) throws
    -> [(eTag: String, row: BlockRow)]
  {
    let stored = try storedBlocks.mapValues(offsets)
    var out: [(eTag: String, row: BlockRow)] = []
    for group in StoreRules.unstored(events, stored: stored) {
      for row in try BlockRows.make(group.events) { out.append((group.eTag, row)) }
    }
    return out
  }

  static func problem(job: RestoreJob?, id: String) -> StoreError? {
    guard let job else { return .rejected("there is no restore job \(id) in this account") }
    if job.state.isFinal {
      return .rejected("restore job \(id) is \(job.state.rawValue): it stores nothing more")
    }
    return nil
  }
}
