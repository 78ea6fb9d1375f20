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
  /// The store cannot be used: locked, damaged, unreachable, disk full, too new.
  static let storeUnavailable: Int32 = 3
}

/// An error to show a person: one line, saying what was wrong and how to fix it.
enum CLIError: Error, CustomStringConvertible {
  case input(InputError)
  case policy(file: String, PolicyParseError)
  case file(String, String)
  case usage(String)
  case store(StoreError)

  /// The exit status this error ends the program with.
  var exitStatus: Int32 {
    switch self {
    case .store(.rejected): ExitStatus.badInput
    case .store: ExitStatus.storeUnavailable
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
    }
  }
}

enum Terminal {
  static func error(_ message: String) {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
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
    guard FileManager.default.fileExists(atPath: path) else {
      throw .file(
        path, "no such file. Give the path of a JSON policy document, or - to read standard input")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw .file(path, "cannot be read. Check its permissions")
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
