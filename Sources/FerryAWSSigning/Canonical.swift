/// AWS's URI encoding (RFC 3986: everything but `A-Z a-z 0-9 - . _ ~` as `%XX`), the one
/// rule for S3 keys on the wire, query and form values, and what SigV4 signs.
public enum URIEncoding {
  /// Encodes `text`; `keepSlash` leaves `/` as is (S3 keys and paths).
  public static func encode(_ text: String, keepSlash: Bool = false) -> String {
    Canonical.uriEncode(text, keepSlash: keepSlash)
  }
}

/// The canonical forms SigV4 signs: URI-encoded paths and queries, trimmed headers.
enum Canonical {
  private static let hexDigits = Array("0123456789ABCDEF".utf8)

  @inline(__always)
  static func isUnreserved(_ b: UInt8) -> Bool {
    (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
      || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E
  }

  /// RFC 3986 encoding as AWS wants it: everything but unreserved characters (and `/` when
  /// `keepSlash`) as `%XX` with uppercase hex.
  static func uriEncode<S: Sequence<UInt8>>(_ bytes: S, keepSlash: Bool) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.underestimatedCount * 3 / 2)
    for b in bytes {
      if isUnreserved(b) || (keepSlash && b == 0x2F) {
        out.append(b)
      } else {
        out.append(0x25)
        out.append(hexDigits[Int(b >> 4)])
        out.append(hexDigits[Int(b & 0x0F)])
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  static func uriEncode(_ text: String, keepSlash: Bool) -> String {
    // Most paths and values need no escaping: return them as they are.
    if text.utf8.allSatisfy({ isUnreserved($0) || (keepSlash && $0 == 0x2F) }) { return text }
    return uriEncode(text.utf8, keepSlash: keepSlash)
  }

  /// Decodes `%XX` escapes (a malformed escape is kept as written).
  static func percentDecode(_ text: Substring) -> [UInt8] {
    let bytes = Array(text.utf8)
    guard bytes.contains(0x25) else { return bytes }
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var i = 0
    while i < bytes.count {
      if bytes[i] == 0x25, i + 2 < bytes.count, let h = hexValue(bytes[i + 1]),
        let l = hexValue(bytes[i + 2])
      {
        out.append(h << 4 | l)
        i += 3
      } else {
        out.append(bytes[i])
        i += 1
      }
    }
    return out
  }

  private static func hexValue(_ b: UInt8) -> UInt8? {
    switch b {
    case 0x30...0x39: b - 0x30
    case 0x41...0x46: b - 0x41 + 10
    case 0x61...0x66: b - 0x61 + 10
    default: nil
    }
  }

  /// The canonical URI of a path as sent on the wire. Services other than S3 normalize the
  /// path and encode it again; S3 signs the path exactly as sent.
  static func uri(_ path: String, normalize: Bool, doubleEncode: Bool) -> String {
    if path.isEmpty || path == "/" { return "/" }
    var path = path
    if normalize { path = normalizedPath(path) }
    return doubleEncode ? uriEncode(path, keepSlash: true) : path
  }

  /// Removes `.` and `..` segments and empty segments, keeping a trailing slash.
  static func normalizedPath(_ path: String) -> String {
    var previousSlash = false
    var clean = true
    for b in path.utf8 {
      if previousSlash && (b == 0x2F || b == 0x2E) {
        clean = false
        break
      }
      previousSlash = b == 0x2F
    }
    if clean { return path }
    var segments: [Substring] = []
    for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
      switch segment {
      case ".": continue
      case "..": _ = segments.popLast()
      default: segments.append(segment)
      }
    }
    var out = "/" + segments.joined(separator: "/")
    if path.hasSuffix("/") && !segments.isEmpty { out += "/" }
    return out
  }

  /// The canonical query: each name and value decoded from the wire and encoded again,
  /// sorted by name, then value.
  static func query(_ query: Substring) -> String {
    guard !query.isEmpty else { return "" }
    var pairs: [(String, String)] = []
    for part in query.split(separator: "&", omittingEmptySubsequences: true) {
      let name: Substring
      let value: Substring
      if let eq = part.firstIndex(of: "=") {
        name = part[..<eq]
        value = part[part.index(after: eq)...]
      } else {
        name = part
        value = ""
      }
      pairs.append(
        (
          uriEncode(percentDecode(name), keepSlash: false),
          uriEncode(percentDecode(value), keepSlash: false)
        ))
    }
    pairs.sort {
      $0.0 != $1.0
        ? $0.0.utf8.lexicographicallyPrecedes($1.0.utf8)
        : $0.1.utf8.lexicographicallyPrecedes($1.1.utf8)
    }
    var out = ""
    for (i, pair) in pairs.enumerated() {
      if i > 0 { out += "&" }
      out += pair.0
      out += "="
      out += pair.1
    }
    return out
  }
}
