import FerryCore
import FerryStore
import FerryTesting
import Foundation
import Testing

/// `ferry account` run as a program, on the embedded default (SQLite in a data directory)
/// and on PostgreSQL.
@Suite("ferry account")
struct AccountCLITests {
  func ferry(_ arguments: [String], environment: [String: String] = [:]) async throws
    -> Subprocess.Output
  {
    try await OffPool.run {
      try Subprocess.run(TestPaths.ferryExecutable, arguments, environment: environment)
    }
  }

  func json(_ text: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(text.utf8))
  }

  @Test func createListAndShowInADataDirectory() async throws {
    let dir = try TestPaths.temporaryDirectory("ferry-cli").path
    let created = try await ferry(["account", "create", "Acme Corp", "--data-dir", dir])
    #expect(created.status == 0, "\(created.stderr)")
    #expect(created.stdout.contains("Created account Acme Corp (acct_"))
    let external = try #require(
      created.stdout.split(separator: "\n").first { $0.hasPrefix("External ID: ") }?
        .dropFirst("External ID: ".count))
    #expect(external.hasPrefix("ferry:aws:extid:"))

    let listed = try await ferry(["account", "list", "--data-dir", dir, "--json"])
    #expect(listed.status == 0)
    let accounts = try #require(try json(listed.stdout) as? [[String: Any]])
    #expect(accounts.count == 1)
    #expect(accounts.first?["externalID"] as? String == String(external))
    let id = try #require(accounts.first?["id"] as? String)

    let shown = try await ferry(["account", "show", id, "--data-dir", dir])
    #expect(shown.status == 0)
    #expect(shown.stdout.contains(String(external)))

    // The file is the store's: the account is there, and its creation audited with the
    // operating-system user who ran the command.
    let store = try SQLiteStore(path: dir + "/ferry.sqlite")
    let audit = try await store.auditLog(of: AccountID(rawValue: id), limit: 5)
    #expect(audit.map(\.action) == ["account.create"])
    #expect(audit.first?.actor.hasPrefix("cli:") == true)
  }

  @Test func theDataDirectoryComesFromTheEnvironment() async throws {
    let dir = try TestPaths.temporaryDirectory("ferry-cli").path
    let environment = ["FERRY_DATA_DIR": dir]
    #expect(try await ferry(["account", "create", "Globex"], environment: environment).status == 0)
    #expect(FileManager.default.fileExists(atPath: dir + "/ferry.sqlite"))
    let listed = try await ferry(["account", "list"], environment: environment)
    #expect(listed.stdout.contains("Globex"))
  }

  @Test func badInputSaysWhyAndCreatesNothing() async throws {
    let dir = try TestPaths.temporaryDirectory("ferry-cli").path
    for (arguments, reason) in [
      (["account", "create", " "], "account name must be 1 to 100 characters"),
      (["account", "create", "A", "--retention-days", "0"], "use 1 to 3650 days"),
      (["account", "create", "A", "--external-id-prefix", "a b"], "external ID prefix"),
      (["account", "show", "acct_missing"], "there is no account acct_missing"),
      (["account", "list", "--database-url", "postgres://x@y/z"], "not both"),
    ] {
      let out = try await ferry(arguments + ["--data-dir", dir])
      #expect(out.status == 2, "\(arguments)")
      #expect(out.stderr.contains(reason), "\(arguments): \(out.stderr)")
      #expect(out.stderr.split(separator: "\n").count == 1, "one line: \(out.stderr)")
    }
    let listed = try await ferry(["account", "list", "--data-dir", dir])
    #expect(listed.stdout.contains("No accounts yet"))
  }

  @Test func aCommandThatOnlyReadsNeverCreatesAStore() async throws {
    let parent = try TestPaths.temporaryDirectory("ferry-cli")
    let dir = parent.appendingPathComponent("data").path
    for arguments in [["account", "list"], ["account", "show", "acct_x"]] {
      let out = try await ferry(arguments + ["--data-dir", dir])
      #expect(out.status == 3, "\(arguments): \(out.stderr)")
      #expect(out.stderr.contains("no Ferry store at \(dir)"), "\(out.stderr)")
      #expect(out.stderr.contains("--api"), "\(out.stderr)")
    }
    #expect(!FileManager.default.fileExists(atPath: dir), "nothing was created")
  }

  @Test func theStoreIsPrivateToFerrysUserWhateverTheUmask() async throws {
    let parent = try TestPaths.temporaryDirectory("ferry-cli")
    let dir = parent.appendingPathComponent("data").path
    // The child inherits the umask: 022, the common default, would leave 0755 and 0644.
    let previous = umask(0o022)
    defer { umask(previous) }
    let created = try await ferry(["account", "create", "Private", "--data-dir", dir])
    #expect(created.status == 0, "\(created.stderr)")
    func mode(_ path: String) throws -> Int {
      let attributes = try FileManager.default.attributesOfItem(atPath: path)
      return (attributes[.posixPermissions] as? Int ?? -1) & 0o777
    }
    #expect(try mode(dir) == 0o700)
    let files = try FileManager.default.contentsOfDirectory(atPath: dir)
    #expect(files.contains("ferry.sqlite") && files.contains("ferry.sqlite-wal"), "\(files)")
    for file in files {
      #expect(try mode(dir + "/" + file) == 0o600, "\(file)")
    }
  }

  @Test func aDamagedDatabaseIsReportedAndLeftAlone() async throws {
    let dir = try TestPaths.temporaryDirectory("ferry-cli")
    let file = dir.appendingPathComponent("ferry.sqlite")
    let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31) })
    try garbage.write(to: file)
    let out = try await ferry(["account", "create", "Acme", "--data-dir", dir.path])
    #expect(out.status == 3)
    #expect(out.stderr.contains("damaged"))
    #expect(out.stderr.contains("Restore it from a backup"))
    #expect(try Data(contentsOf: file) == garbage)
  }

  @Test func aSharedPostgreSQLDatabaseWorksTheSame() async throws {
    let url = try await ThrowawayPostgres.shared().createDatabase()
    let created = try await ferry(["account", "create", "Initech", "--database-url", url, "--json"])
    #expect(created.status == 0, "\(created.stderr)")
    let account = try #require(try json(created.stdout) as? [String: Any])
    // A second node (another process) sees it.
    let listed = try await ferry(
      ["account", "list", "--json"], environment: ["FERRY_DATABASE_URL": url])
    let accounts = try #require(try json(listed.stdout) as? [[String: Any]])
    #expect(accounts.map { $0["id"] as? String } == [account["id"] as? String])
  }

  @Test func everyAccountSubcommandHasHelp() async throws {
    for sub in [["account"], ["account", "create"], ["account", "list"], ["account", "show"]] {
      let out = try await ferry(sub + ["--help"])
      #expect(out.status == 0)
      #expect(out.stdout.contains("USAGE:"), "\(sub)")
    }
  }
}
