package store

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/openclaw-bot/openclaw-bot/internal/pgtest"
)

// testDriver makes stores of one database kind. Every test that is not
// about SQLite's file runs once per driver (eachDriver): TestKV/sqlite,
// TestKV/postgres.
type testDriver struct {
	name string
	// fresh returns the Config of a new, empty database of t's own.
	fresh func(t testing.TB) Config
}

var (
	sqliteDriver = testDriver{name: DriverSQLite, fresh: func(t testing.TB) Config {
		return Config{Driver: DriverSQLite, Path: filepath.Join(t.TempDir(), "bot.db")}
	}}
	pgDriver = testDriver{name: DriverPostgres, fresh: func(t testing.TB) Config {
		return Config{Driver: DriverPostgres, DSN: pgtest.NewDatabase(t)}
	}}
	drivers = []testDriver{sqliteDriver, pgDriver}
)

// eachDriver runs fn as a subtest per driver. A PostgreSQL subtest skips
// (or fails, with OPENCLAW_BOT_PG_REQUIRED=1) when there is no server; see
// internal/pgtest.
func eachDriver(t *testing.T, fn func(t *testing.T, d testDriver)) {
	t.Helper()
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) { fn(t, d) })
	}
}

// open opens c (closed when t ends).
func (d testDriver) open(t testing.TB, c Config) *Store {
	t.Helper()
	s, err := OpenConfig(context.Background(), c)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// openFresh opens a new, empty store.
func (d testDriver) openFresh(t testing.TB) *Store {
	t.Helper()
	return d.open(t, d.fresh(t))
}

// tableExists reports whether the store's database has table.
func tableExists(t testing.TB, s *Store, table string) bool {
	t.Helper()
	q := `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`
	if s.d.pg {
		q = `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?`
	}
	var n int
	if err := s.db.QueryRow(q, table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}
