package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// applicationID is written to the SQLite header (PRAGMA application_id) so
// that the bot recognises its own file and refuses anybody else's: "ocbo".
const applicationID = 0x6f63626f

// Open opens (creating if needed) the SQLite database at path and brings its
// schema up to date. A new file is created 0600 and missing parent
// directories 0700; an existing file's mode is left as it is. Open refuses a
// database written by a newer openclaw-bot (ErrSchemaTooNew) and an SQLite
// file that is not openclaw-bot's (ErrForeignDB). Opening the same file
// again, from this or another process, is fine: WAL readers never block,
// writers wait up to the busy timeout.
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

	db, err := sql.Open("sqlite", sqliteDSN(abs))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	// One connection: writers are serialized in-process, and the pragmas
	// of the DSN apply to the only connection there is.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)

	s := &Store{db: handle{q: db, d: sqliteDialect}, raw: db, d: sqliteDialect, path: abs, name: abs}
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
		err := s.initSQLite(ctx)
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

func (s *Store) initSQLite(ctx context.Context) error {
	var mode string
	if err := s.raw.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal_mode is %q, not wal (is the file on a filesystem without shared memory, such as NFS?)", mode)
	}
	return s.migrate(ctx)
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

// sqliteDSN is the modernc.org/sqlite DSN for path (see go-libraries.md §6).
func sqliteDSN(abs string) string {
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

// sqliteBootstrap is migrate's first step on SQLite, in its transaction:
// refuse a foreign file (another application_id, or tables without
// schema_version), and on an empty one create schema_version and stamp the
// application_id.
func sqliteBootstrap(ctx context.Context, tx *sql.Tx) error {
	var appID int64
	if err := tx.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return fmt.Errorf("read application_id: %w", err)
	}
	if appID != 0 && appID != applicationID {
		return fmt.Errorf("%w (SQLite application_id %#x)", ErrForeignDB, appID)
	}
	var tables, ours int
	if err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(name = 'schema_version'), 0) FROM sqlite_schema
		WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`).Scan(&tables, &ours); err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	if ours == 1 {
		return nil
	}
	if tables > 0 {
		return fmt.Errorf("%w (it has %d tables and no schema_version; refusing to touch it)", ErrForeignDB, tables)
	}
	if _, err := tx.ExecContext(ctx, schemaVersionDDL); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
		return fmt.Errorf("set application_id: %w", err)
	}
	return nil
}

// sqliteTableExists reports whether table exists (in the transaction).
func sqliteTableExists(ctx context.Context, tx *sql.Tx, table string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`, table).Scan(&n)
	return n > 0, err
}

// sqliteMigrationLock serializes migrations of the SQLite file at path
// between processes: flock(2) on its directory. (Not on the database file:
// closing any descriptor of that file would drop SQLite's own POSIX locks in
// this process; and not on "<path>.lock", which serve holds for its whole
// life.) SQLite's own locks cannot do it: goose reads the version table
// before it begins a migration's transaction, so two processes opening a
// fresh file would both start migration 1.
func sqliteMigrationLock(ctx context.Context, path string) (unlock func(), err error) {
	dir := filepath.Dir(path)
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	wait := 2 * time.Millisecond
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			_ = f.Close()
			return nil, fmt.Errorf("migration lock on %s: %w", dir, err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}
