// Package store is openclaw-bot's own embedded database (never OpenClaw's):
// incidents, the notification outbox and its delivery log, silences and
// maintenance windows, a small key/value table, the audit log of chat
// commands and pending confirmations.
//
// It is one SQLite file (modernc.org/sqlite, pure Go) in WAL mode, so a
// second process (a CLI, `sqlite3`) can read while `serve` writes.
// Multi-statement writes are transactions that start with BEGIN IMMEDIATE;
// inside one process the single pooled connection serializes writers,
// across processes SQLite's busy timeout (5 s) does.
//
// Times are stored as unix milliseconds (UTC), NULL for the zero time, so
// SQL ordering and comparisons work; they come back as UTC with millisecond
// precision. Strings and byte slices round-trip exactly (including NUL
// bytes and invalid UTF-8).
//
// The store never logs. What it holds is already secret-free (rendered
// chat messages, finding JSON, audit rows), and it is created 0600.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
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
	// ErrForeignDB: the file is an SQLite database that is not
	// openclaw-bot's (for example OpenClaw's own state); it is left alone.
	ErrForeignDB = errors.New("not an openclaw-bot database")
)

// applicationID is written to the SQLite header (PRAGMA application_id) so
// that the bot recognises its own file and refuses anybody else's: "ocbo".
const applicationID = 0x6f63626f

// PendingTTL is how long a pending confirmation is valid when AddPending is
// given no Expires (the contract: 2 minutes).
const PendingTTL = 2 * time.Minute

// Store is the bot's database. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
}

// Open opens (creating if needed) the database at path and brings its schema
// up to date. A new file is created 0600 and missing parent directories
// 0700; an existing file's mode is left as it is. Open refuses a database
// written by a newer openclaw-bot (ErrSchemaTooNew) and an SQLite file that
// is not openclaw-bot's (ErrForeignDB). Opening the same file again, from
// this or another process, is fine: WAL readers never block, writers wait
// up to the busy timeout.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: open: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("store: open %s: create directory: %w", abs, err)
	}
	// Create the file ourselves so that it gets 0600; SQLite gives its
	// -wal and -shm files the same mode as the database file.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() > 0 {
		err = preflight(ctx, f, abs)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}

	db, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	// One connection: writers are serialized in-process, and the pragmas
	// of the DSN apply to the only connection there is.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)

	s := &Store{db: db, path: abs}
	if err := s.initRetrying(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	return s, nil
}

// initRetrying is init, tried again for a while when SQLite says the file
// is busy. Switching a fresh file to WAL needs an exclusive lock, and SQLite
// answers SQLITE_BUSY at once (without the busy handler, to avoid a
// deadlock) when another process holds a lock meanwhile: several processes
// opening one new store at the same moment (seen in tests) must all get in.
func (s *Store) initRetrying(ctx context.Context) error {
	const patience = 10 * time.Second
	deadline := time.Now().Add(patience)
	wait := 5 * time.Millisecond
	for {
		err := s.init(ctx)
		if err == nil || !isBusy(err) || time.Now().Add(wait).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// isBusy reports SQLITE_BUSY (any extended code).
func isBusy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

// preflight makes sure an existing file is openclaw-bot's before the real
// connection switches it to WAL (which would rewrite the header of, say,
// OpenClaw's own database). It reads the SQLite header; when the header
// carries no application_id (a file whose first transaction is still only in
// the WAL, or somebody else's database) it looks at the schema through a
// query_only connection.
func preflight(ctx context.Context, f *os.File, abs string) error {
	hdr := make([]byte, 100)
	if _, err := io.ReadFull(f, hdr); err != nil || string(hdr[:16]) != "SQLite format 3\x00" {
		return fmt.Errorf("%w: not an SQLite database file", ErrForeignDB)
	}
	switch id := binary.BigEndian.Uint32(hdr[68:72]); id {
	case applicationID:
		return nil
	case 0:
	default:
		return fmt.Errorf("%w (SQLite application_id %#x)", ErrForeignDB, id)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "query_only(1)")
	u.RawQuery = q.Encode()
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return err
	}
	defer db.Close()
	var tables, ours int
	err = db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(name = 'schema_version'), 0) FROM sqlite_schema
		WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`).Scan(&tables, &ours)
	if err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	if tables > 0 && ours == 0 {
		return fmt.Errorf("%w (it has %d tables and no schema_version; refusing to touch it)", ErrForeignDB, tables)
	}
	return nil
}

// dsn is the modernc.org/sqlite DSN for path (see go-libraries.md §6).
func dsn(abs string) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	q := url.Values{}
	// busy_timeout first: the pragmas run in this order, and switching a
	// fresh file to WAL while another process migrates it must wait, not
	// fail at once with SQLITE_BUSY (seen with four concurrent opens).
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	u.RawQuery = q.Encode()
	return u.String()
}

// Path is the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

func (s *Store) init(ctx context.Context) error {
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal_mode is %q, not wal (is the file on a filesystem without shared memory, such as NFS?)", mode)
	}
	return s.migrate(ctx)
}

// tx runs fn in a write transaction (BEGIN IMMEDIATE) and commits it when
// fn returns nil. fn must only use tx: the pool has one connection.
func (s *Store) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
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

// limitArg turns "limit <= 0 means all" into SQLite's LIMIT -1.
func limitArg(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func isUnique(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && (e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
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
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
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
