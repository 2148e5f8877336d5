package store

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

// t0 is a fixed instant with sub-millisecond noise, to check that times
// come back truncated to milliseconds and in UTC.
var t0 = time.Date(2026, 11, 25, 13, 0, 0, 123_456_789, time.FixedZone("CET", 3600))

func ms0(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

func openTest(t testing.TB) *Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "bot.db"))
}

func openAt(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestOpenCreatesPrivateFileAndPragmas(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	path := filepath.Join(dir, "bot.db")
	s := openAt(t, path)
	ctx := t.Context()

	for p, want := range map[string]os.FileMode{path: 0o600, dir: 0o700, filepath.Dir(dir): 0o700} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", p, got, want)
		}
	}
	// A write creates the WAL file; SQLite gives it the database's mode.
	if err := s.Put(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err != nil {
		t.Errorf("no WAL file: %v", err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("-wal mode %o, want 600", fi.Mode().Perm())
	}

	for _, tc := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"busy_timeout", "5000"},
		{"foreign_keys", "1"},
		{"locking_mode", "normal"},
		{"application_id", strconv.Itoa(applicationID)},
	} {
		var got string
		if err := s.db.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s = %q, want %q", tc.pragma, got, tc.want)
		}
	}
	if s.Path() != path {
		t.Errorf("Path() = %q", s.Path())
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notdb")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("not a database ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	// SQLite databases that are not ours (e.g. OpenClaw's state): plain,
	// in WAL mode, with another application_id.
	foreign := map[string][]string{
		"plain.sqlite": {`CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT)`},
		"wal.sqlite":   {`PRAGMA journal_mode=WAL`, `CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT)`},
		"appid.sqlite": {`PRAGMA application_id = 42`},
	}
	before := map[string][]byte{}
	for name, stmts := range foreign {
		p := filepath.Join(dir, name)
		db, err := sql.Open("sqlite", p)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range stmts {
			if _, err := db.Exec(st); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()
		before[p], _ = os.ReadFile(p)
	}

	for _, tc := range []struct {
		name, path string
		is         error
	}{
		{"empty path", "", nil},
		{"directory", dir, nil},
		{"not a database", notDB, ErrForeignDB},
		{"foreign database", filepath.Join(dir, "plain.sqlite"), ErrForeignDB},
		{"foreign WAL database", filepath.Join(dir, "wal.sqlite"), ErrForeignDB},
		{"foreign application_id", filepath.Join(dir, "appid.sqlite"), ErrForeignDB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(ctx, tc.path)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.HasPrefix(err.Error(), "store: ") {
				t.Errorf("error without context: %v", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v, want %v", err, tc.is)
			}
		})
	}
	for p, b := range before {
		if after, _ := os.ReadFile(p); string(after) != string(b) {
			t.Errorf("Open modified the foreign database %s", filepath.Base(p))
		}
	}
}

func schemaVersion(t *testing.T, s *Store) (version, rows int) {
	t.Helper()
	if err := s.db.QueryRow(`SELECT max(version), count(*) FROM schema_version`).Scan(&version, &rows); err != nil {
		t.Fatal(err)
	}
	return version, rows
}

func TestMigrationsIdempotent(t *testing.T) { eachDriver(t, testMigrationsIdempotent) }

func testMigrationsIdempotent(t *testing.T, d testDriver) {
	c := d.fresh(t)
	ctx := t.Context()
	latest := int(latestVersion())
	for i := range 3 {
		s, err := OpenConfig(ctx, c)
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		v, rows := schemaVersion(t, s)
		if v != latest || rows != 1 {
			t.Errorf("open #%d: version %d in %d rows, want %d in 1", i+1, v, rows, latest)
		}
		// goose's table: version 0 (its start) and each migration, once.
		var gv, gn int
		if err := s.db.QueryRow(`SELECT max(version_id), count(*) FROM goose_db_version`).Scan(&gv, &gn); err != nil || gv != latest || gn != latest+1 {
			t.Errorf("open #%d: goose_db_version max %d in %d rows (%v), want %d in %d", i+1, gv, gn, err, latest, latest+1)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}

	// Several stores opening one fresh database at the same time.
	c2 := d.fresh(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			s, err := OpenConfig(ctx, c2)
			if err != nil {
				errs <- err
				return
			}
			errs <- s.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent open: %v", err)
		}
	}
}

// shippedMigrations is migrationFiles as built.
var shippedMigrations = migrationFiles

// withMigrations makes the store see files (name → SQL) on top of the
// shipped migrations until t ends.
func withMigrations(t *testing.T, files map[string]string) {
	t.Helper()
	t.Cleanup(func() { migrationFiles = shippedMigrations })
	saved := shippedMigrations
	m := fstest.MapFS{}
	names, err := fs.Glob(saved, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		b, err := fs.ReadFile(saved, n)
		if err != nil {
			t.Fatal(err)
		}
		m[n] = &fstest.MapFile{Data: b}
	}
	for n, sql := range files {
		m[n] = &fstest.MapFile{Data: []byte("-- +goose Up\n" + sql)}
	}
	migrationFiles = m
}

func TestMigrationFromOlderVersion(t *testing.T) { eachDriver(t, testMigrationFromOlderVersion) }

func testMigrationFromOlderVersion(t *testing.T, d testDriver) {
	// Simulate a future migration 2 on top of today's schema, applied to a
	// database at version 1: it runs once, in order.
	c := d.fresh(t)
	ctx := t.Context()
	d.open(t, c).Close()

	withMigrations(t, map[string]string{"99990_note.sql": `ALTER TABLE kv ADD COLUMN note TEXT NOT NULL DEFAULT '';
CREATE INDEX kv_note ON kv (note);`})
	for range 2 {
		s2, err := OpenConfig(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := schemaVersion(t, s2); v != 99990 {
			t.Errorf("version %d, want 99990", v)
		}
		if _, err := s2.db.Exec(`UPDATE kv SET note = 'x'`); err != nil {
			t.Errorf("new column missing: %v", err)
		}
		s2.Close()
	}

	// A failing migration leaves the version (and schema) where it was.
	withMigrations(t, map[string]string{
		"99990_note.sql":   `SELECT 1;`,
		"99991_broken.sql": "CREATE TABLE extra (x INTEGER);\nTHIS IS NOT SQL;",
	})
	if s3, err := OpenConfig(ctx, c); err == nil {
		s3.Close()
		t.Fatal("Open with a broken migration succeeded")
	}
	withMigrations(t, map[string]string{"99990_note.sql": `SELECT 1;`}) // known again, without the broken one
	s4 := d.open(t, c)
	if tableExists(t, s4, "extra") {
		t.Error("half-applied migration left table extra")
	}
	if v, _ := schemaVersion(t, s4); v != 99990 {
		t.Errorf("version %d after the failed migration, want 99990", v)
	}
}

func TestNewerSchemaRefused(t *testing.T) { eachDriver(t, testNewerSchemaRefused) }

func testNewerSchemaRefused(t *testing.T, d testDriver) {
	for _, bump := range []string{
		`UPDATE schema_version SET version = version + 1`,                            // what an older openclaw-bot checks
		`INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, TRUE)`, // goose's own record
	} {
		c := d.fresh(t)
		s := d.open(t, c)
		if _, err := s.db.Exec(bump); err != nil {
			t.Fatal(err)
		}
		s.Close()
		_, err := OpenConfig(t.Context(), c)
		if !errors.Is(err, ErrSchemaTooNew) {
			t.Fatalf("after %s: Open = %v, want ErrSchemaTooNew", bump, err)
		}
		for _, want := range []string{"store: open", "newer", "upgrade openclaw-bot"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
	}
}

func TestDurabilityAcrossReopen(t *testing.T) { eachDriver(t, testDurabilityAcrossReopen) }

func testDurabilityAcrossReopen(t *testing.T, d testDriver) {
	c := d.fresh(t)
	ctx := t.Context()
	s, err := OpenConfig(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	b := Batch{
		Incidents: []Incident{{Target: "local", Subject: "anthropic:default", Code: "cooldown.active", State: StateFiring, FirstSeen: t0}},
		Outbox:    []OutboxItem{{Channel: ChannelSlack, Dest: "C1", Ref: "alert:local:1", Payload: []byte(`{}`), CreatedAt: t0}},
		KV:        map[string]string{"version/local": "2026.9.6"},
	}
	if err := s.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	sil := Silence{Ends: t0.Add(time.Hour), Starts: t0}
	if err := s.AddSilence(ctx, &sil); err != nil {
		t.Fatal(err)
	}
	a := AuditEntry{Actor: "U1", Command: "status", At: t0}
	if err := s.AddAudit(ctx, &a); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = d.open(t, c)
	if inc, err := s.Incident(ctx, b.Incidents[0].ID); err != nil || inc.Code != "cooldown.active" || !inc.FirstSeen.Equal(ms0(t0)) {
		t.Errorf("incident after reopen: %+v, %v", inc, err)
	}
	if due, err := s.DueOutbox(ctx, t0, 0); err != nil || len(due) != 1 || due[0].ID != b.Outbox[0].ID {
		t.Errorf("outbox after reopen: %+v, %v", due, err)
	}
	if v, ok, err := s.Get(ctx, "version/local"); err != nil || !ok || v != "2026.9.6" {
		t.Errorf("kv after reopen: %q %v %v", v, ok, err)
	}
	if sils, err := s.ActiveSilences(ctx, t0); err != nil || len(sils) != 1 || sils[0].ID != sil.ID {
		t.Errorf("silences after reopen: %+v, %v", sils, err)
	}
	if au, err := s.Audit(ctx, 0); err != nil || len(au) != 1 || au[0].ID != a.ID {
		t.Errorf("audit after reopen: %+v, %v", au, err)
	}
}

func TestSecondOpenWhileFirstIsOpen(t *testing.T) { eachDriver(t, testSecondOpenWhileFirstIsOpen) }

func testSecondOpenWhileFirstIsOpen(t *testing.T, d testDriver) {
	c := d.fresh(t)
	ctx := t.Context()
	s1 := d.open(t, c)
	if err := s1.Put(ctx, "a", "1"); err != nil {
		t.Fatal(err)
	}
	s2 := d.open(t, c) // like `openclaw-bot status` while `serve` runs
	if v, ok, err := s2.Get(ctx, "a"); err != nil || !ok || v != "1" {
		t.Fatalf("second store reads %q %v %v", v, ok, err)
	}

	// A reader is not blocked by the other store's open write transaction
	// and does not see its uncommitted rows.
	tx, err := s1.raw.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`UPDATE kv SET value = '2' WHERE key = 'a'`); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	v, _, err := s2.Get(rctx, "a")
	cancel()
	if err != nil || v != "1" {
		t.Errorf("read during foreign write tx: %q, %v", v, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := s2.Get(ctx, "a"); v != "2" {
		t.Errorf("after commit: %q", v)
	}

	// Writers in both stores at once: the busy timeout serializes them.
	var wg sync.WaitGroup
	for w, s := range []*Store{s1, s2, s1, s2} {
		wg.Go(func() {
			for i := range 25 {
				if err := s.Apply(ctx, Batch{
					Outbox: []OutboxItem{{Channel: ChannelTelegram, Dest: "-100", Ref: "r", CreatedAt: t0}},
					KV:     map[string]string{"w": string(rune('0' + w))},
				}); err != nil {
					t.Errorf("writer %d #%d: %v", w, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, s := range []*Store{s1, s2} {
		if n, err := s.OutboxDepth(ctx); err != nil || n != 100 {
			t.Errorf("depth %d, %v; want 100", n, err)
		}
	}
}

func TestKV(t *testing.T) { eachDriver(t, testKV) }

func testKV(t *testing.T, d testDriver) {
	s := d.openFresh(t)
	ctx := t.Context()
	steps := []struct {
		op         string // put | get
		key, value string
		ok         bool
	}{
		{"get", "missing", "", false},
		{"put", "version/local", "2026.9.6", true},
		{"get", "version/local", "2026.9.6", true},
		{"put", "version/local", "2026.10.1", true},
		{"get", "version/local", "2026.10.1", true},
		{"put", "", "empty key", true},
		{"get", "", "empty key", true},
		{"put", "empty value", "", true},
		{"get", "empty value", "", true},
		{"put", "nul\x00key", "nul\x00value\xff", true},
		{"get", "nul\x00key", "nul\x00value\xff", true},
		{"get", "nul", "", false},
		{"get", "VERSION/LOCAL", "", false}, // keys are case-sensitive
	}
	for i, st := range steps {
		switch st.op {
		case "put":
			if err := s.Put(ctx, st.key, st.value); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		case "get":
			v, ok, err := s.Get(ctx, st.key)
			if err != nil || ok != st.ok || v != st.value {
				t.Errorf("step %d: Get(%q) = %q, %v, %v; want %q, %v", i, st.key, v, ok, err, st.value, st.ok)
			}
		}
	}
	// Batch.KV writes too.
	if err := s.Apply(ctx, Batch{KV: map[string]string{"b1": "x", "version/local": "2026.11.0"}}); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := s.Get(ctx, "version/local"); v != "2026.11.0" {
		t.Errorf("after batch: %q", v)
	}
}

func TestAuditRoundTrip(t *testing.T) { eachDriver(t, testAuditRoundTrip) }

func testAuditRoundTrip(t *testing.T, d testDriver) {
	s := d.openFresh(t)
	ctx := t.Context()
	entries := []AuditEntry{
		{At: t0, Actor: "U0123", ActorName: "alice", Surface: "slack", Where: "C0123", Command: "cooldown reset",
			Args: []string{"anthropic:default"}, Before: []byte(`{"cooldownUntil":1}`), After: []byte(`{}`),
			Outcome: "ok", Duration: 1234567 * time.Nanosecond, BackupPath: "/var/lib/bot/backups/auth-profiles.json.1"},
		{At: t0.Add(time.Second), Actor: "42", ActorName: "bob", Surface: "telegram", Where: "-100123", Command: "restart",
			Outcome: "refused", Error: "not an admin"},
		{At: t0.Add(2 * time.Second), Actor: "console", Surface: "console", Command: "silence",
			Args: []string{"", `quote " and \ backslash`, "space here", "nul\x00", "\xff\xfe invalid", "emoji 🙂", "\n"}},
	}
	for i := range entries {
		if err := s.AddAudit(ctx, &entries[i]); err != nil {
			t.Fatal(err)
		}
		if entries[i].ID == 0 {
			t.Fatal("no ID assigned")
		}
	}
	got, err := s.Audit(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(entries) {
		t.Fatalf("%d entries, want %d", len(got), len(entries))
	}
	for i, g := range got {
		want := entries[len(entries)-1-i] // newest first
		assertAudit(t, g, want)
	}
	if got, _ := s.Audit(ctx, 2); len(got) != 2 || got[0].ID != entries[2].ID {
		t.Errorf("limit 2: %+v", got)
	}
	one, err := s.AuditEntry(ctx, entries[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	assertAudit(t, *one, entries[0])
	if _, err := s.AuditEntry(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing entry: %v", err)
	}

	// A zero At is stamped with the current time.
	e := AuditEntry{Actor: "U1", Command: "whoami"}
	before := time.Now().Add(-time.Second)
	if err := s.AddAudit(ctx, &e); err != nil || e.At.Before(before) {
		t.Errorf("At not defaulted: %v, %v", e.At, err)
	}
}

func TestPrune(t *testing.T) { eachDriver(t, testPrune) }

func testPrune(t *testing.T, d testDriver) {
	s := d.openFresh(t)
	ctx := t.Context()
	old, recent := t0.Add(-48*time.Hour), t0.Add(-time.Hour)
	cut := t0.Add(-24 * time.Hour)

	b := Batch{
		Incidents: []Incident{
			{Target: "t", Code: "old.resolved", State: StateResolved, FirstSeen: old, ResolvedAt: old},
			{Target: "t", Code: "recent.resolved", State: StateResolved, FirstSeen: old, ResolvedAt: recent},
			{Target: "t", Code: "old.firing", State: StateFiring, FirstSeen: old},
		},
		Outbox: []OutboxItem{
			{Channel: ChannelSlack, Dest: "C", Ref: "old-sent", CreatedAt: old},
			{Channel: ChannelSlack, Dest: "C", Ref: "recent-sent", CreatedAt: old},
			{Channel: ChannelSlack, Dest: "C", Ref: "old-unsent", CreatedAt: old},
			{Channel: ChannelSlack, Dest: "C", Ref: "old-dead", CreatedAt: old},
		},
	}
	if err := s.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	must(t, s.MarkSent(ctx, b.Outbox[0].ID, sent("C", "1"), old))
	must(t, s.MarkSent(ctx, b.Outbox[1].ID, sent("C", "2"), recent))
	must(t, s.MarkFailed(ctx, b.Outbox[3].ID, "410 gone", time.Time{}, true))
	oldSil := Silence{Starts: old, Ends: old.Add(time.Hour)}
	curSil := Silence{Starts: old, Ends: t0.Add(time.Hour)}
	must(t, s.AddSilence(ctx, &oldSil))
	must(t, s.AddSilence(ctx, &curSil))
	oldP := Pending{Actor: "U1", Created: old}
	curP := Pending{Actor: "U1", Created: recent, Expires: t0}
	must(t, s.AddPending(ctx, &oldP))
	must(t, s.AddPending(ctx, &curP))
	a := AuditEntry{At: old, Actor: "U1", Command: "status"}
	must(t, s.AddAudit(ctx, &a))

	p, err := s.Prune(ctx, cut)
	if err != nil {
		t.Fatal(err)
	}
	want := Pruned{Outbox: 2, Notifications: 1, Incidents: 1, Silences: 1, Pendings: 1}
	if p != want {
		t.Errorf("Prune = %+v, want %+v", p, want)
	}
	if p.Total() != 6 {
		t.Errorf("Total = %d", p.Total())
	}
	recentInc, _ := s.RecentIncidents(ctx, "", 0)
	if len(recentInc) != 2 || recentInc[0].Code != "old.firing" || recentInc[1].Code != "recent.resolved" {
		t.Errorf("incidents left: %+v", recentInc)
	}
	if n, _ := s.OutboxDepth(ctx); n != 1 {
		t.Errorf("unsent item pruned: depth %d", n)
	}
	if _, err := s.OutboxItem(ctx, b.Outbox[1].ID); err != nil {
		t.Errorf("recent sent item pruned: %v", err)
	}
	if sm, _ := s.SentMessage(ctx, ChannelSlack, "C", "recent-sent"); sm == nil || sm.ID != "2" {
		t.Errorf("recent log pruned: %+v", sm)
	}
	if sm, _ := s.SentMessage(ctx, ChannelSlack, "C", "old-sent"); sm != nil {
		t.Errorf("old log kept: %+v", sm)
	}
	if sils, _ := s.Silences(ctx, old); len(sils) != 1 || sils[0].ID != curSil.ID {
		t.Errorf("silences left: %+v", sils)
	}
	if _, err := s.TakePending(ctx, oldP.ID, "U1", old); !errors.Is(err, ErrNotFound) {
		t.Errorf("old pending: %v", err)
	}
	if _, err := s.TakePending(ctx, curP.ID, "U1", recent); err != nil {
		t.Errorf("current pending: %v", err)
	}
	if au, _ := s.Audit(ctx, 0); len(au) != 1 {
		t.Errorf("audit pruned: %+v", au)
	}
	// Idempotent.
	if p, err := s.Prune(ctx, cut); err != nil || p.Total() != 0 {
		t.Errorf("second prune: %+v, %v", p, err)
	}
}

func TestArgsEncoding(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{""},
		{"", ""},
		{"a b", `"`, `\`, "\x00", "\xff", "🙂", " ", `" "`},
	} {
		enc := encodeArgs(args)
		got, err := decodeArgs(enc)
		if err != nil {
			t.Fatalf("%q: %v", enc, err)
		}
		if len(got) != len(args) {
			t.Fatalf("%q -> %q", args, got)
		}
		for i := range got {
			if got[i] != args[i] {
				t.Errorf("%q -> %q", args, got)
			}
		}
	}
	for _, bad := range []string{`"unterminated`, `abc`, `"a""b"x`} {
		if _, err := decodeArgs(bad); err == nil {
			t.Errorf("decodeArgs(%q) succeeded", bad)
		}
	}
	if got := encodeArgs([]string{"cooldown", "reset", "anthropic:default"}); got != `"cooldown" "reset" "anthropic:default"` {
		t.Errorf("readable form: %s", got)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenPathWithURLCharacters(t *testing.T) {
	// The path goes into a file: URI; ?, #, % and spaces must not be
	// taken for URI syntax.
	path := filepath.Join(t.TempDir(), "my dir?x=1#frag", "bot 100%.db")
	s := openAt(t, path)
	must(t, s.Put(t.Context(), "k", "v"))
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at the literal path: %v", err)
	}
	s = openAt(t, path) // and the preflight of an existing file finds it too
	if v, ok, err := s.Get(t.Context(), "k"); err != nil || !ok || v != "v" {
		t.Errorf("Get = %q, %v, %v", v, ok, err)
	}
}
