import FerryCore
import Foundation

/// What both backends share about archive progress: how a batch's block list is stored,
/// and the refusals, in the same words.
enum ArchiveRows {
  /// A batch's block IDs as stored (a JSON array).
  static func encode(_ ids: [Int64]) -> String {
    "[" + ids.map(String.init).joined(separator: ",") + "]"
  }

  static func decode(_ text: String) -> [Int64] {
    text.trimmingCharacters(in: CharacterSet(charactersIn: "[] ")).split(separator: ",").compactMap
    {
      Int64($0.trimmingCharacters(in: .whitespaces))
    }
  }

  static func noSuchArchive(_ id: String) -> StoreError {
    .rejected("there is no archive \(id) in this account")
  }

  static func batchOpen(_ batch: Int, archive: String) -> StoreError {
    .rejected(
      "archive \(archive) already has batch \(batch) open: finish it before starting another")
  }

  static func limitProblem(_ limit: Int) -> StoreError? {
    (1...10_000).contains(limit)
      ? nil : .invalid("limit must be between 1 and 10000, not \(limit)")
  }
}
