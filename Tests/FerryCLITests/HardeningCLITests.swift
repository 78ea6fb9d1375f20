import FerryCore
import FerryPolicy
import FerryTesting
import Foundation
import Synchronization
import Testing

/// What a careless or hostile user did to the CLI and the embedded store, run as a program.
/// Serialized: fifty processes at once beside a test that times a read would measure the
/// machine, not the lock.
@Suite("CLI and store hardening", .serialized)
struct HardeningCLITests {
  func ferry(_ arguments: String..., environment: [String: String] = [:]) async throws
    -> Subprocess.Output
  {
    try await OffPool.run {
      try Subprocess.run(TestPaths.ferryExecutable, arguments, environment: environment)
    }
  }

  // MARK: Concurrency

  /// Runs `count` `ferry account create` processes at once; returns those that failed.
  static func createInParallel(_ count: Int, name: String, store: [String]) -> [Subprocess.Output] {
    let results = Mutex<[Subprocess.Output]>([])
    DispatchQueue.concurrentPerform(iterations: count) { i in
      let out =
        (try? Subprocess.run(
          TestPaths.ferryExecutable, ["account", "create", "\(name)-\(i)"] + store))
        ?? Subprocess.Output(status: -1, stdout: "", stderr: "did not start")
      results.withLock { $0.append(out) }
    }
    return results.withLock { $0.filter { $0.status != 0 } }
  }

  /// Fifty processes create accounts on one fresh data directory at once, several rounds:
  /// one creates the schema, the others wait for it; every account is created.
  @Test func fiftyParallelCreatesOnAFreshDataDirectory() async throws {
    for round in 0..<3 {
      let dir = try TestPaths.temporaryDirectory("ferry-race").path
      let failed = try await OffPool.run {
        Self.createInParallel(50, name: "Tenant \(round)", store: ["--data-dir", dir])
      }
      #expect(failed.isEmpty, "round \(round): \(failed.map(\.stderr))")
      let listed = try await ferry("account", "list", "--data-dir", dir, "--json")
      let accounts = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [Any]
      #expect(accounts?.count == 50)
    }
  }

  /// The same on one fresh PostgreSQL database: the schema is made once (an advisory
  /// lock), every account is created.
  @Test func fiftyParallelCreatesOnAFreshPostgresDatabase() async throws {
    let url = try await ThrowawayPostgres.shared().createDatabase()
    let failed = try await OffPool.run {
      Self.createInParallel(50, name: "Tenant", store: ["--database-url", url])
    }
    #expect(failed.isEmpty, "\(failed.map(\.stderr))")
    let listed = try await ferry("account", "list", "--database-url", url, "--json")
    let accounts = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [Any]
    #expect(accounts?.count == 50)
  }

  /// With another process holding SQLite's write lock, reads go on (WAL).
  @Test func readsWorkWhileAnotherProcessWrites() async throws {
    let dir = try TestPaths.temporaryDirectory("ferry-lock").path
    #expect(try await ferry("account", "create", "Acme", "--data-dir", dir).status == 0)
    let holder = try TestPaths.temporaryDirectory("ferry-lock-holder")
      .appendingPathComponent("hold.py")
    try """
    import sqlite3, sys, time
    db = sqlite3.connect(sys.argv[1], isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    print(1, flush=True)
    time.sleep(30)
    """.write(to: holder, atomically: true, encoding: .utf8)
    let lock = try await HelperServer.start(script: holder.path, arguments: [dir + "/ferry.sqlite"])
    defer { lock.stop() }
    let started = Date()
    let listed = try await ferry("account", "list", "--data-dir", dir)
    #expect(listed.status == 0, "\(listed.stderr)")
    #expect(listed.stdout.contains("Acme"))
    let read = Date().timeIntervalSince(started)
    // A write waits for the lock (the store's 5 s busy timeout), then fails with a clear
    // message. The read did not wait: it took well under what the write took, whatever
    // the machine's load does to starting a process.
    let writeStarted = Date()
    let write = try await ferry("account", "create", "Globex", "--data-dir", dir)
    let wrote = Date().timeIntervalSince(writeStarted)
    #expect(wrote >= 5, "the write waited \(wrote) s")
    #expect(read + 3 < wrote, "the read took \(read) s, the waiting write \(wrote) s")
    #expect(write.status == 3)
    #expect(write.stderr.contains("locked by another process"))
  }

  // MARK: Data directories

  @Test func oddDataDirectoriesSayWhatIsWrong() async throws {
    let base = try TestPaths.temporaryDirectory("ferry-dirs")
    let file = base.appendingPathComponent("a-file")
    try "x".write(to: file, atomically: true, encoding: .utf8)
    let isFile = try await ferry("account", "list", "--data-dir", file.path)
    #expect(isFile.status == 3)
    #expect(isFile.stderr.contains("is a file, not a directory"))
    #expect(!isFile.stderr.contains("NSCocoaErrorDomain"))
    let under = try await ferry("account", "list", "--data-dir", file.path + "/sub")
    #expect(under.status == 3)
    #expect(under.stderr.contains("\(file.path) is a file"))
    let empty = try await ferry("account", "list", "--data-dir", "")
    #expect(empty.status == 2)
    #expect(empty.stderr.contains("--data-dir: the path is empty"))
  }

  @Test func aDataDirFlagBeatsTheDatabaseURLInTheEnvironment() async throws {
    let dir = try TestPaths.temporaryDirectory("ferry-flags").path
    let out = try await ferry(
      "account", "create", "Acme", "--data-dir", dir,
      environment: ["FERRY_DATABASE_URL": "postgres://nobody:secret@127.0.0.1:1/none"])
    #expect(out.status == 0, "\(out.stderr)")
    #expect(out.stderr.contains("using the SQLite store in"))
    #expect(FileManager.default.fileExists(atPath: dir + "/ferry.sqlite"))
  }

  /// A read-only mount (a small tmpfs remounted read-only): reads work, writes say why not.
  @Test(
    .enabled(
      if: SmallDisk.isAvailable, "mounting a tmpfs needs root; the read-only mount test cannot run")
  )
  func aReadOnlyDataDirectoryServesReads() async throws {
    let disk = try SmallDisk(megabytes: 8)
    defer { disk.unmount() }
    #expect(try await ferry("account", "create", "Acme", "--data-dir", disk.path).status == 0)
    let remount = try Subprocess.run("mount", ["-o", "remount,ro", disk.path])
    try #require(remount.status == 0, "remount read-only: \(remount.stderr)")
    let listed = try await ferry("account", "list", "--data-dir", disk.path)
    #expect(listed.status == 0, "\(listed.stderr)")
    #expect(listed.stdout.contains("Acme"))
    let write = try await ferry("account", "create", "Globex", "--data-dir", disk.path)
    #expect(write.status == 3)
    #expect(write.stderr.contains("read-only"))
  }

  // MARK: Names

  @Test(arguments: ["Evil\nacct_fake  Fake", "Bad\u{1B}[31mRed", "Tab\there", "bidi\u{202E}gnp"])
  func namesWithControlCharactersAreRefused(name: String) async throws {
    let dir = try TestPaths.temporaryDirectory("ferry-names").path
    let out = try await ferry("account", "create", name, "--data-dir", dir)
    #expect(out.status == 2)
    #expect(out.stderr.contains("control characters"))
    // The error does not echo the raw control characters either.
    #expect(!out.stderr.contains("\u{1B}"))
    #expect(out.stderr.split(separator: "\n").count == 1)
  }

  @Test func duplicateNamesAreRefusedWhateverTheirCase() async throws {
    let dir = try TestPaths.temporaryDirectory("ferry-dup").path
    #expect(try await ferry("account", "create", "Acme Corp", "--data-dir", dir).status == 0)
    let again = try await ferry("account", "create", "ACME corp", "--data-dir", dir)
    #expect(again.status == 2)
    #expect(again.stderr.contains("exists already"))
  }

  // MARK: Messages

  @Test func smallMessagesSayTheRightThing() async throws {
    let dir = try TestPaths.temporaryDirectory("ferry-msg").path
    let negative = try await ferry(
      "account", "create", "Acme", "--retention-days", "-5", "--data-dir", dir)
    #expect(negative.status == 2)
    #expect(negative.stderr.contains("the retention is -5 days"))

    let typo = try await ferry(
      "policy", "generate", "--purpose", "fetcher", "--bucket", "my-logs", "--formt", "json")
    #expect(typo.status == 2)
    #expect(typo.stderr.contains("'--format'?"))
    #expect(!typo.stderr.contains("?."))

    let subcommand = try await ferry("acount", "list")
    #expect(subcommand.status == 2)
    #expect(subcommand.stderr.contains("did you mean 'account'?"))

    let principal = try await ferry(
      "policy", "trust", "--principal-arn", "not-an-arn", "--external-id", "ferry:aws:extid:abc123")
    #expect(principal.status == 2)
    #expect(principal.stderr.hasPrefix("error: --principal-arn:"))

    let directory = try await ferry("policy", "lint", dir)
    #expect(directory.stderr.contains("is a directory"))
    let devNull = try await ferry("policy", "lint", "/dev/null")
    #expect(devNull.stderr.contains("is empty"))
    #expect(!devNull.stderr.contains("permissions"))

    let slash = try await ferry(
      "policy", "generate", "--purpose", "fetcher", "--bucket", "my-logs", "--prefix", "/AWSLogs")
    #expect(slash.status == 0)
    #expect(slash.stderr.contains("starts with \"/\""))
    #expect(slash.stderr.contains("AWSLogsX/"))

    let notApplicable = try await ferry(
      "policy", "generate", "--purpose", "fetcher", "--bucket", "my-logs", "--external-id", "x")
    #expect(notApplicable.status == 2)
    #expect(notApplicable.stderr.contains("--external-id: applies to --format cli"))
    let metricsBucket = try await ferry(
      "policy", "generate", "--purpose", "metrics", "--bucket", "b1b")
    #expect(metricsBucket.status == 2)
    #expect(metricsBucket.stderr.contains("--bucket"))
  }

  // MARK: The generated set-up script

  /// A stub `aws` that records each call's arguments and answers like IAM: get-role finds
  /// the role once create-role ran; FAIL_ON names a subcommand that fails.
  static let stubAWS = """
    #!/usr/bin/env bash
    state="$STUB_DIR/state"
    printf '%s\\0' "$@" >> "$STUB_DIR/calls"
    printf '\\n' >> "$STUB_DIR/calls"
    if [ "${FAIL_ON:-}" = "$2" ]; then echo "An error occurred (LimitExceeded)" >&2; exit 254; fi
    case "$2" in
      get-role)
        if [ -f "$state" ]; then
          echo "arn:aws:iam::999988887777:role/$4"
        else
          echo "An error occurred (NoSuchEntity) when calling the GetRole operation" >&2; exit 254
        fi ;;
      create-role) touch "$state" ;;
      delete-role) rm -f "$state" ;;
    esac
    exit 0
    """

  static func installStub(in stubDir: URL) throws {
    let aws = stubDir.appendingPathComponent("aws")
    try ChildProcess.withSpawnLock {
      try Self.stubAWS.write(to: aws, atomically: true, encoding: .utf8)
      try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: aws.path)
    }
  }

  func runScript(prefix: String, roleName: String, failOn: String? = nil, stubDir: URL) throws
    -> Subprocess.Output
  {
    let setup = try RoleSetup(
      scope: AccessScope(purpose: .fetcher, bucket: "my-logs", prefix: prefix),
      platformPrincipal: "123456789012", externalID: "ferry:aws:extid:q8w2n5x7c4v1b9m3k6j0h2t5yr")
    let script = stubDir.appendingPathComponent("setup.sh")
    try ChildProcess.withSpawnLock {
      try setup.awsCLIScript.write(to: script, atomically: true, encoding: .utf8)
    }
    var environment = [
      "PATH": "\(stubDir.path):/usr/bin:/bin", "STUB_DIR": stubDir.path, "ROLE_NAME": roleName,
    ]
    if let failOn { environment["FAIL_ON"] = failOn }
    return try Subprocess.run(
      "/bin/bash", [script.path], environment: environment, directory: stubDir)
  }

  func calls(_ stubDir: URL) throws -> [[String]] {
    let text = try String(contentsOf: stubDir.appendingPathComponent("calls"), encoding: .utf8)
    return text.split(separator: "\n").map {
      $0.split(separator: "\0", omittingEmptySubsequences: false).map(String.init).filter {
        !$0.isEmpty
      }
    }
  }

  @Test func theSetupScriptInterpretsNothingAndIsSafeToRunAgain() async throws {
    let stubDir = try TestPaths.temporaryDirectory("ferry-stub")
    try Self.installStub(in: stubDir)
    let hostilePrefix = "logs/$(touch PWNED1)/`touch PWNED2`/\"quote'/${HOME}/"
    let hostileRole = "r$(touch PWNED3)"

    let first = try runScript(prefix: hostilePrefix, roleName: hostileRole, stubDir: stubDir)
    try #require(first.status == 0, "\(first.stdout)\(first.stderr)")
    for marker in ["PWNED1", "PWNED2", "PWNED3"] {
      #expect(!FileManager.default.fileExists(atPath: stubDir.appendingPathComponent(marker).path))
    }
    var recorded = try calls(stubDir)
    let create = try #require(recorded.first { $0.count > 1 && $0[1] == "create-role" })
    // The role name and the description reach AWS exactly as written.
    #expect(create.contains(hostileRole))
    let description = try #require(create.firstIndex(of: "--description").map { create[$0 + 1] })
    #expect(description.contains(hostilePrefix))
    #expect(recorded.contains { $0.count > 1 && $0[1] == "put-role-policy" })

    // Run again: the role exists, so it is updated, not created twice.
    try FileManager.default.removeItem(at: stubDir.appendingPathComponent("calls"))
    let second = try runScript(prefix: hostilePrefix, roleName: hostileRole, stubDir: stubDir)
    #expect(second.status == 0, "\(second.stderr)")
    recorded = try calls(stubDir)
    #expect(!recorded.contains { $0.count > 1 && $0[1] == "create-role" })
    #expect(recorded.contains { $0.count > 1 && $0[1] == "update-assume-role-policy" })
  }

  @Test func aFailedSetupRemovesTheRoleItCreated() async throws {
    let stubDir = try TestPaths.temporaryDirectory("ferry-stub")
    try Self.installStub(in: stubDir)
    let out = try runScript(
      prefix: "AWSLogs/", roleName: "ferry-test", failOn: "put-role-policy", stubDir: stubDir)
    #expect(out.status != 0)
    #expect(out.stderr.contains("deleting the role this run created"))
    let recorded = try calls(stubDir)
    #expect(recorded.contains { $0.count > 1 && $0[1] == "delete-role" })
    #expect(!FileManager.default.fileExists(atPath: stubDir.appendingPathComponent("state").path))
  }
}
