package peer

import (
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/fakeanthropic"
)

func TestMain(m *testing.M) {
	code := m.Run()
	CleanupTemplates()
	os.Exit(code)
}

// usage is one usageStats entry of authProfiles.state.
type usage struct {
	CooldownUntil  int64          `json:"cooldownUntil"`
	CooldownReason string         `json:"cooldownReason"`
	DisabledUntil  int64          `json:"disabledUntil"`
	DisabledReason string         `json:"disabledReason"`
	ErrorCount     int            `json:"errorCount"`
	FailureCounts  map[string]int `json:"failureCounts"`
	LastFailureAt  int64          `json:"lastFailureAt"`
	LastProbeAt    int64          `json:"lastProbeAt"`
}

func usageStats(t *testing.T, sb *Sandbox, profile string) (usage, bool) {
	t.Helper()
	raw, ok := sb.StateRow(RowProfilesState)
	if !ok {
		return usage{}, false
	}
	var st struct {
		Version    int              `json:"version"`
		UsageStats map[string]usage `json:"usageStats"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("authProfiles.state is not JSON: %v", err)
	}
	u, ok := st.UsageStats[profile]
	return u, ok
}

func mask(key string) string { return key[:8] + "..." + key[len(key)-8:] }

func TestOnboardedStatusShowsProfile(t *testing.T) {
	t.Parallel()
	sb := NewOnboardedSandbox(t, Require(t))
	st, err := sb.ModelsStatusJSON("")
	if err != nil {
		t.Fatal(err)
	}
	if st.ConfigPath != sb.ConfigPath() || st.AgentDir != sb.AgentDir("main") || st.Auth.StorePath != sb.StateDBPath() {
		t.Errorf("paths: config %s agentDir %s store %s (home %s)", st.ConfigPath, st.AgentDir, st.Auth.StorePath, sb.Home)
	}
	if st.DefaultModel != "anthropic/claude-opus-5" {
		t.Errorf("defaultModel %q", st.DefaultModel)
	}
	p := st.Provider("anthropic")
	if p == nil || p.Effective.Kind != "profiles" || p.Profiles.APIKey != 1 ||
		len(p.Profiles.Labels) != 1 || p.Profiles.Labels[0] != "anthropic:default="+mask(sb.APIKey) {
		t.Fatalf("anthropic provider entry: %+v", p)
	}
	if h := st.Profile("anthropic:default"); h == nil || h.Type != "api_key" || h.Status != "static" || h.Source != "store" {
		t.Fatalf("profile health: %+v", h)
	}
	if len(st.Auth.MissingProvidersInUse) != 0 || len(st.Auth.UnusableProfiles) != 0 {
		t.Fatalf("unexpected problems: missing %v unusable %+v", st.Auth.MissingProvidersInUse, st.Auth.UnusableProfiles)
	}
	raw, ok := sb.StateRow(RowProfilesStore)
	if !ok || !strings.Contains(string(raw), `"anthropic:default":{"type":"api_key","provider":"anthropic","key":"`+sb.APIKey+`"}`) {
		t.Fatalf("authProfiles.store row does not hold the onboarded key")
	}
	if v, ok := sb.StateRow(RowSharedStore); !ok || string(v) != `{"location":"state-db"}` {
		t.Fatalf("auth.sharedStore = %s, %v", v, ok)
	}
}

func probeSandbox(t *testing.T, mode fakeanthropic.Mode) (*Sandbox, *fakeanthropic.Server, *ModelsStatus) {
	t.Helper()
	sb := NewOnboardedSandbox(t, Require(t))
	fake := fakeanthropic.New(fakeanthropic.Options{Mode: mode})
	t.Cleanup(fake.Close)
	if err := sb.SetBaseURL(fake.URL()); err != nil {
		t.Fatal(err)
	}
	st, err := sb.Probe()
	t.Logf("fake server: %s", fake)
	if err != nil {
		t.Fatal(err)
	}
	if st.Auth.Probes == nil || len(st.Auth.Probes.Results) != 1 {
		t.Fatalf("probe results: %+v", st.Auth.Probes)
	}
	reqs := fake.RequestsFor(fakeanthropic.PathMessages)
	if len(reqs) != 1 {
		t.Fatalf("fake got %d /v1/messages requests, want 1 (%s)", len(reqs), fake)
	}
	if reqs[0].Credential != fakeanthropic.Fingerprint(sb.APIKey) || reqs[0].CredentialSource != "x-api-key" || !reqs[0].Stream || reqs[0].Model != "claude-opus-5" {
		t.Fatalf("probe request: %+v", reqs[0])
	}
	return sb, fake, st
}

func TestProbe401WritesAuthCooldown(t *testing.T) {
	t.Parallel()
	start := time.Now().UnixMilli()
	sb, _, st := probeSandbox(t, fakeanthropic.Mode401)
	r := st.Auth.Probes.Results[0]
	if r.Status != "auth" || r.ProfileID != "anthropic:default" || !strings.Contains(r.Error, "HTTP 401") {
		t.Fatalf("probe result %+v", r)
	}
	u, ok := usageStats(t, sb, "anthropic:default")
	if !ok || u.CooldownReason != "auth" || u.ErrorCount != 1 || u.FailureCounts["auth"] != 1 {
		t.Fatalf("usageStats after 401: %+v (present %v)", u, ok)
	}
	if d := u.CooldownUntil - u.LastFailureAt; d != 30_000 || u.LastFailureAt < start {
		t.Fatalf("cooldown window %d ms from %d (start %d), want 30000", d, u.LastFailureAt, start)
	}
	// models status now reports the cooldown.
	st2, err := sb.ModelsStatusJSON("")
	if err != nil {
		t.Fatal(err)
	}
	if un := st2.UnusableProfile("anthropic:default"); un == nil || un.Kind != "cooldown" || un.Reason != "auth" || un.Until != u.CooldownUntil {
		// the 30 s window may have passed on a very slow machine
		if time.Now().UnixMilli() < u.CooldownUntil {
			t.Fatalf("unusableProfiles after 401: %+v", st2.Auth.UnusableProfiles)
		}
	}
}

func TestProbe400CreditWritesBillingDisable(t *testing.T) {
	t.Parallel()
	sb, _, st := probeSandbox(t, fakeanthropic.Mode400Credit)
	if r := st.Auth.Probes.Results[0]; r.Status != "billing" || !strings.Contains(r.Error, "billing error") {
		t.Fatalf("probe result %+v", r)
	}
	u, ok := usageStats(t, sb, "anthropic:default")
	if !ok || u.DisabledReason != "billing" || u.FailureCounts["billing"] != 1 || u.CooldownUntil != 0 {
		t.Fatalf("usageStats after 400 credit: %+v (present %v)", u, ok)
	}
	if d := u.DisabledUntil - u.LastFailureAt; d != 600_000 {
		t.Fatalf("billing window %d ms, want 600000", d)
	}
}

func TestProbeOKResetsFailureState(t *testing.T) {
	t.Parallel()
	sb, _, st := probeSandbox(t, fakeanthropic.ModeOK)
	if r := st.Auth.Probes.Results[0]; r.Status != "ok" {
		t.Fatalf("probe result %+v", r)
	}
	if u, ok := usageStats(t, sb, "anthropic:default"); !ok || u.ErrorCount != 0 || u.LastProbeAt == 0 || u.CooldownUntil != 0 {
		t.Fatalf("usageStats after ok probe: %+v (present %v)", u, ok)
	}
}

// A cooldown written straight into SQLite (no gateway running) is what the
// CLI reports; deleting the row clears it.
func TestInjectedCooldownIsReported(t *testing.T) {
	t.Parallel()
	sb := NewOnboardedSandbox(t, Require(t))
	now := time.Now().UnixMilli()
	state := `{"version":1,"usageStats":{"anthropic:default":{"cooldownUntil":` + itoa(now+3_600_000) +
		`,"cooldownReason":"rate_limit","cooldownModel":"claude-opus-5","errorCount":1,"failureCounts":{"rate_limit":1},"lastFailureAt":` + itoa(now) + `}}}`
	if err := sb.SetStateRow(RowProfilesState, []byte(state)); err != nil {
		t.Fatal(err)
	}
	st, err := sb.ModelsStatusJSON("")
	if err != nil {
		t.Fatal(err)
	}
	un := st.UnusableProfile("anthropic:default")
	if un == nil || un.Kind != "cooldown" || un.Reason != "rate_limit" || un.Until != now+3_600_000 || !st.MissingInUse("anthropic") {
		t.Fatalf("unusable %+v missing %v", un, st.Auth.MissingProvidersInUse)
	}
	if err := sb.DeleteStateRow(RowProfilesState); err != nil {
		t.Fatal(err)
	}
	if _, ok := sb.StateRow(RowProfilesState); ok {
		t.Fatal("row still present after delete")
	}
}

// Research item (a) as a regression test: a second agent without its own
// agent DB reads the shared store in state/openclaw.sqlite.
func TestSecondAgentInheritsSharedStore(t *testing.T) {
	t.Parallel()
	sb := NewOnboardedSandbox(t, Require(t))
	if err := sb.AddAgentConfig("ops"); err != nil {
		t.Fatal(err)
	}
	st, err := sb.ModelsStatusJSON("ops")
	if err != nil {
		t.Fatal(err)
	}
	if st.AgentDir != sb.AgentDir("ops") || st.Auth.StorePath != sb.StateDBPath() || st.MissingInUse("anthropic") {
		t.Fatalf("ops: agentDir %s storePath %s missing %v", st.AgentDir, st.Auth.StorePath, st.Auth.MissingProvidersInUse)
	}
	if h := st.Profile("anthropic:default"); h == nil || h.Status != "static" {
		t.Fatalf("ops does not see anthropic:default: %+v", st.Auth.OAuth.Profiles)
	}
	_, err = sb.ModelsStatusJSON("nope")
	var cliErr *CLIError
	if err == nil || !errors.As(err, &cliErr) || !strings.Contains(cliErr.Message, `Unknown agent id "nope"`) {
		t.Fatalf("unknown agent: %v", err)
	}
}

func TestPasteTokenAndLogout(t *testing.T) {
	t.Parallel()
	sb := NewOnboardedSandbox(t, Require(t))
	tok := FakeSetupToken()
	if err := sb.PasteToken(tok, "anthropic:tok", "2h"); err != nil {
		t.Fatal(err)
	}
	if err := sb.Logout("anthropic:default"); err != nil {
		t.Fatal(err)
	}
	st, err := sb.ModelsStatusJSON("")
	if err != nil {
		t.Fatal(err)
	}
	h := st.Profile("anthropic:tok")
	if h == nil || h.Type != "token" || h.Status != "expiring" || h.RemainingMs <= 0 || h.RemainingMs > 2*3_600_000 {
		t.Fatalf("token profile: %+v", h)
	}
	if st.Profile("anthropic:default") != nil {
		t.Fatal("anthropic:default still present after logout")
	}
	raw, _ := sb.StateRow(RowProfilesStore)
	if strings.Contains(string(raw), sb.APIKey) || !strings.Contains(string(raw), tok) {
		t.Fatal("store row does not reflect paste-token + logout")
	}
}

func TestRunUsesMinimalEnvironment(t *testing.T) {
	cli := Require(t)
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-api03-MUSTNOTLEAKxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
	sb := NewSandbox(t, cli)
	env := sb.Env()
	for _, kv := range env {
		if strings.HasPrefix(kv, "ANTHROPIC_") {
			t.Fatalf("caller env leaked: %s", Redact(kv))
		}
	}
	out, _, rc := sb.Run("--version")
	if rc != 0 || !strings.Contains(out, wantVersion()) {
		t.Fatalf("--version rc %d: %q", rc, out)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Research item (a): with auth.sharedStore deleted (legacy-main layout) the
// main agent reads agents/main/agent/openclaw-agent.sqlite, ignores the rows
// in state/openclaw.sqlite, and other agents inherit main's agent DB.
func TestLegacyMainLayout(t *testing.T) {
	t.Parallel()
	sb := NewOnboardedSandbox(t, Require(t))
	// logout makes the CLI create agents/main/agent/openclaw-agent.sqlite
	// (with its schema_meta owner row and an empty auth_profile_store row).
	if err := sb.Logout("anthropic:default"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := sb.AgentAuthRow("main", AgentAuthStore); err != nil || !ok {
		t.Fatalf("main agent DB store row after logout: %v %v", ok, err)
	}
	legacyKey := FakeAPIKey()
	sb.AddSecret(legacyKey)
	if err := sb.SetAgentAuthRow("main", AgentAuthStore, []byte(`{"version":1,"profiles":{"anthropic:legacy":{"type":"api_key","provider":"anthropic","key":"`+legacyKey+`"}}}`)); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	if err := sb.SetAgentAuthRow("main", AgentAuthState, []byte(`{"version":1,"usageStats":{"anthropic:legacy":{"cooldownUntil":`+itoa(now+600_000)+`,"cooldownReason":"auth","errorCount":1,"failureCounts":{"auth":1},"lastFailureAt":`+itoa(now)+`}}}`)); err != nil {
		t.Fatal(err)
	}
	// a profile only in the shared state DB, which legacy-main must ignore
	if err := sb.SetStateRow(RowProfilesStore, []byte(`{"version":1,"profiles":{"anthropic:shared":{"type":"api_key","provider":"anthropic","key":"`+sb.APIKey+`"}}}`)); err != nil {
		t.Fatal(err)
	}
	if err := sb.DeleteStateRow(RowSharedStore); err != nil {
		t.Fatal(err)
	}
	if err := sb.AddAgentConfig("ops"); err != nil {
		t.Fatal(err)
	}
	for _, agent := range []string{"main", "ops"} {
		st, err := sb.ModelsStatusJSON(agent)
		if err != nil {
			t.Fatal(err)
		}
		if st.Auth.StorePath != sb.AgentDBPath("main") {
			t.Errorf("%s: storePath %s, want main's agent DB", agent, st.Auth.StorePath)
		}
		if st.Profile("anthropic:legacy") == nil || st.Profile("anthropic:shared") != nil {
			t.Errorf("%s: profiles %+v, want only anthropic:legacy", agent, st.Auth.OAuth.Profiles)
		}
		if u := st.UnusableProfile("anthropic:legacy"); u == nil || u.Reason != "auth" {
			t.Errorf("%s: main agent DB cooldown not applied: %+v", agent, st.Auth.UnusableProfiles)
		}
	}
	// models status is read-only: the ownership row stays absent
	if _, ok := sb.StateRow(RowSharedStore); ok {
		t.Error("models status re-created auth.sharedStore")
	}
}

// Against 529 the CLI retries for minutes; Probe's outside timeout must cut
// it off (killing the whole process group) and say so.
func TestProbeTimeoutStopsRetryingCLI(t *testing.T) {
	t.Parallel()
	sb := NewOnboardedSandbox(t, Require(t))
	fake := fakeanthropic.New(fakeanthropic.Options{Mode: fakeanthropic.Mode529})
	t.Cleanup(fake.Close)
	if err := sb.SetBaseURL(fake.URL()); err != nil {
		t.Fatal(err)
	}
	// Long enough for a cold CLI on a loaded 2-core machine to reach the fake.
	sb.ProbeTimeout = 40 * time.Second
	start := time.Now()
	_, err := sb.Probe()
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("want a timeout error, got %v", err)
	}
	if d := time.Since(start); d > sb.ProbeTimeout+10*time.Second {
		t.Fatalf("Probe returned after %v", d)
	}
	if fake.Count(fakeanthropic.PathMessages) == 0 {
		t.Fatalf("the CLI never reached the fake: %s", fake)
	}
	// nothing keeps hammering the fake after the kill
	n := fake.Count("")
	time.Sleep(3 * time.Second)
	if m := fake.Count(""); m != n {
		t.Fatalf("requests continued after the timeout: %d → %d", n, m)
	}
}
