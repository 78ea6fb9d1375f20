import FerryBlocks
import FerryCore
import Foundation

/// A block's index row and filter: what a search reads before it decides to decompress.
struct BlockCandidate: Sendable {
  var id: Int64
  var fetcherID: String
  var minTime: Int64
  var maxTime: Int64
  var filter: [UInt8]
}

/// The search both backends share. Blocks are read newest first (by their newest event);
/// a block whose filter rules out what the query needs is never decompressed; matching
/// events are gathered until a page is full and no block left can hold a newer event.
/// Cursors are the (time, ID) of the page's last event.
struct BlockSearch {
  let query: EventQuery
  let account: AccountID
  let limit: Int
  let cursor: (timeMicros: Int64, id: Int64)?
  let words: [String]
  let language: LogQuery

  init(_ query: EventQuery, of account: AccountID) throws(StoreError) {
    self.query = query
    self.account = account
    limit = max(1, min(query.limit, 1000))
    cursor = try query.cursor.map { cursor throws(StoreError) in try EventCursor.decode(cursor) }
    words = SearchText.words(query.text)
    language = query.query ?? .all
  }

  /// The newest time a matching event can have: the range's end, or the cursor's.
  var upperMicros: Int64 {
    min(query.to.micros, cursor.map { $0.timeMicros + 1 } ?? Int64.max)
  }

  /// Whether any event of the block may match, from its filter alone.
  func mayMatch(_ candidate: BlockCandidate) -> Bool {
    guard let filter = BloomFilter(bytes: candidate.filter) else { return true }
    for word in words where !filter.mayContain(TokenHash.of(word)) { return false }
    for (key, value) in query.fields where !filter.mayContain(TokenHash.field(key, value)) {
      return false
    }
    return language.mayMatch(
      hasWord: { filter.mayContain(TokenHash.of($0)) },
      hasField: { filter.mayContain(TokenHash.field($0, $1)) })
  }

  func matches(_ event: Event, id: Int64) -> Bool {
    let time = event.time.micros
    guard time >= query.from.micros, time < query.to.micros else { return false }
    if let cursor, !(time < cursor.timeMicros || (time == cursor.timeMicros && id < cursor.id)) {
      return false
    }
    for (key, value) in query.fields where event.fields[key] != value { return false }
    if words.isEmpty, language == .all { return true }
    let eventWords = SearchText.words(event.message)
    if !words.isEmpty {
      let present = Set(eventWords)
      guard words.allSatisfy(present.contains) else { return false }
    }
    return language.matches(words: eventWords, fields: event.fields)
  }

  /// Runs the search over `candidates` (newest first by `maxTime`), loading block data
  /// through `load` a few blocks at a time. A block that cannot be read is left out and
  /// named in the page's problems.
  func run(
    _ candidates: [BlockCandidate], load: ([Int64]) async throws -> [Int64: [UInt8]]
  ) async throws -> EventPage {
    var found: [(event: Event, id: Int64)] = []
    var problems: [String] = []
    let selected = candidates.filter(mayMatch)
    var index = 0
    let batch = 8
    while index < selected.count {
      let slice = Array(selected[index..<min(index + batch, selected.count)])
      index += slice.count
      let data = try await load(slice.map(\.id))
      for candidate in slice {
        guard let bytes = data[candidate.id] else { continue }
        do {
          let events = try BlockCodec.decode(
            bytes, accountID: account, fetcherID: candidate.fetcherID)
          for (position, var event) in events.enumerated() {
            let id = EventIdentity.id(position: position, blockID: candidate.id)
            guard matches(event, id: id) else { continue }
            event.id = id
            found.append((event, id))
          }
        } catch {
          problems.append(
            "a block of fetcher \(candidate.fetcherID) with events from \(Date(micros: candidate.minTime).formatted(.iso8601)) to \(Date(micros: candidate.maxTime).formatted(.iso8601)) cannot be read (\(error)); it was left out"
          )
        }
      }
      found.sort { ($0.event.time.micros, $0.id) > ($1.event.time.micros, $1.id) }
      if found.count > limit, index < selected.count,
        found[limit].event.time.micros > selected[index].maxTime
      {
        break
      }
    }
    let page = Array(found.prefix(limit))
    let next =
      found.count > limit
      ? page.last.map { EventCursor.encode(timeMicros: $0.event.time.micros, id: $0.id) } : nil
    return EventPage(events: page.map(\.event), nextCursor: next, problems: problems)
  }
}

extension BlockSearch {
  /// Counts matching events per bucket of `bucketSeconds` from the query's start, over
  /// every block that may match.
  func histogram(
    _ candidates: [BlockCandidate], bucketSeconds: Int,
    load: ([Int64]) async throws -> [Int64: [UInt8]]
  ) async throws -> [HistogramBucket] {
    var counts: [Int: Int] = [:]
    let width = Int64(max(1, bucketSeconds)) * 1_000_000
    let from = query.from.micros
    let selected = candidates.filter(mayMatch)
    var index = 0
    while index < selected.count {
      let slice = Array(selected[index..<min(index + 8, selected.count)])
      index += slice.count
      let data = try await load(slice.map(\.id))
      for candidate in slice {
        guard let bytes = data[candidate.id],
          let events = try? BlockCodec.decode(
            bytes, accountID: account, fetcherID: candidate.fetcherID)
        else { continue }
        for event in events where matches(event, id: 0) {
          counts[Int((event.time.micros - from) / width), default: 0] += 1
        }
      }
    }
    return HistogramBucket.fill(
      from: query.from, to: query.to, bucketSeconds: bucketSeconds, counts: counts)
  }
}

/// A backend's two reads of blocks; the search and the histogram over them are shared.
protocol BlockReading: Sendable {
  /// The index rows and filters of the blocks whose time range meets the search's.
  func blockCandidates(_ search: BlockSearch) async throws -> [BlockCandidate]
  /// The data of some blocks.
  @Sendable func blockData(_ ids: [Int64]) async throws -> [Int64: [UInt8]]
}

extension BlockReading {
  func searchBlocks(_ query: EventQuery, of account: AccountID) async throws -> EventPage {
    let search = try BlockSearch(query, of: account)
    return try await search.run(try await blockCandidates(search), load: blockData)
  }

  func histogramOfBlocks(_ query: EventQuery, of account: AccountID, bucketSeconds: Int)
    async throws -> [HistogramBucket]
  {
    var all = query
    all.cursor = nil
    let search = try BlockSearch(all, of: account)
    return try await search.histogram(
      try await blockCandidates(search), bucketSeconds: bucketSeconds, load: blockData)
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
