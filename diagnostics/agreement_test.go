package diagnostics

// Agreement with the real OpenClaw CLI: each test puts a sandbox install into
// a state with the real `openclaw` (onboard, paste-api-key, paste-token, a
// real --probe against a fake Anthropic on 127.0.0.1, edited state rows,
// broken configs, a legacy store, a second agent) and checks that our
// verdict matches `openclaw models status --json` — and that we also catch
// what it cannot. Without the CLI these tests skip, saying how to enable them.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/fakeanthropic"
	"github.com/openclaw-bot/openclaw-bot/internal/peer"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// ours reads the sandbox natively and diagnoses it (no network unless checker).
func ours(t *testing.T, sb *peer.Sandbox, checker *Checker, base string) (Report, *openclaw.Snapshot) {
	t.Helper()
	env := map[string]string{}
	for _, kv := range sb.Env() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	insp := &Inspector{Checker: checker}
	rep, snap, err := insp.Inspect(context.Background(), Target{
		Name:        "sandbox",
		Locate:      openclaw.LocateOptions{StateDir: sb.StateDir(), Home: sb.Home, Getenv: func(k string) string { return env[k] }},
		Env:         openclaw.EnvSources{NoProc: true},
		BaseURLFlag: base,
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	return rep, snap
}

// unusable is OpenClaw's view: profile → "kind:reason".
func theirUnusable(st *peer.ModelsStatus) map[string]string {
	out := map[string]string{}
	for _, u := range st.Auth.UnusableProfiles {
		out[u.ProfileID] = u.Kind + ":" + u.Reason
	}
	return out
}

// ourUnusable is the same view from our report (agent-local entries excluded).
func ourUnusable(r Report, agent string) map[string]string {
	out := map[string]string{}
	for _, p := range r.Profiles {
		if p.Agent != agent || p.Until.IsZero() {
			continue
		}
		kind := "cooldown"
		if p.Health == "disabled" || slices.ContainsFunc(r.Findings, func(f Finding) bool {
			return (f.Code == CodeDisabledActive || f.Code == CodeBillingBlocked) && strings.HasPrefix(f.Subject, p.ID)
		}) {
			kind = "disabled"
		}
		out[p.ID] = kind + ":" + p.Reason
	}
	return out
}

// ourMissing mirrors missingProvidersInUse: anthropic has no usable
// credential (a cooldown on any model counts as unusable, as in OpenClaw).
func ourMissing(r Report, agent string) bool {
	for _, p := range r.Profiles {
		if p.Provider != "anthropic" || p.Shadowed || (p.Agent != "" && p.Agent != agent) {
			continue
		}
		switch p.Health {
		case "missing", "refresh_failed", "expired", "disabled", "cooldown":
		default:
			if p.Until.IsZero() {
				return false
			}
		}
	}
	return true
}

// agree compares our report with `openclaw models status --json [--agent]`.
// Our report lists shared profiles without an agent; agent is the CLI's
// --agent ("main" means the shared view too).
func agree(t *testing.T, sb *peer.Sandbox, rep Report, cliAgent string) *peer.ModelsStatus {
	t.Helper()
	st, err := sb.ModelsStatusJSON(cliAgent)
	if err != nil {
		t.Fatalf("openclaw models status --json: %v", err)
	}
	agent := cliAgent
	if agent == "main" {
		agent = ""
	}
	theirs, mine := theirUnusable(st), ourUnusable(rep, agent)
	if fmt.Sprint(theirs) != fmt.Sprint(mine) {
		t.Errorf("unusable profiles: openclaw %v, ours %v", theirs, mine)
	}
	theirMissing := slices.Contains(st.Auth.MissingProvidersInUse, "anthropic")
	if theirMissing != ourMissing(rep, agent) {
		t.Errorf("anthropic missing: openclaw %v, ours %v (profiles %+v)", theirMissing, ourMissing(rep, agent), rep.Profiles)
	}
	if theirMissing && rep.Verdict != "down" {
		t.Errorf("openclaw has no usable anthropic credential but our verdict is %s", rep.Verdict)
	}
	for _, p := range st.Auth.OAuth.Profiles {
		var mine string
		for _, q := range rep.Profiles {
			if q.ID == p.ProfileID && (q.Agent == agent || q.Agent == "" && mine == "") {
				mine = q.Health
			}
		}
		want := map[string][]string{"static": {"unverified", "ok", "invalid", "cooldown", "disabled"}, "ok": {"ok", "cooldown", "disabled"},
			"expiring": {"expiring", "cooldown", "disabled"}, "expired": {"expired", "refresh_failed"}, "missing": {"missing"}}[p.Status]
		if !slices.Contains(want, mine) {
			t.Errorf("profile %s: openclaw status %q, our health %q", p.ProfileID, p.Status, mine)
		}
	}
	return st
}

func hasCode(r Report, code, subjectPrefix string) bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool {
		return f.Code == code && strings.HasPrefix(f.Subject, subjectPrefix)
	})
}

func onboardedSandbox(t *testing.T) *peer.Sandbox {
	t.Helper()
	cli := peer.Require(t)
	t.Parallel()
	return peer.NewOnboardedSandbox(t, cli)
}

func TestAgreeOnboarded(t *testing.T) {
	sb := onboardedSandbox(t)
	rep, _ := ours(t, sb, nil, "")
	agree(t, sb, rep, "")
	if rep.ExitCode() != 0 || rep.Verdict != "ok" {
		t.Errorf("a freshly onboarded install with one key: verdict %s, findings %v", rep.Verdict, codes(rep.Findings))
	}
}

func TestAgreeProbe401WritesCooldown(t *testing.T) {
	sb := onboardedSandbox(t)
	fake := fakeanthropic.New(fakeanthropic.Options{Mode: fakeanthropic.Mode401})
	defer fake.Close()
	mustNil(t, sb.SetBaseURL(fake.URL()))
	if _, err := sb.Probe(); err != nil {
		t.Fatalf("probe: %v", err)
	}
	rep, _ := ours(t, sb, nil, "")
	st := agree(t, sb, rep, "")
	if !hasCode(rep, CodeCooldownActive, "anthropic:default") || !hasCode(rep, CodeCooldownAll, "anthropic") {
		t.Fatalf("findings %v", codes(rep.Findings))
	}
	for _, p := range rep.Profiles {
		if p.ID == "anthropic:default" && (p.Reason != "auth" || p.Until.UnixMilli() != st.Auth.UnusableProfiles[0].Until) {
			t.Errorf("cooldown %s until %d, openclaw says auth until %d", p.Reason, p.Until.UnixMilli(), st.Auth.UnusableProfiles[0].Until)
		}
	}
}

func TestAgreeProbeCreditWritesBillingDisable(t *testing.T) {
	sb := onboardedSandbox(t)
	fake := fakeanthropic.New(fakeanthropic.Options{Mode: fakeanthropic.Mode400Credit})
	defer fake.Close()
	mustNil(t, sb.SetBaseURL(fake.URL()))
	if _, err := sb.Probe(); err != nil {
		t.Fatalf("probe: %v", err)
	}
	rep, _ := ours(t, sb, nil, "")
	agree(t, sb, rep, "")
	if !hasCode(rep, CodeBillingBlocked, "anthropic:default") {
		t.Fatalf("findings %v", codes(rep.Findings))
	}
}

func TestAgreeEditedStateRateLimitOnOneModel(t *testing.T) {
	sb := onboardedSandbox(t)
	until := time.Now().Add(10 * time.Minute).UnixMilli()
	mustNil(t, sb.SetStateRow("authProfiles.state", fmt.Appendf(nil,
		`{"version":1,"usageStats":{"anthropic:default":{"cooldownUntil":%d,"cooldownReason":"rate_limit","cooldownModel":"claude-opus-5","errorCount":1}}}`, until)))
	rep, _ := ours(t, sb, nil, "")
	agree(t, sb, rep, "")
	// The onboarded install routes to claude-opus-5 only: a window on that
	// model leaves no routed Anthropic model usable, so it is cooldown.all
	// (with a fallback model it is not: TestRules).
	if !hasCode(rep, CodeCooldownActive, "anthropic:default") || !hasCode(rep, CodeCooldownAll, "") {
		t.Fatalf("findings %v", codes(rep.Findings))
	}
}

func TestAgreeSetupTokenExpiring(t *testing.T) {
	sb := onboardedSandbox(t)
	mustNil(t, sb.PasteToken(peer.FakeSetupToken(), "anthropic:manual", "2h"))
	rep, _ := ours(t, sb, nil, "")
	agree(t, sb, rep, "")
	if !hasCode(rep, CodeCredentialExpiring, "anthropic:manual") {
		t.Fatalf("findings %v", codes(rep.Findings))
	}
	r := sb.Exec(peer.RunOptions{}, "models", "status", "--check")
	if r.RC != 2 || rep.ExitCode() != 2 {
		t.Errorf("exit codes: openclaw --check %d, ours %d (both should say 'warnings only')", r.RC, rep.ExitCode())
	}
}

func TestAgreeBrokenConfig(t *testing.T) {
	sb := onboardedSandbox(t)
	mustNil(t, sb.WriteConfig([]byte("{\n  \"agents\": {\n    \"defaults\": {\n")))
	rep, _ := ours(t, sb, nil, "")
	_, err := sb.ModelsStatusJSON("")
	if err == nil || !strings.Contains(err.Error(), "JSON5: invalid end of input at 4:1") {
		t.Fatalf("openclaw: %v", err)
	}
	f := findCode(rep, CodeConfigSyntax)
	if f == nil || f.Line != 4 || f.Column != 1 || !strings.Contains(f.Evidence, "JSON5: invalid end of input at 4:1") {
		t.Fatalf("ours: %+v", f)
	}
}

func TestAgreeSchemaInvalidConfig(t *testing.T) {
	sb := onboardedSandbox(t)
	mustNil(t, sb.EditConfig(func(cfg map[string]any) error {
		cfg["bogusTopLevelKey"] = true
		peer.Obj(peer.Obj(peer.Obj(cfg, "auth"), "profiles"), "anthropic:default")["mode"] = "bogus"
		return nil
	}))
	rep, _ := ours(t, sb, nil, "")
	_, err := sb.ModelsStatusJSON("")
	if err == nil {
		t.Fatal("openclaw accepted the invalid config")
	}
	f := findCode(rep, CodeConfigSchema)
	if f == nil {
		t.Fatalf("ours: %v", codes(rep.Findings))
	}
	for _, want := range []string{"auth.profiles.anthropic:default.mode", `Unrecognized key: "bogusTopLevelKey"`} {
		if !strings.Contains(err.Error(), want) || !strings.Contains(f.Evidence, want) {
			t.Errorf("%q: openclaw %v; ours %s", want, err, f.Evidence)
		}
	}
}

func TestAgreeLegacyStoreUnmigrated(t *testing.T) {
	sb := onboardedSandbox(t)
	legacy, err := os.ReadFile("../testdata/openclaw/fixtures/state/legacy-2026.3.31.auth-profiles.json")
	mustNil(t, err)
	p := filepath.Join(sb.AgentDir("main"), "auth-profiles.json")
	mustNil(t, os.MkdirAll(filepath.Dir(p), 0o700))
	mustNil(t, os.WriteFile(p, legacy, 0o600))
	rep, _ := ours(t, sb, nil, "")
	_, err = sb.ModelsStatusJSON("")
	if err == nil || !strings.Contains(err.Error(), "requires legacy credential migration") {
		t.Fatalf("openclaw: %v", err)
	}
	if !hasCode(rep, CodeStoreLegacyUnmigrated, "") {
		t.Fatalf("ours: %v", codes(rep.Findings))
	}
}

func TestAgreeSecondAgent(t *testing.T) {
	sb := onboardedSandbox(t)
	mustNil(t, sb.AddAgentConfig("ops"))
	rep, _ := ours(t, sb, nil, "")
	agree(t, sb, rep, "ops") // ops inherits the shared store
	if hasCode(rep, CodeAgentMissing, "") || rep.Verdict == "down" {
		t.Fatalf("ops inherits the shared profile; ours: %v", codes(rep.Findings))
	}
	// A cooldown in ops' own database applies to ops only.
	until := time.Now().Add(10 * time.Minute).UnixMilli()
	// Let the CLI create ops' database (a key of its own), then cool down
	// the inherited anthropic:default in ops' state only.
	mustNil(t, sb.PasteAPIKeyFor("ops", peer.FakeAPIKey(), "anthropic:ops"))
	mustNil(t, sb.SetAgentAuthRow("ops", peer.AgentAuthState, fmt.Appendf(nil,
		`{"version":1,"usageStats":{"anthropic:default":{"cooldownUntil":%d,"cooldownReason":"rate_limit","errorCount":1}}}`, until)))
	rep, _ = ours(t, sb, nil, "")
	st := agree(t, sb, rep, "ops")
	if len(st.Auth.UnusableProfiles) != 1 || !hasCode(rep, CodeCooldownActive, "anthropic:default (agent ops)") || hasCode(rep, CodeCooldownAll, "") {
		t.Errorf("openclaw --agent ops unusable %+v; ours %v", st.Auth.UnusableProfiles, codes(rep.Findings))
	}
	agree(t, sb, rep, "main") // main is unaffected
}

// What `openclaw models status` cannot see: a garbage key, a shadowed env
// key, and a key that Anthropic rejects — found with OpenClaw's state unchanged.
func TestBeyondOpenClaw(t *testing.T) {
	t.Run("garbage key", func(t *testing.T) {
		sb := onboardedSandbox(t)
		mustNil(t, sb.PasteAPIKey("garbage-key-123", "anthropic:default"))
		rep, _ := ours(t, sb, nil, "")
		st := agree(t, sb, rep, "")
		if len(st.Auth.MissingProvidersInUse) != 0 || !hasCode(rep, CodeKeyMalformed, "anthropic:default") {
			t.Fatalf("openclaw missing %v; ours %v", st.Auth.MissingProvidersInUse, codes(rep.Findings))
		}
		if r := sb.Exec(peer.RunOptions{}, "models", "status", "--check"); r.RC != 0 || rep.ExitCode() != 1 {
			t.Errorf("openclaw --check %d (it never checks keys); ours %d", r.RC, rep.ExitCode())
		}
	})
	t.Run("shadowed env key", func(t *testing.T) {
		sb := onboardedSandbox(t)
		envKey := peer.FakeAPIKey()
		sb.AddSecret(envKey)
		mustNil(t, os.WriteFile(filepath.Join(sb.StateDir(), ".env"), []byte("ANTHROPIC_API_KEY="+envKey+"\n"), 0o600))
		rep, _ := ours(t, sb, nil, "")
		st := agree(t, sb, rep, "")
		if len(st.Auth.Providers) == 0 || st.Auth.Providers[0].Effective.Kind != "profiles" || st.Auth.Providers[0].Env == nil {
			t.Fatalf("openclaw does not show the env key as secondary: %+v", st.Auth.Providers)
		}
		if !hasCode(rep, CodeEnvShadowed, "env:ANTHROPIC_API_KEY") {
			t.Fatalf("ours: %v", codes(rep.Findings))
		}
	})
	t.Run("zero-token check gets 401", func(t *testing.T) {
		sb := onboardedSandbox(t)
		fake := fakeanthropic.New(fakeanthropic.Options{Mode: fakeanthropic.Mode401})
		defer fake.Close()
		before, _ := os.ReadFile(sb.StateDBPath())
		rowBefore, hadRow := sb.StateRow("authProfiles.state")
		rep, _ := ours(t, sb, NewChecker(CheckerOptions{}), fake.URL())
		if !hasCode(rep, CodeKeyRejected, "anthropic:default") {
			t.Fatalf("ours: %v", codes(rep.Findings))
		}
		if n := fake.Count("/v1/messages"); n != 0 || fake.Count("/v1/models") != 1 {
			t.Errorf("the key check must only GET /v1/models: %v", fake.Counts())
		}
		after, _ := os.ReadFile(sb.StateDBPath())
		rowAfter, hasRow := sb.StateRow("authProfiles.state")
		if !bytes.Equal(before, after) || hadRow != hasRow || !bytes.Equal(rowBefore, rowAfter) {
			t.Error("OpenClaw's state changed during our check")
		}
		st := agree(t, sb, rep, "")
		if len(st.Auth.UnusableProfiles) != 0 {
			t.Errorf("our check wrote a cooldown: %+v", st.Auth.UnusableProfiles)
		}
	})
}

func findCode(r Report, code string) *Finding {
	for i := range r.Findings {
		if r.Findings[i].Code == code {
			return &r.Findings[i]
		}
	}
	return nil
}
