package diagnostics

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/openclaw/change"
)

var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

var (
	goodKey  = sandbox.APIKey("good")
	badKey   = sandbox.APIKey("bad")
	envKey   = sandbox.APIKey("env")
	tokenVal = sandbox.SetupToken("tok")
)

func apiKeyStore(ids ...string) map[string]any {
	ps := map[string]any{}
	for _, id := range ids {
		ps[id] = map[string]any{"type": "api_key", "provider": "anthropic", "key": sandbox.APIKey(id)}
	}
	return map[string]any{"version": 1, "profiles": ps}
}

func usage(id string, u map[string]any) map[string]any {
	return map[string]any{"version": 1, "usageStats": map[string]any{id: u}}
}

func ms(d time.Duration) int64 { return testNow.Add(d).UnixMilli() }

var withFallback = map[string]any{"agents": map[string]any{"defaults": map[string]any{"model": map[string]any{
	"primary": "anthropic/claude-opus-5", "fallbacks": []string{"anthropic/claude-sonnet-5"}}}}}

type ruleCase struct {
	name   string
	build  func(t *testing.T, d *sandbox.Dir)
	checks func(s *openclaw.Snapshot) map[string]KeyCheck
	prev   string
	want   []string // codes expected (each at least once)
	absent []string // codes that must not appear
	sev    map[string]Severity
}

// ruleCases are states of an install and what the rules must say about
// them; TestCodeTable runs them too.
func ruleCases() []ruleCase {
	must := mustNil
	return []ruleCase{
		{name: "healthy install with fallback has no finding",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", withFallback, "anthropic:default"))
				must(t, d.SharedStore(apiKeyStore("anthropic:default"), nil))
			},
			absent: allCodes},
		{name: "freshly onboarded: only failover.none (info)",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", nil, "anthropic:default"))
				must(t, d.SharedStore(apiKeyStore("anthropic:default"), nil))
			},
			want: []string{CodeFailoverNone}, sev: map[string]Severity{CodeFailoverNone: Info}},
		{name: "no credential at all",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", nil, "anthropic:default"))
				must(t, d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{}}, nil))
			},
			want: []string{CodeAuthMissing}, absent: []string{CodeFailoverNone}, sev: map[string]Severity{CodeAuthMissing: Critical}},
		{name: "garbage key",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", withFallback, "anthropic:default"))
				must(t, d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{"anthropic:default": map[string]any{"type": "api_key", "provider": "anthropic", "key": "garbage-key-123"}}}, nil))
			},
			want: []string{CodeKeyMalformed}, sev: map[string]Severity{CodeKeyMalformed: Critical}},
		{name: "key with trailing newline works: OpenClaw trims it (measured)",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", withFallback, "anthropic:default"))
				must(t, d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{"anthropic:default": map[string]any{"type": "api_key", "provider": "anthropic", "key": "  " + goodKey + "\r\n"}}}, nil))
			},
			absent: []string{CodeKeyMalformed}},
		{name: "key with a space inside",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", withFallback, "anthropic:default"))
				must(t, d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{"anthropic:default": map[string]any{"type": "api_key", "provider": "anthropic", "key": goodKey[:30] + " " + goodKey[30:]}}}, nil))
			},
			want: []string{CodeKeyMalformed}},
		{name: "env key copied with quotes",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", withFallback))
				must(t, d.WriteFile(".env", []byte("ANTHROPIC_API_KEY='\"'"+envKey+"'\"'\n")))
			},
			want: []string{CodeKeyMalformed}},
		{name: "key rejected by the zero-token check",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", withFallback, "anthropic:default"))
				must(t, d.SharedStore(apiKeyStore("anthropic:default"), nil))
			},
			checks: statusFor(StatusRejected, 401, "authentication_error"),
			want:   []string{CodeKeyRejected}, absent: []string{CodeKeyMalformed}, sev: map[string]Severity{CodeKeyRejected: Critical}},
		{name: "key forbidden",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", withFallback, "anthropic:default"))
				must(t, d.SharedStore(apiKeyStore("anthropic:default"), nil))
			},
			checks: statusFor(StatusForbidden, 403, "permission_error"),
			want:   []string{CodeKeyForbidden}},
		{name: "billing disable",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", withFallback, "anthropic:default"))
				must(t, d.SharedStore(apiKeyStore("anthropic:default"), usage("anthropic:default", map[string]any{
					"disabledUntil": ms(10 * time.Minute), "disabledReason": "billing", "errorCount": 1, "failureCounts": map[string]int{"billing": 1}})))
			},
			want: []string{CodeBillingBlocked, CodeCooldownAll}, absent: []string{CodeDisabledActive, CodeCooldownActive}},
		{name: "auth_permanent disable",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", withFallback, "anthropic:default"))
				must(t, d.SharedStore(apiKeyStore("anthropic:default"), usage("anthropic:default", map[string]any{
					"disabledUntil": ms(time.Hour), "disabledReason": "auth_permanent"})))
			},
			want: []string{CodeDisabledActive}, absent: []string{CodeBillingBlocked}},
		{name: "auth cooldown on the only profile",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", withFallback, "anthropic:default"))
				must(t, d.SharedStore(apiKeyStore("anthropic:default"), usage("anthropic:default", map[string]any{
					"cooldownUntil": ms(5 * time.Minute), "cooldownReason": "auth", "errorCount": 3, "failureCounts": map[string]int{"auth": 3}, "lastFailureAt": ms(-time.Minute)})))
			},
			want: []string{CodeCooldownActive, CodeCooldownAll}, sev: map[string]Severity{CodeCooldownActive: Critical, CodeCooldownAll: Critical}},
		{name: "rate_limit cooldown scoped to one model is active but not all",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", withFallback, "anthropic:default"))
				must(t, d.SharedStore(apiKeyStore("anthropic:default"), usage("anthropic:default", map[string]any{
					"cooldownUntil": ms(time.Minute), "cooldownReason": "rate_limit", "cooldownModel": "claude-opus-5"})))
			},
			want: []string{CodeCooldownActive}, absent: []string{CodeCooldownAll}},
		{name: "expired cooldown is ignored",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", withFallback, "anthropic:default"))
				must(t, d.SharedStore(apiKeyStore("anthropic:default"), usage("anthropic:default", map[string]any{
					"cooldownUntil": ms(-time.Minute), "cooldownReason": "auth", "errorCount": 2})))
			},
			absent: []string{CodeCooldownActive, CodeCooldownAll}},
		{name: "rate_limit on the only model the config routes to stops everything",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", map[string]any{"agents": map[string]any{"defaults": map[string]any{"model": map[string]any{
					"primary": "anthropic/claude-opus-5"}}}}, "anthropic:default"))
				must(t, d.SharedStore(apiKeyStore("anthropic:default"), usage("anthropic:default", map[string]any{
					"cooldownUntil": ms(time.Minute), "cooldownReason": "rate_limit", "cooldownModel": "claude-opus-5"})))
			},
			want: []string{CodeCooldownActive, CodeCooldownAll}},
		{name: "2026.5.28 (json-split): the cooldown lives in auth-state.json and overrides the inline entry",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.5.28", nil, "anthropic:default"))
				store := apiKeyStore("anthropic:default")
				store["usageStats"] = map[string]any{"anthropic:default": map[string]any{"errorCount": 0, "lastUsed": ms(-time.Hour)}}
				must(t, d.WriteJSON("agents/main/agent/auth-profiles.json", store))
				must(t, d.WriteJSON("agents/main/agent/auth-state.json", map[string]any{"version": 1, "usageStats": map[string]any{
					"anthropic:default": map[string]any{"cooldownUntil": ms(30 * time.Second), "cooldownReason": "auth", "errorCount": 1}}}))
			},
			want: []string{CodeCooldownActive, CodeCooldownAll}, absent: []string{CodeConfigSchema, CodeStoreLegacyUnmigrated}},
		{name: "2026.6.11 (agent-sqlite): a leftover auth-profiles.json is ignored by that release",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.6.11", nil, "anthropic:default"))
				must(t, d.AgentStore("main", apiKeyStore("anthropic:default"), nil))
				must(t, d.WriteJSON("agents/main/agent/auth-profiles.json", apiKeyStore("anthropic:default")))
			},
			absent: []string{CodeStoreLegacyUnmigrated, CodeCooldownActive}},
		{name: "2026.7.35's own onboarding keys are no finding",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.7.35", map[string]any{"gateway": map[string]any{"tailscale": map[string]any{"mode": "off", "resetOnExit": false}},
					"meta": map[string]any{"lastTouchedVersion": "2026.7.35", "lastTouchedAt": "2026-12-06T06:00:00.000Z"}}, "anthropic:default"))
				must(t, d.AgentStore("main", apiKeyStore("anthropic:default"), nil))
			},
			absent: []string{CodeConfigSchema, CodeConfigSchemaUnverified}},
		{name: "a key 2026.9.6 rejects in a 2026.7.35 config is a warning that says why, not critical",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.7.35", map[string]any{"someFutureKey": true}, "anthropic:default"))
				must(t, d.AgentStore("main", apiKeyStore("anthropic:default"), nil))
			},
			want: []string{CodeConfigSchemaUnverified}, absent: []string{CodeConfigSchema}, sev: map[string]Severity{CodeConfigSchemaUnverified: Warning}},
		{name: "2026.9.6 rejects gateway.tailscale.resetOnExit: critical",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", map[string]any{"gateway": map[string]any{"tailscale": map[string]any{"mode": "off", "resetOnExit": false}}}, "anthropic:default"))
				must(t, d.SharedStore(apiKeyStore("anthropic:default"), nil))
			},
			want: []string{CodeConfigSchema}, sev: map[string]Severity{CodeConfigSchema: Critical}},
		{name: "two profiles, one cooling: active but not all",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", nil, "anthropic:default", "anthropic:backup"))
				must(t, d.SharedStore(apiKeyStore("anthropic:default", "anthropic:backup"), usage("anthropic:default", map[string]any{
					"cooldownUntil": ms(time.Minute), "cooldownReason": "auth"})))
			},
			want: []string{CodeCooldownActive}, absent: []string{CodeCooldownAll, CodeFailoverNone}},
		{name: "expired setup token",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", withFallback))
				must(t, d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{"anthropic:manual": map[string]any{
					"type": "token", "provider": "anthropic", "token": tokenVal, "expires": ms(-time.Hour)}}}, nil))
			},
			want: []string{CodeCredentialExpired}, absent: []string{CodeCredentialExpiring}},
		{name: "setup token expiring in 2h",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", withFallback))
				must(t, d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{"anthropic:manual": map[string]any{
					"type": "token", "provider": "anthropic", "token": tokenVal, "expires": ms(2 * time.Hour)}}}, nil))
			},
			want: []string{CodeCredentialExpiring}, sev: map[string]Severity{CodeCredentialExpiring: Warning}},
		{name: "expiring OAuth on 2026.9.6 warns about text-mode status",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", withFallback))
				must(t, d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{"anthropic:oauth": map[string]any{
					"type": "oauth", "provider": "anthropic", "access": "sk-ant-oat01-FAKEaccess0000000000000000", "refresh": "sk-ant-ort01-FAKErefresh000000000000000", "expires": ms(time.Hour)}}}, nil))
			},
			want: []string{CodeCredentialExpiring, CodeVersionKnownBug}},
		{name: "fenced OAuth login",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", withFallback))
				fence := "openclaw-oauth-refresh-fence:v1:0123456789abcdef0123456789abcdef:failed:"
				must(t, d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{"anthropic:oauth": map[string]any{
					"type": "oauth", "provider": "anthropic", "access": fence + "access:aa", "refresh": fence + "refresh:bb", "expires": 1}}}, nil))
			},
			want: []string{CodeOAuthRefreshFailed}, absent: []string{CodeAuthMissing}},
		{name: "env key behind a stored profile",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", withFallback, "anthropic:default"))
				must(t, d.SharedStore(apiKeyStore("anthropic:default"), nil))
				must(t, d.WriteFile(".env", []byte("ANTHROPIC_API_KEY="+envKey+"\n")))
			},
			want: []string{CodeEnvShadowed}, sev: map[string]Severity{CodeEnvShadowed: Warning}},
		{name: "env key only: fine",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", withFallback))
				must(t, d.WriteFile(".env", []byte("ANTHROPIC_API_KEY="+envKey+"\n")))
			},
			absent: []string{CodeAuthMissing, CodeEnvShadowed}},
		{name: "ANTHROPIC_BASE_URL is informational",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", withFallback, "anthropic:default"))
				must(t, d.SharedStore(apiKeyStore("anthropic:default"), nil))
				must(t, d.WriteFile(".env", []byte("ANTHROPIC_BASE_URL=http://127.0.0.1:9\n")))
			},
			want: []string{CodeEnvOverride}, sev: map[string]Severity{CodeEnvOverride: Info}},
		{name: "broken JSON5",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.WriteFile("openclaw.json", []byte("{\n  \"agents\": {\n    \"defaults\": {\n")))
			},
			want: []string{CodeConfigSyntax}, sev: map[string]Severity{CodeConfigSyntax: Critical}},
		{name: "schema-invalid config",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.WriteFile("openclaw.json", []byte(`{meta:{lastTouchedVersion:"2026.9.6"}, bogusTopLevelKey: 1,
  auth:{profiles:{"anthropic:default":{provider:"anthropic",mode:"bogus"}}}}`)))
				must(t, d.SharedStore(apiKeyStore("anthropic:default"), nil))
			},
			want: []string{CodeConfigSchema}},
		{name: "model ref without provider",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", map[string]any{"agents": map[string]any{"defaults": map[string]any{"model": map[string]any{"primary": "claude-opus-5"}}}}, "anthropic:default"))
				must(t, d.SharedStore(apiKeyStore("anthropic:default"), nil))
			},
			want: []string{CodeModelRef}},
		{name: "legacy JSON beside SQLite",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", withFallback, "anthropic:default"))
				must(t, d.SharedStore(apiKeyStore("anthropic:default"), nil))
				must(t, d.WriteJSON("agents/main/agent/auth-profiles.json", apiKeyStore("anthropic:default")))
			},
			want: []string{CodeStoreLegacyUnmigrated}},
		{name: "world-readable config",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", withFallback, "anthropic:default"))
				must(t, d.SharedStore(apiKeyStore("anthropic:default"), nil))
				must(t, os.Chmod(filepath.Join(d.Path, "openclaw.json"), 0o644))
			},
			want: []string{CodeFilesPermissions}},
		{name: "version changed",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", withFallback, "anthropic:default"))
				must(t, d.SharedStore(apiKeyStore("anthropic:default"), nil))
			},
			prev: "2026.3.31",
			want: []string{CodeVersionChanged}},
		{name: "legacy 2026.3.31 layout in cooldown",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.3.31", withFallback, "anthropic:default"))
				st := apiKeyStore("anthropic:default")
				st["usageStats"] = map[string]any{"anthropic:default": map[string]any{"cooldownUntil": ms(time.Hour), "cooldownReason": "auth"}}
				must(t, d.WriteJSON("agents/main/agent/auth-profiles.json", st))
			},
			want: []string{CodeCooldownActive, CodeVersionKnownBug}, absent: []string{CodeStoreLegacyUnmigrated}},
		{name: "corrupt database",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", withFallback, "anthropic:default"))
				must(t, d.WriteFile("state/openclaw.sqlite", []byte("this is not a database, just text that is long enough......")))
			},
			want: []string{CodeStateUnreadable}},
		{name: "no state dir: install.missing, not a missing credential",
			build: func(t *testing.T, d *sandbox.Dir) { must(t, os.RemoveAll(d.Path)) },
			want:  []string{CodeInstallMissing}, absent: []string{CodeAuthMissing, CodeFailoverNone, CodeStateUnreadable},
			sev: map[string]Severity{CodeInstallMissing: Critical}},
		{name: "an empty state dir (onboarding not run) is no credential, not a missing install",
			build: func(t *testing.T, d *sandbox.Dir) {},
			want:  []string{CodeAuthMissing}, absent: []string{CodeInstallMissing}},
		{name: "profile in an agent database (legacy-main layout)",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", withFallback, "anthropic:default"))
				must(t, d.AgentStore("main", apiKeyStore("anthropic:default"), usage("anthropic:default", map[string]any{"cooldownUntil": ms(time.Minute), "cooldownReason": "auth"})))
			},
			want: []string{CodeCooldownActive}},
		{name: "an agent's own profile without a secret overrides the shared one",
			build: func(t *testing.T, d *sandbox.Dir) {
				must(t, d.Config("2026.9.6", map[string]any{"agents": map[string]any{"ownership": "explicit",
					"entries":  map[string]any{"main": map[string]any{"name": "main"}, "ops": map[string]any{"name": "ops"}},
					"defaults": withFallback["agents"].(map[string]any)["defaults"]}}, "anthropic:default"))
				must(t, d.SharedStore(apiKeyStore("anthropic:default"), nil))
				must(t, d.AgentStore("ops", map[string]any{"version": 1, "profiles": map[string]any{
					"anthropic:default": map[string]any{"type": "api_key", "provider": "anthropic", "key": ""}}}, nil))
			},
			want: []string{CodeAgentMissing}, sev: map[string]Severity{CodeAgentMissing: Critical}},
		{name: "an auth cooldown older than the key, which Anthropic accepts",
			build: func(t *testing.T, d *sandbox.Dir) {
				failure := testNow.Add(-10 * time.Minute)
				d.Now = func() time.Time { return failure.Add(5 * time.Minute) } // the key was stored after the failure
				must(t, d.Config("2026.9.6", withFallback, "anthropic:default"))
				must(t, d.SharedStore(apiKeyStore("anthropic:default"), usage("anthropic:default", map[string]any{
					"cooldownUntil": ms(50 * time.Minute), "cooldownReason": "auth", "lastFailureAt": failure.UnixMilli()})))
			},
			checks: statusFor(StatusAccepted, 200, ""),
			want:   []string{CodeCooldownStale, CodeCooldownActive}, sev: map[string]Severity{CodeCooldownStale: Critical}},
	}
}

// input builds the case's install and the rules' input about it.
func (tc ruleCase) input(t *testing.T) *Input {
	d, err := sandbox.New(t.TempDir())
	mustNil(t, err)
	tc.build(t, d)
	snap := readSnap(t, d.Path)
	in := &Input{Snap: snap, Now: testNow, PreviousVersion: tc.prev}
	if tc.checks != nil {
		in.Checks = tc.checks(snap)
	}
	return in
}

func TestRules(t *testing.T) {
	for _, tc := range ruleCases() {
		t.Run(tc.name, func(t *testing.T) {
			rep := Diagnose("t", tc.input(t))
			got := map[string]Finding{}
			for _, f := range rep.Findings {
				got[f.Code] = f
				if f.Title == "" || f.Evidence == "" || len(f.Remedy) == 0 {
					t.Errorf("%s: finding lacks title, evidence or remedy: %+v", f.Code, f)
				}
				assertNoSecretLeak(t, f.Title+f.Evidence+strings.Join(f.Remedy, "\n"))
			}
			for _, c := range tc.want {
				if _, ok := got[c]; !ok {
					t.Errorf("want %s, got %v", c, codes(rep.Findings))
				}
			}
			for _, c := range tc.absent {
				if _, ok := got[c]; ok {
					t.Errorf("did not want %s: %+v", c, got[c])
				}
			}
			for c, s := range tc.sev {
				if got[c].Severity != s {
					t.Errorf("%s severity = %s, want %s", c, got[c].Severity, s)
				}
			}
		})
	}
}

// allCodes is every code of the table.
var allCodes = func() (out []string) {
	for _, s := range Specs() {
		out = append(out, s.Code)
	}
	return out
}()

func readSnap(t testing.TB, dir string) *openclaw.Snapshot {
	t.Helper()
	loc, err := openclaw.Locate(openclaw.LocateOptions{StateDir: dir, Getenv: func(string) string { return "" }, Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := openclaw.ReadSnapshot(context.Background(), loc, openclaw.ReadOptions{Env: openclaw.EnvSources{NoProc: true}, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func statusFor(st Status, code int, typ string) func(s *openclaw.Snapshot) map[string]KeyCheck {
	return func(s *openclaw.Snapshot) map[string]KeyCheck {
		out := map[string]KeyCheck{}
		for _, c := range s.Shared.Profiles {
			fp := c.Secret.Fingerprint()
			out[fp] = KeyCheck{Fingerprint: fp, Status: st, HTTPStatus: code, ErrorType: typ, Message: "invalid x-api-key", CheckedAt: testNow, BaseURL: "http://127.0.0.1:1"}
		}
		return out
	}
}

func codes(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// assertNoSecretLeak fails when text contains any fake credential used in
// these tests, whole or in a long fragment.
func assertNoSecretLeak(t *testing.T, text string) {
	t.Helper()
	secrets := []string{goodKey, badKey, envKey, tokenVal, "FAKEaccess0000000000000000", "FAKErefresh000000000000000"}
	for _, id := range []string{"anthropic:default", "anthropic:backup", "anthropic:manual"} {
		secrets = append(secrets, sandbox.APIKey(id))
	}
	for _, s := range secrets {
		if strings.Contains(text, s) || strings.Contains(text, s[8:len(s)-8]) {
			t.Fatalf("secret leaked into output: %q", redact.String(text))
		}
	}
}

// Agents inherit the shared store in 2026.9.6 (measured with the real CLI):
// a second agent without a database of its own is fine; an agent-local
// cooldown on an inherited profile is reported for that agent only; an
// agent-local profile that overrides the shared one with no secret leaves
// that agent without a credential.
func TestAgentsInheritSharedStore(t *testing.T) {
	agents := map[string]any{"ownership": "explicit", "entries": map[string]any{
		"main": map[string]any{"name": "main"}, "ops": map[string]any{"name": "ops"}},
		"defaults": map[string]any{"model": map[string]any{"primary": "anthropic/claude-opus-5", "fallbacks": []string{"anthropic/claude-sonnet-5"}}}}
	build := func(t *testing.T) *sandbox.Dir {
		d, err := sandbox.New(t.TempDir())
		mustNil(t, err)
		mustNil(t, d.Config("2026.9.6", map[string]any{"agents": agents}, "anthropic:default"))
		mustNil(t, d.SharedStore(apiKeyStore("anthropic:default"), nil))
		return d
	}
	t.Run("inherits", func(t *testing.T) {
		rep := Diagnose("t", &Input{Snap: readSnap(t, build(t).Path), Now: testNow})
		if codes(rep.Findings) != nil {
			t.Errorf("findings %v", codes(rep.Findings))
		}
	})
	t.Run("agent-local cooldown on an inherited profile", func(t *testing.T) {
		d := build(t)
		mustNil(t, d.AgentStore("ops", map[string]any{"version": 1, "profiles": map[string]any{}},
			usage("anthropic:default", map[string]any{"cooldownUntil": ms(10 * time.Minute), "cooldownReason": "rate_limit"})))
		rep := Diagnose("t", &Input{Snap: readSnap(t, d.Path), Now: testNow})
		var subjects []string
		for _, f := range rep.Findings {
			if f.Code == CodeCooldownActive {
				subjects = append(subjects, f.Subject)
			}
		}
		if len(subjects) != 1 || subjects[0] != "anthropic:default (agent ops)" {
			t.Errorf("cooldown subjects %v; findings %v", subjects, codes(rep.Findings))
		}
	})
	t.Run("agent-local override without a secret", func(t *testing.T) {
		d := build(t)
		mustNil(t, d.AgentStore("ops", map[string]any{"version": 1, "profiles": map[string]any{
			"anthropic:default": map[string]any{"type": "api_key", "provider": "anthropic", "key": ""}}}, nil))
		rep := Diagnose("t", &Input{Snap: readSnap(t, d.Path), Now: testNow})
		got := codes(rep.Findings)
		if !slices.Contains(got, CodeAgentMissing) {
			t.Errorf("want auth.agent_missing, got %v", got)
		}
	})
}

func TestMultiAgentWithoutOwnershipIsASchemaError(t *testing.T) {
	d, err := sandbox.New(t.TempDir())
	mustNil(t, err)
	mustNil(t, d.Config("2026.9.6", map[string]any{"agents": map[string]any{"entries": map[string]any{
		"main": map[string]any{"name": "main"}, "ops": map[string]any{"name": "ops"}}}}, "anthropic:default"))
	mustNil(t, d.SharedStore(apiKeyStore("anthropic:default"), nil))
	rep := Diagnose("t", &Input{Snap: readSnap(t, d.Path), Now: testNow})
	for _, f := range rep.Findings {
		if f.Code == CodeConfigSchema && strings.Contains(f.Evidence, `agents.ownership="explicit"`) {
			return
		}
	}
	t.Errorf("want config.schema about agents.ownership, got %v", codes(rep.Findings))
}

func TestShellEnvIsMentionedWhenNothingIsFound(t *testing.T) {
	d, err := sandbox.New(t.TempDir())
	mustNil(t, err)
	mustNil(t, d.Config("2026.9.6", map[string]any{"env": map[string]any{"shellEnv": map[string]any{"enabled": true}}}))
	rep := Diagnose("t", &Input{Snap: readSnap(t, d.Path), Now: testNow})
	f := findCode(rep, CodeAuthMissing)
	if f == nil || !strings.Contains(f.Evidence, "env.shellEnv is on") {
		t.Fatalf("auth.missing should say the login shell is not visible: %+v", f)
	}
}

// A store the bot may not read (run as another user than the gateway's):
// one finding that says whose files they are and as whom to run, not a
// missing credential (unknowable) nor a syntax error (the file may be fine).
func TestUnreadableStateNamesTheOwner(t *testing.T) {
	d, err := sandbox.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Config("2026.9.6", nil, "anthropic:default"); err != nil {
		t.Fatal(err)
	}
	snap := readSnap(t, d.Path)
	if snap.StateDirUID != os.Geteuid() {
		t.Fatalf("StateDirUID = %d, want the owner %d", snap.StateDirUID, os.Geteuid())
	}
	// What a reader without permission gets (as root the test cannot be one).
	other := os.Geteuid() + 4242
	snap.StateDirUID = other
	snap.Config = nil
	snap.Problems = []string{"cannot read " + filepath.Join(d.Path, "openclaw.json") + ": permission denied",
		"stat " + filepath.Join(d.Path, "state", "openclaw.sqlite") + ": permission denied"}
	rep := Diagnose("t", &Input{Snap: snap, Now: testNow})
	if got := codes(rep.Findings); !slices.Equal(got, []string{CodeStateUnreadable}) {
		t.Fatalf("findings %v, want only %s", got, CodeStateUnreadable)
	}
	f := rep.Findings[0]
	owner := "uid " + strconv.Itoa(other)
	if !strings.Contains(f.Evidence, "belongs to "+owner) || !strings.Contains(f.Evidence, "the bot runs as uid "+strconv.Itoa(os.Geteuid())) {
		t.Errorf("evidence does not say whose files they are: %s", f.Evidence)
	}
	if !strings.HasPrefix(f.Remedy[0], "Run the bot as "+owner) {
		t.Errorf("first remedy %q: want to run as %s", f.Remedy[0], owner)
	}
}

func TestNoProfilesSaysWhy(t *testing.T) {
	for _, tc := range []struct {
		code, want string
	}{
		{CodeInstallMissing, "no install here"},
		{CodeStateUnreadable, "could not be read"},
		{CodeAuthMissing, "No credentials."},
	} {
		r := Report{Findings: []Finding{{Code: tc.code}}}
		if got := r.NoProfiles(); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q in it", tc.code, got, tc.want)
		}
	}
}

// State written by an OpenClaw newer than any the bot knows, in a schema it
// has never seen, is state.unreadable naming both versions: never a guess
// (no profile read, no "ok"), never a write.
func TestNewerStateSchemaIsUnreadable(t *testing.T) {
	d, err := sandbox.New(t.TempDir())
	mustNil(t, err)
	mustNil(t, d.Config("2026.11.3", nil, "anthropic:default"))
	mustNil(t, d.SharedStore(apiKeyStore("anthropic:default"), usage("anthropic:default", map[string]any{
		"cooldownUntil": ms(time.Hour), "cooldownReason": "auth", "errorCount": 1})))
	db, err := sql.Open("sqlite", filepath.Join(d.Path, "state", "openclaw.sqlite"))
	mustNil(t, err)
	_, err = db.Exec(fmt.Sprintf("PRAGMA user_version = %d", openclaw.NewestKnown().StateSchema+1))
	mustNil(t, err)
	mustNil(t, db.Close())

	snap := readSnap(t, d.Path)
	r := Diagnose("local", &Input{Snap: snap, Now: testNow})
	f := findCode(r, CodeStateUnreadable)
	if f == nil || r.Verdict != "down" {
		t.Fatalf("verdict %s, findings %v: want state.unreadable", r.Verdict, codes(r.Findings))
	}
	for _, want := range []string{"2026.11.3", openclaw.NewestKnown().Version, "upgrade openclaw-bot"} {
		if !strings.Contains(f.Evidence+f.Title+strings.Join(f.Remedy, " "), want) {
			t.Errorf("state.unreadable does not say %q: %+v", want, f)
		}
	}
	for _, p := range r.Profiles {
		if p.Health == "ok" || p.Health == "unverified" {
			t.Errorf("profile %s reported %s from a schema the bot does not know", p.ID, p.Health)
		}
	}
	if _, err := change.PlanResets(context.Background(), snap, "", []string{"anthropic:default"}); !errors.Is(err, change.ErrAmbiguous) {
		t.Errorf("a reset on a schema the bot does not know: err %v, want ErrAmbiguous", err)
	}
}
