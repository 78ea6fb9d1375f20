import FerryCore
import FerryPolicy
import Foundation

/// Exit statuses shared by every subcommand.
enum ExitStatus {
  static let success: Int32 = 0
  /// Findings: lint findings, missing permissions, a denied request.
  static let findings: Int32 = 1
  /// Bad input: unreadable file, malformed document, invalid name or option, or a change
  /// the store refuses.
  static let badInput: Int32 = 2
  /// The store cannot be used: locked, damaged, unreachable, disk full, too new; or the
  /// server cannot be reached or failed.
  static let storeUnavailable: Int32 = 3
  /// The server refused the token: missing, unknown, or not allowed to do this.
  static let notAllowed: Int32 = 4
}

/// An error to show a person: one line, saying what was wrong and how to fix it.
enum CLIError: Error, CustomStringConvertible {
  case input(InputError)
  case policy(file: String, PolicyParseError)
  case file(String, String)
  case usage(String)
  case store(StoreError)
  /// The server answered an error (its problem document), or could not be reached (nil).
  case server(status: Int?, String, problem: JSONValue = .null)

  /// The exit status this error ends the program with.
  var exitStatus: Int32 {
    switch self {
    case .store(.rejected), .store(.invalid): ExitStatus.badInput
    case .store: ExitStatus.storeUnavailable
    case .server(let status, _, _):
      switch status {
      case 422: ExitStatus.findings
      case 401, 403: ExitStatus.notAllowed
      case .some(400..<500): status == 429 ? ExitStatus.storeUnavailable : ExitStatus.badInput
      default: ExitStatus.storeUnavailable
      }
    default: ExitStatus.badInput
    }
  }

  var description: String {
    switch self {
    case .input(let error): "--\(error.field): \(error.problem). \(error.fix)"
    case .policy(let file, let error): "\(file): not a valid policy: \(error.description)"
    case .file(let file, let problem): "\(file): \(problem)"
    case .usage(let message): message
    case .store(let error): error.description
    case .server(_, let message, _): message
    }
  }
}

enum Terminal {
  /// Prints an error on standard error. Its text is escaped: it may carry a user's input.
  static func error(_ message: String) {
    FileHandle.standardError.write(Data("error: \(safe(message))\n".utf8))
  }

  /// Prints a note (a warning that does not stop the command) on standard error.
  static func note(_ message: String) {
    FileHandle.standardError.write(Data("note: \(safe(message))\n".utf8))
  }

  /// Text that came from a user or from AWS, made safe to print on one line of a terminal:
  /// control characters (newlines, escape sequences, DEL, C1 controls) and bidirectional
  /// overrides are written as `\u{…}` escapes, so a value can neither fake output lines
  /// nor drive the terminal. Everything else, accents and CJK included, prints as it is.
  static func safe(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
      let v = scalar.value
      let control = v < 0x20 || (0x7F...0x9F).contains(v)
      let bidi =
        (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v) || v == 0x200E
        || v == 0x200F
      if control || bidi {
        out += "\\u{" + String(v, radix: 16) + "}"
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  static func print(_ text: String) {
    Swift.print(text)
  }
}

/// Reads and parses policy files; `-` is standard input.
enum PolicyFile {
  static func read(_ path: String) throws(CLIError) -> Data {
    if path == "-" {
      return FileHandle.standardInput.readDataToEndOfFile()
    }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw .file(
        path, "no such file. Give the path of a JSON policy document, or - to read standard input")
    }
    if isDirectory.boolValue {
      throw .file(path, "is a directory. Give the path of a JSON policy document inside it")
    }
    guard FileManager.default.isReadableFile(atPath: path),
      let handle = FileHandle(forReadingAtPath: path)
    else {
      throw .file(path, "cannot be read: permission denied. Check its permissions")
    }
    defer { try? handle.close() }
    // Read through the handle: device files such as /dev/null are not regular files.
    let data = (try? handle.readToEnd()) ?? Data()
    if data.isEmpty {
      throw .file(path, "is empty. Give the path of a JSON policy document")
    }
    return data
  }

  static func load(_ path: String) throws(CLIError) -> PolicyDocument {
    let data = try read(path)
    do {
      return try PolicyDocument.parse(data)
    } catch {
      throw .policy(file: path == "-" ? "<stdin>" : path, error)
    }
  }
}

/// Runs a throwing validation and turns its error into a one-line CLI error.
func validated<T>(_ body: () throws(InputError) -> T) throws(CLIError) -> T {
  do {
    return try body()
  } catch {
    throw .input(error)
  }
}
