import FerryAWS
import FerryArchive
import FerryCore
import FerryIngest
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// Ferry's HTTP server: the REST API under `/api/v1`, health, readiness and metrics, and
/// the background re-check of connections, on one store and one AWS client. Build it,
/// then ``run()`` until SIGTERM or SIGINT (in-flight requests finish first).
public struct FerryServer: Sendable {
  let configuration: ServerConfiguration
  let store: any Store
  let aws: any RoleAssumer
  let awsClient: AWSClient
  let platformCredentials: any CredentialProvider
  let identity: PlatformIdentityResolver
  let logger: Logger

  /// - Parameters:
  ///   - platformCredentials: Ferry's own AWS credentials (the standard chain by default).
  public init(
    configuration: ServerConfiguration, store: any Store, awsClient: AWSClient,
    platformCredentials: any CredentialProvider, logger: Logger
  ) {
    self.configuration = configuration
    self.store = store
    self.aws = AWSRoleAssumer(client: awsClient, platformCredentials: platformCredentials)
    self.awsClient = awsClient
    self.platformCredentials = platformCredentials
    self.identity = PlatformIdentityResolver(
      configuration: configuration,
      sts: STSClient(
        client: awsClient, credentials: platformCredentials, region: configuration.awsRegion))
    self.logger = logger
  }

  /// The process's Prometheus registry; swift-metrics is bootstrapped with it once.
  static let registry: PrometheusCollectorRegistry = {
    let registry = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    return registry
  }()

  /// The router: every route and middleware; `web` adds the web UI's pages.
  func router(checker: ConnectionChecker, web: Bool = true) -> Router<FerryRequestContext> {
    let router = Router(context: FerryRequestContext.self)
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: ProblemMiddleware())
    HealthRoutes(
      store: store, identity: identity, registry: Self.registry,
      metricsToken: configuration.metricsToken
    ).add(to: router)
    // Firehose presents a delivery key of its own, not a token: outside the token auth.
    FirehoseRoutes(store: store).add(to: router)
    let api = router.group("api/v1").add(middleware: AuthMiddleware(store: store))
    let connections = ConnectionRoutes(store: store, checker: checker, identity: identity)
    let fetchers = FetcherRoutes(store: store)
    connections.add(to: api)
    AccessRoutes(store: store).add(to: api)
    SearchRoutes(store: store).add(to: api)
    MetricRoutes(store: store).add(to: api)
    fetchers.add(to: api)
    let archives = ArchiveRoutes(
      store: store, flushAge: Double(configuration.archiveFlushAge.components.seconds),
      flushBytes: configuration.archiveFlushBytes)
    let restores = RestoreRoutes(
      store: store, open: archiveBucketOpener(), keepDays: configuration.restoreKeepDays)
    archives.add(to: api)
    restores.add(to: api)
    AccountRoutes(store: store, externalIDPrefix: configuration.externalIDPrefix).add(to: api)
    let migration = MigrationRoutes(store: store, checker: checker, identity: identity)
    migration.add(to: api)
    if web {
      WebRoutes(
        store: store, connections: connections, fetchers: fetchers, archives: archives,
        restores: restores, migration: migration,
        sessionLifetime: Double(configuration.sessionLifetime.components.seconds),
        secureCookies: configuration.secureCookies
      ).add(to: router)
    }
    return router
  }

  /// The scheduler that runs this process's share of the fetchers.
  func ingestScheduler() -> IngestScheduler {
    let store = self.store
    let client = awsClient
    let credentials = platformCredentials
    let holder = Self.leaseHolder()
    var settings = IngestSettings()
    settings.leaseTTL = Double(configuration.ingestLease.components.seconds)
    settings.fullListEvery = Double(configuration.fullListInterval.components.seconds)
    settings.relistWindow = Double(configuration.relistWindow.components.seconds)
    settings.chunkEvents = configuration.ingestChunkEvents
    settings.objectLimits = configuration.objectLimits
    settings.dailyLimit = configuration.dailyLimit
    let open: SourceOpener = { connection, queueURL throws(AWSFailure) in
      let account = try await CustomerS3.owner(of: connection, in: store)
      // One role session serves the bucket and the queue.
      let role = try await CustomerS3.roleCredentials(
        connection, account: account, client: client, platformCredentials: credentials)
      return FetcherSources(
        bucket: AWSObjectSource(
          s3: CustomerS3.s3(connection, credentials: role, client: client),
          bucket: connection.bucket),
        queue: queueURL.map {
          AWSNotificationQueue(
            sqs: SQSClient(client: client, credentials: role, region: connection.region),
            queueURL: $0)
        })
    }
    return IngestScheduler(
      store: store, holder: holder, settings: settings,
      concurrency: configuration.ingestConcurrency, logger: logger, open: open)
  }

  /// This process's name on the leases it takes: host, process ID and a random part.
  static func leaseHolder() -> String {
    "\(ProcessInfo.processInfo.hostName)/\(ProcessInfo.processInfo.processIdentifier)/\(UUID().uuidString.prefix(8))"
  }

  /// The scheduler that writes this process's share of the archives.
  func archiveScheduler() -> ArchiveScheduler {
    let store = self.store
    let client = awsClient
    let credentials = platformCredentials
    var settings = ArchiveSettings()
    settings.flushBytes = configuration.archiveFlushBytes
    settings.flushAge = Double(configuration.archiveFlushAge.components.seconds)
    settings.leaseTTL = Double(configuration.ingestLease.components.seconds)
    return ArchiveScheduler(
      store: store, holder: Self.leaseHolder(), settings: settings, logger: logger,
      open: archiveBucketOpener(multipartBytes: settings.multipartBytes))
  }

  /// The scheduler that runs this process's share of the restore jobs.
  func restoreScheduler() -> RestoreScheduler {
    RestoreScheduler(
      store: store, holder: Self.leaseHolder(),
      leaseTTL: Double(configuration.ingestLease.components.seconds), logger: logger,
      open: archiveBucketOpener())
  }

  /// Opens an archive connection's bucket through its role, with the owning account's
  /// external ID.
  func archiveBucketOpener(multipartBytes: Int = ArchiveSettings().multipartBytes)
    -> ArchiveBucketOpener
  {
    let store = self.store
    let client = awsClient
    let credentials = platformCredentials
    return { connection throws(AWSFailure) in
      let account = try await CustomerS3.owner(of: connection, in: store)
      let s3 = try await CustomerS3.open(
        connection, account: account, client: client, platformCredentials: credentials)
      return AWSArchiveBucket(
        s3: s3, bucket: connection.bucket, kmsKeyARN: connection.kmsKeyARN,
        multipartBytes: multipartBytes)
    }
  }

  /// The application, ready to run; `onRunning` gets the port it listens on.
  public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in })
    -> some ApplicationProtocol
  {
    _ = Self.registry
    let checker = ConnectionChecker(
      store: store, aws: aws, identity: identity,
      checksPerMinute: configuration.checksPerMinute)
    var services: [any Service] = [BlockUpgradeService(store: store, logger: logger)]
    if let interval = configuration.recheckInterval {
      services.append(RecheckService(checker: checker, interval: interval, logger: logger))
    }
    if configuration.ingest {
      services.append(
        SchedulerService(tick: configuration.ingestTick) { [scheduler = ingestScheduler()] in
          await scheduler.run(tick: $0)
        })
    }
    if configuration.archive {
      services.append(
        SchedulerService(tick: configuration.archiveTick) { [scheduler = archiveScheduler()] in
          await scheduler.run(tick: $0)
        })
    }
    if configuration.restore {
      services.append(
        SchedulerService(tick: configuration.restoreTick) { [scheduler = restoreScheduler()] in
          await scheduler.run(tick: $0)
        })
    }
    if let interval = configuration.retentionInterval {
      services.append(
        RetentionService(
          sweep: RetentionSweep(store: store, holder: Self.leaseHolder()), interval: interval,
          logger: logger))
    }
    let identity = self.identity
    let logger = self.logger
    var app = Application(
      router: router(checker: checker),
      configuration: .init(
        address: .hostname(configuration.host, port: configuration.port),
        serverName: "Ferry"),
      services: services,
      onServerRunning: { channel in
        await onRunning(channel.localAddress?.port ?? 0)
      },
      logger: logger)
    // Learn Ferry's AWS identity at start (readiness reports it until it is known).
    app.beforeServerStarts {
      Task {
        do {
          let me = try await identity.resolve()
          logger.info("platform identity", metadata: ["account": "\(me.accountID)"])
        } catch {
          logger.warning("Ferry's AWS identity is not known yet", metadata: ["error": "\(error)"])
        }
      }
    }
    return app
  }

  /// Runs until SIGTERM or SIGINT.
  public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
    ShutdownWatchdog.install(grace: configuration.shutdownGrace, logger: logger)
    try await application(onRunning: onRunning).runService()
  }
}

extension FerryServer {
  /// Every route of the API, health and metrics (not the web UI's pages), as
  /// `METHOD /path/{param}`: for the test that holds the router and the OpenAPI document to
  /// each other.
  public func routeDescriptions() -> [String] {
    let checker = ConnectionChecker(
      store: store, aws: aws, identity: identity, checksPerMinute: configuration.checksPerMinute)
    return router(checker: checker, web: false).routes.map { "\($0.method) \($0.path)" }
  }
}
