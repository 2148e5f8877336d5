package openclaw

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
)

// A fence of 2026.9.6's exact shape (oauth-refresh-marker.ts).
func fenceTokens(claim string, failed bool) (string, string) {
	st := ""
	if failed {
		st = "failed:"
	}
	d := strings.Repeat("ab", 32)
	return "openclaw-oauth-refresh-fence:v1:" + claim + ":" + st + "access:" + d,
		"openclaw-oauth-refresh-fence:v1:" + claim + ":" + st + "refresh:" + d
}

// Fences are classified like parseOAuthRefreshFence does, and their
// "expires: 1" never becomes a date in 1970.
func TestFenceClassification(t *testing.T) {
	claim := strings.Repeat("0f", 16)
	pa, pr := fenceTokens(claim, false)
	fa, fr := fenceTokens(claim, true)
	_, otherR := fenceTokens(strings.Repeat("1e", 16), false)
	for _, tc := range []struct {
		name            string
		access, refresh string
		expires         string
		want            string
	}{
		{"pending", pa, pr, "1", FencePending},
		{"failed", fa, fr, "1", FenceFailed},
		{"claims differ", pa, otherR, "1", FenceMalformed},
		{"one failed, one pending", fa, pr, "1", FenceFailed},
		{"the issue's wording, pending", "openclaw-oauth-refresh-fence:v1:00ff:pending:access", "openclaw-oauth-refresh-fence:v1:00ff:pending:refresh", "1", FencePending},
		{"the issue's wording, failed", "openclaw-oauth-refresh-fence:v1:00ff:failed:access", "openclaw-oauth-refresh-fence:v1:00ff:failed:refresh", "1", FenceFailed},
		{"expires is not 1", pa, pr, "1795617332447", FenceMalformed},
		{"only the access token", pa, "sk-ant-ort01-FAKE", "1", FenceMalformed},
		{"an ordinary login", "sk-ant-oat01-FAKE", "sk-ant-ort01-FAKE", "1795617332447", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := `{"type":"oauth","provider":"anthropic","access":"` + tc.access + `","refresh":"` + tc.refresh + `","expires":` + tc.expires + `}`
			var rc rawCredential
			if err := json.Unmarshal([]byte(raw), &rc); err != nil {
				t.Fatal(err)
			}
			c := rc.credential("anthropic:oauth")
			if c.Fence != tc.want {
				t.Errorf("Fence = %q, want %q", c.Fence, tc.want)
			}
			if c.Fence != "" && !c.Expires.IsZero() {
				t.Errorf("a fence has Expires %s: its expires is a marker, not a date", c.Expires)
			}
		})
	}
	// The failed fence the real 2026.9.6 CLI wrote (OPENCLAW.md §6.4).
	b, err := os.ReadFile(filepath.Join("..", "testdata", "openclaw", "state", "store.oauth-fenced-failed.json"))
	if err != nil {
		t.Fatal(err)
	}
	ps, _, _, err := parseStore(b)
	if err != nil || len(ps) != 1 || ps[0].Fence != FenceFailed || !ps[0].Expires.IsZero() {
		t.Fatalf("real fixture: %+v %v", ps, err)
	}
}

// Which models a window covers, as 2026.9.6's usage-state decides: a
// cooldownModel only scopes rate_limit/timeout/model_not_found, a
// blockedModel only with blockedScope "model".
func TestWindowModelScope(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	later := now.Add(time.Hour)
	for _, tc := range []struct {
		name      string
		u         UsageStats
		kind, mod string
	}{
		{"rate_limit on one model", UsageStats{CooldownUntil: later, CooldownReason: "rate_limit", CooldownModel: "claude-opus-5"}, WindowCooldown, "claude-opus-5"},
		{"auth with a stale cooldownModel covers all", UsageStats{CooldownUntil: later, CooldownReason: "auth", CooldownModel: "claude-opus-5"}, WindowCooldown, ""},
		{"an unknown reason covers all", UsageStats{CooldownUntil: later, CooldownReason: "weird_new_reason", CooldownModel: "claude-opus-5"}, WindowCooldown, ""},
		{"no reason (2026.1-2.x)", UsageStats{CooldownUntil: later}, WindowCooldown, ""},
		{"block scoped to a model (2026.8+)", UsageStats{BlockedUntil: later, BlockedReason: "subscription_limit", BlockedModel: "claude-opus-5", BlockedScope: "model"}, WindowBlocked, "claude-opus-5"},
		{"block with a model but no scope (2026.5-7.x) covers all", UsageStats{BlockedUntil: later, BlockedReason: "subscription_limit", BlockedModel: "claude-opus-5"}, WindowBlocked, ""},
	} {
		w, ok := tc.u.Active(now)
		if !ok || w.Kind != tc.kind || w.Model != tc.mod || !w.Until.Equal(later) {
			t.Errorf("%s: %+v %v, want %s on %q", tc.name, w, ok, tc.kind, tc.mod)
		}
	}
}

// The stored blocked fields are read verbatim (blockedSource/Scope too).
func TestBlockedFieldsRead(t *testing.T) {
	st, err := parseState([]byte(`{"version":1,"usageStats":{"anthropic:default":{"blockedUntil":4102444800000,"blockedReason":"subscription_limit","blockedSource":"wham","blockedModel":"claude-opus-5","blockedScope":"model","cooldownClassification":"wham_token_expired"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	u := st.Usage["anthropic:default"]
	if u.BlockedSource != "wham" || u.BlockedScope != "model" || u.BlockedModel != "claude-opus-5" || u.CooldownClassification != "wham_token_expired" {
		t.Errorf("usage %+v", u)
	}
}

// claudeInstall writes an install whose config routes models through
// Claude Code and points CLAUDE_CONFIG_DIR (in $STATE/.env) at a temp dir.
func claudeInstall(t *testing.T, version string, extra map[string]any) (*sandbox.Dir, Location, string) {
	t.Helper()
	home := t.TempDir()
	d, err := sandbox.New(filepath.Join(home, ".openclaw"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Config(version, extra); err != nil {
		t.Fatal(err)
	}
	cdir := filepath.Join(home, "claude-config")
	if err := os.MkdirAll(cdir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := d.WriteFile(".env", []byte("CLAUDE_CONFIG_DIR="+cdir+"\n")); err != nil {
		t.Fatal(err)
	}
	loc, err := Locate(LocateOptions{StateDir: d.Path, Home: home, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	return d, loc, cdir
}

var runtimeCLI = map[string]any{"agents": map[string]any{"defaults": map[string]any{
	"model":  map[string]any{"primary": "anthropic/claude-opus-5"},
	"models": map[string]any{"anthropic/claude-opus-5": map[string]any{"agentRuntime": map[string]any{"id": "claude-cli"}}}}}}

func TestClaudeLogin(t *testing.T) {
	if claudeGOOS == "darwin" {
		t.Skip("macOS keeps the login in the keychain")
	}
	const access, refresh = "sk-ant-oat01-CLAUDECODEACCESSTOKENFAKE0000", "sk-ant-ort01-CLAUDECODEREFRESHTOKENFAKE000"
	t.Run("no route: nothing read", func(t *testing.T) {
		_, loc, cdir := claudeInstall(t, "2026.9.6", nil)
		if err := os.WriteFile(filepath.Join(cdir, ".credentials.json"), []byte(`{}`), 0o600); err != nil {
			t.Fatal(err)
		}
		if s := resetSnap(t, loc); s.ClaudeCLI != nil {
			t.Fatalf("ClaudeCLI = %+v", s.ClaudeCLI)
		}
	})
	t.Run("agentRuntime route, readable OAuth login", func(t *testing.T) {
		_, loc, cdir := claudeInstall(t, "2026.9.6", runtimeCLI)
		body := `{"claudeAiOauth":{"accessToken":"` + access + `","refreshToken":"` + refresh + `","expiresAt":4102444800000,"scopes":["user:inference"],"subscriptionType":"max","rateLimitTier":"default_claude_max_20x"}}`
		if err := os.WriteFile(filepath.Join(cdir, ".credentials.json"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		s := resetSnap(t, loc)
		l := s.ClaudeCLI
		if l == nil || l.Mode != ClaudeNative || l.State != ClaudeReadable || l.Type != TypeOAuth || l.Subscription != "max" ||
			!l.Expires.Equal(time.UnixMilli(4102444800000)) || l.Path != filepath.Join(cdir, ".credentials.json") || !strings.Contains(l.ConfigDirFrom, "$STATE/.env") {
			t.Fatalf("ClaudeCLI = %+v", l)
		}
		if len(l.Routes) != 1 || !strings.Contains(l.Routes[0], `agents.defaults.models["anthropic/claude-opus-5"].agentRuntime.id`) || l.Models[0] != "anthropic/claude-opus-5" {
			t.Errorf("routes %v models %v", l.Routes, l.Models)
		}
		if !s.Config.RunsOnClaudeCLI("anthropic/claude-opus-5") || s.Config.RunsOnClaudeCLI("anthropic/claude-sonnet-5") {
			t.Error("RunsOnClaudeCLI")
		}
		js, _ := json.Marshal(s)
		if strings.Contains(string(js), "CLAUDECODE") {
			t.Fatalf("a Claude Code token reached the snapshot: %s", js)
		}
	})
	t.Run("token without refresh", func(t *testing.T) {
		_, loc, cdir := claudeInstall(t, "2026.9.6", map[string]any{"agents": map[string]any{"defaults": map[string]any{"model": map[string]any{"primary": "claude-cli/claude-sonnet-4-6"}}}})
		if err := os.WriteFile(filepath.Join(cdir, ".credentials.json"), []byte(`{"claudeAiOauth":{"accessToken":"`+access+`","expiresAt":1795610000000}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		l := resetSnap(t, loc).ClaudeCLI
		if l == nil || l.State != ClaudeReadable || l.Type != TypeToken || l.Routes[0] != "model ref claude-cli/claude-sonnet-4-6" {
			t.Fatalf("ClaudeCLI = %+v", l)
		}
	})
	t.Run("missing, no login, unreadable, helper", func(t *testing.T) {
		_, loc, cdir := claudeInstall(t, "2026.4.24", map[string]any{"agents": map[string]any{"defaults": map[string]any{
			"model": map[string]any{"primary": "anthropic/claude-opus-4-7"}, "embeddedHarness": map[string]any{"runtime": "claude-cli"}}}})
		cred := filepath.Join(cdir, ".credentials.json")
		if l := resetSnap(t, loc).ClaudeCLI; l == nil || l.State != ClaudeMissing || !l.AllModels || l.Routes[0] != `agents.defaults.embeddedHarness.runtime = "claude-cli"` {
			t.Fatalf("missing: %+v", l)
		}
		if err := os.WriteFile(cred, []byte(`{"claudeAiOauth":{"refreshToken":"`+refresh+`"}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		if l := resetSnap(t, loc).ClaudeCLI; l.State != ClaudeNoLogin {
			t.Fatalf("no login: %+v", l)
		}
		if err := os.Remove(cred); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(cred, 0o700); err != nil { // unreadable even for root
			t.Fatal(err)
		}
		if l := resetSnap(t, loc).ClaudeCLI; l.State != ClaudeUnreadable || !strings.Contains(l.Problem, "not a regular file") {
			t.Fatalf("unreadable: %+v", l)
		}
		if err := os.WriteFile(filepath.Join(cdir, "settings.json"), []byte(`{"apiKeyHelper":"/usr/local/bin/get-key"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		if l := resetSnap(t, loc).ClaudeCLI; l.State != ClaudeHelper {
			t.Fatalf("helper: %+v", l)
		}
	})
	t.Run("2026.7.35 keeps a copy; 2026.9.6 ignores it", func(t *testing.T) {
		store := json.RawMessage(`{"version":1,"profiles":{"anthropic:claude-cli":{"type":"oauth","provider":"claude-cli","access":"` + access + `","refresh":"` + refresh + `","expires":4102444800000}}}`)
		d, loc, _ := claudeInstall(t, "2026.7.35", nil)
		if err := d.AgentStore("main", store, nil); err != nil {
			t.Fatal(err)
		}
		if l := resetSnap(t, loc).ClaudeCLI; l == nil || l.Mode != ClaudeCopy || !l.StoredCopy || l.CopyIgnored {
			t.Fatalf("7.35: %+v", l)
		}
		d, loc, _ = claudeInstall(t, "2026.9.6", nil)
		if err := d.SharedStore(store, nil); err != nil {
			t.Fatal(err)
		}
		if l := resetSnap(t, loc).ClaudeCLI; l == nil || l.Mode != ClaudeNative || !l.CopyIgnored {
			t.Fatalf("9.6: %+v", l)
		}
	})
}
