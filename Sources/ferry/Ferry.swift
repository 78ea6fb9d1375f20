import ArgumentParser
import FerryPolicy
import Foundation

/// The `ferry` command line.
///
/// Exit codes: 0 success; 1 findings (lint findings, missing permissions, a denied
/// simulation); 2 bad input (an unreadable file, malformed policy, invalid name or option, a
/// change the store refuses); 3 the store cannot be used (locked, damaged, unreachable) or the
/// server cannot be reached; 4 the server refused the token.
@main
struct Ferry: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ferry",
    abstract: "Reach S3 buckets in your customers' AWS accounts through IAM roles, safely.",
    discussion: """
      Exit codes: 0 success, 1 findings, missing permissions or a failed connection check, \
      2 bad input, 3 the store (database) or the server cannot be used, 4 the token is \
      missing or not allowed.
      """,
    version: FerryVersion.current,
    subcommands: [
      ServeCommand.self, LoginCommand.self, ConnectionInfoCommand.self, RolePolicyCommand.self,
      ConnectionCommand.self, FetcherCommand.self, ArchiveCommand.self, RestoreCommand.self,
      MigrateCommand.self,
      SearchCommand.self,
      MetricsCommand.self,
      AuditCommand.self,
      TokenCommand.self,
      UserCommand.self,
      PolicyCommand.self, AccountCommand.self,
    ]
  )

  static func main() async {
    do {
      var command = try parseAsRoot()
      if var asyncCommand = command as? AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch let error as CLIError {
      Terminal.error(error.description)
      Foundation.exit(error.exitStatus)
    } catch let exit as ExitCode {
      Foundation.exit(exit.rawValue)
    } catch {
      // --help and --version end here with a success code; usage errors are bad input.
      if exitCode(for: error) == .success { self.exit(withError: error) }
      var message = self.message(for: error).trimmingCharacters(in: .whitespacesAndNewlines)
      while message.hasSuffix(".") { message.removeLast() }
      if let hint = subcommandHint(Array(CommandLine.arguments.dropFirst())) {
        message += "; \(hint)"
      }
      let end = message.hasSuffix("?") || message.hasSuffix("!") ? "" : "."
      Terminal.error("\(message)\(end) Run with --help for usage.")
      Foundation.exit(ExitStatus.badInput)
    }
  }
}

/// "did you mean 'account'?" for a mistyped subcommand: walks the arguments down the
/// command tree and suggests the closest name where a word names no subcommand.
func subcommandHint(_ arguments: [String]) -> String? {
  var command: any ParsableCommand.Type = Ferry.self
  for argument in arguments {
    if argument.hasPrefix("-") { return nil }
    let subcommands = command.configuration.subcommands
    guard !subcommands.isEmpty else { return nil }
    let names = subcommands.compactMap { $0.configuration.commandName }
    if let next = subcommands.first(where: { $0.configuration.commandName == argument }) {
      command = next
      continue
    }
    return Suggestion.closest(to: argument, in: names).map { "did you mean '\($0)'?" }
  }
  return nil
}

enum FerryVersion {
  static let current = "0.1.0"
}
