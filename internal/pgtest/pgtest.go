// Package pgtest runs a throwaway PostgreSQL server for tests: Debian's
// own binaries (initdb, postgres), a fresh cluster in a temp dir, listening
// on a unix socket in that dir and on 127.0.0.1 at a free port, fsync off.
// Nothing is mocked and no container is involved.
//
// One server serves a whole test process (Shared); each test gets its own
// database (NewDatabase), created from template0 and dropped at the end.
// PostgreSQL refuses to run as root: when the tests run as root, initdb and
// the server run as the unprivileged user nobody (group nogroup), with the
// temp dir given to that user.
//
// A test that needs the database to go away and come back (an outage)
// starts a server of its own (Own) and stops it with Pause and starts it
// again with Resume; the shared one serves parallel tests.
//
// The environment decides what happens without a server:
//
//	OPENCLAW_BOT_PG=skip        the tests that need PostgreSQL skip
//	OPENCLAW_BOT_PG_REQUIRED=1  missing binaries (or a server that does not
//	                            start) fail the tests instead of skipping them
//	OPENCLAW_BOT_PG_BIN=DIR     where initdb and postgres are (default: the
//	                            newest /usr/lib/postgresql/<ver>/bin, then PATH)
//
// scripts/test sets OPENCLAW_BOT_PG_REQUIRED=1; .ci/run installs Debian's
// postgresql package when the binaries are missing.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"go.uber.org/goleak"
)

// Environment variables (see the package comment).
const (
	EnvMode     = "OPENCLAW_BOT_PG"
	EnvRequired = "OPENCLAW_BOT_PG_REQUIRED"
	EnvBin      = "OPENCLAW_BOT_PG_BIN"
)

// ErrNoBinaries means no PostgreSQL server binaries were found.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries (initdb, postgres) found")

// Server is a running throwaway PostgreSQL cluster. Its superuser is
// "postgres", authenticated by trust (only local connections are accepted).
type Server struct {
	Dir     string // the temp dir: data/, the socket, the log
	Port    int    // TCP port on 127.0.0.1 (the socket in Dir has the same number)
	Version string // e.g. "15.18"

	bin   string              // initdb's and postgres's dir
	cred  *syscall.Credential // who runs them (nil: this process's user)
	cmd   *exec.Cmd
	done  chan struct{} // closed when the server process has exited
	admin *sql.DB
	seq   atomic.Int64
}

// DSN is a URL for database name on 127.0.0.1 (TCP).
func (s *Server) DSN(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, name)
}

// SocketDSN is a keyword/value DSN for database name over the unix socket.
func (s *Server) SocketDSN(name string) string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", s.Dir, s.Port, name)
}

// Bin finds the directory holding initdb and postgres: $OPENCLAW_BOT_PG_BIN,
// the newest /usr/lib/postgresql/<ver>/bin, or the directory initdb resolves
// to from PATH (Debian links /usr/local/bin/initdb there on some images).
func Bin() (string, error) {
	ok := func(dir string) bool {
		for _, b := range []string{"initdb", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
				return false
			}
		}
		return true
	}
	if d := os.Getenv(EnvBin); d != "" {
		if ok(d) {
			return d, nil
		}
		return "", fmt.Errorf("%w in %s=%s", ErrNoBinaries, EnvBin, d)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return majorOf(b) - majorOf(a) })
	for _, d := range dirs {
		if ok(d) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && ok(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
	}
	return "", fmt.Errorf("%w (looked in $%s, /usr/lib/postgresql/*/bin and PATH); install Debian's postgresql package: apt-get install --no-install-recommends postgresql", ErrNoBinaries, EnvBin)
}

func majorOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start initialises a cluster in a new temp dir and starts the server. Call
// Stop when done.
func Start(ctx context.Context) (*Server, error) {
	bin, err := Bin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-") // short: a unix socket path has a 107-byte limit
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, bin: bin, done: make(chan struct{})}
	fail := func(err error) (*Server, error) {
		s.Stop()
		return nil, err
	}
	cred, err := credential()
	if err != nil {
		return fail(err)
	}
	s.cred = cred
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fail(fmt.Errorf("pgtest: give %s to the postgres user: %w", dir, err))
		}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fail(err)
	}

	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"),
		"-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	initdb.Env = cleanEnv()
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("pgtest: initdb: %w\n%s", err, out))
	}
	if v, err := os.ReadFile(filepath.Join(dir, "data", "PG_VERSION")); err == nil {
		s.Version = strings.TrimSpace(string(v))
	}

	// A free port: taken from the kernel, then released for the server.
	// Another process may grab it in between; the start is then retried.
	var lastErr error
	for range 3 {
		if s.Port, err = freePort(); err != nil {
			return fail(err)
		}
		if lastErr = s.run(ctx, bin, cred); lastErr == nil {
			if v, err := s.serverVersion(ctx); err == nil {
				s.Version = v
			}
			return s, nil
		}
	}
	return fail(lastErr)
}

// run starts the postgres process and waits until it accepts connections.
func (s *Server) run(ctx context.Context, bin string, cred *syscall.Credential) error {
	logf, err := os.OpenFile(filepath.Join(s.Dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	if cred != nil {
		_ = logf.Chown(int(cred.Uid), int(cred.Gid))
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", filepath.Join(s.Dir, "data"),
		"-p", strconv.Itoa(s.Port), "-k", s.Dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "shared_buffers=32MB", "-c", "log_min_messages=warning")
	cmd.Dir = s.Dir
	cmd.Env = cleanEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	// The server dies with the test process even when that is killed
	// (SIGQUIT: PostgreSQL's immediate shutdown). Pdeathsig is set after the
	// credentials change, so it survives it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(s.Dir, "postgres.log"))
			return fmt.Errorf("pgtest: postgres exited at start (port %d): %s", s.Port, tail(string(log), 2000))
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGQUIT)
			<-done
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if err := s.ping(ctx); err == nil {
			s.cmd, s.done = cmd, done
			return nil
		} else if time.Now().After(deadline) {
			_ = cmd.Process.Signal(syscall.SIGQUIT)
			<-done
			return fmt.Errorf("pgtest: postgres did not accept connections within 60 s: %w", err)
		}
	}
}

func (s *Server) ping(ctx context.Context) error {
	db, err := sql.Open("pgx", s.DSN("postgres")+"&connect_timeout=2")
	if err != nil {
		return err
	}
	defer db.Close()
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return db.PingContext(pctx)
}

func (s *Server) serverVersion(ctx context.Context) (string, error) {
	db, err := s.adminDB()
	if err != nil {
		return "", err
	}
	var v string
	err = db.QueryRowContext(ctx, "SHOW server_version").Scan(&v)
	return v, err
}

func (s *Server) adminDB() (*sql.DB, error) {
	if s.admin != nil {
		return s.admin, nil
	}
	db, err := sql.Open("pgx", s.DSN("postgres"))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(2)
	s.admin = db
	return db, nil
}

// CreateDatabase creates a new empty database (from template0, UTF8) and
// returns its name. extra is appended to CREATE DATABASE (e.g. "ENCODING
// 'LATIN1'").
func (s *Server) CreateDatabase(ctx context.Context, extra string) (string, error) {
	db, err := s.adminDB()
	if err != nil {
		return "", err
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), s.seq.Add(1))
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE template0 "+extra); err != nil {
		return "", fmt.Errorf("pgtest: create database: %w", err)
	}
	return name, nil
}

// DropDatabase drops a database made by CreateDatabase, ending its sessions.
func (s *Server) DropDatabase(ctx context.Context, name string) error {
	db, err := s.adminDB()
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	return err
}

// Exec runs statements as the superuser in database name (e.g. to build a
// foreign schema for a test).
func (s *Server) Exec(ctx context.Context, name string, stmts ...string) error {
	db, err := sql.Open("pgx", s.DSN(name))
	if err != nil {
		return err
	}
	defer db.Close()
	for _, st := range stmts {
		if _, err := db.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("%s: %w", st, err)
		}
	}
	return nil
}

// Pause stops the server as a database restart or an outage does, for
// tests of what clients do meanwhile: a fast shutdown (SIGINT, as `pg_ctl
// stop -m fast`) that ends every session at once; connections are refused
// until Resume. The data dir, port and temp dir stay, with everything
// committed. (Not an immediate shutdown: the server runs with
// synchronous_commit=off, so a crash would also lose the commits of its
// last fraction of a second, which no client of a real server sees.) A
// server shared by parallel tests must not be paused: a test that pauses
// starts its own (Start).
func (s *Server) Pause(ctx context.Context) error {
	if s.cmd == nil {
		return errors.New("pgtest: pause: the server is not running")
	}
	if s.admin != nil { // its connections die with the server
		_ = s.admin.Close()
		s.admin = nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-ctx.Done():
		return fmt.Errorf("pgtest: pause: %w", ctx.Err())
	}
	s.cmd = nil
	return nil
}

// Resume starts a paused server again on the same port and data dir and
// waits until it accepts connections. It fails if another process took the
// port meanwhile.
func (s *Server) Resume(ctx context.Context) error {
	if s.cmd != nil {
		return errors.New("pgtest: resume: the server is running")
	}
	if err := s.run(ctx, s.bin, s.cred); err != nil {
		return fmt.Errorf("pgtest: resume on port %d: %w", s.Port, err)
	}
	return nil
}

// Running reports whether the server process runs (not paused or stopped).
func (s *Server) Running() bool {
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Stop shuts the server down (fast shutdown) and removes its temp dir.
func (s *Server) Stop() {
	if s == nil {
		return
	}
	if s.admin != nil {
		_ = s.admin.Close()
		s.admin = nil
	}
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			_ = s.cmd.Process.Signal(syscall.SIGQUIT)
			<-s.done
		}
		s.cmd = nil
	}
	if s.Dir != "" {
		_ = os.RemoveAll(s.Dir)
	}
}

// credential is who runs initdb and postgres: nil (the current user) unless
// that is root, then nobody:nogroup.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root, and there is no user nobody to run PostgreSQL as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if g, err := user.LookupGroup("nogroup"); err == nil {
		gid, _ = strconv.Atoi(g.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// cleanEnv is the environment without PG* variables (which would point
// initdb or the server elsewhere) and with a neutral locale.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, "LC_ALL=C")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// ---- one server per test process ----

var (
	sharedMu  sync.Mutex
	shared    *Server
	sharedErr error
	started   bool
)

// Shared returns the test process's server, starting it on first use. When
// PostgreSQL cannot be had it skips t (OPENCLAW_BOT_PG=skip, or no binaries)
// or fails it (OPENCLAW_BOT_PG_REQUIRED=1, or a server that would not
// start). Call StopShared from TestMain after m.Run.
func Shared(t testing.TB) *Server {
	t.Helper()
	if os.Getenv(EnvMode) == "skip" {
		t.Skipf("PostgreSQL tests skipped (%s=skip)", EnvMode)
	}
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if !started {
		started = true
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		shared, sharedErr = Start(ctx)
		cancel()
	}
	if sharedErr != nil {
		if errors.Is(sharedErr, ErrNoBinaries) && os.Getenv(EnvRequired) != "1" {
			t.Skipf("PostgreSQL tests skipped: %v (set %s=1 to make this a failure)", sharedErr, EnvRequired)
		}
		t.Fatalf("PostgreSQL: %v", sharedErr)
	}
	return shared
}

// Own starts a server for t alone (stopped when t ends), for a test that
// pauses it; it skips or fails t as Shared does when PostgreSQL cannot be
// had.
func Own(t testing.TB) *Server {
	t.Helper()
	if os.Getenv(EnvMode) == "skip" {
		t.Skipf("PostgreSQL tests skipped (%s=skip)", EnvMode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx)
	if err != nil {
		if errors.Is(err, ErrNoBinaries) && os.Getenv(EnvRequired) != "1" {
			t.Skipf("PostgreSQL tests skipped: %v (set %s=1 to make this a failure)", err, EnvRequired)
		}
		t.Fatalf("PostgreSQL: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StopShared stops the shared server, if one was started.
func StopShared() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	shared.Stop()
	shared, started = nil, false
}

// NewDatabase creates a database for t on the shared server (dropped when t
// ends) and returns its TCP DSN.
func NewDatabase(t testing.TB) string {
	t.Helper()
	s := Shared(t)
	name, err := s.CreateDatabase(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.DropDatabase(context.Background(), name); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return s.DSN(name)
}

// Wanted reports whether tests should use PostgreSQL: not told to skip it,
// and the binaries are there (or their absence is to be a failure).
func Wanted() bool {
	if os.Getenv(EnvMode) == "skip" {
		return false
	}
	_, err := Bin()
	return err == nil || os.Getenv(EnvRequired) == "1"
}

// Main is the TestMain of a package whose tests use the shared server and
// must leave no goroutine behind: it runs the tests, stops the server, and
// on success fails the run if goroutines are left (go.uber.org/goleak).
func Main(m *testing.M) {
	code := m.Run()
	StopShared()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: errors on successful test run: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
