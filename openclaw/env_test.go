package openclaw

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseDotenv(t *testing.T) {
	in := "# comment\nexport ANTHROPIC_API_KEY=sk-ant-1 # inline\nB='single # kept'\nC=\"multi\nline\"\nD=`tick`\n bad line\n1X=no\nE:colon\n"
	got := map[string]string{}
	lines := map[string]int{}
	for _, e := range ParseDotenv([]byte(in)) {
		got[e.Name], lines[e.Name] = e.Value, e.Line
	}
	want := map[string]string{"ANTHROPIC_API_KEY": "sk-ant-1", "B": "single # kept", "C": "multi\nline", "D": "tick", "E": "colon"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got["1X"]; ok {
		t.Error("invalid name accepted")
	}
	if lines["ANTHROPIC_API_KEY"] != 2 || lines["C"] != 4 {
		t.Errorf("lines %v", lines)
	}
}

func TestIsGatewayCmdline(t *testing.T) {
	for cmd, want := range map[string]bool{
		"node\x00/usr/lib/node_modules/openclaw/openclaw.mjs\x00gateway\x00run\x00": true,
		"/home/u/.local/bin/openclaw\x00gateway\x00--port\x0018789\x00":             true,
		"openclaw-gateway\x00":                                true,
		"/usr/bin/openclaw\x00models\x00status\x00--json\x00": false,
		"vim\x00gateway\x00":                                  false,
		"node\x00/srv/other/index.js\x00gateway\x00":          false,
		"/usr/bin/bash\x00-c\x00openclaw gateway run\x00":     false,
	} {
		if got := IsGatewayCmdline([]byte(cmd)); got != want {
			t.Errorf("%q: %v, want %v", cmd, got, want)
		}
	}
}

// fakeProc lays out /proc/<pid>/{cmdline,environ,cwd} for one process.
func fakeProc(t *testing.T, root string, pid, cmdline, environ, cwd string) {
	t.Helper()
	d := filepath.Join(root, pid)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(d, "cmdline"), []byte(cmdline), 0o644)
	if environ != "" {
		os.WriteFile(filepath.Join(d, "environ"), []byte(environ), 0o600)
	}
	if cwd != "" {
		os.Symlink(cwd, filepath.Join(d, "cwd"))
	}
}

// Every source the gateway reads, in OpenClaw's first-wins order; the bot's
// own environment is never taken for the gateway's.
func TestCollectEnvSources(t *testing.T) {
	t.Setenv("ANTHROPIC_API_KEY", "bot-own-env-must-not-appear")
	home := t.TempDir()
	state := filepath.Join(home, ".openclaw")
	cwd := t.TempDir()
	proc := t.TempDir()
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(state, "openclaw.json"), `{
  meta: {lastTouchedVersion: "2026.9.6"},
  env: {vars: {ANTHROPIC_API_KEY: "from-config-vars", CLAUDE_CODE_OAUTH_TOKEN: "${FROM_PROC}"}, ANTHROPIC_BASE_URL: "http://direct.example"},
  secrets: {providers: {vault: {source: "file", path: "`+filepath.Join(home, "secrets.json")+`", mode: "json"}}},
}`)
	write(filepath.Join(home, "secrets.json"), `{"anthropic":{"key":"from-file-ref"}}`)
	write(filepath.Join(state, ".env"), "ANTHROPIC_API_KEY=from-state-dotenv\nANTHROPIC_OAUTH_TOKEN=from-state-dotenv-oauth\n")
	write(filepath.Join(home, ".config", "openclaw", "gateway.env"), "ANTHROPIC_API_KEY=from-gateway-env\n")
	write(filepath.Join(cwd, ".env"), "CLAUDE_X=from-cwd\n")
	write(filepath.Join(home, ".clawdbot", ".env"), "ANTHROPIC_API_KEY=from-legacy\n")
	fakeProc(t, proc, "4242", "node\x00/opt/openclaw/openclaw.mjs\x00gateway\x00run\x00",
		"HOME="+home+"\x00ANTHROPIC_API_KEY=from-process\x00FROM_PROC=resolved-ref\x00PATH=/bin\x00", cwd)
	fakeProc(t, proc, "777", "node\x00/opt/openclaw/openclaw.mjs\x00gateway\x00run\x00",
		"HOME=/other\x00ANTHROPIC_API_KEY=other-install\x00", "")

	compose := filepath.Join(home, "compose.yaml")
	write(compose, "services:\n  openclaw-gateway:\n    environment:\n      - ANTHROPIC_API_KEY=from-compose\n    env_file: [gw.env]\n")
	write(filepath.Join(home, "gw.env"), "ANTHROPIC_OAUTH_TOKEN=from-compose-envfile\n")

	loc, err := Locate(LocateOptions{Home: home, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := ReadSnapshot(t.Context(), loc, ReadOptions{Env: EnvSources{ProcRoot: proc, ComposeFile: compose}})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Gateway == nil || snap.Gateway.PID != 4242 || !snap.Gateway.EnvReadable {
		t.Fatalf("gateway = %+v (the one serving another HOME must be ignored)", snap.Gateway)
	}
	var order []string
	for _, e := range snap.EnvAll("ANTHROPIC_API_KEY") {
		order = append(order, e.Value.Reveal())
	}
	wantOrder := "from-process from-compose from-state-dotenv from-gateway-env from-config-vars from-legacy"
	if strings.Join(order, " ") != wantOrder {
		t.Errorf("ANTHROPIC_API_KEY sources:\n got  %s\n want %s", strings.Join(order, " "), wantOrder)
	}
	if e, _ := snap.LookupEnv("ANTHROPIC_OAUTH_TOKEN"); e.Value.Reveal() != "from-compose-envfile" {
		t.Errorf("ANTHROPIC_OAUTH_TOKEN = %s from %s", e.Value.Reveal(), e.Source)
	}
	if e, _ := snap.LookupEnv("CLAUDE_X"); e.Rank != RankCwdDotenv {
		t.Errorf("cwd .env not read: %+v", e)
	}
	if e, _ := snap.LookupEnv("CLAUDE_CODE_OAUTH_TOKEN"); e.Value.Reveal() != "resolved-ref" || e.Unresolved != "" {
		t.Errorf("${VAR} in env.vars: %q unresolved=%q", e.Value.Reveal(), e.Unresolved)
	}
	if e, ok := snap.LookupEnv("ANTHROPIC_BASE_URL"); !ok || e.Source != "openclaw.json env.ANTHROPIC_BASE_URL" {
		t.Errorf("direct env.<KEY> form: %+v", e)
	}
	for _, e := range snap.Env {
		if e.Value.Reveal() == "bot-own-env-must-not-appear" || e.Value.Reveal() == "other-install" {
			t.Errorf("foreign environment leaked in: %+v", e)
		}
	}
	// SecretRefs: env and file resolve, exec never runs.
	if v, why := snap.ResolveRef(&SecretRef{Source: "env", Provider: "default", ID: "ANTHROPIC_API_KEY"}); v.Reveal() != "from-process" {
		t.Errorf("env ref: %q %s", v.Reveal(), why)
	}
	if v, why := snap.ResolveRef(&SecretRef{Source: "file", Provider: "vault", ID: "/anthropic/key"}); v.Reveal() != "from-file-ref" {
		t.Errorf("file ref: %q %s", v.Reveal(), why)
	}
	if v, why := snap.ResolveRef(&SecretRef{Source: "exec", Provider: "vault", ID: "x"}); !v.IsZero() || !strings.Contains(why, "never") {
		t.Errorf("exec ref must not resolve: %q %s", v.Reveal(), why)
	}
}

func TestUnreadableGatewayEnvironmentIsReported(t *testing.T) {
	home := t.TempDir()
	proc := t.TempDir()
	fakeProc(t, proc, "99", "openclaw-gateway\x00", "", "")
	loc, _ := Locate(LocateOptions{Home: home, Getenv: func(string) string { return "" }})
	snap, err := ReadSnapshot(t.Context(), loc, ReadOptions{Env: EnvSources{ProcRoot: proc}})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Gateway == nil || snap.Gateway.EnvReadable || len(snap.Problems) != 1 || !strings.Contains(snap.Problems[0], "not readable") {
		t.Fatalf("gateway %+v problems %v", snap.Gateway, snap.Problems)
	}
}
