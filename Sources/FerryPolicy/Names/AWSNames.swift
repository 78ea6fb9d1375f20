/// A 12-digit AWS account ID.
public enum AWSAccountID {
  public static func parse(_ text: String, field: String = "account ID") throws(InputError)
    -> String
  {
    guard text.count == 12, text.allSatisfy({ $0.isASCII && $0.isNumber }) else {
      throw InputError(
        field: field, problem: "\"\(text)\" is not an AWS account ID",
        fix: "An account ID is exactly 12 digits, e.g. 123456789012 (keep leading zeros).")
    }
    return text
  }
}

/// S3 bucket names, by AWS's naming rules for general purpose buckets.
public enum BucketName {
  public static func validate(_ name: String, field: String = "bucket") throws(InputError) {
    func fail(_ problem: String) -> InputError {
      InputError(
        field: field, problem: "\"\(name)\" is not a valid S3 bucket name: \(problem)",
        fix:
          "Give the bucket's name exactly as S3 shows it (3-63 lowercase letters, digits, dots and hyphens), without s3:// or a path."
      )
    }
    if name.hasPrefix("s3://") || name.hasPrefix("arn:") || name.contains("/") {
      throw fail("it contains a scheme, ARN or path")
    }
    guard (3...63).contains(name.count) else { throw fail("it must be 3 to 63 characters long") }
    let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789.-")
    guard name.allSatisfy(allowed.contains) else {
      throw fail("only lowercase letters, digits, dots and hyphens are allowed")
    }
    guard let first = name.first, let last = name.last,
      first.isLetter || first.isNumber, last.isLetter || last.isNumber
    else { throw fail("it must begin and end with a letter or digit") }
    if name.contains("..") { throw fail("it must not contain two adjacent dots") }
    let octets = name.split(separator: ".")
    if octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) {
      throw fail("it must not be formatted as an IP address")
    }
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] where name.hasPrefix(prefix) {
      throw fail("it must not begin with \"\(prefix)\"")
    }
    for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]
    where name.hasSuffix(suffix) {
      throw fail("it must not end with \"\(suffix)\"")
    }
  }
}

/// The `sts:ExternalId` value, by STS's rules for the `ExternalId` parameter.
public enum ExternalID {
  public static func validate(_ value: String, field: String = "external ID") throws(InputError) {
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+=,.@:/-")
    guard (2...1224).contains(value.count) else {
      throw InputError(
        field: field, problem: "an external ID must be 2 to 1224 characters long",
        fix: "Use the external ID Ferry shows on the connection page.")
    }
    guard value.allSatisfy(allowed.contains) else {
      throw InputError(
        field: field, problem: "\"\(value)\" contains characters STS does not accept",
        fix: "An external ID uses letters, digits and _+=,.@:/- only.")
    }
  }
}

/// S3 key prefixes as Ferry scopes permissions to them.
public enum KeyPrefix {
  /// What a person should know about how a prefix is read: a leading slash that is
  /// dropped (S3 keys do not start with one), and a prefix that is not a folder
  /// (`AWSLogs` also matches `AWSLogsX/`).
  public static func notes(for prefix: String?) -> [String] {
    guard let prefix, !prefix.isEmpty else { return [] }
    var notes: [String] = []
    if prefix.hasPrefix("/") {
      notes.append(
        "the prefix \"\(prefix)\" starts with \"/\", but S3 keys do not; using \"\(prefix.drop { $0 == "/" })\"."
      )
    }
    let trimmed = prefix.drop { $0 == "/" }
    if !trimmed.isEmpty, !trimmed.hasSuffix("/") {
      notes.append(
        "the prefix \"\(trimmed)\" does not end with \"/\", so it also matches keys such as \"\(trimmed)X/...\"; add a trailing \"/\" to limit access to one folder."
      )
    }
    return notes
  }

  /// Normalizes a user-given prefix: no leading slash. Empty means the whole bucket.
  public static func normalize(_ prefix: String?, field: String = "prefix") throws(InputError)
    -> String
  {
    guard var p = prefix, !p.isEmpty else { return "" }
    while p.hasPrefix("/") { p.removeFirst() }
    if let scalar = ShownText.forbiddenScalar(in: p) {
      throw InputError(
        field: field,
        problem:
          "the prefix contains the control character \(ShownText.name(scalar)); S3 prefixes of log folders never do, and what Ferry checks must be what it stores and reads",
        fix: "Give the folder's prefix as plain text, e.g. logs/app/.")
    }
    guard p.utf8.count <= 1024 else {
      throw InputError(
        field: field, problem: "the prefix is longer than S3's 1024-byte key limit",
        fix: "Use a shorter prefix, usually the folder your logs are written to.")
    }
    return p
  }
}

/// IAM names: roles, and the role session names STS accepts.
public enum IAMName {
  /// The characters IAM allows in role and role session names.
  public static let allowedCharacters = Set(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-")

  /// Checks a role name: 1 to 64 allowed characters.
  public static func validateRoleName(_ name: String, field: String = "role name")
    throws(InputError)
  {
    guard (1...64).contains(name.count), name.allSatisfy(allowedCharacters.contains) else {
      throw InputError(
        field: field, problem: "\"\(name)\" is not a valid IAM role name",
        fix: "Role names are 1 to 64 letters, digits and +=,.@_- characters.")
    }
  }
}
