package store

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
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

// PostgreSQL: one serve per shared database, until the fleet work; the lock
// goes with the holder's connection. SQLite: a no-op (Lock is the lock).
func TestLockDatabase(t *testing.T) {
	eachDriver(t, func(t *testing.T, d testDriver) {
		c := d.fresh(t)
		a, b := d.open(t, c), d.open(t, c)
		ctx := t.Context()
		unlockA, err := a.LockDatabase(ctx)
		if err != nil {
			t.Fatal(err)
		}
		unlockB, err := b.LockDatabase(ctx)
		if d.name == DriverSQLite {
			if err != nil {
				t.Fatalf("SQLite: %v", err)
			}
			must(t, unlockB())
			must(t, unlockA())
			return
		}
		if !errors.Is(err, ErrLocked) {
			t.Fatalf("second LockDatabase: %v, want ErrLocked", err)
		}
		must(t, unlockA())
		unlockB, err = b.LockDatabase(ctx)
		if err != nil {
			t.Fatalf("after unlock: %v", err)
		}
		// The holder's connection ends without an unlock (its process
		// dies, a network failure): the server kills that session.
		if _, err := a.raw.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
			WHERE locktype = 'advisory' AND pid <> pg_backend_pid()`); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = unlockB() }()
		deadline := time.Now().Add(5 * time.Second)
		for {
			u, err := a.LockDatabase(ctx)
			if err == nil {
				must(t, u())
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("lock not released with its connection: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}
