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
      let view: BlockView
      do { view = try BlockCodec.view(data) } catch {
        throw StoreError.corrupt("a stored block cannot be read (\(error))")
      }
      for i in 0..<view.count { out.insert(view.offset(i)) }
    }
    return out
  }

  /// The blocks to insert for `events`, given how to read the blocks stored for an object
  /// version (fetcher, key, ETag), with the ETag each goes under.
  static func make(
    _ events: [SourcedEvent], storedBlocks: (String, String, String) throws -> [[UInt8]]
  ) throws -> [(eTag: String, row: BlockRow)] {
    let groups = try StoreRules.unstored(events) { fetcher, key, eTag in
      try offsets(try storedBlocks(fetcher, key, eTag))
    }
    var out: [(eTag: String, row: BlockRow)] = []
    for group in groups {
      for row in try BlockRows.make(group.events) { out.append((group.eTag, row)) }
    }
    return out
  }

  /// One object version restored events came from.
  struct Source: Hashable, Sendable {
    var fetcherID: String
    var key: String
    var eTag: String
  }

  /// The object versions `events` came from, each once.
  static func sources(_ events: [SourcedEvent]) -> [Source] {
    var seen = Set<Source>()
    return events.compactMap {
      let source = Source(fetcherID: $0.event.fetcherID, key: $0.event.sourceKey, eTag: $0.eTag)
      return seen.insert(source).inserted ? source : nil
    }
  }

  static func problem(job: RestoreJob?, id: String) -> StoreError? {
    guard let job else { return .rejected("there is no restore job \(id) in this account") }
    if job.state.isFinal {
      return .rejected("restore job \(id) is \(job.state.rawValue): it stores nothing more")
    }
    return nil
  }
}
