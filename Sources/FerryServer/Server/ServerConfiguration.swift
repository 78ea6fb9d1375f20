import FerryIngest
import Foundation

/// What `ferry serve` was configured with (flags, then `FERRY_*` environment variables,
/// then the config file; see the README's table).
public struct ServerConfiguration: Sendable {
  public var host: String
  public var port: Int
  /// Every AWS call goes here instead of AWS (an emulator, an S3-compatible store).
  public var awsEndpoint: URL?
  /// The region of Ferry's own STS calls.
  public var awsRegion: String
  /// Ferry's AWS account ID, when the operator sets it instead of asking STS.
  public var platformAccountID: String?
  /// The exact ARN the trust policies name instead of `arn:aws:iam::ACCOUNT:root`.
  public var platformPrincipalARN: String?
  /// How often every connection is re-checked in the background; nil: never.
  public var recheckInterval: Duration?
  /// Connection checks an account may start per minute.
  public var checksPerMinute: Int
  /// The prefix of generated external IDs.
  public var externalIDPrefix: String
  /// Whether this process runs fetchers (several nodes may; leases keep them apart).
  public var ingest: Bool
  /// How often the ingest scheduler looks for fetchers that are due.
  public var ingestTick: Duration
  /// Fetchers read at once by this process.
  public var ingestConcurrency: Int
  /// How long this process's claim on a fetcher lasts unrenewed: after a crash, another
  /// process takes the fetcher over once it has passed.
  public var ingestLease: Duration = .seconds(60)
  /// How often a fetcher lists its whole prefix again, to find keys that arrived behind
  /// its cursor and objects replaced by a new version.
  public var fullListInterval: Duration = .seconds(3600)
  /// How far back a full listing looks behind the cursor (``IngestSettings/relistWindow``).
  public var relistWindow: Duration = .seconds(86_400)
  /// Events per commit of a large object (work cut short resumes after the last one).
  public var ingestChunkEvents = 10_000
  /// Whether this process writes archives (several nodes may; leases keep them apart).
  public var archive = true
  /// How often the archive scheduler looks for archives with events to write.
  public var archiveTick: Duration = .seconds(5)
  /// An archive flushes once this much event text waits (uncompressed bytes)...
  public var archiveFlushBytes = 32 << 20
  /// ... or once events have waited this long.
  public var archiveFlushAge: Duration = .seconds(300)
  /// Whether this process runs restore jobs (several nodes may; leases keep them apart).
  public var restore = true
  /// How often the restorer looks for restore jobs to run and restored events that expired.
  public var restoreTick: Duration = .seconds(5)
  /// How long restored events stay in search unless a restore asks otherwise, in days.
  public var restoreKeepDays = 14
  /// How long a web UI sign-in lasts.
  public var sessionLifetime: Duration = .seconds(12 * 3600)
  /// How much one object may expand to and hold before it fails (a decompression bomb).
  public var objectLimits = ObjectLimits()
  /// Whether the web UI's cookies are marked `Secure` (`--secure-cookies on|off`); nil
  /// (`auto`) marks them when the request came over TLS or through a proxy that says https.
  public var secureCookies: Bool?
  /// The token `/metrics` requires (`Authorization: Bearer`); nil: it is open.
  public var metricsToken: String?
  /// Events one account may store per UTC day.
  public var dailyLimit = DailyLimit()
  /// How often the retention sweep runs (nil: never on this process).
  public var retentionInterval: Duration? = .seconds(3600)
  /// How long work in flight has to finish after SIGTERM before the process exits anyway.
  public var shutdownGrace: Duration = .seconds(10)

  public init(
    host: String = "127.0.0.1", port: Int = 8080, awsEndpoint: URL? = nil,
    awsRegion: String = "us-east-1", platformAccountID: String? = nil,
    platformPrincipalARN: String? = nil, recheckInterval: Duration? = .seconds(3600),
    checksPerMinute: Int = 10, externalIDPrefix: String = "ferry", ingest: Bool = true,
    ingestTick: Duration = .seconds(5), ingestConcurrency: Int = 4
  ) {
    self.ingest = ingest
    self.ingestTick = ingestTick
    self.ingestConcurrency = ingestConcurrency
    self.host = host
    self.port = port
    self.awsEndpoint = awsEndpoint
    self.awsRegion = awsRegion
    self.platformAccountID = platformAccountID
    self.platformPrincipalARN = platformPrincipalARN
    self.recheckInterval = recheckInterval
    self.checksPerMinute = checksPerMinute
    self.externalIDPrefix = externalIDPrefix
  }
}
