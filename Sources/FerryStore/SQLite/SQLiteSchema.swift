import GRDB

/// The SQLite schema, one named migration per version, in order.
enum SQLiteSchema {
  static var versions: Int { migrations.count }

  static let migrations: [(String, String)] = [
    (
      "v1-initial",
      """
      CREATE TABLE accounts (id TEXT PRIMARY KEY, name TEXT NOT NULL, external_id TEXT NOT NULL UNIQUE,
        retention_days INTEGER NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE connections (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
        purpose TEXT NOT NULL, bucket TEXT NOT NULL, region TEXT NOT NULL, prefix TEXT NOT NULL, role_arn TEXT NOT NULL,
        external_id TEXT NOT NULL, legacy INTEGER NOT NULL, created_at INTEGER NOT NULL);
      CREATE INDEX connections_account ON connections(account_id);
      CREATE TABLE ledger (account_id TEXT NOT NULL, fetcher_id TEXT NOT NULL, key TEXT NOT NULL, etag TEXT NOT NULL,
        version_id TEXT, size INTEGER NOT NULL, state TEXT NOT NULL, events INTEGER NOT NULL, byte_offset INTEGER NOT NULL,
        error TEXT, attempts INTEGER NOT NULL, updated_at INTEGER NOT NULL,
        PRIMARY KEY (account_id, fetcher_id, key, etag));
      CREATE TABLE events (id INTEGER PRIMARY KEY, account_id TEXT NOT NULL, fetcher_id TEXT NOT NULL,
        log_type TEXT NOT NULL CHECK (log_type <> ''), time INTEGER NOT NULL, source_key TEXT NOT NULL,
        source_offset INTEGER NOT NULL,
        message TEXT NOT NULL, fields TEXT NOT NULL, search_text TEXT NOT NULL);
      CREATE INDEX events_account_time ON events(account_id, time DESC, id DESC);
      CREATE VIRTUAL TABLE events_fts USING fts5(search_text, content='events', content_rowid='id',
        tokenize='unicode61 remove_diacritics 0');
      CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN
        INSERT INTO events_fts(rowid, search_text) VALUES (new.id, new.search_text);
      END;
      CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
        INSERT INTO events_fts(events_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
      END;
      CREATE TABLE audit_log (id INTEGER PRIMARY KEY, account_id TEXT NOT NULL, actor TEXT NOT NULL,
        action TEXT NOT NULL, target TEXT NOT NULL, before TEXT, after TEXT, at INTEGER NOT NULL);
      CREATE INDEX audit_account ON audit_log(account_id, id);
      CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL, version INTEGER NOT NULL);
      """
    ),
    (
      "v2-users-and-tokens",
      """
      CREATE TABLE users (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id), email TEXT NOT NULL,
        role TEXT NOT NULL, created_at INTEGER NOT NULL, UNIQUE (account_id, email));
      CREATE TABLE api_tokens (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id), name TEXT NOT NULL,
        role TEXT NOT NULL, secret_hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL);
      """
    ),
    (
      "v3-fetchers-archives-restores",
      """
      CREATE TABLE fetchers (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
        connection_id TEXT NOT NULL REFERENCES connections(id), name TEXT NOT NULL, body TEXT NOT NULL,
        created_at INTEGER NOT NULL, UNIQUE (account_id, name));
      CREATE INDEX fetchers_connection ON fetchers(connection_id);
      CREATE TABLE archives (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
        connection_id TEXT NOT NULL REFERENCES connections(id), name TEXT NOT NULL, body TEXT NOT NULL,
        created_at INTEGER NOT NULL, UNIQUE (account_id, name));
      CREATE INDEX archives_connection ON archives(connection_id);
      CREATE TABLE restore_jobs (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
        archive_id TEXT NOT NULL REFERENCES archives(id), state TEXT NOT NULL, body TEXT NOT NULL,
        created_at INTEGER NOT NULL);
      CREATE INDEX restore_jobs_account ON restore_jobs(account_id, created_at DESC, id DESC);
      CREATE INDEX restore_jobs_archive ON restore_jobs(archive_id, state);
      """
    ),
    (
      "v4-events-natural-key",
      """
      ALTER TABLE events ADD COLUMN source_etag TEXT NOT NULL DEFAULT '';
      UPDATE events SET source_etag = 'before-v4-' || id;
      CREATE UNIQUE INDEX events_natural_key ON events(account_id, fetcher_id, source_key, source_etag, source_offset);
      """
    ),
    (
      "v5-connection-checks-operators-members",
      """
      ALTER TABLE connections ADD COLUMN bucket_owner TEXT NOT NULL DEFAULT '';
      ALTER TABLE connections ADD COLUMN kms_key_arn TEXT;
      ALTER TABLE api_tokens ADD COLUMN operator INTEGER NOT NULL DEFAULT 0;
      UPDATE users SET role = 'member' WHERE role = 'viewer';
      UPDATE api_tokens SET role = 'member' WHERE role = 'viewer';
      CREATE TABLE connection_checks (connection_id TEXT PRIMARY KEY REFERENCES connections(id),
        account_id TEXT NOT NULL, state TEXT NOT NULL, checked_at INTEGER NOT NULL, body TEXT NOT NULL);
      CREATE INDEX connection_checks_account ON connection_checks(account_id);
      """
    ),
    (
      "v6-event-blocks",
      """
      CREATE TABLE event_blocks (id INTEGER PRIMARY KEY, account_id TEXT NOT NULL, fetcher_id TEXT NOT NULL,
        source_key TEXT NOT NULL, source_etag TEXT NOT NULL, first_offset INTEGER NOT NULL,
        min_time INTEGER NOT NULL, max_time INTEGER NOT NULL, event_count INTEGER NOT NULL, raw_bytes INTEGER NOT NULL,
        UNIQUE (account_id, fetcher_id, source_key, source_etag, first_offset));
      CREATE INDEX event_blocks_time ON event_blocks(account_id, max_time DESC, min_time);
      CREATE TABLE event_block_filters (block_id INTEGER PRIMARY KEY REFERENCES event_blocks(id), filter BLOB NOT NULL);
      CREATE TABLE event_block_data (block_id INTEGER PRIMARY KEY REFERENCES event_blocks(id), data BLOB NOT NULL);
      """
    ),
    (
      "v7-web-sessions",
      """
      CREATE TABLE web_sessions (secret_hash TEXT PRIMARY KEY, kind TEXT NOT NULL, principal_id TEXT NOT NULL,
        account_id TEXT NOT NULL REFERENCES accounts(id), created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
      CREATE INDEX web_sessions_expiry ON web_sessions(expires_at);
      ALTER TABLE users ADD COLUMN password_hash TEXT;
      ALTER TABLE users ADD COLUMN invite_hash TEXT;
      ALTER TABLE users ADD COLUMN invite_expires_at INTEGER;
      CREATE UNIQUE INDEX users_invite ON users(invite_hash) WHERE invite_hash IS NOT NULL;
      """
    ),
    (
      "v8-archive-progress",
      """
      CREATE TABLE archive_batches (archive_id TEXT NOT NULL REFERENCES archives(id), sequence INTEGER NOT NULL,
        account_id TEXT NOT NULL, state TEXT NOT NULL, block_ids TEXT NOT NULL, objects INTEGER NOT NULL DEFAULT 0,
        events INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0, started_at INTEGER NOT NULL,
        finished_at INTEGER, PRIMARY KEY (archive_id, sequence));
      CREATE TABLE archived_blocks (archive_id TEXT NOT NULL REFERENCES archives(id), block_id INTEGER NOT NULL,
        PRIMARY KEY (archive_id, block_id));
      CREATE INDEX archived_blocks_block ON archived_blocks(block_id);
      CREATE TABLE archive_runs (archive_id TEXT PRIMARY KEY REFERENCES archives(id), last_error TEXT,
        last_run_at INTEGER NOT NULL);
      """
    ),
    (
      "v9-restores",
      """
      ALTER TABLE event_blocks ADD COLUMN restore_job_id TEXT;
      ALTER TABLE event_blocks ADD COLUMN expires_at INTEGER;
      CREATE INDEX event_blocks_restore ON event_blocks(restore_job_id) WHERE restore_job_id IS NOT NULL;
      CREATE INDEX event_blocks_expiry ON event_blocks(account_id, expires_at) WHERE expires_at IS NOT NULL;
      CREATE TABLE restore_objects (job_id TEXT NOT NULL REFERENCES restore_jobs(id), key TEXT NOT NULL,
        state TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (job_id, key));
      CREATE INDEX restore_objects_state ON restore_objects(job_id, state, key);
      """
    ),
    (
      "v10-migrations",
      """
      CREATE TABLE migrations (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
        role_arn TEXT NOT NULL, switched_at INTEGER NOT NULL, body TEXT NOT NULL);
      CREATE INDEX migrations_account ON migrations(account_id, switched_at);
      CREATE INDEX connections_role ON connections(role_arn);
      """
    ),
    (
      "v11-reprocess-requests",
      """
      CREATE TABLE reprocess_requests (id INTEGER PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
        fetcher_id TEXT NOT NULL, from_key TEXT NOT NULL, to_key TEXT NOT NULL, requested_at INTEGER NOT NULL);
      CREATE INDEX reprocess_requests_fetcher ON reprocess_requests(account_id, fetcher_id, id);
      CREATE INDEX event_blocks_source ON event_blocks(account_id, fetcher_id, source_key);
      """
    ),
    (
      "v12-user-lifecycle",
      """
      ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
      """
    ),
    (
      "v13-archived-spans",
      """
      CREATE TABLE archived_spans (archive_id TEXT NOT NULL REFERENCES archives(id), account_id TEXT NOT NULL,
        fetcher_id TEXT NOT NULL, source_key TEXT NOT NULL, source_etag TEXT NOT NULL,
        from_offset INTEGER NOT NULL, to_offset INTEGER NOT NULL,
        PRIMARY KEY (archive_id, fetcher_id, source_key, source_etag, from_offset));
      CREATE INDEX archived_spans_key ON archived_spans(archive_id, account_id, source_key);
      """
    ),
    (
      "v14-archive-waiting",
      """
      CREATE TABLE archive_waiting (archive_id TEXT PRIMARY KEY REFERENCES archives(id), since INTEGER NOT NULL);
      """
    ),
    (
      "v15-metrics",
      """
      CREATE TABLE metric_keys (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
        name TEXT NOT NULL, secret_hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, last_used_at INTEGER);
      CREATE INDEX metric_keys_account ON metric_keys(account_id);
      CREATE TABLE metric_series (id INTEGER PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
        namespace TEXT NOT NULL, metric_name TEXT NOT NULL, dimensions TEXT NOT NULL, unit TEXT NOT NULL,
        first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL,
        UNIQUE (account_id, namespace, metric_name, dimensions, unit));
      CREATE TABLE metric_points (series_id INTEGER NOT NULL REFERENCES metric_series(id), start_ms INTEGER NOT NULL,
        period INTEGER NOT NULL, count REAL NOT NULL, sum REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL,
        statistics TEXT, PRIMARY KEY (series_id, start_ms)) WITHOUT ROWID;
      CREATE TABLE metric_deliveries (account_id TEXT NOT NULL REFERENCES accounts(id), request_id TEXT NOT NULL,
        key_id TEXT NOT NULL, received_at INTEGER NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (account_id, request_id));
      CREATE INDEX metric_deliveries_time ON metric_deliveries(account_id, received_at);
      """
    ),
  ]

  /// Work a migration does in Swift after its SQL, in the same transaction.
  static let conversions: [String: @Sendable (Database) throws -> Void] = [
    "v6-event-blocks": SQLiteBlocks.convertEventRows
  ]

  /// Where a database's schema stands against this Ferry's migrations.
  enum State: Equatable {
    case current
    case behind
    case tooNew(applied: Int)
  }

  /// Reads the schema's state without writing (works on a read-only database).
  static func state(_ db: Database) throws -> State {
    guard try db.tableExists("grdb_migrations") else { return .behind }
    let migrator = self.migrator
    if try migrator.hasBeenSuperseded(db) {
      return .tooNew(applied: try migrator.appliedIdentifiers(db).count)
    }
    return try migrator.hasCompletedMigrations(db) ? .current : .behind
  }

  static var migrator: DatabaseMigrator {
    var migrator = DatabaseMigrator()
    for (name, sql) in migrations {
      migrator.registerMigration(name) { db in
        try db.execute(sql: sql)
        try conversions[name]?(db)
      }
    }
    return migrator
  }
}
