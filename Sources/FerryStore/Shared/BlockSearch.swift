import FerryBlocks
import FerryCore
import Foundation

/// A block's index row: what a search orders and picks blocks by.
struct BlockCandidate: Sendable {
  var id: Int64
  var fetcherID: String
  var minTime: Int64
  var maxTime: Int64
  /// The restore that brought the block back from an archive, if one did.
  var restoreJobID: String?
}

/// The search both backends share. Blocks are read newest first (by their newest event),
/// their filters a batch at a time; a block whose filter rules out what the query needs
/// is never decompressed; in the others, a ``BlockMatcher`` tests the events on the
/// block's bytes and only the events that can make the page become strings. The walk
/// stops as soon as the page is full and no block left can hold a newer event. Cursors
/// are the (time, ID) of the page's last event.
struct BlockSearch {
  let query: EventQuery
  let account: AccountID
  let limit: Int
  let cursor: (timeMicros: Int64, id: Int64)?
  let words: [String]
  let language: LogQuery
  let matcher: BlockMatcher

  /// Filters read per round trip, and block data.
  static let filterBatch = 64
  static let dataBatch = 8

  init(_ query: EventQuery, of account: AccountID) throws(StoreError) {
    self.query = query
    self.account = account
    limit = max(1, min(query.limit, 1000))
    cursor = try query.cursor.map { cursor throws(StoreError) in try EventCursor.decode(cursor) }
    words = SearchText.words(query.text)
    language = query.query ?? .all
    matcher = BlockMatcher(query: language, words: words, fields: query.fields)
  }

  /// The newest time a matching event can have: the range's end, or the cursor's.
  var upperMicros: Int64 {
    min(query.to.micros, cursor.map { $0.timeMicros + 1 } ?? Int64.max)
  }

  /// Whether the query reads filters at all (the empty query needs none).
  var usesFilters: Bool { !(words.isEmpty && query.fields.isEmpty && language == .all) }

  /// Whether any event of the block may match, from its filter alone.
  func mayMatch(filter bytes: [UInt8]?) -> Bool {
    guard let bytes, let filter = BloomFilter(bytes: bytes) else { return true }
    for word in words where !filter.mayContainWord(word) { return false }
    for (key, value) in query.fields where !filter.mayContainField(key, value) {
      return false
    }
    return language.mayMatch(
      hasWord: { filter.mayContainWord($0) },
      hasField: { filter.mayContainField($0, $1) })
  }

  /// The events of a block in the range (and before the cursor) that match, as indexes.
  func matching(_ view: BlockView, blockID: Int64) -> [Int] {
    let from = query.from.micros
    let to = query.to.micros
    var inRange: [Int] = []
    inRange.reserveCapacity(view.count)
    for (i, time) in view.times.enumerated() where time >= from && time < to {
      if let cursor {
        let id = EventIdentity.id(position: i, blockID: blockID)
        guard time < cursor.timeMicros || (time == cursor.timeMicros && id < cursor.id) else {
          continue
        }
      }
      inRange.append(i)
    }
    return matcher.select(view, inRange)
  }

  /// Walks `candidates` (newest first by `maxTime`), reading filters and then data through
  /// `reader`, and calls `body` with each block that may match; `body` returns whether to
  /// go on, given the next block's newest time (nil at the end). A block that cannot be
  /// read is left out and named in `problems`.
  func walk(
    _ candidates: [BlockCandidate], _ reader: some BlockReading, problems: inout [String],
    _ body: (BlockCandidate, BlockView, _ nextMaxTime: Int64?) -> Bool
  ) async throws {
    var start = 0
    while start < candidates.count {
      let round = Array(candidates[start..<min(start + Self.filterBatch, candidates.count)])
      start += round.count
      var selected = round
      if usesFilters {
        let filters = try await reader.blockFilters(round.map(\.id))
        selected = round.filter { mayMatch(filter: filters[$0.id]) }
      }
      var index = 0
      while index < selected.count {
        let slice = Array(selected[index..<min(index + Self.dataBatch, selected.count)])
        index += slice.count
        let data = try await reader.blockData(slice.map(\.id))
        for (n, candidate) in slice.enumerated() {
          guard let bytes = data[candidate.id] else { continue }
          let view: BlockView
          do {
            view = try BlockCodec.view(bytes)
          } catch {
            problems.append(
              "a block of fetcher \(candidate.fetcherID) with events from \(Date(micros: candidate.minTime).formatted(.iso8601)) to \(Date(micros: candidate.maxTime).formatted(.iso8601)) cannot be read (\(error)); it was left out"
            )
            continue
          }
          // The newest time any block still to read can hold: the next selected one's, or
          // the next round's first.
          let position = index - slice.count + n
          let next: Int64? =
            position + 1 < selected.count
            ? selected[position + 1].maxTime
            : start < candidates.count ? candidates[start].maxTime : nil
          if !body(candidate, view, next) { return }
        }
      }
    }
  }

  /// A page of matching events, newest first.
  func run(_ candidates: [BlockCandidate], _ reader: some BlockReading) async throws -> EventPage {
    var found: [(event: Event, id: Int64)] = []
    var problems: [String] = []
    try await walk(candidates, reader, problems: &problems) { candidate, view, next in
      var matched = matching(view, blockID: candidate.id).map {
        (index: $0, time: view.times[$0], id: EventIdentity.id(position: $0, blockID: candidate.id))
      }
      matched.sort { ($0.time, $0.id) > ($1.time, $1.id) }
      for hit in matched.prefix(limit + 1) {
        var event = view.event(hit.index, accountID: account, fetcherID: candidate.fetcherID)
        event.id = hit.id
        event.restoredBy = candidate.restoreJobID
        found.append((event, hit.id))
      }
      found.sort { ($0.event.time.micros, $0.id) > ($1.event.time.micros, $1.id) }
      if found.count > limit + 1 { found.removeLast(found.count - limit - 1) }
      guard let next else { return false }
      return !(found.count > limit && found[limit].event.time.micros > next)
    }
    let page = Array(found.prefix(limit))
    let cursor =
      found.count > limit
      ? page.last.map { EventCursor.encode(timeMicros: $0.event.time.micros, id: $0.id) } : nil
    return EventPage(events: page.map(\.event), nextCursor: cursor, problems: problems)
  }

  /// Counts matching events per bucket of `bucketSeconds` from the query's start, over
  /// every block that may match.
  func histogram(
    _ candidates: [BlockCandidate], _ reader: some BlockReading, bucketSeconds: Int
  ) async throws -> [HistogramBucket] {
    var counts: [Int: Int] = [:]
    let width = Int64(max(1, bucketSeconds)) * 1_000_000
    let from = query.from.micros
    var problems: [String] = []
    try await walk(candidates, reader, problems: &problems) { candidate, view, _ in
      for i in matching(view, blockID: candidate.id) {
        counts[Int((view.times[i] - from) / width), default: 0] += 1
      }
      return true
    }
    return HistogramBucket.fill(
      from: query.from, to: query.to, bucketSeconds: bucketSeconds, counts: counts)
  }
}

/// A backend's reads of blocks; the search and the histogram over them are shared.
protocol BlockReading: Sendable {
  /// The index rows of the blocks whose time range meets the search's, newest first.
  func blockCandidates(_ search: BlockSearch) async throws -> [BlockCandidate]
  /// The filters of some blocks.
  func blockFilters(_ ids: [Int64]) async throws -> [Int64: [UInt8]]
  /// The data of some blocks.
  func blockData(_ ids: [Int64]) async throws -> [Int64: [UInt8]]
}

extension BlockReading {
  func searchBlocks(_ query: EventQuery, of account: AccountID) async throws -> EventPage {
    let search = try BlockSearch(query, of: account)
    return try await search.run(try await blockCandidates(search), self)
  }

  func histogramOfBlocks(_ query: EventQuery, of account: AccountID, bucketSeconds: Int)
    async throws -> [HistogramBucket]
  {
    var all = query
    all.cursor = nil
    let search = try BlockSearch(all, of: account)
    return try await search.histogram(
      try await blockCandidates(search), self, bucketSeconds: bucketSeconds)
  }
}

/// Event IDs: within a block, the block's ID and the event's place in it, so that the
/// same block always gives its events the same IDs.
enum EventIdentity {
  static let perBlock: Int64 = 1 << 24

  static func id(position: Int, blockID: Int64) -> Int64 {
    blockID * perBlock + Int64(position)
  }
}
