package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/openclaw-bot/openclaw-bot/internal/pgdsn"
)

// pgMarker is the comment on schema_version that marks a PostgreSQL schema
// as openclaw-bot's (SQLite's counterpart is the application_id).
const pgMarker = "openclaw-bot store (application_id 0x6f63626f)"

// pgMigrationLockKey is the advisory lock that serializes migrations of one
// database between processes ("ocbomigr").
const pgMigrationLockKey int64 = 0x6f63626f6d696772

// openPostgres opens the PostgreSQL database dsn names and brings its
// schema (in the first schema of search_path) up to date.
func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	name := "postgres " + pgdsn.Redact(dsn)
	fail := func(err error) (*Store, error) {
		return nil, redactErr(fmt.Errorf("store: open %s: %w", name, err), dsn)
	}
	if err := pgdsn.Check(dsn); err != nil {
		return nil, fmt.Errorf("store: open postgres: the DSN does not parse: %v", err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return fail(err)
	}
	// Several processes share the database: a small pool each. Idle
	// connections are closed after a while so that a fleet does not keep
	// max_connections busy.
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)
	s := &Store{db: handle{q: db, d: pgDialect}, raw: db, d: pgDialect, name: name}
	if err := s.initPostgres(ctx); err != nil {
		_ = db.Close()
		return fail(err)
	}
	return s, nil
}

func (s *Store) initPostgres(ctx context.Context) error {
	var enc string
	if err := s.raw.QueryRowContext(ctx, "SHOW server_encoding").Scan(&enc); err != nil {
		return err
	}
	// Text goes in and out as UTF-8 (pgx's client_encoding); a database in
	// another encoding would refuse or mangle what does not fit it.
	if enc != "UTF8" && enc != "SQL_ASCII" {
		return fmt.Errorf("the database's encoding is %s; openclaw-bot needs UTF8 (CREATE DATABASE … ENCODING 'UTF8' TEMPLATE template0)", enc)
	}
	return s.migrate(ctx)
}

// pgBootstrap is migrate's first step on PostgreSQL, in its transaction:
// refuse a schema that holds tables but not openclaw-bot's marked
// schema_version, and claim an empty one by creating it.
func pgBootstrap(ctx context.Context, tx *sql.Tx) error {
	var schema sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return err
	}
	if !schema.Valid {
		return errors.New("search_path names no existing schema; create the schema (CREATE SCHEMA …) or fix search_path in store.dsn")
	}
	var tables int
	var marker sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()),
		(SELECT obj_description(c.oid, 'pg_class') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		  WHERE n.nspname = current_schema() AND c.relname = 'schema_version' AND c.relkind = 'r')`).Scan(&tables, &marker); err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	switch {
	case marker.Valid && marker.String == pgMarker:
		return nil
	case tables > 0:
		return fmt.Errorf("%w (schema %q has %d tables and no schema_version marked as openclaw-bot's; refusing to touch it: give the bot its own database, or its own schema with search_path)",
			ErrForeignDB, schema.String, tables)
	}
	if _, err := tx.ExecContext(ctx, schemaVersionDDL); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `COMMENT ON TABLE schema_version IS '`+pgMarker+`'`); err != nil {
		return fmt.Errorf("mark schema_version: %w", err)
	}
	return nil
}

func pgTableExists(ctx context.Context, tx *sql.Tx, table string) (bool, error) {
	var ok bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1)`, table).Scan(&ok)
	return ok, err
}

// pgMigrationLock serializes migrations between processes: a session
// advisory lock, held on a connection of its own until unlock.
func pgMigrationLock(ctx context.Context, db *sql.DB) (unlock func(), err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, pgMigrationLockKey); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	return func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, pgMigrationLockKey)
		_ = conn.Close()
	}, nil
}

// redactErr masks dsn's password wherever it appears in err's text (pgx
// does not put it there, but a driver message quoting the connection string
// must not leak it either). errors.Is and errors.As still see err.
func redactErr(err error, dsn string) error {
	pw := pgdsn.Password(dsn)
	if err == nil || pw == "" || !strings.Contains(err.Error(), pw) {
		return err
	}
	return &redacted{err: err, msg: strings.ReplaceAll(err.Error(), pw, pgdsn.Mask)}
}

type redacted struct {
	err error
	msg string
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }
