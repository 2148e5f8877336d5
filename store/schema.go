package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// migrations is the ordered schema history. Migration i (0-based) brings
// the database from version i to version i+1; each runs in its own
// transaction together with the schema_version bump. Never edit or reorder
// a shipped migration: append a new one.
var migrations = [][]string{
	// 1: initial schema.
	{
		`CREATE TABLE incidents (
			id               INTEGER PRIMARY KEY AUTOINCREMENT,
			target           TEXT    NOT NULL,
			subject          TEXT    NOT NULL,
			code             TEXT    NOT NULL,
			severity         TEXT    NOT NULL,
			state            TEXT    NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
			title            TEXT    NOT NULL,
			finding          BLOB,
			first_seen       INTEGER,
			last_seen        INTEGER,
			fired_at         INTEGER,
			resolved_at      INTEGER,
			last_notified_at INTEGER,
			acked_at         INTEGER,
			seen             INTEGER NOT NULL DEFAULT 0,
			missed           INTEGER NOT NULL DEFAULT 0,
			acked_by         TEXT    NOT NULL DEFAULT '',
			group_ref        TEXT    NOT NULL DEFAULT ''
		)`,
		// At most one open (pending or firing) incident per key; resolved
		// ones stay as history.
		`CREATE UNIQUE INDEX incidents_open ON incidents (target, subject, code) WHERE state <> 'resolved'`,
		`CREATE INDEX incidents_target ON incidents (target, id)`,

		`CREATE TABLE outbox (
			id              INTEGER PRIMARY KEY AUTOINCREMENT,
			channel         TEXT    NOT NULL CHECK (channel <> ''),
			dest            TEXT    NOT NULL,
			ref             TEXT    NOT NULL,
			kind            TEXT    NOT NULL CHECK (kind IN ('post', 'edit')),
			payload         BLOB,
			attempts        INTEGER NOT NULL DEFAULT 0,
			next_attempt    INTEGER NOT NULL,
			created_at      INTEGER NOT NULL,
			last_attempt_at INTEGER,
			sent_at         INTEGER,
			ext_channel     TEXT    NOT NULL DEFAULT '',
			ext_id          TEXT    NOT NULL DEFAULT '',
			last_error      TEXT    NOT NULL DEFAULT '',
			dead            INTEGER NOT NULL DEFAULT 0
		)`,
		`CREATE INDEX outbox_due ON outbox (created_at, id) WHERE sent_at IS NULL AND dead = 0`,

		`CREATE TABLE notification_log (
			id          INTEGER PRIMARY KEY AUTOINCREMENT,
			outbox_id   INTEGER REFERENCES outbox (id) ON DELETE SET NULL,
			channel     TEXT    NOT NULL,
			dest        TEXT    NOT NULL,
			ref         TEXT    NOT NULL,
			kind        TEXT    NOT NULL,
			ext_channel TEXT    NOT NULL,
			ext_id      TEXT    NOT NULL,
			at          INTEGER NOT NULL
		)`,
		`CREATE INDEX notification_log_ref ON notification_log (channel, dest, ref, at)`,
		`CREATE INDEX notification_log_outbox ON notification_log (outbox_id)`,
		`CREATE INDEX notification_log_at ON notification_log (at)`,

		`CREATE TABLE silences (
			id         TEXT    PRIMARY KEY COLLATE NOCASE,
			target     TEXT    NOT NULL,
			subject    TEXT    NOT NULL,
			code       TEXT    NOT NULL,
			starts     INTEGER NOT NULL,
			ends       INTEGER NOT NULL,
			created_by TEXT    NOT NULL,
			comment    TEXT    NOT NULL,
			created_at INTEGER NOT NULL,
			CHECK (ends > starts)
		)`,
		`CREATE INDEX silences_ends ON silences (ends)`,

		`CREATE TABLE kv (
			key        TEXT    PRIMARY KEY,
			value      TEXT    NOT NULL,
			updated_at INTEGER NOT NULL
		)`,

		`CREATE TABLE audit (
			id           INTEGER PRIMARY KEY AUTOINCREMENT,
			at           INTEGER NOT NULL,
			actor        TEXT    NOT NULL,
			actor_name   TEXT    NOT NULL,
			surface      TEXT    NOT NULL,
			location     TEXT    NOT NULL,
			command      TEXT    NOT NULL,
			args         TEXT    NOT NULL,
			before_state BLOB,
			after_state  BLOB,
			outcome      TEXT    NOT NULL,
			error        TEXT    NOT NULL,
			duration_ns  INTEGER NOT NULL,
			backup_path  TEXT    NOT NULL
		)`,
		`CREATE INDEX audit_at ON audit (at)`,

		`CREATE TABLE pending (
			id       TEXT    PRIMARY KEY,
			actor    TEXT    NOT NULL CHECK (actor <> ''),
			surface  TEXT    NOT NULL,
			location TEXT    NOT NULL,
			command  TEXT    NOT NULL,
			args     TEXT    NOT NULL,
			preview  BLOB,
			created  INTEGER NOT NULL,
			expires  INTEGER NOT NULL,
			used     INTEGER NOT NULL DEFAULT 0
		)`,
		`CREATE INDEX pending_expires ON pending (expires)`,
	},
}

// migrate applies the missing migrations, one transaction each. Two
// processes opening a fresh file at once are fine: each step re-reads the
// version under the write lock.
func (s *Store) migrate(ctx context.Context) error {
	for {
		done, err := s.migrateStep(ctx)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

func (s *Store) migrateStep(ctx context.Context) (done bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var appID int64
		if err := tx.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
			return fmt.Errorf("read application_id: %w", err)
		}
		if appID != 0 && appID != applicationID {
			return fmt.Errorf("%w (SQLite application_id %#x)", ErrForeignDB, appID)
		}
		var hasVersion int
		if err := tx.QueryRowContext(ctx,
			`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'`).Scan(&hasVersion); err != nil {
			return fmt.Errorf("read schema: %w", err)
		}
		if hasVersion == 0 {
			var tables int
			if err := tx.QueryRowContext(ctx,
				`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`).Scan(&tables); err != nil {
				return fmt.Errorf("read schema: %w", err)
			}
			if tables > 0 {
				return fmt.Errorf("%w (it has %d tables and no schema_version; refusing to touch it)", ErrForeignDB, tables)
			}
			if _, err := tx.ExecContext(ctx, `CREATE TABLE schema_version (
				id         INTEGER PRIMARY KEY CHECK (id = 1),
				version    INTEGER NOT NULL,
				applied_at INTEGER NOT NULL
			)`); err != nil {
				return fmt.Errorf("create schema_version: %w", err)
			}
			if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
				return fmt.Errorf("set application_id: %w", err)
			}
		}
		var v int
		switch err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version WHERE id = 1`).Scan(&v); {
		case errors.Is(err, sql.ErrNoRows):
			v = 0
		case err != nil:
			return fmt.Errorf("read schema_version: %w", err)
		}
		switch {
		case v > len(migrations):
			return fmt.Errorf("%w: the file is at schema version %d, this build knows versions up to %d; upgrade openclaw-bot or use another store.path",
				ErrSchemaTooNew, v, len(migrations))
		case v < 0:
			return fmt.Errorf("invalid schema_version %d", v)
		case v == len(migrations):
			done = true
			return nil
		}
		for i, stmt := range migrations[v] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migration %d, statement %d: %w", v+1, i+1, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (id, version, applied_at) VALUES (1, ?, ?)
			ON CONFLICT (id) DO UPDATE SET version = excluded.version, applied_at = excluded.applied_at`,
			v+1, time.Now().UnixMilli()); err != nil {
			return fmt.Errorf("migration %d: record version: %w", v+1, err)
		}
		done = v+1 == len(migrations)
		return nil
	})
	return done, err
}
