// swift-tools-version: 6.1
// Ferry: reach S3 buckets in customers' AWS accounts through IAM roles guarded by
// a per-tenant external ID. One module per layer; dependencies point one way:
//
//   FerrySecrets (a redacted Secret type) under everything that holds a secret.
//   FerryPolicy (IAM documents, pure)   FerryAWS (SigV4, credentials, clients)
//                  \                     /
//                   FerryCore (domain) -> FerryStore -> FerryIngest / FerryArchive
//                                                        \    FerryIngest -> FerryMetrics
//                                          FerryServer, ferry (CLI) on top
//   (FerryCore also uses FerryPolicy, for the fixes its diagnoses name.)
import PackageDescription

let package = Package(
  name: "Ferry",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "ferry", targets: ["ferry"]),
    .library(name: "FerryPolicy", targets: ["FerryPolicy"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
    .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    .package(url: "https://github.com/vapor/postgres-nio", from: "1.22.0"),
    .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
    .package(url: "https://github.com/apple/swift-metrics", from: "2.4.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
  ],
  targets: [
    // IAM policy documents, generators, evaluator, checker and linter. No I/O, no dependencies.
    .target(name: "FerryPolicy"),

    // Secrets (keys, tokens, passwords) in a type that never prints them. No dependencies.
    .target(name: "FerrySecrets"),

    // AWS Signature Version 4: canonical requests, signing keys, presigned URLs. Only crypto.
    .target(
      name: "FerryAWSSigning",
      dependencies: ["FerrySecrets", .product(name: "Crypto", package: "swift-crypto")]
    ),

    // AWS access: credentials, the signed and retried HTTP core, STS, S3 and SQS clients.
    // No other module builds a request to AWS.
    .target(
      name: "FerryAWS",
      dependencies: [
        "FerryAWSSigning",
        "FerryPolicy",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),

    // Domain types and rules, and the protocols through which they reach storage and AWS.
    // Verification of connections (the diagnosis) talks to AWS through protocols of its own.
    .target(
      name: "FerryCore",
      dependencies: [
        "FerrySecrets", "FerryPolicy", .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "_CryptoExtras", package: "swift-crypto"),
      ]),

    // Debian's libzstd (libzstd-dev; scripts/install-test-tools installs it).
    .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),

    // Events as the store keeps them: zstd blocks with a Bloom filter of their words and
    // field values, and the tokenizer every search shares.
    .target(name: "FerryBlocks", dependencies: ["FerryCore", "CZstd"]),

    // zlib, bzip2 and ISA-L from Debian (zlib1g-dev, libbz2-dev, libisal-dev;
    // scripts/install-test-tools).
    .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
    .systemLibrary(name: "CBzip2", providers: [.apt(["libbz2-dev"])]),
    .systemLibrary(name: "CIsal", providers: [.apt(["libisal-dev"])]),

    // The S3 fetcher's pipeline, laid out as the data flows: Discovery → Download →
    // Decompress → Parse → Commit, and Run (passes, leases, the scheduler).
    .target(
      name: "FerryIngest",
      dependencies: [
        "FerryCore", "CZstd", "CZlib", "CBzip2", "CIsal",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
      ]),

    // Archives in the customer's bucket: the layout (Hive partitions by account and hour),
    // NDJSON records compressed with zstd, the manifests (docs/archive-format.md), the
    // writer that fills them exactly once (Write/), the restorer that reads them back into
    // search (Restore/), and their schedulers (Run/). It reads objects with the fetcher's
    // streaming decompressors.
    .target(
      name: "FerryArchive",
      dependencies: [
        "FerryCore", "FerryBlocks", "FerryPolicy", "FerryIngest", "CZlib",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
      ]),

    // CloudWatch metrics shipped through Amazon Data Firehose: the HTTP endpoint delivery
    // protocol (Firehose/), the metric streams' record formats (Formats/: JSON and
    // OpenTelemetry, whose Generated/ messages scripts/generate-otlp makes with
    // swift-protobuf), and how per-minute statistics combine over a query's step (Query/).
    .target(
      name: "FerryMetrics",
      dependencies: [
        "FerryCore", "FerryIngest", "FerryPolicy",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ]
    ),

    // The Store, for SQLite (embedded default) and PostgreSQL (many nodes).
    .target(
      name: "FerryStore",
      dependencies: [
        "FerryCore", "FerryBlocks",
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "GRDBSQLite", package: "GRDB.swift"),
        .product(name: "PostgresNIO", package: "postgres-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),

    // `ferry serve`: the HTTP API (JSON, OpenAPI), the web UI (Mustache templates and
    // static assets, all in the binary's resources), auth, connection checks, health and
    // metrics, on Hummingbird.
    .target(
      name: "FerryServer",
      dependencies: [
        "FerryCore", "FerryStore", "FerryAWS", "FerryPolicy", "FerryIngest", "FerryArchive",
        "FerryMetrics",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Mustache", package: "swift-mustache"),
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      resources: [.copy("Resources/openapi.json"), .copy("Resources/web")]
    ),

    // The `ferry` command line: thin over the modules.
    .executableTarget(
      name: "ferry",
      dependencies: [
        "FerryPolicy", "FerryCore", "FerryStore", "FerryServer",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
      ]
    ),

    // Benchmarks are programs, not tests: `scripts/bench` runs them in release mode.
    .executableTarget(
      name: "ferry-bench",
      dependencies: [
        "FerryPolicy", "FerryAWSSigning", "FerryAWS", "FerryCore", "FerryStore", "FerryBlocks",
        "FerryIngest", "FerryServer", "FerryArchive", "FerryMetrics",
        .product(name: "GRDB", package: "GRDB.swift"),
      ],
      path: "Benchmarks/Sources/ferry-bench"
    ),

    // Test scaffolding shared by every test target: subprocesses, emulators, throwaway stores.
    .target(name: "FerryTesting", dependencies: ["FerryCore", "FerryStore"]),

    // A helper the streaming test runs as a child process, to measure a download's memory
    // alone. Not part of Ferry.
    .executableTarget(
      name: "ferry-download-probe",
      dependencies: [
        "FerryAWS", "FerryAWSSigning", .product(name: "Crypto", package: "swift-crypto"),
      ],
      path: "Tests/Support/ferry-download-probe"
    ),

    .testTarget(
      name: "FerryPolicyTests", dependencies: ["FerryPolicy", "FerryTesting"],
      // The script that creates the metric-shipping stack in the emulator (python3, boto3).
      exclude: ["Fixtures"]),
    .testTarget(
      name: "FerryAWSSigningTests", dependencies: ["FerryAWSSigning", "FerryTesting"],
      resources: [.copy("Resources")]
    ),
    .testTarget(
      name: "FerryAWSTests",
      dependencies: [
        "FerryAWS", "FerryPolicy", "FerryTesting", "ferry-download-probe",
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      resources: [.copy("Resources")]
    ),
    .testTarget(
      name: "FerryArchiveTests",
      dependencies: ["FerryArchive", "FerryBlocks", "FerryCore", "FerryIngest", "FerryTesting"]),
    .testTarget(
      name: "FerryMetricsTests", dependencies: ["FerryMetrics", "FerryCore", "FerryTesting"],
      exclude: ["Fixtures"]),
    .testTarget(
      name: "FerryIngestTests",
      dependencies: ["FerryIngest", "FerryCore", "FerryStore", "FerryTesting"]),
    .testTarget(
      name: "FerryStoreTests",
      dependencies: [
        "FerryStore", "FerryBlocks", "FerryCore", "FerryTesting",
        .product(name: "GRDB", package: "GRDB.swift"),
      ]),
    .testTarget(
      name: "FerryCoreTests",
      dependencies: ["FerryCore", "FerryPolicy", "FerryStore", "FerryTesting"]),
    .testTarget(
      name: "FerryBlocksTests", dependencies: ["FerryBlocks", "FerryCore", "FerryTesting"],
      // Blocks written by an older encoder, read by the tests from the source tree.
      exclude: ["Fixtures"]),
    .testTarget(
      name: "FerryServerTests",
      dependencies: [
        "FerryServer", "FerryCore", "FerryIngest", "FerryStore", "FerryTesting", "FerryPolicy",
        "FerryAWS", "FerryMetrics",
        "FerryAWSSigning",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      // The bucket generator the fetcher test runs (with python3 and boto3).
      exclude: ["Fixtures"]),
    .testTarget(
      name: "FerryCLITests",
      dependencies: ["ferry", "FerryPolicy", "FerryCore", "FerryStore", "FerryTesting"]),
  ],
  swiftLanguageModes: [.v6]
)
