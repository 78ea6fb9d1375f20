import Logging
import PostgresNIO

/// The PostgreSQL schema, one migration per version, in order; recorded in `ferry_schema`.
enum PostgresSchema {
  /// Each migration is a list of statements, run in order in one transaction (the
  /// extended protocol takes one statement per query; statements are listed, never split
  /// from a text, so a `;` inside one is safe).
  static let migrations: [(name: String, statements: [String])] = [
    (
      "v1-initial",
      [
        """
        CREATE TABLE accounts (id TEXT PRIMARY KEY, name TEXT NOT NULL, external_id TEXT NOT NULL UNIQUE,
        retention_days INT NOT NULL, created_at BIGINT NOT NULL)
        """,
        """
        CREATE TABLE connections (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
        purpose TEXT NOT NULL, bucket TEXT NOT NULL, region TEXT NOT NULL, prefix TEXT NOT NULL, role_arn TEXT NOT NULL,
        external_id TEXT NOT NULL, legacy BOOLEAN NOT NULL, created_at BIGINT NOT NULL)
        """,
        """
        CREATE INDEX connections_account ON connections(account_id)
        """,
        """
        CREATE TABLE ledger (account_id TEXT NOT NULL, fetcher_id TEXT NOT NULL, key TEXT NOT NULL, etag TEXT NOT NULL,
        version_id TEXT, size BIGINT NOT NULL, state TEXT NOT NULL, events INT NOT NULL, byte_offset BIGINT NOT NULL,
        error TEXT, attempts INT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (account_id, fetcher_id, key, etag))
        """,
        """
        CREATE TABLE events (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, account_id TEXT NOT NULL,
        fetcher_id TEXT NOT NULL, log_type TEXT NOT NULL CHECK (log_type <> ''), time BIGINT NOT NULL, source_key TEXT NOT NULL,
        source_offset BIGINT NOT NULL, message TEXT NOT NULL, fields JSONB NOT NULL, search TSVECTOR NOT NULL)
        """,
        """
        CREATE INDEX events_account_time ON events(account_id, time DESC, id DESC)
        """,
        """
        CREATE INDEX events_search ON events USING GIN (search)
        """,
        """
        CREATE TABLE audit_log (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, account_id TEXT NOT NULL,
        actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, before TEXT, after TEXT, at BIGINT NOT NULL)
        """,
        """
        CREATE INDEX audit_account ON audit_log(account_id, id)
        """,
        """
        CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at BIGINT NOT NULL, version BIGINT NOT NULL)
        """,
      ]
    ),
    (
      "v2-users-and-tokens",
      [
        """
        CREATE TABLE users (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id), email TEXT NOT NULL,
        role TEXT NOT NULL, created_at BIGINT NOT NULL, UNIQUE (account_id, email))
        """,
        """
        CREATE TABLE api_tokens (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id), name TEXT NOT NULL,
        role TEXT NOT NULL, secret_hash TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL)
        """,
      ]
    ),
    (
      "v3-fetchers-archives-restores",
      [
        """
        CREATE TABLE fetchers (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
        connection_id TEXT NOT NULL REFERENCES connections(id), name TEXT NOT NULL, body TEXT NOT NULL,
        created_at BIGINT NOT NULL, UNIQUE (account_id, name))
        """,
        """
        CREATE INDEX fetchers_connection ON fetchers(connection_id)
        """,
        """
        CREATE TABLE archives (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
        connection_id TEXT NOT NULL REFERENCES connections(id), name TEXT NOT NULL, body TEXT NOT NULL,
        created_at BIGINT NOT NULL, UNIQUE (account_id, name))
        """,
        """
        CREATE INDEX archives_connection ON archives(connection_id)
        """,
        """
        CREATE TABLE restore_jobs (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
        archive_id TEXT NOT NULL REFERENCES archives(id), state TEXT NOT NULL, body TEXT NOT NULL,
        created_at BIGINT NOT NULL)
        """,
        """
        CREATE INDEX restore_jobs_account ON restore_jobs(account_id, created_at DESC, id DESC)
        """,
        """
        CREATE INDEX restore_jobs_archive ON restore_jobs(archive_id, state)
        """,
      ]
    ),
    (
      "v4-events-natural-key",
      [
        """
        ALTER TABLE events ADD COLUMN source_etag TEXT NOT NULL DEFAULT ''
        """,
        """
        UPDATE events SET source_etag = 'before-v4-' || id
        """,
        """
        CREATE UNIQUE INDEX events_natural_key ON events(account_id, fetcher_id, source_key, source_etag, source_offset)
        """,
      ]
    ),
    (
      "v5-connection-checks-operators-members",
      [
        "ALTER TABLE connections ADD COLUMN bucket_owner TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE connections ADD COLUMN kms_key_arn TEXT",
        "ALTER TABLE api_tokens ADD COLUMN operator BOOLEAN NOT NULL DEFAULT false",
        "UPDATE users SET role = 'member' WHERE role = 'viewer'",
        "UPDATE api_tokens SET role = 'member' WHERE role = 'viewer'",
        """
        CREATE TABLE connection_checks (connection_id TEXT PRIMARY KEY REFERENCES connections(id),
        account_id TEXT NOT NULL, state TEXT NOT NULL, checked_at BIGINT NOT NULL, body TEXT NOT NULL)
        """,
        "CREATE INDEX connection_checks_account ON connection_checks(account_id)",
      ]
    ),
    (
      "v6-event-blocks",
      [
        """
        CREATE TABLE event_blocks (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, account_id TEXT NOT NULL,
        fetcher_id TEXT NOT NULL, source_key TEXT NOT NULL, source_etag TEXT NOT NULL, first_offset BIGINT NOT NULL,
        min_time BIGINT NOT NULL, max_time BIGINT NOT NULL, event_count INT NOT NULL, raw_bytes INT NOT NULL,
        UNIQUE (account_id, fetcher_id, source_key, source_etag, first_offset))
        """,
        "CREATE INDEX event_blocks_time ON event_blocks(account_id, max_time DESC, min_time)",
        """
        CREATE TABLE event_block_filters (block_id BIGINT PRIMARY KEY REFERENCES event_blocks(id), filter BYTEA NOT NULL)
        """,
        """
        CREATE TABLE event_block_data (block_id BIGINT PRIMARY KEY REFERENCES event_blocks(id), data BYTEA NOT NULL)
        """,
        "ALTER TABLE event_block_data ALTER COLUMN data SET STORAGE EXTERNAL",
      ]
    ),
    (
      "v7-web-sessions",
      [
        """
        CREATE TABLE web_sessions (secret_hash TEXT PRIMARY KEY, kind TEXT NOT NULL, principal_id TEXT NOT NULL,
        account_id TEXT NOT NULL REFERENCES accounts(id), created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)
        """,
        "CREATE INDEX web_sessions_expiry ON web_sessions(expires_at)",
        "ALTER TABLE users ADD COLUMN password_hash TEXT",
        "ALTER TABLE users ADD COLUMN invite_hash TEXT",
        "ALTER TABLE users ADD COLUMN invite_expires_at BIGINT",
        "CREATE UNIQUE INDEX users_invite ON users(invite_hash) WHERE invite_hash IS NOT NULL",
      ]
    ),
    (
      "v8-archive-progress",
      [
        """
        CREATE TABLE archive_batches (archive_id TEXT NOT NULL REFERENCES archives(id), sequence INT NOT NULL,
        account_id TEXT NOT NULL, state TEXT NOT NULL, block_ids TEXT NOT NULL, objects INT NOT NULL DEFAULT 0,
        events BIGINT NOT NULL DEFAULT 0, bytes BIGINT NOT NULL DEFAULT 0, started_at BIGINT NOT NULL,
        finished_at BIGINT, PRIMARY KEY (archive_id, sequence))
        """,
        """
        CREATE TABLE archived_blocks (archive_id TEXT NOT NULL REFERENCES archives(id), block_id BIGINT NOT NULL,
        PRIMARY KEY (archive_id, block_id))
        """,
        "CREATE INDEX archived_blocks_block ON archived_blocks(block_id)",
        """
        CREATE TABLE archive_runs (archive_id TEXT PRIMARY KEY REFERENCES archives(id), last_error TEXT,
        last_run_at BIGINT NOT NULL)
        """,
      ]
    ),
    (
      "v9-restores",
      [
        "ALTER TABLE event_blocks ADD COLUMN restore_job_id TEXT",
        "ALTER TABLE event_blocks ADD COLUMN expires_at BIGINT",
        "CREATE INDEX event_blocks_restore ON event_blocks(restore_job_id) WHERE restore_job_id IS NOT NULL",
        "CREATE INDEX event_blocks_expiry ON event_blocks(account_id, expires_at) WHERE expires_at IS NOT NULL",
        """
        CREATE TABLE restore_objects (job_id TEXT NOT NULL REFERENCES restore_jobs(id), key TEXT NOT NULL,
        state TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (job_id, key))
        """,
        "CREATE INDEX restore_objects_state ON restore_objects(job_id, state, key)",
      ]
    ),
    (
      "v10-migrations",
      [
        """
        CREATE TABLE migrations (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
        role_arn TEXT NOT NULL, switched_at BIGINT NOT NULL, body TEXT NOT NULL)
        """,
        "CREATE INDEX migrations_account ON migrations(account_id, switched_at)",
        "CREATE INDEX connections_role ON connections(role_arn)",
      ]
    ),
    (
      "v11-reprocess-requests",
      [
        """
        CREATE TABLE reprocess_requests (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id), fetcher_id TEXT NOT NULL,
        from_key TEXT NOT NULL, to_key TEXT NOT NULL, requested_at BIGINT NOT NULL)
        """,
        "CREATE INDEX reprocess_requests_fetcher ON reprocess_requests(account_id, fetcher_id, id)",
        "CREATE INDEX event_blocks_source ON event_blocks(account_id, fetcher_id, source_key COLLATE \"C\")",
      ]
    ),
    (
      "v12-user-lifecycle",
      ["ALTER TABLE users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE"]
    ),
    (
      "v13-archived-spans",
      [
        """
        CREATE TABLE archived_spans (archive_id TEXT NOT NULL REFERENCES archives(id),
        account_id TEXT NOT NULL, fetcher_id TEXT NOT NULL, source_key TEXT NOT NULL,
        source_etag TEXT NOT NULL, from_offset BIGINT NOT NULL, to_offset BIGINT NOT NULL,
        PRIMARY KEY (archive_id, fetcher_id, source_key, source_etag, from_offset))
        """,
        "CREATE INDEX archived_spans_key ON archived_spans(archive_id, account_id, source_key)",
      ]
    ),
    (
      "v14-archive-waiting",
      [
        """
        CREATE TABLE archive_waiting (archive_id TEXT PRIMARY KEY REFERENCES archives(id),
        since BIGINT NOT NULL)
        """
      ]
    ),
    (
      "v15-metrics",
      [
        """
        CREATE TABLE metric_keys (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
        name TEXT NOT NULL, secret_hash TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL, last_used_at BIGINT)
        """,
        "CREATE INDEX metric_keys_account ON metric_keys(account_id)",
        """
        CREATE TABLE metric_series (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id), namespace TEXT NOT NULL, metric_name TEXT NOT NULL,
        dimensions TEXT NOT NULL, unit TEXT NOT NULL, first_ms BIGINT NOT NULL, last_ms BIGINT NOT NULL,
        UNIQUE (account_id, namespace, metric_name, dimensions, unit))
        """,
        """
        CREATE TABLE metric_points (series_id BIGINT NOT NULL REFERENCES metric_series(id),
        start_ms BIGINT NOT NULL, period INT NOT NULL, count DOUBLE PRECISION NOT NULL,
        sum DOUBLE PRECISION NOT NULL, min DOUBLE PRECISION NOT NULL, max DOUBLE PRECISION NOT NULL,
        statistics TEXT, PRIMARY KEY (series_id, start_ms))
        """,
        """
        CREATE TABLE metric_deliveries (account_id TEXT NOT NULL REFERENCES accounts(id),
        request_id TEXT NOT NULL, key_id TEXT NOT NULL, received_at BIGINT NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (account_id, request_id))
        """,
        "CREATE INDEX metric_deliveries_time ON metric_deliveries(account_id, received_at)",
      ]
    ),
  ]

  /// Work a migration does in Swift after its statements, in the same transaction.
  static func convert(_ name: String, _ tx: PostgresConnection, logger: Logger) async throws {
    if name == "v6-event-blocks" { try await PostgresBlocks.convertEventRows(tx, logger: logger) }
  }
}
