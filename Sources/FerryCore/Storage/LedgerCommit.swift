import Foundation

/// How a commit of an object's events meets the object's ledger row as stored: the rule by
/// which both backends enforce each event's identity (fetcher, object version, byte offset),
/// whatever chunks the events come in.
///
/// The ledger row's offset is the high-water mark of what is stored: every event of the
/// object before it is in the store. So a commit drops its events before that offset (they
/// are stored already, perhaps cut into other chunks by an earlier attempt), and the row
/// never moves backwards: its offset and its event count only grow, by what the commit
/// stores. A failure recorded after committed chunks keeps them, and the retry resumes
/// where they end. Only a reprocess (which deletes the object's events with its row) starts
/// an object over.
public enum LedgerCommit {
  /// The events of a commit that are not stored yet: those at or after the offset the
  /// stored row has reached (all of them when there is no row).
  public static func unstored(_ events: [Event], after stored: LedgerEntry?) -> [Event] {
    guard let stored, stored.offset > 0 else { return events }
    guard events.contains(where: { $0.sourceOffset < stored.offset }) else { return events }
    return events.filter { $0.sourceOffset >= stored.offset }
  }

  /// The row to store: the commit's state, error and attempts, on top of what the stored row
  /// had reached. Its events are the stored row's plus `inserted`, how many events this
  /// commit added; its offset the furthest of the stored row's, the commit's, and just past
  /// the last of `committed` (the commit's unstored events).
  public static func merged(
    _ incoming: LedgerEntry, onto stored: LedgerEntry?, committed: [Event], inserted: Int
  ) -> LedgerEntry {
    var out = incoming
    let past = committed.reduce(Int64(0)) { max($0, $1.sourceOffset + 1) }
    out.offset = max(incoming.offset, stored?.offset ?? 0, past)
    out.events = (stored?.events ?? 0) + inserted
    return out
  }
}
