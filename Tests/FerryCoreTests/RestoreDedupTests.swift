import FerryTesting
import Foundation
import Testing

@testable import FerryCore

/// What a restore's commit keeps: each event once per object version (fetcher, key, ETag)
/// and source offset, leaving out the offsets already stored; groups in the order their
/// version first appears, events in theirs.
@Suite("Restore: events stored once")
struct RestoreDedupTests {
  static let account = AccountID(rawValue: "acct_dedup")

  static func item(_ source: Int, _ offset: Int64) -> SourcedEvent {
    SourcedEvent(
      event: Event(
        accountID: account, fetcherID: "fch_\(source % 2)", logType: "json",
        time: Date(timeIntervalSince1970: 0), sourceKey: "logs/\(source / 2).json",
        sourceOffset: offset, message: "m \(source) \(offset)"),
      eTag: "e\(source % 3)")
  }

  @Test func runsAndInterleavedVersionsKeepEachEventOnce() {
    var rng = SeededGenerator(seed: 397)
    for _ in 0..<200 {
      // Runs of one version, versions coming back later, offsets repeated.
      var items: [SourcedEvent] = []
      for _ in 0..<Int(rng.next() % 12) {
        let source = Int(rng.next() % 7)
        for _ in 0..<Int(rng.next() % 20) {
          items.append(Self.item(source, Int64(rng.next() % 15)))
        }
      }
      var stored: [RestoredSource: Set<Int64>] = [:]
      for item in items where rng.next() % 4 == 0 {
        stored[RestoredSource(item), default: []].insert(item.event.sourceOffset)
      }
      // What the rule says, item by item.
      var versions: [RestoredSource] = []
      var kept: [RestoredSource: [Int64]] = [:]
      var seen = stored
      for item in items {
        let version = RestoredSource(item)
        if !versions.contains(version) { versions.append(version) }
        if seen[version, default: []].insert(item.event.sourceOffset).inserted {
          kept[version, default: []].append(item.event.sourceOffset)
        }
      }
      #expect(RestoredSource.of(items) == versions)
      let groups = StoreRules.unstored(items, stored: stored)
      let expected = versions.filter { !(kept[$0] ?? []).isEmpty }
      #expect(groups.map(\.eTag) == expected.map(\.eTag))
      for (group, version) in zip(groups, expected) {
        #expect(group.events.map(\.sourceOffset) == kept[version])
        #expect(
          group.events.allSatisfy {
            $0.sourceKey == version.key && $0.fetcherID == version.fetcherID
          })
      }
    }
  }
}
