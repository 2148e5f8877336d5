package openclaw

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const fixtures = "../testdata/openclaw/fixtures"

func copyFile(t testing.TB, src, dst string, replace ...string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i+1 < len(replace); i += 2 {
		s = strings.ReplaceAll(s, replace[i], replace[i+1])
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// onboarded lays out the captured onboarded install: config + minimal DB.
func onboarded(t testing.TB) Location {
	t.Helper()
	home := t.TempDir()
	state := filepath.Join(home, ".openclaw")
	copyFile(t, fixtures+"/state/openclaw.onboarded.json", filepath.Join(state, "openclaw.json"), "$WORK/home", home)
	copyFile(t, fixtures+"/state/minimal-state.sqlite", filepath.Join(state, "state", "openclaw.sqlite"))
	loc, err := Locate(LocateOptions{Home: home, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func read(t testing.TB, loc Location) *Snapshot {
	t.Helper()
	s, err := ReadSnapshot(context.Background(), loc, ReadOptions{Env: EnvSources{NoProc: true}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The captured onboarded state reads as OpenClaw shows it: the mask equals
// the label of `openclaw models status` (fixtures/models-status/ms_apikey_json.out).
func TestReadOnboardedFixture(t *testing.T) {
	s := read(t, onboarded(t))
	if s.Version != "2026.9.6" || s.Layout != LayoutSQLite {
		t.Fatalf("version %q layout %q", s.Version, s.Layout)
	}
	if s.Shared == nil || s.Shared.Kind != StoreStateDB || len(s.Shared.Profiles) != 1 {
		t.Fatalf("shared store = %+v", s.Shared)
	}
	c := s.Shared.Profiles[0]
	want, _ := os.ReadFile(fixtures + "/models-status/ms_apikey_json.out")
	if c.ID != "anthropic:default" || c.Type != TypeAPIKey || !strings.Contains(string(want), "anthropic:default="+c.Secret.Masked()) {
		t.Errorf("profile %s %s masked %s not as OpenClaw labels it", c.ID, c.Type, c.Secret.Masked())
	}
	if len(s.Problems) != 0 {
		t.Errorf("problems: %v", s.Problems)
	}
	if s.Config.GatewayPort != 18789 || s.Config.DefaultModel != "anthropic/claude-opus-5" {
		t.Errorf("config: %+v", s.Config)
	}
}

// Reading never writes: the database file is byte-for-byte the same and
// no journal or WAL file appears.
func TestReadIsReadOnly(t *testing.T) {
	loc := onboarded(t)
	db := loc.StateDB()
	before := sum(t, db)
	st, _ := os.Stat(db)
	for range 3 {
		read(t, loc)
	}
	if sum(t, db) != before {
		t.Fatal("the database changed")
	}
	st2, _ := os.Stat(db)
	if !st.ModTime().Equal(st2.ModTime()) {
		t.Fatal("the database mtime changed")
	}
	for _, suffix := range []string{"-journal", "-wal"} {
		if _, err := os.Stat(db + suffix); err == nil {
			t.Errorf("%s created", suffix)
		}
	}
}

func sum(t *testing.T, p string) [32]byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// A database that OpenClaw holds locked is reported as a problem within the
// busy timeout, not a hang and not a crash.
func TestReadLockedDatabase(t *testing.T) {
	loc := onboarded(t)
	w, err := sql.Open("sqlite", "file:"+loc.StateDB())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	ctx := context.Background()
	conn, err := w.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	s := read(t, loc)
	if len(s.Problems) == 0 || !strings.Contains(strings.Join(s.Problems, " "), "locked") {
		t.Fatalf("problems = %v, want a locked database", s.Problems)
	}
	conn.ExecContext(ctx, "ROLLBACK")
	if s := read(t, loc); len(s.Problems) != 0 {
		t.Fatalf("after unlock: %v", s.Problems)
	}
}

func TestReadStoreFixtures(t *testing.T) {
	now := time.UnixMilli(1795610300000) // between the fixtures' lastFailureAt and cooldownUntil
	for _, tc := range []struct {
		file         string
		wantActive   bool
		wantReason   string
		wantErrCount int
	}{
		{"state.cooldown-auth.json", true, "auth", 3},
		{"state.cooldown-auth-1h.json", true, "auth", 3},
		{"state.cooldown-expired.json", false, "", 2},
		{"state.cooldown-ratelimit-1h.json", true, "rate_limit", 1},
	} {
		b, err := os.ReadFile(fixtures + "/state/" + tc.file)
		if err != nil {
			t.Fatal(err)
		}
		st, err := parseState(b)
		if err != nil {
			t.Fatal(err)
		}
		u := st.Usage["anthropic:default"]
		w, ok := u.Active(now)
		if ok != tc.wantActive || w.Reason != tc.wantReason || u.ErrorCount != tc.wantErrCount {
			t.Errorf("%s: active=%v %+v errorCount=%d", tc.file, ok, w, u.ErrorCount)
		}
	}
	b, _ := os.ReadFile(fixtures + "/state/store.oauth-expired.json")
	ps, _, _, err := parseStore(b)
	if err != nil || len(ps) != 1 || ps[0].Type != TypeOAuth || ps[0].Expires.IsZero() || ps[0].Refresh.IsZero() || ps[0].Fence != "" {
		t.Errorf("oauth store: %+v %v", ps, err)
	}
	b, _ = os.ReadFile(fixtures + "/state/store.token-expired.json")
	ps, _, _, err = parseStore(b)
	if err != nil || len(ps) != 1 || ps[0].Type != TypeToken || ps[0].Expires.IsZero() {
		t.Errorf("token store: %+v %v", ps, err)
	}
}

func TestReadLegacyFixture(t *testing.T) {
	home := t.TempDir()
	state := filepath.Join(home, ".openclaw")
	copyFile(t, fixtures+"/state/legacy-2026.3.31.auth-profiles.json", filepath.Join(state, "agents", "main", "agent", "auth-profiles.json"))
	copyFile(t, fixtures+"/old-2026.3.31/auth-profiles.cooldown.json", filepath.Join(state, "agents", "ops", "agent", "auth-profiles.json"))
	if err := os.WriteFile(filepath.Join(state, "openclaw.json"), []byte(`{meta:{lastTouchedVersion:"2026.3.31"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	loc, _ := Locate(LocateOptions{Home: home, Getenv: func(string) string { return "" }})
	s := read(t, loc)
	if s.Layout != LayoutLegacy || s.Shared == nil || s.Shared.Kind != StoreLegacyJSON || len(s.Shared.Profiles) != 1 {
		t.Fatalf("layout %s shared %+v", s.Layout, s.Shared)
	}
	ops := s.Agent("ops")
	if ops == nil || ops.Own == nil {
		t.Fatalf("agent ops not read: %+v", s.Agents)
	}
	// The old layout keeps usageStats inline in auth-profiles.json.
	u := ops.Own.State.Usage["anthropic:default"]
	if u.CooldownReason != "auth" || u.ErrorCount != 3 || u.CooldownUntil.UnixMilli() != 1795611901513 {
		t.Errorf("inline usageStats not read: %+v", u)
	}
}

func TestReadMissingAndBroken(t *testing.T) {
	home := t.TempDir()
	loc, _ := Locate(LocateOptions{Home: home, Getenv: func(string) string { return "" }})
	s := read(t, loc) // nothing at all
	if s.Config != nil || s.ConfigErr != nil || len(s.Problems) != 0 {
		t.Fatalf("empty install: config %v err %v problems %v", s.Config, s.ConfigErr, s.Problems)
	}
	copyFile(t, fixtures+"/state/openclaw.broken.json", loc.ConfigPath)
	s = read(t, loc)
	var ce *ConfigError
	if s.ConfigErr == nil || !errors.As(error(s.ConfigErr), &ce) || ce.Line != 4 || ce.Column != 1 || !strings.Contains(ce.Msg, "JSON5: invalid end of input at 4:1") {
		t.Fatalf("broken config: %+v (OpenClaw says: JSON5: invalid end of input at 4:1)", s.ConfigErr)
	}
}

// CredentialsAt is when OpenClaw last wrote the credential row of a SQLite
// store (state-db: config_machine_state.updated_at_ms of authProfiles.store;
// agent-db: auth_profile_store.updated_at), never the state row's time, and
// zero for the JSON generations, whose auth-profiles.json is rewritten at
// every failure.
func TestReadCredentialsAt(t *testing.T) {
	written := time.Date(2026, 11, 25, 11, 58, 0, 0, time.UTC)
	store := `{"version":1,"profiles":{"anthropic:default":{"type":"api_key","provider":"anthropic","key":"sk-ant-api03-x"}}}`
	state := `{"version":1,"usageStats":{"anthropic:default":{"cooldownUntil":1795608000000,"lastFailureAt":1795607000000}}}`
	exec := func(t *testing.T, path, schema string, stmts ...string) {
		t.Helper()
		mustNil(t, os.MkdirAll(filepath.Dir(path), 0o700))
		db, err := sql.Open("sqlite", "file:"+path)
		mustNil(t, err)
		defer db.Close()
		for _, q := range append([]string{schema}, stmts...) {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	cases := []struct {
		name  string
		build func(t *testing.T, state string)
		kind  string
		want  time.Time
	}{
		{"state-db", func(t *testing.T, dir string) {
			exec(t, filepath.Join(dir, "state", "openclaw.sqlite"),
				`CREATE TABLE config_machine_state (state_key TEXT NOT NULL PRIMARY KEY, value_json TEXT NOT NULL, updated_at_ms INTEGER NOT NULL) STRICT`,
				`INSERT INTO config_machine_state VALUES ('auth.sharedStore','{"location":"state-db"}',1)`,
				`INSERT INTO config_machine_state VALUES ('authProfiles.store','`+store+`',`+itoa(written.UnixMilli())+`)`,
				`INSERT INTO config_machine_state VALUES ('authProfiles.state','`+state+`',`+itoa(written.Add(time.Hour).UnixMilli())+`)`)
		}, StoreStateDB, written},
		{"agent-db", func(t *testing.T, dir string) {
			exec(t, filepath.Join(dir, "agents", "main", "agent", "openclaw-agent.sqlite"),
				`CREATE TABLE auth_profile_store (store_key TEXT NOT NULL PRIMARY KEY, store_json TEXT NOT NULL, updated_at INTEGER NOT NULL) STRICT;
				 CREATE TABLE auth_profile_state (state_key TEXT NOT NULL PRIMARY KEY, state_json TEXT NOT NULL, updated_at INTEGER NOT NULL) STRICT`,
				`INSERT INTO auth_profile_store VALUES ('primary','`+store+`',`+itoa(written.UnixMilli())+`)`,
				`INSERT INTO auth_profile_state VALUES ('primary','`+state+`',`+itoa(written.Add(time.Hour).UnixMilli())+`)`)
		}, StoreAgentDB, written},
		{"agent-db without updated_at (an unknown schema): no time, still read", func(t *testing.T, dir string) {
			exec(t, filepath.Join(dir, "agents", "main", "agent", "openclaw-agent.sqlite"),
				`CREATE TABLE auth_profile_store (store_key TEXT NOT NULL PRIMARY KEY, store_json TEXT NOT NULL)`,
				`INSERT INTO auth_profile_store VALUES ('primary','`+store+`')`)
		}, StoreAgentDB, time.Time{}},
		{"json-split: cannot tell", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "agents", "main", "agent")
			mustNil(t, os.MkdirAll(p, 0o700))
			mustNil(t, os.WriteFile(filepath.Join(p, "auth-profiles.json"), []byte(store), 0o600))
			mustNil(t, os.WriteFile(filepath.Join(p, "auth-state.json"), []byte(state), 0o600))
		}, StoreLegacyJSON, time.Time{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			home := t.TempDir()
			dir := filepath.Join(home, ".openclaw")
			version := "2026.9.6"
			if c.kind == StoreLegacyJSON {
				version = "2026.5.28"
			}
			mustNil(t, os.MkdirAll(dir, 0o700))
			mustNil(t, os.WriteFile(filepath.Join(dir, "openclaw.json"), []byte(`{"meta":{"lastTouchedVersion":"`+version+`"}}`), 0o600))
			c.build(t, dir)
			loc, err := Locate(LocateOptions{Home: home, Getenv: func(string) string { return "" }})
			mustNil(t, err)
			s := read(t, loc)
			if len(s.Problems) > 0 {
				t.Fatalf("problems: %v", s.Problems)
			}
			if s.Shared == nil || s.Shared.Kind != c.kind || s.Shared.Profile("anthropic:default") == nil {
				t.Fatalf("shared store: %+v", s.Shared)
			}
			if !s.Shared.CredentialsAt.Equal(c.want) {
				t.Errorf("CredentialsAt %s, want %s", s.Shared.CredentialsAt, c.want)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func mustNil(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
