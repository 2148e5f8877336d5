package store

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// One serve per store: a second Lock on the same store fails with
// ErrLocked and names the holder's pid; after unlock it succeeds. (flock
// locks belong to an open file, so this works within one process too.)
func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "bot.db")
	unlock, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Lock(path)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) ||
		!strings.Contains(err.Error(), "store.path") {
		t.Fatalf("second Lock: %v, want ErrLocked naming pid %d", err, os.Getpid())
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	again, err := Lock(path)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	if err := again(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + ".lock"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file: %v %v", fi, err)
	}
}

// TryLock: one holder at a time; the lock goes with the holder's
// connection (its process dies, a network failure), and SQLite has none.
func TestAdvisoryLock(t *testing.T) {
	eachDriver(t, func(t *testing.T, d testDriver) {
		c := d.fresh(t)
		a, b := d.open(t, c), d.open(t, c)
		ctx := t.Context()
		const key = 42
		la, err := a.TryLock(ctx, key)
		if d.name == DriverSQLite {
			if !errors.Is(err, ErrNotPostgres) {
				t.Fatalf("SQLite: %v, want ErrNotPostgres", err)
			}
			return
		}
		if err != nil || la == nil {
			t.Fatalf("first TryLock: %v %v", la, err)
		}
		if lb, err := b.TryLock(ctx, key); err != nil || lb != nil {
			t.Fatalf("second TryLock: %v %v, want nil, nil", lb, err)
		}
		must(t, la.Held(ctx))
		// The holder's session ends without an unlock: the server frees it.
		if _, err := b.raw.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
			WHERE locktype = 'advisory' AND pid <> pg_backend_pid()`); err != nil {
			t.Fatal(err)
		}
		if err := la.Held(ctx); err == nil {
			t.Error("Held after the session was killed: nil, want an error")
		}
		la.Release()
		lb, err := b.TryLock(ctx, key)
		if err != nil || lb == nil {
			t.Fatalf("TryLock after the holder's session ended: %v %v", lb, err)
		}
		lb.Release()
		if la, err = a.TryLock(ctx, key); err != nil || la == nil {
			t.Fatalf("TryLock after Release: %v %v", la, err)
		}
		la.Release()
	})
}
