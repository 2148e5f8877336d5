package diagnostics

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
)

// Issue #11: Claude Code logins (claude-cli), OAuth refresh fences, billing
// disables of subscription logins, subscription block windows, and windows
// whose reason the bot has never seen (or that have none).

// fence returns access/refresh tokens of 2026.9.6's exact fence shape.
func fence(failed bool) (string, string) {
	st := ""
	if failed {
		st = "failed:"
	}
	claim, digest := "a46d2d2e3f72f9f033e7c5e3393444b7", strings.Repeat("5c", 32)
	return "openclaw-oauth-refresh-fence:v1:" + claim + ":" + st + "access:" + digest,
		"openclaw-oauth-refresh-fence:v1:" + claim + ":" + st + "refresh:" + digest
}

func fencedStore(failed bool) map[string]any {
	a, r := fence(failed)
	return map[string]any{"version": 1, "profiles": map[string]any{"anthropic:oauth": map[string]any{
		"type": "oauth", "provider": "anthropic", "access": a, "refresh": r, "expires": 1, "email": "fake@example.invalid"}}}
}

// setStoreWrittenAt backdates the authProfiles.store row, as if OpenClaw
// had written the fence at t.
func setStoreWrittenAt(t *testing.T, d *sandbox.Dir, at time.Time) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(d.Path, "state", "openclaw.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE config_machine_state SET updated_at_ms=? WHERE state_key='authProfiles.store'`, at.UnixMilli()); err != nil {
		t.Fatal(err)
	}
}

// claudeEnv points CLAUDE_CONFIG_DIR (in $STATE/.env) at a fresh dir and
// writes Claude Code's credentials file there when body is not empty.
func claudeEnv(t *testing.T, d *sandbox.Dir, body string) string {
	t.Helper()
	dir := t.TempDir()
	mustNil(t, d.WriteFile(".env", []byte("CLAUDE_CONFIG_DIR="+dir+"\n")))
	if body != "" {
		mustNil(t, os.WriteFile(filepath.Join(dir, ".credentials.json"), []byte(body), 0o600))
	}
	return dir
}

const (
	claudeAccess  = "sk-ant-oat01-CLAUDECODEACCESS0000000000000000"
	claudeRefresh = "sk-ant-ort01-CLAUDECODEREFRESH000000000000000"
)

func claudeOAuthFile(expires time.Time) string {
	return `{"claudeAiOauth":{"accessToken":"` + claudeAccess + `","refreshToken":"` + claudeRefresh + `","expiresAt":` +
		itoa(expires.UnixMilli()) + `,"subscriptionType":"max"}}`
}

func claudeTokenFile(expires time.Time) string {
	return `{"claudeAiOauth":{"accessToken":"` + claudeAccess + `","expiresAt":` + itoa(expires.UnixMilli()) + `}}`
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// onClaude is a 2026.9.6 config whose only model runs on Claude Code
// (what `onboard --auth-choice anthropic-cli` writes).
func onClaude(primary string, runtimeOn ...string) map[string]any {
	models := map[string]any{}
	for _, m := range runtimeOn {
		models[m] = map[string]any{"agentRuntime": map[string]any{"id": "claude-cli"}}
	}
	return map[string]any{"agents": map[string]any{"defaults": map[string]any{
		"model": map[string]any{"primary": primary}, "models": models}}}
}

type issueCase struct {
	name   string
	build  func(t *testing.T, d *sandbox.Dir)
	want   map[string]Severity // code → severity (each must appear)
	absent []string
	// profile id → health (and window kind when not empty: "health/window")
	health map[string]string
	// strings each finding of a code must contain (title+evidence+remedy)
	says map[string][]string
	// strings the status text must contain
	status []string
}

// issue11Cases: TestCodeTable runs them too.
func issue11Cases() []issueCase {
	return []issueCase{
		// 1. Claude Code logins.
		{name: "2026.9.6 native Claude login, readable OAuth: where and whose, no auth.missing",
			build: func(t *testing.T, d *sandbox.Dir) {
				mustNil(t, d.Config("2026.9.6", onClaude("anthropic/claude-opus-5", "anthropic/claude-opus-5")))
				claudeEnv(t, d, claudeOAuthFile(testNow.Add(-time.Hour)))
			},
			want:   map[string]Severity{CodeAuthExternal: Info},
			absent: []string{CodeAuthMissing, CodeCredentialExpired, CodeCooldownAll},
			health: map[string]string{"claude-cli": "ok"},
			says: map[string][]string{CodeAuthExternal: {"a Claude Code login of user", ".credentials.json", "outside the state dir",
				"claude auth status --json", "renews it with its refresh token", "subscription type (max)", "never reads or prints the tokens"}},
			status: []string{"claude-cli", "a Claude Code login of user"}},
		{name: "2026.9.6 native Claude login, no credentials file: warning, health missing",
			build: func(t *testing.T, d *sandbox.Dir) {
				mustNil(t, d.Config("2026.9.6", onClaude("anthropic/claude-opus-5", "anthropic/claude-opus-5")))
				claudeEnv(t, d, "")
			},
			want:   map[string]Severity{CodeAuthExternal: Warning},
			absent: []string{CodeAuthMissing},
			health: map[string]string{"claude-cli": "missing"},
			says:   map[string][]string{CodeAuthExternal: {"No Claude Code login", "claude auth login"}}},
		{name: "Claude login unreadable: unverified, lives outside the state dir",
			build: func(t *testing.T, d *sandbox.Dir) {
				mustNil(t, d.Config("2026.9.6", onClaude("anthropic/claude-opus-5", "anthropic/claude-opus-5")))
				dir := claudeEnv(t, d, "")
				mustNil(t, os.Mkdir(filepath.Join(dir, ".credentials.json"), 0o700)) // unreadable even for root
			},
			want:   map[string]Severity{CodeAuthExternal: Info},
			health: map[string]string{"claude-cli": "unverified"},
			says:   map[string][]string{CodeAuthExternal: {"unverified", "outside the state dir", "cannot read it"}}},
		{name: "Claude token without refresh, expired: credential.expired",
			build: func(t *testing.T, d *sandbox.Dir) {
				mustNil(t, d.Config("2026.9.6", onClaude("claude-cli/claude-opus-5")))
				claudeEnv(t, d, claudeTokenFile(testNow.Add(-time.Hour)))
			},
			want:   map[string]Severity{CodeAuthExternal: Info, CodeCredentialExpired: Critical},
			health: map[string]string{"claude-cli": "expired"},
			says:   map[string][]string{CodeCredentialExpired: {"Claude Code's login", "no refresh token"}}},
		{name: "an API key in cooldown stops nothing when every model runs on Claude Code",
			build: func(t *testing.T, d *sandbox.Dir) {
				mustNil(t, d.Config("2026.9.6", onClaude("anthropic/claude-opus-5", "anthropic/claude-opus-5")))
				mustNil(t, d.SharedStore(apiKeyStore("anthropic:default"), usage("anthropic:default", map[string]any{
					"cooldownUntil": ms(5 * time.Minute), "cooldownReason": "auth"})))
				claudeEnv(t, d, claudeOAuthFile(testNow.Add(time.Hour)))
			},
			want:   map[string]Severity{CodeCooldownActive: Critical, CodeAuthExternal: Info},
			absent: []string{CodeCooldownAll}},
		{name: "a model not routed to Claude Code still needs an Anthropic credential",
			build: func(t *testing.T, d *sandbox.Dir) {
				mustNil(t, d.Config("2026.9.6", onClaude("anthropic/claude-sonnet-5", "anthropic/claude-opus-5")))
				claudeEnv(t, d, claudeOAuthFile(testNow.Add(time.Hour)))
			},
			want: map[string]Severity{CodeAuthMissing: Critical, CodeAuthExternal: Info}},
		{name: "2026.7.35 keeps a copy as anthropic:claude-cli; its cooldown is reported",
			build: func(t *testing.T, d *sandbox.Dir) {
				mustNil(t, d.Config("2026.7.35", onClaude("anthropic/claude-opus-4-8", "anthropic/claude-opus-4-8")))
				mustNil(t, d.AgentStore("main", map[string]any{"version": 1, "profiles": map[string]any{"anthropic:claude-cli": map[string]any{
					"type": "oauth", "provider": "claude-cli", "access": claudeAccess, "refresh": claudeRefresh, "expires": ms(time.Hour)}}},
					usage("anthropic:claude-cli", map[string]any{"cooldownUntil": ms(5 * time.Minute), "cooldownReason": "auth", "errorCount": 1})))
				claudeEnv(t, d, claudeOAuthFile(testNow.Add(time.Hour)))
			},
			want:   map[string]Severity{CodeAuthExternal: Info, CodeCooldownActive: Critical},
			absent: []string{CodeAuthMissing},
			health: map[string]string{"anthropic:claude-cli": "cooldown/cooldown"},
			says:   map[string][]string{CodeAuthExternal: {"keeps a copy", "anthropic:claude-cli"}}},

		// 2. Refresh fences.
		{name: "failed fence: refresh_failed, never expired in 1970",
			build: func(t *testing.T, d *sandbox.Dir) {
				mustNil(t, d.Config("2026.9.6", withFallback))
				mustNil(t, d.SharedStore(fencedStore(true), nil))
				setStoreWrittenAt(t, d, testNow.Add(-3*time.Hour))
			},
			want:   map[string]Severity{CodeOAuthRefreshFailed: Critical},
			absent: []string{CodeCredentialExpired, CodeOAuthRefreshPending, CodeAuthMissing},
			health: map[string]string{"anthropic:oauth": "refresh_failed"},
			says:   map[string][]string{CodeOAuthRefreshFailed: {"log in again", "models auth login", "a marker, not an expiry date", "last written 2026-11-25T09:00:00Z (3h ago)"}}},
		{name: "pending fence written 30s ago: a refresh in progress",
			build: func(t *testing.T, d *sandbox.Dir) {
				mustNil(t, d.Config("2026.9.6", withFallback))
				mustNil(t, d.SharedStore(fencedStore(false), nil))
				setStoreWrittenAt(t, d, testNow.Add(-30*time.Second))
			},
			want:   map[string]Severity{CodeOAuthRefreshPending: Info},
			absent: []string{CodeOAuthRefreshFailed, CodeCredentialExpired},
			says:   map[string][]string{CodeOAuthRefreshPending: {"being refreshed", "30s ago"}}},
		{name: "pending fence written 3h ago: interrupted, log in again",
			build: func(t *testing.T, d *sandbox.Dir) {
				mustNil(t, d.Config("2026.9.6", withFallback))
				mustNil(t, d.SharedStore(fencedStore(false), nil))
				setStoreWrittenAt(t, d, testNow.Add(-3*time.Hour))
			},
			want:   map[string]Severity{CodeOAuthRefreshPending: Critical},
			absent: []string{CodeOAuthRefreshFailed, CodeCredentialExpired},
			health: map[string]string{"anthropic:oauth": "expired"},
			says:   map[string][]string{CodeOAuthRefreshPending: {"interrupted", "for at least 3h", "died mid-refresh", "models auth login"}}},

		// 3. Billing disables of subscription logins.
		{name: "billing on a setup token: extra usage, a top-up or reset does not help",
			build: func(t *testing.T, d *sandbox.Dir) {
				mustNil(t, d.Config("2026.9.6", withFallback))
				mustNil(t, d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{"anthropic:manual": map[string]any{
					"type": "token", "provider": "anthropic", "token": tokenVal}}},
					usage("anthropic:manual", map[string]any{"disabledUntil": ms(10 * time.Minute), "disabledReason": "billing", "failureCounts": map[string]int{"billing": 1}})))
			},
			want: map[string]Severity{CodeBillingBlocked: Critical},
			says: map[string][]string{CodeBillingBlocked: {"Claude subscription login", "extra usage", "does not help", "disables it again",
				"paste-api-key", "the state cannot tell them apart"}}},
		{name: "2026.3.31 format cooldown on a setup token mentions extra usage",
			build: func(t *testing.T, d *sandbox.Dir) {
				mustNil(t, d.Config("2026.3.31", withFallback))
				st := map[string]any{"version": 1, "profiles": map[string]any{"anthropic:manual": map[string]any{"type": "token", "provider": "anthropic", "token": tokenVal}},
					"usageStats": map[string]any{"anthropic:manual": map[string]any{"cooldownUntil": ms(time.Minute), "cooldownReason": "format", "errorCount": 1}}}
				mustNil(t, d.WriteJSON("agents/main/agent/auth-profiles.json", st))
			},
			want: map[string]Severity{CodeCooldownActive: Critical},
			says: map[string][]string{CodeCooldownActive: {"(format)", "extra usage", "records as format when it comes as a 400"}}},
		{name: "billing on an API key keeps the top-up wording",
			build: func(t *testing.T, d *sandbox.Dir) {
				mustNil(t, d.Config("2026.9.6", withFallback, "anthropic:default"))
				mustNil(t, d.SharedStore(apiKeyStore("anthropic:default"), usage("anthropic:default", map[string]any{
					"disabledUntil": ms(10 * time.Minute), "disabledReason": "billing"})))
			},
			want: map[string]Severity{CodeBillingBlocked: Critical},
			says: map[string][]string{CodeBillingBlocked: {"credit balance too low", "Top up credits"}}},

		// 4. Subscription block windows.
		{name: "2026.9.6 block scoped to the only routed model: blocked, verbatim, stops everything",
			build: func(t *testing.T, d *sandbox.Dir) {
				mustNil(t, d.Config("2026.9.6", nil, "anthropic:default"))
				mustNil(t, d.SharedStore(apiKeyStore("anthropic:default"), usage("anthropic:default", map[string]any{
					"blockedUntil": ms(3 * time.Hour), "blockedReason": "subscription_limit", "blockedSource": "wham",
					"blockedModel": "claude-opus-5", "blockedScope": "model", "failureCounts": map[string]int{"rate_limit": 1}})))
			},
			want:   map[string]Severity{CodeCooldownActive: Critical, CodeCooldownAll: Critical},
			health: map[string]string{"anthropic:default": "cooldown/blocked"},
			says: map[string][]string{CodeCooldownActive: {"is blocked (subscription_limit)", "for claude-opus-5", "blockedSource=wham",
				"blockedModel=claude-opus-5", "blockedScope=model", "for model claude-opus-5 only", "does not lift the limit"}},
			status: []string{"blocked subscription_limit on claude-opus-5 until 2026-11-25T15:00:00Z"}},
		{name: "2026.9.6 block scoped to one of two routed models: not all",
			build: func(t *testing.T, d *sandbox.Dir) {
				mustNil(t, d.Config("2026.9.6", withFallback, "anthropic:default"))
				mustNil(t, d.SharedStore(apiKeyStore("anthropic:default"), usage("anthropic:default", map[string]any{
					"blockedUntil": ms(3 * time.Hour), "blockedReason": "subscription_limit", "blockedModel": "claude-opus-5", "blockedScope": "model"})))
			},
			want:   map[string]Severity{CodeCooldownActive: Critical},
			absent: []string{CodeCooldownAll}},
		{name: "2026.5.28 block with a blockedModel but no scope blocks the whole profile",
			build: func(t *testing.T, d *sandbox.Dir) {
				mustNil(t, d.Config("2026.5.28", withFallback, "anthropic:default"))
				st := apiKeyStore("anthropic:default")
				mustNil(t, d.WriteJSON("agents/main/agent/auth-profiles.json", st))
				mustNil(t, d.WriteJSON("agents/main/agent/auth-state.json", usage("anthropic:default", map[string]any{
					"blockedUntil": ms(time.Hour), "blockedReason": "subscription_limit", "blockedSource": "codex_rate_limits", "blockedModel": "claude-opus-4-8"})))
			},
			want: map[string]Severity{CodeCooldownActive: Critical, CodeCooldownAll: Critical},
			says: map[string][]string{CodeCooldownActive: {"is blocked (subscription_limit) until", `without blockedScope "model"`}}},

		// Reasons never seen, and none at all: verbatim, never dropped.
		{name: "an unknown reason with a cooldownModel is verbatim and covers every model",
			build: func(t *testing.T, d *sandbox.Dir) {
				mustNil(t, d.Config("2026.9.6", withFallback, "anthropic:default"))
				mustNil(t, d.SharedStore(apiKeyStore("anthropic:default"), usage("anthropic:default", map[string]any{
					"cooldownUntil": ms(time.Hour), "cooldownReason": "weird_new_reason", "cooldownModel": "claude-opus-5"})))
			},
			want:   map[string]Severity{CodeCooldownActive: Critical, CodeCooldownAll: Critical},
			health: map[string]string{"anthropic:default": "cooldown/cooldown"},
			says: map[string][]string{CodeCooldownActive: {"(weird_new_reason)", "cooldownReason=weird_new_reason", "not one OpenClaw knows",
				"for every model: OpenClaw limits a cooldown to its cooldownModel only for rate_limit"}},
			status: []string{"cooldown weird_new_reason until"}},
		{name: "format and session_expired are shown as recorded",
			build: func(t *testing.T, d *sandbox.Dir) {
				mustNil(t, d.Config("2026.9.6", withFallback, "anthropic:default", "anthropic:backup"))
				st := apiKeyStore("anthropic:default", "anthropic:backup")
				mustNil(t, d.SharedStore(st, map[string]any{"version": 1, "usageStats": map[string]any{
					"anthropic:default": map[string]any{"cooldownUntil": ms(time.Hour), "cooldownReason": "format"},
					"anthropic:backup":  map[string]any{"cooldownUntil": ms(time.Hour), "cooldownReason": "session_expired"}}}))
			},
			want:   map[string]Severity{CodeCooldownActive: Critical, CodeCooldownAll: Critical},
			status: []string{"cooldown format until", "cooldown session_expired until"}},
		{name: "2026.1.29 cooldown without a reason is shown, not dropped",
			build: func(t *testing.T, d *sandbox.Dir) {
				mustNil(t, d.Config("2026.1.29", withFallback, "anthropic:default"))
				st := apiKeyStore("anthropic:default")
				st["usageStats"] = map[string]any{"anthropic:default": map[string]any{"cooldownUntil": ms(time.Minute), "errorCount": 1, "failureCounts": map[string]int{"auth": 1}}}
				mustNil(t, d.WriteJSON("agents/main/agent/auth-profiles.json", st))
			},
			want:   map[string]Severity{CodeCooldownActive: Critical},
			health: map[string]string{"anthropic:default": "cooldown/cooldown"},
			says:   map[string][]string{CodeCooldownActive: {"no reason recorded; failures auth:1", "cooldownReason=(none)"}},
			status: []string{"cooldown (no reason recorded) until 2026-11-25T12:01:00Z"}},
	}
}

func TestIssue11(t *testing.T) {
	if runtime.GOOS == "darwin" {
		t.Skip("macOS keeps Claude Code's login in the keychain")
	}
	for _, tc := range issue11Cases() {
		t.Run(tc.name, func(t *testing.T) {
			d, err := sandbox.New(t.TempDir())
			mustNil(t, err)
			tc.build(t, d)
			rep := Diagnose("t", &Input{Snap: readSnap(t, d.Path), Now: testNow})
			var status, diag bytes.Buffer
			rep.WriteStatus(&status)
			rep.WriteDiagnosis(&diag)
			js, err := json.Marshal(rep)
			mustNil(t, err)
			for _, out := range []string{status.String(), diag.String(), string(js)} {
				assertNoSecretLeak(t, out)
				for _, s := range []string{"CLAUDECODE", "1970"} {
					if strings.Contains(strings.ReplaceAll(out, d.Path, "$STATE"), s) {
						t.Fatalf("output contains %q:\n%s", s, out)
					}
				}
			}
			got := map[string][]Finding{}
			for _, f := range rep.Findings {
				got[f.Code] = append(got[f.Code], f)
				if f.Title == "" || f.Evidence == "" || len(f.Remedy) == 0 {
					t.Errorf("%s lacks title, evidence or remedy: %+v", f.Code, f)
				}
			}
			for c, sev := range tc.want {
				if len(got[c]) == 0 {
					t.Errorf("want %s, got %v", c, codes(rep.Findings))
					continue
				}
				if got[c][0].Severity != sev {
					t.Errorf("%s severity %s, want %s", c, got[c][0].Severity, sev)
				}
			}
			for _, c := range tc.absent {
				if len(got[c]) > 0 {
					t.Errorf("did not want %s: %+v", c, got[c][0])
				}
			}
			for id, want := range tc.health {
				h, w, _ := strings.Cut(want, "/")
				found := false
				for _, p := range rep.Profiles {
					if p.ID == id {
						found = true
						if p.Health != h || p.Window != w {
							t.Errorf("%s health %s window %q, want %s %q", id, p.Health, p.Window, h, w)
						}
					}
				}
				if !found {
					t.Errorf("no profile %s in %+v", id, rep.Profiles)
				}
			}
			for c, wants := range tc.says {
				for _, f := range got[c] {
					text := f.Title + "\n" + f.Evidence + "\n" + strings.Join(f.Remedy, "\n")
					for _, w := range wants {
						if !strings.Contains(text, w) {
							t.Errorf("%s does not say %q:\n%s", c, w, text)
						}
					}
				}
			}
			for _, w := range tc.status {
				if !strings.Contains(status.String(), w) {
					t.Errorf("status does not show %q:\n%s", w, status.String())
				}
			}
		})
	}
}
