package peer

// Unit tests that need no OpenClaw installation.

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestFakeCredentialShapes(t *testing.T) {
	k, tok := FakeAPIKey(), FakeSetupToken()
	if !strings.HasPrefix(k, "sk-ant-api03-") || !strings.HasSuffix(k, "AA") || len(k) != 13+95+2 {
		t.Fatalf("api key shape: len %d", len(k))
	}
	if !strings.HasPrefix(tok, "sk-ant-oat01-") || len(tok) < 80 {
		t.Fatalf("setup token shape: len %d", len(tok))
	}
	if FakeAPIKey() == k {
		t.Fatal("keys are not random")
	}
}

func TestRedaction(t *testing.T) {
	var r redactor
	custom := "my-very-private-value"
	r.add(custom)
	k := FakeAPIKey()
	fence := "openclaw-oauth-refresh-fence:v1:0123456789abcdef0123456789abcdef:failed:access:" + strings.Repeat("ab", 32)
	in := fmt.Sprintf("a %s b %s c %s d", custom, k, fence)
	out := r.redact(in)
	for _, s := range []string{custom, k, k[13:60], fence} {
		if strings.Contains(out, s) {
			t.Fatalf("not redacted: %s", out)
		}
	}
	if !strings.Contains(out, "<secret "+Fingerprint(custom)+">") || !strings.Contains(out, "<secret "+Fingerprint(k)+">") {
		t.Fatalf("fingerprints missing: %s", out)
	}
	if Redact("sk-ant-a...XanXJBAA is masked") != "sk-ant-a...XanXJBAA is masked" {
		t.Fatal("an already-masked label must stay readable")
	}
	for name, want := range map[string]bool{"ANTHROPIC_API_KEY": true, "ANTHROPIC_OAUTH_TOKEN": true, "MY_SECRET": true, "HOME": false, "DO_NOT_TRACK": false} {
		if sensitiveEnvName(name) != want {
			t.Errorf("sensitiveEnvName(%s) != %v", name, want)
		}
	}
}

// fakeOpenclaw writes a shell script standing in for the CLI. It fails
// unless its own directory is first on PATH and the caller's Anthropic
// variables were dropped.
func fakeOpenclaw(t *testing.T, version string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("shell script stand-in")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "openclaw")
	script := fmt.Sprintf(`#!/bin/sh
case "$PATH" in "%s":*) ;; *) echo "bad PATH $PATH" >&2; exit 3;; esac
[ -z "$ANTHROPIC_API_KEY" ] || { echo leaked >&2; exit 4; }
[ "$DO_NOT_TRACK" = 1 ] && [ "$OPENCLAW_NO_AUTO_UPDATE" = 1 ] || exit 5
echo "OpenClaw %s (fake)"
`, dir, version)
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestFindHonoursOpenclawBinAndVersion(t *testing.T) {
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-api03-shouldnotleakxxxxxxxxxxxxxxxx")
	good := fakeOpenclaw(t, "2026.9.6")
	t.Setenv(EnvBin, good)
	bin, ok, why := Find()
	if !ok || bin != good || !strings.Contains(why, "2026.9.6") {
		t.Fatalf("Find() = %q, %v, %q", bin, ok, why)
	}
	cli, err := FindCLI()
	if err != nil || cli.PathPrefix != filepath.Dir(good) || cli.VersionLine != "OpenClaw 2026.9.6 (fake)" {
		t.Fatalf("FindCLI() = %+v, %v", cli, err)
	}

	old := fakeOpenclaw(t, "2026.3.31")
	t.Setenv(EnvBin, old)
	if _, ok, why := Find(); ok || !strings.Contains(why, "2026.3.31") || !strings.Contains(why, EnvVersion) {
		t.Fatalf("old version accepted or unclear: %v %q", ok, why)
	}
	t.Setenv(EnvVersion, "2026.3.31")
	if _, ok, why := Find(); !ok {
		t.Fatalf("version override ignored: %q", why)
	}

	t.Setenv(EnvBin, filepath.Join(t.TempDir(), "missing"))
	if _, ok, why := Find(); ok || !strings.Contains(why, EnvBin) {
		t.Fatalf("missing OPENCLAW_BIN: %v %q", ok, why)
	}
}

// recordingTB captures Skip/Fatal from Require.
type recordingTB struct {
	testing.TB
	mu      sync.Mutex
	skipped string
	failed  string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Skip(args ...any) {
	r.mu.Lock()
	r.skipped = fmt.Sprint(args...)
	r.mu.Unlock()
	runtime.Goexit()
}
func (r *recordingTB) Fatal(args ...any) {
	r.mu.Lock()
	r.failed = fmt.Sprint(args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func runRequire(t *testing.T) *recordingTB {
	rec := &recordingTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Require(rec)
	}()
	<-done
	return rec
}

func TestRequireSkipsOrFails(t *testing.T) {
	if testing.Short() {
		t.Skip("Require skips for -short before looking")
	}
	t.Setenv(EnvBin, filepath.Join(t.TempDir(), "missing"))
	t.Setenv(EnvRequired, "")
	rec := runRequire(t)
	for _, want := range []string{"bash scripts/install-peer.sh", `export PATH="$HOME/.cache/openclaw-peer/bin:$PATH" DO_NOT_TRACK=1 OPENCLAW_NO_AUTO_UPDATE=1`, EnvRequired} {
		if !strings.Contains(rec.skipped, want) {
			t.Fatalf("skip message lacks %q:\n%s", want, rec.skipped)
		}
	}
	if rec.failed != "" {
		t.Fatal("failed instead of skipping")
	}
	t.Setenv(EnvRequired, "1")
	rec = runRequire(t)
	if rec.failed == "" || rec.skipped != "" || !strings.Contains(rec.failed, "install-peer.sh") {
		t.Fatalf("required: skipped %q failed %q", rec.skipped, rec.failed)
	}
}

const stateSchema = `CREATE TABLE config_machine_state (state_key TEXT NOT NULL PRIMARY KEY, value_json TEXT NOT NULL, updated_at_ms INTEGER NOT NULL) STRICT`
const agentSchema = `CREATE TABLE auth_profile_store (store_key TEXT NOT NULL PRIMARY KEY, store_json TEXT NOT NULL, updated_at INTEGER NOT NULL) STRICT;
CREATE TABLE auth_profile_state (state_key TEXT NOT NULL PRIMARY KEY, state_json TEXT NOT NULL, updated_at INTEGER NOT NULL) STRICT`

func mkDB(t *testing.T, path, schema string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range strings.Split(schema, ";") {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStateAndAgentRows(t *testing.T) {
	sb := newSandbox(t, &CLI{}, t.TempDir())
	if err := sb.SetStateRow(RowProfilesState, []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing DB: %v", err)
	}
	mkDB(t, sb.StateDBPath(), stateSchema)
	if _, ok := sb.StateRow(RowProfilesState); ok {
		t.Fatal("row present in an empty DB")
	}
	if err := sb.SetStateRow(RowProfilesState, []byte("{\n  \"version\": 1,\n  \"usageStats\": {}\n}")); err != nil {
		t.Fatal(err)
	}
	if v, ok := sb.StateRow(RowProfilesState); !ok || string(v) != `{"version":1,"usageStats":{}}` {
		t.Fatalf("row = %s %v (want compact JSON)", v, ok)
	}
	if err := sb.SetStateRow(RowProfilesState, []byte(`{"version":2}`)); err != nil {
		t.Fatal(err)
	}
	if v, _ := sb.StateRow(RowProfilesState); string(v) != `{"version":2}` {
		t.Fatalf("upsert: %s", v)
	}
	if err := sb.SetStateRow(RowProfilesState, []byte(`{not json`)); err == nil {
		t.Fatal("invalid JSON accepted")
	}
	if err := sb.DeleteStateRow(RowProfilesState); err != nil {
		t.Fatal(err)
	}
	if err := sb.DeleteStateRow(RowProfilesState); err != nil {
		t.Fatalf("deleting an absent row: %v", err)
	}
	if _, ok := sb.StateRow(RowProfilesState); ok {
		t.Fatal("row survived delete")
	}

	if _, ok, err := sb.AgentAuthRow("ops", AgentAuthStore); ok || err != nil {
		t.Fatalf("missing agent DB: %v %v", ok, err)
	}
	if err := sb.SetAgentAuthRow("ops", AgentAuthStore, []byte(`{}`)); err == nil {
		t.Fatal("wrote into a missing agent DB")
	}
	mkDB(t, sb.AgentDBPath("ops"), agentSchema)
	for _, tbl := range []AgentAuthTable{AgentAuthStore, AgentAuthState} {
		if err := sb.SetAgentAuthRow("ops", tbl, []byte(`{"version": 1}`)); err != nil {
			t.Fatal(err)
		}
		if v, ok, err := sb.AgentAuthRow("ops", tbl); err != nil || !ok || string(v) != `{"version":1}` {
			t.Fatalf("%s row = %s %v %v", tbl, v, ok, err)
		}
		if err := sb.DeleteAgentAuthRow("ops", tbl); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := sb.AgentAuthRow("ops", tbl); ok {
			t.Fatal("agent row survived delete")
		}
	}
	if err := sb.SetAgentAuthRow("ops", "bogus", []byte(`{}`)); err == nil {
		t.Fatal("bogus table accepted")
	}
}

func TestCloneHomeRewritesPaths(t *testing.T) {
	src := filepath.Join(t.TempDir(), "home")
	cfg := fmt.Sprintf(`{"agents":{"defaults":{"workspace":"%[1]s/.openclaw/workspace"},"entries":{"main":{"agentDir":"%[1]s/.openclaw/agents/main/agent"}}},"other":"%[1]s"}`, src)
	for path, body := range map[string]string{
		".openclaw/openclaw.json":            cfg,
		".openclaw/openclaw.json.bak":        cfg,
		".openclaw/state/openclaw.sqlite":    "db",
		".openclaw/workspace/.git/HEAD":      "ref: refs/heads/main\n",
		".openclaw/agents/main/sessions/.ok": "",
	} {
		p := filepath.Join(src, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dst := filepath.Join(t.TempDir(), "home")
	if err := os.MkdirAll(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := cloneHome(src, dst); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"openclaw.json", "openclaw.json.bak"} {
		b, err := os.ReadFile(filepath.Join(dst, ".openclaw", name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), src) || strings.Count(string(b), dst) != 3 {
			t.Fatalf("%s not rewritten: %s", name, b)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dst, ".openclaw/workspace/.git/HEAD")); err != nil || string(b) != "ref: refs/heads/main\n" {
		t.Fatalf("tree not copied: %q %v", b, err)
	}
	if st, err := os.Stat(filepath.Join(dst, ".openclaw/state/openclaw.sqlite")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode not kept: %v %v", st, err)
	}
}

func TestEditConfigAndSetBaseURL(t *testing.T) {
	sb := newSandbox(t, &CLI{}, t.TempDir())
	if err := sb.WriteConfig([]byte(`{"models":{"providers":{"openai":{"baseUrl":"x"}}},"gateway":{"port":18789}}`)); err != nil {
		t.Fatal(err)
	}
	if err := sb.SetBaseURL("http://127.0.0.1:1234"); err != nil {
		t.Fatal(err)
	}
	if err := sb.AddAgentConfig("ops"); err != nil {
		t.Fatal(err)
	}
	if err := sb.SetGatewayPort(40000); err != nil {
		t.Fatal(err)
	}
	b, _ := sb.ReadConfig()
	for _, want := range []string{`"anthropic": {
        "baseUrl": "http://127.0.0.1:1234"`, `"openai": {`, `"port": 40000`, `"ownership": "explicit"`, `"agentDir": "` + sb.AgentDir("ops") + `"`} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("config lacks %s:\n%s", want, b)
		}
	}
	if st, _ := os.Stat(sb.ConfigPath()); st.Mode().Perm() != 0o600 {
		t.Fatalf("config mode %v", st.Mode())
	}
	if err := sb.WriteConfig([]byte("{ broken")); err != nil {
		t.Fatal(err)
	}
	if err := sb.SetBaseURL("x"); err == nil {
		t.Fatal("EditConfig accepted broken JSON")
	}
}

// The captured outputs in testdata/openclaw/models-status all parse.
func TestParseCapturedModelsStatus(t *testing.T) {
	files, err := filepath.Glob("../../testdata/openclaw/models-status/*_json*.out")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures found: %v", err)
	}
	parsed := map[string]*ModelsStatus{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".out")
		st, err := ParseModelsStatus(b)
		var cliErr *CLIError
		if strings.HasPrefix(name, "invalidschema") {
			if !errors.As(err, &cliErr) || cliErr.Type != "cli_error" || !strings.Contains(cliErr.Message, `Unrecognized key: "bogusTopLevelKey"`) {
				t.Errorf("%s: want cli_error, got %v", name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		parsed[name] = st
	}
	check := func(name string, cond bool, what string) {
		t.Helper()
		if parsed[name] == nil {
			t.Errorf("%s: not parsed", name)
		} else if !cond {
			t.Errorf("%s: %s", name, what)
		}
	}
	if st := parsed["disabled_billing_json"]; st != nil {
		u := st.UnusableProfile("anthropic:default")
		check("disabled_billing_json", u != nil && u.Kind == "disabled" && u.Reason == "billing" && st.MissingInUse("anthropic"), "billing disable")
	}
	if st := parsed["cooldown_ratelimit_model_json"]; st != nil {
		u := st.UnusableProfile("anthropic:default")
		check("cooldown_ratelimit_model_json", u != nil && u.Kind == "cooldown" && u.Reason == "rate_limit", "rate-limit cooldown")
	}
	if st := parsed["token_expiring_json"]; st != nil {
		h := st.Profile("anthropic:manual")
		check("token_expiring_json", h != nil && h.Type == "token" && h.Status == "expiring" && h.ExpiresAt > 0 && h.RemainingMs > 0, "expiring token")
	}
	if st := parsed["env_both_json"]; st != nil {
		p := st.Provider("anthropic")
		check("env_both_json", p != nil && p.Effective.Kind == "env" && p.Env != nil && p.Env.Source == "env: ANTHROPIC_OAUTH_TOKEN", "env OAuth effective")
	}
	if st := parsed["oauth_fenced_json"]; st != nil {
		h := st.Profile("anthropic:oauth")
		check("oauth_fenced_json", h != nil && h.Status == "expired" && h.ReasonCode == "expired" && st.MissingInUse("anthropic"), "fenced = expired")
	}
	if st := parsed["keyref_env_unset_json"]; st != nil {
		check("keyref_env_unset_json", len(st.Auth.ModelRouteIssues) == 2 && st.Auth.ModelRouteIssues[0].Kind == "indeterminate", "indeterminate route issues")
	}
	if st := parsed["agent_ops_localdb_json"]; st != nil {
		check("agent_ops_localdb_json", strings.HasSuffix(st.Auth.StorePath, "agents/ops/agent/openclaw-agent.sqlite") && st.Profile("anthropic:ops") != nil && st.Profile("anthropic:default") != nil && st.UnusableProfile("anthropic:default") != nil, "local + inherited profiles")
	}
	if _, err := ParseModelsStatus([]byte("  ")); err == nil {
		t.Error("empty stdout accepted")
	}
	if _, err := ParseModelsStatus([]byte("Config : ~/.openclaw/openclaw.json " + FakeAPIKey())); err == nil || strings.Contains(err.Error(), "sk-ant-api03-") {
		t.Errorf("text output: %v", err)
	}
}
