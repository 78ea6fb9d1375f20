import Foundation

/// Full-text search in both backends works on the same normalized text: lowercase letters
/// and digits, every other character a separator. Both backends tokenize that text alike,
/// so they return the same results.
public enum SearchText {
  public static func normalize(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    var pendingSpace = false
    for scalar in text.lowercased().unicodeScalars {
      if CharacterSet.alphanumerics.contains(scalar) {
        if pendingSpace && !out.isEmpty { out.append(" ") }
        pendingSpace = false
        out.unicodeScalars.append(scalar)
      } else {
        pendingSpace = true
      }
    }
    return out
  }

  /// The words of a query, normalized.
  public static func words(_ query: String) -> [String] {
    normalize(query).split(separator: " ").map(String.init)
  }
}
