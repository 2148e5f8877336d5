package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	StopShared()
	os.Exit(code)
}

// A real server: reachable over TCP and the unix socket, fsync off, not
// running as root, one database per call, and gone (with its dir) after Stop.
func TestServer(t *testing.T) {
	if os.Getenv(EnvMode) == "skip" {
		t.Skip("OPENCLAW_BOT_PG=skip")
	}
	if _, err := Bin(); err != nil {
		if os.Getenv(EnvRequired) == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	ctx := t.Context()
	s, err := Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := s.Dir
	defer s.Stop()

	a, err := s.CreateDatabase(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateDatabase(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("two databases named %s", a)
	}
	for _, dsn := range []string{s.DSN(a), s.SocketDSN(a)} {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		var fsync, enc, who string
		if err := db.QueryRowContext(ctx, `SELECT current_setting('fsync'), current_setting('server_encoding'),
			(SELECT rolname FROM pg_roles WHERE oid = (SELECT datdba FROM pg_database WHERE datname = current_database()))`).Scan(&fsync, &enc, &who); err != nil {
			t.Fatalf("%s: %v", dsn, err)
		}
		db.Close()
		if fsync != "off" || enc != "UTF8" || who != "postgres" {
			t.Errorf("%s: fsync=%s encoding=%s owner=%s", dsn, fsync, enc, who)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".s.PGSQL."+itoa(s.Port))); err != nil {
		t.Errorf("no unix socket in the temp dir: %v", err)
	}
	if os.Geteuid() == 0 {
		fi, err := os.Stat(filepath.Join(dir, "data"))
		if err != nil {
			t.Fatal(err)
		}
		if st, ok := fi.Sys().(interface{ Uid() uint32 }); ok && st.Uid() == 0 {
			t.Error("the data dir belongs to root")
		}
	}
	if err := s.DropDatabase(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.Exec(ctx, a, "SELECT 1"); err == nil {
		t.Error("dropped database still reachable")
	}
	pid := s.cmd.Process.Pid
	s.Stop()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temp dir left behind: %v", err)
	}
	if err := syscallKill0(pid); err == nil {
		t.Errorf("postgres (pid %d) still running after Stop", pid)
	}
}

func TestBinOverride(t *testing.T) {
	t.Setenv(EnvBin, t.TempDir())
	if _, err := Bin(); !errors.Is(err, ErrNoBinaries) || !strings.Contains(err.Error(), EnvBin) {
		t.Errorf("Bin with an empty %s: %v", EnvBin, err)
	}
}

// OPENCLAW_BOT_PG=skip skips before anything is started.
func TestSharedSkip(t *testing.T) {
	t.Setenv(EnvMode, "skip")
	var skipped bool
	t.Run("inner", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		Shared(t)
	})
	if !skipped {
		t.Error("Shared did not skip")
	}
	if started {
		t.Error("Shared started a server although told to skip")
	}
}

func TestDatabasePerTest(t *testing.T) {
	dsn := NewDatabase(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), "CREATE TABLE x (a int)"); err != nil {
		t.Fatal(err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func syscallKill0(pid int) error { return syscall.Kill(pid, 0) }

// Pause stops the server like a crash (connections refused, the data
// kept); Resume brings it back on the same port with what was committed.
func TestPauseResume(t *testing.T) {
	s := Own(t)
	ctx := t.Context()
	name, err := s.CreateDatabase(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Exec(ctx, name, "CREATE TABLE x (a int)", "INSERT INTO x VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", s.DSN(name))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	port := s.Port

	for round := range 2 {
		if err := s.Pause(ctx); err != nil {
			t.Fatal(err)
		}
		if s.Running() {
			t.Fatal("Running after Pause")
		}
		if err := s.Pause(ctx); err == nil {
			t.Error("Pause of a paused server: no error")
		}
		if err := db.PingContext(ctx); err == nil {
			t.Fatalf("round %d: the paused server still answers", round)
		}
		if err := s.Resume(ctx); err != nil {
			t.Fatal(err)
		}
		if !s.Running() || s.Port != port {
			t.Fatalf("round %d: running %v on port %d, want %d", round, s.Running(), s.Port, port)
		}
		if err := s.Resume(ctx); err == nil {
			t.Error("Resume of a running server: no error")
		}
		// The pool's connections died with the server; database/sql
		// opens new ones (a dead one may fail a first query).
		var a int
		for try := 0; ; try++ {
			if err = db.QueryRowContext(ctx, "SELECT a FROM x").Scan(&a); err == nil || try == 3 {
				break
			}
		}
		if err != nil || a != 42 {
			t.Fatalf("round %d: after Resume: %d, %v", round, a, err)
		}
	}
	if _, err := s.CreateDatabase(ctx, ""); err != nil {
		t.Errorf("CreateDatabase after Resume: %v", err)
	}
}
