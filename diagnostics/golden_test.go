package diagnostics

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/golden/<name>, after replacing the
// sandbox path by $STATE so files are stable.
func golden(t *testing.T, name, stateDir string, got []byte) {
	t.Helper()
	got = bytes.ReplaceAll(got, []byte(stateDir), []byte("$STATE"))
	for from, to := range goldenSubst {
		got = bytes.ReplaceAll(got, []byte(from), []byte(to))
	}
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./diagnostics -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file (run with -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// goldenSubst replaces what differs between machines (the test user, temp
// dirs outside the state dir) in golden files.
var goldenSubst = map[string]string{}

func TestGoldenText(t *testing.T) {
	if u, err := user.Current(); err == nil {
		goldenSubst[u.Username+" (uid "+u.Uid+")"] = "$USER (uid $UID)"
	}
	scenarios := map[string]func(t *testing.T, d *sandbox.Dir){
		// Issue #11: a 2026.9.6 install whose models run on Claude Code's
		// own login, read from CLAUDE_CONFIG_DIR.
		"claude-cli": func(t *testing.T, d *sandbox.Dir) {
			mustNil(t, d.Config("2026.9.6", onClaude("anthropic/claude-opus-5", "anthropic/claude-opus-5")))
			dir := claudeEnv(t, d, claudeOAuthFile(testNow.Add(-time.Hour)))
			goldenSubst[dir] = "$CLAUDE_CONFIG_DIR"
		},
		// Issue #11: an interrupted refresh, a subscription block window, a
		// subscription's billing disable and a reason the bot never saw.
		"fence-and-windows": func(t *testing.T, d *sandbox.Dir) {
			mustNil(t, d.Config("2026.9.6", withFallback))
			a, r := fence(false)
			mustNil(t, d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{
				"anthropic:oauth":   map[string]any{"type": "oauth", "provider": "anthropic", "access": a, "refresh": r, "expires": 1},
				"anthropic:manual":  map[string]any{"type": "token", "provider": "anthropic", "token": tokenVal},
				"anthropic:default": map[string]any{"type": "api_key", "provider": "anthropic", "key": goodKey},
				"anthropic:backup":  map[string]any{"type": "api_key", "provider": "anthropic", "key": sandbox.APIKey("anthropic:backup")},
			}}, map[string]any{"version": 1, "usageStats": map[string]any{
				"anthropic:manual": map[string]any{"disabledUntil": ms(10 * time.Minute), "disabledReason": "billing", "errorCount": 1, "failureCounts": map[string]int{"billing": 1}},
				"anthropic:default": map[string]any{"blockedUntil": ms(3 * time.Hour), "blockedReason": "subscription_limit", "blockedSource": "wham",
					"blockedModel": "claude-opus-5", "blockedScope": "model", "failureCounts": map[string]int{"rate_limit": 1}},
				"anthropic:backup": map[string]any{"cooldownUntil": ms(time.Hour), "cooldownReason": "weird_new_reason", "cooldownModel": "claude-opus-5"},
			}}))
			setStoreWrittenAt(t, d, testNow.Add(-3*time.Hour))
		},
		"cooldown-auth": func(t *testing.T, d *sandbox.Dir) {
			mustNil(t, d.Config("2026.9.6", nil, "anthropic:default"))
			mustNil(t, d.SharedStore(apiKeyStore("anthropic:default"), usage("anthropic:default", map[string]any{
				"cooldownUntil": ms(4 * time.Minute), "cooldownReason": "auth", "errorCount": 3, "failureCounts": map[string]int{"auth": 3}, "lastFailureAt": ms(-time.Minute)})))
			mustNil(t, d.WriteFile(".env", []byte("ANTHROPIC_API_KEY="+envKey+"\n")))
		},
		"many-problems": func(t *testing.T, d *sandbox.Dir) {
			mustNil(t, d.Config("2026.9.6", nil, "anthropic:default", "anthropic:billing"))
			st := apiKeyStore("anthropic:billing")
			st["profiles"].(map[string]any)["anthropic:default"] = map[string]any{"type": "api_key", "provider": "anthropic", "key": "garbage-key-123"}
			st["profiles"].(map[string]any)["anthropic:manual"] = map[string]any{"type": "token", "provider": "anthropic", "token": tokenVal, "expires": ms(2 * time.Hour)}
			mustNil(t, d.SharedStore(st, usage("anthropic:billing", map[string]any{"disabledUntil": ms(10 * time.Minute), "disabledReason": "billing", "errorCount": 1})))
			mustNil(t, d.WriteFile(".env", []byte("ANTHROPIC_BASE_URL=http://127.0.0.1:9\n")))
			mustNil(t, d.WriteJSON("agents/main/agent/auth-profiles.json", apiKeyStore("anthropic:default")))
		},
		"no-credentials": func(t *testing.T, d *sandbox.Dir) {
			mustNil(t, d.Config("2026.9.6", nil))
		},
		"broken-config": func(t *testing.T, d *sandbox.Dir) {
			mustNil(t, d.WriteFile("openclaw.json", []byte("{\n  \"agents\": {\n    \"defaults\": {\n")))
		},
	}
	for name, build := range scenarios {
		t.Run(name, func(t *testing.T) {
			d, err := sandbox.New(t.TempDir())
			mustNil(t, err)
			build(t, d)
			rep := Diagnose("local", &Input{Snap: readSnap(t, d.Path), Now: testNow})
			var status, diag bytes.Buffer
			rep.WriteStatus(&status)
			rep.WriteDiagnosis(&diag)
			js, err := json.MarshalIndent(rep, "", "  ")
			mustNil(t, err)
			for _, out := range []string{status.String(), diag.String(), string(js)} {
				assertNoSecretLeak(t, out)
			}
			golden(t, name+".status.txt", d.Path, status.Bytes())
			golden(t, name+".diagnose.txt", d.Path, diag.Bytes())
			golden(t, name+".json", d.Path, append(js, '\n'))
			if strings.Contains(diag.String(), "restart") && strings.Contains(diag.String(), "clears") {
				t.Error("a remedy claims a restart clears a cooldown")
			}
		})
	}
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
