import ArgumentParser
import FerryAWS
import FerryCore
import FerryPolicy
import FerryServer
import FerryStore
import Foundation
import Logging

/// `ferry serve`: the HTTP API on the embedded store (SQLite in the data directory) or
/// PostgreSQL. On a fresh store it creates a first account and prints, once, the URL and
/// the first admin's token.
struct ServeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Run Ferry's server: the REST API, connection checks, health and metrics.",
    discussion: """
      Settings come from flags, then FERRY_* environment variables (FERRY_PORT, \
      FERRY_AWS_ENDPOINT, ...), then the config file (--config or FERRY_CONFIG: lines of \
      'name = value' with the flags' names), then the defaults. Ferry's own AWS identity \
      comes from the standard AWS credential chain (environment, ~/.aws profile, web \
      identity, container, instance metadata). Stops cleanly on SIGTERM or SIGINT.
      """)

  @OptionGroup var store: StoreOptions
  @Option(help: "The address to listen on (default 127.0.0.1; FERRY_HOST).") var host: String?
  @Option(help: "The port to listen on (default 8080, 0 for any free port; FERRY_PORT).")
  var port: Int?
  @Option(help: "A file of 'name = value' settings (FERRY_CONFIG).") var config: String?
  @Option(
    name: .customLong("first-account"),
    help: "The name of the account created on a fresh store (default: default).")
  var firstAccount: String?
  @Option(
    name: .customLong("first-admin-email"),
    help: "The email of that account's first user (default: admin@localhost).")
  var firstAdminEmail: String?
  @Option(
    name: .customLong("aws-endpoint"),
    help: "Send every AWS call to this URL (an emulator or S3-compatible store).")
  var awsEndpoint: String?
  @Option(name: .customLong("aws-region"), help: "The region of Ferry's own STS calls.")
  var awsRegion: String?
  @Option(
    name: .customLong("platform-account-id"),
    help: "Ferry's AWS account ID, instead of asking STS (GetCallerIdentity).")
  var platformAccountID: String?
  @Option(
    name: .customLong("platform-principal-arn"),
    help:
      "The exact role or user ARN Ferry runs as, for trust policies narrower than the whole account."
  )
  var platformPrincipalARN: String?
  @Option(
    name: .customLong("recheck-interval"),
    help: "How often every connection is re-checked: 30m, 1h (default), or off.")
  var recheckInterval: String?
  @Option(
    name: .customLong("checks-per-minute"),
    help: "Connection checks an account may start per minute (default 10).")
  var checksPerMinute: Int?
  @Option(
    name: .customLong("ingest-interval"),
    help:
      "How often this process looks for fetchers that are due: 5s (default), or off to run no fetchers here."
  )
  var ingestInterval: String?
  @Option(
    name: .customLong("ingest-concurrency"),
    help: "Fetchers this process reads at once (default 4).")
  var ingestConcurrency: Int?
  @Option(
    name: .customLong("ingest-lease"),
    help:
      "How long this process's claim on a fetcher lasts unrenewed (default 60s); after a crash another process takes over once it has passed."
  )
  var ingestLease: String?
  @Option(
    name: .customLong("full-list-interval"),
    help:
      "How often each fetcher lists its whole prefix again, for late keys and replaced objects (default 1h)."
  )
  var fullListInterval: String?
  @Option(
    name: .customLong("relist-window"),
    help:
      "How far back a full listing looks for late keys (default 24h, at least twice --full-list-interval); the ledger rows of older objects behind the cursor are compacted away."
  )
  var relistWindow: String?
  @Option(
    name: .customLong("ingest-chunk-events"),
    help:
      "Events per commit of a large object (default 10000); work cut short resumes after the last commit."
  )
  var ingestChunkEvents: Int?
  @Option(
    name: .customLong("archive-interval"),
    help:
      "How often this process looks for archives with events to write: 5s (default), or off to write no archives here."
  )
  var archiveInterval: String?
  @Option(
    name: .customLong("archive-flush-mib"),
    help: "An archive writes once this many MiB of events wait (1 to 1024; default 32).")
  var archiveFlushMiB: Int?
  @Option(
    name: .customLong("archive-flush-age"),
    help: "... or once events have waited this long (default 5m).")
  var archiveFlushAge: String?
  @Option(
    name: .customLong("restore-interval"),
    help:
      "How often this process looks for restore jobs to run and restored events that expired: 5s (default), or off."
  )
  var restoreInterval: String?
  @Option(
    name: .customLong("restore-keep-days"),
    help:
      "Restored events leave search after this many days unless a restore asks otherwise or is kept (1 to 3650; default 14)."
  )
  var restoreKeepDays: Int?
  @Option(
    name: .customLong("session-lifetime"),
    help: "How long a sign-in to the web UI lasts (default 12h).")
  var sessionLifetime: String?
  @Option(
    name: .customLong("max-object-gib"),
    help: "An object that expands past this many GiB fails with the cause (1 to 1024; default 16).")
  var maxObjectGiB: Int?
  @Option(
    name: .customLong("max-compression-ratio"),
    help:
      "An object that expands more than this many times (past 64 MiB) fails as a decompression bomb (10 to 100000; default 2000)."
  )
  var maxCompressionRatio: Int?
  @Option(
    name: .customLong("max-object-events"),
    help: "An object with more events than this fails with the cause (default 100000000).")
  var maxObjectEvents: Int?
  @Option(
    name: .customLong("secure-cookies"),
    help:
      "Mark the web UI's cookies Secure: on, off, or auto (default: when the request came over TLS or through a proxy that sends X-Forwarded-Proto: https)."
  )
  var secureCookies: String?
  @Option(
    name: .customLong("metrics-token"),
    help:
      "A token /metrics then requires (Authorization: Bearer TOKEN); set it through FERRY_METRICS_TOKEN so that it does not show in the process list. Default: /metrics is open."
  )
  var metricsToken: String?
  @Option(
    name: .customLong("max-object-minutes"),
    help:
      "The first attempt at an object reads at most this long; then it commits what it read and the next attempt, with twice the time, goes on from there (1 to 1440; default 30)."
  )
  var maxObjectMinutes: Int?
  @Option(
    name: .customLong("max-account-events-per-day"),
    help:
      "Events one account may store per UTC day, its fetchers together; past it they wait for the next day, with the reason (default 1000000000, or off)."
  )
  var maxAccountEventsPerDay: String?
  @Option(
    name: .customLong("retention-interval"),
    help:
      "How often this process removes events past their account's retention: 1h (default), or off."
  )
  var retentionInterval: String?
  @Option(
    name: .customLong("shutdown-grace"),
    help:
      "After SIGTERM, how long work in flight has to finish before Ferry exits anyway (default 10s; it resumes from the store on the next start)."
  )
  var shutdownGrace: String?
  @Option(name: .customLong("log-format"), help: "json (default) or text.") var logFormat: String?
  @Option(name: .customLong("log-level"), help: "debug, info (default), warning or error.")
  var logLevel: String?
  @Option(
    name: .customLong("external-id-prefix"),
    help: "The prefix of generated external IDs (default: ferry).")
  var externalIDPrefix: String?

  func run() async throws {
    let environment = ProcessInfo.processInfo.environment
    let settings = try ServeSettings(configFile: config, environment: environment)
    let format = settings.string("log-format", flag: logFormat, default: "json")
    guard let logFormat = LogFormat(rawValue: format) else {
      throw CLIError.usage("--log-format: \"\(format)\" is not a format; use json or text")
    }
    let levelText = settings.string("log-level", flag: logLevel, default: "info")
    guard let level = Logger.Level(rawValue: levelText) else {
      throw CLIError.usage(
        "--log-level: \"\(levelText)\" is not a level; use debug, info, warning or error")
    }
    logFormat.bootstrap(level: level)
    var endpointURL: URL?
    if let text = settings.value("aws-endpoint", flag: awsEndpoint)?.value {
      guard let url = URL(string: text), let scheme = url.scheme,
        ["http", "https"].contains(scheme),
        url.host != nil
      else {
        throw CLIError.usage(
          "--aws-endpoint: \"\(text)\" is not an http(s) URL; give e.g. http://127.0.0.1:5000")
      }
      endpointURL = url
    }
    var serverConfiguration = ServerConfiguration(
      host: settings.string("host", flag: host, default: "127.0.0.1"),
      port: try settings.int("port", flag: port, default: 8080, range: 0...65535),
      awsEndpoint: endpointURL,
      awsRegion: settings.string("aws-region", flag: awsRegion, default: "us-east-1"),
      platformAccountID: settings.value("platform-account-id", flag: platformAccountID)?.value,
      platformPrincipalARN: settings.value("platform-principal-arn", flag: platformPrincipalARN)?
        .value,
      recheckInterval: try settings.interval(
        "recheck-interval", flag: recheckInterval, default: .seconds(3600)),
      checksPerMinute: try settings.int(
        "checks-per-minute", flag: checksPerMinute, default: 10, range: 1...10_000),
      externalIDPrefix: settings.string(
        "external-id-prefix", flag: externalIDPrefix, default: "ferry"))
    let tick = try settings.interval("ingest-interval", flag: ingestInterval, default: .seconds(5))
    serverConfiguration.ingest = tick != nil
    serverConfiguration.ingestTick = tick ?? .seconds(5)
    serverConfiguration.ingestLease =
      try settings.interval("ingest-lease", flag: ingestLease, default: .seconds(60))
      ?? .seconds(60)
    serverConfiguration.fullListInterval =
      try settings.interval("full-list-interval", flag: fullListInterval, default: .seconds(3600))
      ?? .seconds(3600)
    serverConfiguration.relistWindow =
      try settings.interval("relist-window", flag: relistWindow, default: .seconds(86_400))
      ?? .seconds(86_400)
    serverConfiguration.sessionLifetime =
      try settings.interval("session-lifetime", flag: sessionLifetime, default: .seconds(43_200))
      ?? .seconds(43_200)
    let archiveTick = try settings.interval(
      "archive-interval", flag: archiveInterval, default: .seconds(5))
    serverConfiguration.archive = archiveTick != nil
    serverConfiguration.archiveTick = archiveTick ?? .seconds(5)
    serverConfiguration.archiveFlushBytes =
      try settings.int("archive-flush-mib", flag: archiveFlushMiB, default: 32, range: 1...1024)
      << 20
    serverConfiguration.archiveFlushAge =
      try settings.interval("archive-flush-age", flag: archiveFlushAge, default: .seconds(300))
      ?? .seconds(300)
    let restoreTick = try settings.interval(
      "restore-interval", flag: restoreInterval, default: .seconds(5))
    serverConfiguration.restore = restoreTick != nil
    serverConfiguration.restoreTick = restoreTick ?? .seconds(5)
    serverConfiguration.restoreKeepDays = try settings.int(
      "restore-keep-days", flag: restoreKeepDays, default: 14, range: 1...3650)
    serverConfiguration.objectLimits.maxBytes =
      Int64(try settings.int("max-object-gib", flag: maxObjectGiB, default: 16, range: 1...1024))
      << 30
    serverConfiguration.objectLimits.maxRatio = Int64(
      try settings.int(
        "max-compression-ratio", flag: maxCompressionRatio, default: 2000, range: 10...100_000))
    serverConfiguration.objectLimits.maxEvents = try settings.int(
      "max-object-events", flag: maxObjectEvents, default: 100_000_000,
      range: 1...1_000_000_000_000)
    serverConfiguration.objectLimits.maxSeconds = Double(
      try settings.int("max-object-minutes", flag: maxObjectMinutes, default: 30, range: 1...1440)
        * 60)
    switch settings.string("secure-cookies", flag: secureCookies, default: "auto") {
    case "auto": serverConfiguration.secureCookies = nil
    case "on": serverConfiguration.secureCookies = true
    case "off": serverConfiguration.secureCookies = false
    case let other:
      throw CLIError.usage(
        "--secure-cookies: \(String(reflecting: other)) is not on, off or auto")
    }
    let metrics = settings.string("metrics-token", flag: metricsToken, default: "")
    if !metrics.isEmpty {
      guard metrics.utf8.count >= 16,
        metrics.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 })
      else {
        throw CLIError.usage(
          "--metrics-token: use at least 16 printable ASCII characters without spaces (for example: openssl rand -hex 24)"
        )
      }
      serverConfiguration.metricsToken = metrics
    }
    let perDay = settings.string(
      "max-account-events-per-day", flag: maxAccountEventsPerDay, default: "1000000000")
    if perDay == "off" {
      serverConfiguration.dailyLimit.eventsPerDay = nil
    } else if let limit = Int(perDay), (1...10_000_000_000_000).contains(limit) {
      serverConfiguration.dailyLimit.eventsPerDay = limit
    } else {
      throw CLIError.usage(
        "--max-account-events-per-day: \(String(reflecting: perDay)) is not a number of events from 1 to 10000000000000, or off"
      )
    }
    serverConfiguration.retentionInterval = try settings.interval(
      "retention-interval", flag: retentionInterval, default: .seconds(3600))
    serverConfiguration.shutdownGrace =
      try settings.interval("shutdown-grace", flag: shutdownGrace, default: .seconds(10))
      ?? .seconds(10)
    serverConfiguration.ingestChunkEvents = try settings.int(
      "ingest-chunk-events", flag: ingestChunkEvents, default: 10_000, range: 100...1_000_000)
    serverConfiguration.ingestConcurrency = try settings.int(
      "ingest-concurrency", flag: ingestConcurrency, default: 4, range: 1...64)
    if let account = serverConfiguration.platformAccountID {
      do {
        _ = try AWSAccountID.parse(account, field: "--platform-account-id")
      } catch {
        throw CLIError.usage("\(error.field): \(error.problem). \(error.fix)")
      }
    }
    var storeOptions = store
    storeOptions.applyDefaults(from: settings)
    let firstAccountName = settings.string("first-account", flag: firstAccount, default: "default")
    let firstEmail = settings.string(
      "first-admin-email", flag: firstAdminEmail, default: "admin@localhost")
    let logger = Logger(label: "ferry.server")
    let config = serverConfiguration
    try await storeOptions.use { store in
      let first = try await FirstRun.prepare(
        store: store, accountName: firstAccountName,
        externalIDPrefix: config.externalIDPrefix, adminEmail: firstEmail)
      let awsClient = AWSClient(
        configuration: .init(endpoint: endpointURL.map(AWSEndpoint.custom) ?? .aws))
      let server = FerryServer(
        configuration: config, store: store, awsClient: awsClient,
        platformCredentials: DefaultCredentialChain(client: awsClient), logger: logger)
      try await server.run { port in
        let url = "http://\(config.host):\(port)"
        var lines = [
          "Ferry is listening at \(url)", "Open that address in a browser for the web UI.",
        ]
        if let first {
          lines += [
            "",
            "First start: created the account \"\(first.account.name)\" and its first user \(firstEmail), an admin of it and an operator of this Ferry.",
            "Sign in with this token, at \(url) in a browser or with the CLI. It is shown only now; Ferry keeps only its hash:",
            "",
            "  \(first.token.secret.revealed)",
            "",
            "  ferry login \(url) --token \(first.token.secret.revealed)",
            "",
          ]
        }
        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
      }
    }
  }
}

extension StoreOptions {
  /// The config file's store, when neither a flag nor the environment chose one.
  mutating func applyDefaults(from settings: ServeSettings) {
    let environment = settings.environment
    guard dataDirectory == nil, databaseURL == nil, databaseURLFile == nil,
      environment["FERRY_DATABASE_URL"].map({ $0.isEmpty }) ?? true,
      environment["FERRY_DATA_DIR"] == nil
    else { return }
    if let url = settings.file["database-url"] {
      databaseURL = url
    } else if let directory = settings.file["data-dir"] {
      dataDirectory = directory
    }
  }
}
