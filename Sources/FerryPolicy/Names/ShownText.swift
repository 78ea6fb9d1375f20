/// Text that Ferry stores and later shows (in tables, terminals, pages, policies): the
/// characters it refuses, because they could fake a row, drive a terminal, or make what is
/// shown differ from what is used.
public enum ShownText {
  /// The first scalar that has no place in shown text: a C0 control (U+0000–U+001F, so
  /// NUL, newline and escape), DEL and the C1 controls (U+007F–U+009F), or a bidirectional
  /// override or isolate (U+202A–U+202E, U+2066–U+2069). Nil when there is none.
  public static func forbiddenScalar(in text: String) -> Unicode.Scalar? {
    text.unicodeScalars.first { scalar in
      let v = scalar.value
      return v < 0x20 || (0x7F...0x9F).contains(v) || (0x202A...0x202E).contains(v)
        || (0x2066...0x2069).contains(v)
    }
  }

  /// How a refused scalar is named in a message: `U+000A`.
  public static func name(_ scalar: Unicode.Scalar) -> String {
    let hex = String(scalar.value, radix: 16, uppercase: true)
    return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
  }
}
