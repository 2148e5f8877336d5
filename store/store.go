// Package store is openclaw-bot's own database (never OpenClaw's):
// incidents, the notification outbox and its delivery log, silences and
// maintenance windows, a small key/value table, the audit log of chat
// commands (with the paths of the backups a command took) and pending
// confirmations.
//
// Two databases hold it, behind the same API:
//
//   - SQLite (the default, zero config; Open): one file (modernc.org/sqlite,
//     pure Go) in WAL mode, so a second process (a CLI, `sqlite3`) can read
//     while `serve` writes. Multi-statement writes are transactions that
//     start with BEGIN IMMEDIATE; inside one process the single pooled
//     connection serializes writers, across processes SQLite's busy timeout
//     (5 s) does.
//   - PostgreSQL (OpenConfig with DriverPostgres, through pgx's
//     database/sql driver), which several bot processes can share: a pool of
//     connections, READ COMMITTED transactions whose read-then-write steps
//     lock the rows they read (SELECT … FOR UPDATE), and an outbox claim
//     that skips rows another process holds (FOR UPDATE SKIP LOCKED).
//
// One schema and one set of migrations serve both: store/migrations/*.sql,
// applied by goose (github.com/pressly/goose/v3); see migrate.go.
//
// Times are stored as unix milliseconds (UTC), NULL for the zero time, so
// SQL ordering and comparisons work; they come back as UTC with millisecond
// precision. Strings and byte slices round-trip exactly, including NUL
// bytes and invalid UTF-8 (PostgreSQL's text type holds neither: such
// strings are stored escaped there, see encodeText). Ids increase; on
// PostgreSQL a rolled-back insert still uses up its id (sequences are not
// transactional), so ids may have gaps there.
//
// The store never logs. What it holds is already secret-free (rendered
// chat messages, finding JSON, audit rows); an SQLite file is created 0600,
// and a PostgreSQL DSN's password never appears in an error.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors. Every error returned by this package is wrapped with
// "store: <operation>" context; test with errors.Is.
var (
	// ErrNotFound: no row with that id (incident, outbox item, audit entry,
	// pending confirmation).
	ErrNotFound = errors.New("not found")
	// ErrExpired: a pending confirmation is past its Expires.
	ErrExpired = errors.New("expired")
	// ErrUsed: a pending confirmation was already taken.
	ErrUsed = errors.New("already used")
	// ErrWrongActor: a pending confirmation belongs to someone else.
	ErrWrongActor = errors.New("requested by someone else")
	// ErrDuplicate: an incident with the same (target, subject, code) is
	// already open (pending or firing).
	ErrDuplicate = errors.New("an open incident with the same target, subject and code exists")
	// ErrResolved: AckIncident on a resolved incident.
	ErrResolved = errors.New("incident is resolved")
	// ErrSchemaTooNew: the database was migrated by a newer openclaw-bot.
	ErrSchemaTooNew = errors.New("database schema is newer than this openclaw-bot supports")
	// ErrForeignDB: the file (SQLite) or schema (PostgreSQL) holds a
	// database that is not openclaw-bot's (for example OpenClaw's own
	// state); it is left alone.
	ErrForeignDB = errors.New("not an openclaw-bot database")
)

// Drivers (Config.Driver; the config key store.driver).
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Config says which database to open.
type Config struct {
	// Driver is DriverSQLite ("" means it too) or DriverPostgres.
	Driver string
	// Path is the SQLite database file.
	Path string
	// DSN is the PostgreSQL connection string: a postgres:// URL or libpq
	// keyword=value pairs (search_path may pick the schema, e.g.
	// "…?search_path=openclaw_bot"). It is a secret: errors show it with
	// its password masked.
	DSN string
}

// PendingTTL is how long a pending confirmation is valid when AddPending is
// given no Expires (the contract: 2 minutes).
const PendingTTL = 2 * time.Minute

// Store is the bot's database. It is safe for concurrent use.
type Store struct {
	db   handle  // queries in the store's spelling, on raw
	raw  *sql.DB // the pool
	d    *dialect
	path string // SQLite
	name string // for errors: the path, or the redacted DSN
}

// OpenConfig opens the database c names and brings its schema up to date:
// Open for SQLite, openPostgres for PostgreSQL. Both refuse a database
// written by a newer openclaw-bot (ErrSchemaTooNew) and one that is not
// openclaw-bot's (ErrForeignDB).
func OpenConfig(ctx context.Context, c Config) (*Store, error) {
	switch c.Driver {
	case "", DriverSQLite:
		if c.DSN != "" {
			return nil, errors.New("store: open: a DSN is for the postgres driver; SQLite takes a path")
		}
		return Open(ctx, c.Path)
	case DriverPostgres:
		return openPostgres(ctx, c.DSN)
	}
	return nil, fmt.Errorf("store: open: unknown driver %q (want %s or %s)", c.Driver, DriverSQLite, DriverPostgres)
}

// Driver is DriverSQLite or DriverPostgres.
func (s *Store) Driver() string { return s.d.name }

// Path is the absolute path of the SQLite database file; "" on PostgreSQL.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error {
	if err := s.raw.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// tx runs fn in a write transaction and commits it when fn returns nil:
// BEGIN IMMEDIATE on SQLite (fn must only use tx: the pool has one
// connection), READ COMMITTED on PostgreSQL (a read that a write depends on
// takes its row lock: d.forUpdate).
func (s *Store) tx(ctx context.Context, fn func(tx handle) error) error {
	tx, err := s.raw.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(handle{q: tx, d: s.d}); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// insertID runs an INSERT … RETURNING id (both databases have RETURNING;
// pgx's database/sql driver has no LastInsertId).
func insertID(ctx context.Context, h handle, query string, args ...any) (int64, error) {
	var id int64
	err := h.QueryRowContext(ctx, query+" RETURNING id", args...).Scan(&id)
	return id, err
}

// ---- helpers ----

// msOrNil stores t as unix milliseconds, or NULL for the zero time.
func msOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// fromMs reads a column written by msOrNil.
func fromMs(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMilli(n.Int64).UTC()
}

// limitArg turns "limit <= 0 means all" into a LIMIT both databases take
// (SQLite's -1 is an error on PostgreSQL).
func limitArg(limit int) int64 {
	if limit <= 0 {
		return math.MaxInt64
	}
	return int64(limit)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// randomID returns n random bytes as lowercase base32 (8 chars per 5 bytes).
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return strings.ToLower(idEncoding.EncodeToString(b))
}

// encodeArgs stores a []string exactly (arbitrary bytes survive) and
// readably: each element Go-quoted, separated by one space, e.g.
// `"cooldown" "reset" "anthropic:default"`. nil and empty both encode to "".
func encodeArgs(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Quote(a))
	}
	return b.String()
}

func decodeArgs(s string) ([]string, error) {
	var out []string
	for s != "" {
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return nil, fmt.Errorf("corrupt args column: %w", err)
		}
		v, err := strconv.Unquote(q)
		if err != nil {
			return nil, fmt.Errorf("corrupt args column: %w", err)
		}
		out = append(out, v)
		s = strings.TrimPrefix(s[len(q):], " ")
	}
	return out, nil
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// queryAll runs query and scans every row with scan.
func queryAll[T any](ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*rows, error)
}, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
