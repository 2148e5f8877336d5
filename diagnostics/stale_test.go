package diagnostics

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/fakeanthropic"
	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// cooldown.stale: a window that began before the profile's current secret
// was stored, with the zero-token check accepting that secret. Only then:
// not for a rejected or unchecked key, not for a key older than the window,
// not for a window that is not about the credential, and never on a guess
// (a JSON install, a store of several profiles: cooldown.active says it
// cannot tell).
func TestCooldownStale(t *testing.T) {
	failure := testNow.Add(-10 * time.Minute)
	authWindow := func(id string) map[string]any {
		return usage(id, map[string]any{"cooldownUntil": ms(50 * time.Minute), "cooldownReason": "auth",
			"errorCount": 1, "failureCounts": map[string]int{"auth": 1}, "lastFailureAt": failure.UnixMilli()})
	}
	type tc struct {
		name    string
		version string
		written time.Time // the credential row's updated_at
		store   map[string]any
		state   map[string]any
		agentDB bool // 2026.7.x: the shared store is agents/main's database
		json    bool // 2026.5.28: auth-profiles.json + auth-state.json
		check   Status
		memory  map[string]SecretChange
		stale   bool
		sev     Severity
		// evidence and remedy fragments
		evidence, remedy []string
		// a fragment of cooldown.active's evidence or remedy
		active string
	}
	cases := []tc{
		{name: "key pasted after the failure, accepted: stale", written: failure.Add(5 * time.Minute), check: StatusAccepted, stale: true, sev: Critical,
			evidence: []string{"since the failure at 2026-11-25T11:50:00Z", "was stored after that", "credentials of", "at 2026-11-25T11:55:00Z", "accepted"},
			remedy:   []string{"cooldown reset anthropic:default", "recovery.reset_after_rotation: true", "models auth logout"},
			active:   "predates the current key"},
		{name: "key rejected: not stale", written: failure.Add(5 * time.Minute), check: StatusRejected},
		{name: "key not checked: not stale", written: failure.Add(5 * time.Minute)},
		{name: "check inconclusive (429): not stale", written: failure.Add(5 * time.Minute), check: StatusRateLimited},
		{name: "key older than the window: not stale", written: failure.Add(-time.Hour), check: StatusAccepted},
		{name: "credential written with the failure (within 1 s): not stale", written: failure.Add(500 * time.Millisecond), check: StatusAccepted},
		{name: "a rate_limit window is not the key's: not stale", written: failure.Add(5 * time.Minute), check: StatusAccepted,
			state: usage("anthropic:default", map[string]any{"cooldownUntil": ms(50 * time.Minute), "cooldownReason": "rate_limit", "lastFailureAt": failure.UnixMilli()})},
		{name: "no lastFailureAt: cannot tell", written: failure.Add(5 * time.Minute), check: StatusAccepted,
			state:  usage("anthropic:default", map[string]any{"cooldownUntil": ms(50 * time.Minute), "cooldownReason": "auth"}),
			active: "did not record when the window began"},
		{name: "billing disable, new key accepted: stale, billing unverifiable", written: failure.Add(5 * time.Minute), check: StatusAccepted, stale: true, sev: Critical,
			state: usage("anthropic:default", map[string]any{"disabledUntil": ms(50 * time.Minute), "disabledReason": "billing",
				"failureCounts": map[string]int{"billing": 1}, "lastFailureAt": failure.UnixMilli()}),
			remedy: []string{"cannot see billing"}},
		{name: "two profiles in the store: its write time cannot say whose secret changed", written: failure.Add(5 * time.Minute), check: StatusAccepted,
			store: apiKeyStore("anthropic:default", "anthropic:backup"), active: "holds 2 profiles"},
		{name: "two profiles, serve saw the old secret after the failure: stale", written: failure.Add(5 * time.Minute), check: StatusAccepted,
			store:  apiKeyStore("anthropic:default", "anthropic:backup"),
			memory: map[string]SecretChange{SecretKey("", "anthropic:default"): {After: failure.Add(time.Second), How: "openclaw-bot saw the previous secret of this profile still in place at 11:50:01"}},
			stale:  true, sev: Critical, evidence: []string{"openclaw-bot saw the previous secret"}},
		{name: "two profiles, serve saw the old secret only before the failure: not stale", written: failure.Add(5 * time.Minute), check: StatusAccepted,
			store:  apiKeyStore("anthropic:default", "anthropic:backup"),
			memory: map[string]SecretChange{SecretKey("", "anthropic:default"): {After: failure.Add(-time.Second), How: "x"}}},
		{name: "2026.7.35 agent database, key pasted after: stale", version: "2026.7.35", agentDB: true, written: failure.Add(5 * time.Minute), check: StatusAccepted, stale: true, sev: Critical},
		{name: "2026.5.28 JSON files: cannot tell", version: "2026.5.28", json: true, check: StatusAccepted,
			active: "rewrites at every failure"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.version == "" {
				c.version = "2026.9.6"
			}
			if c.store == nil {
				c.store = apiKeyStore("anthropic:default")
			}
			if c.state == nil {
				c.state = authWindow("anthropic:default")
			}
			d, err := sandbox.New(t.TempDir())
			mustNil(t, err)
			d.Now = func() time.Time { return c.written }
			mustNil(t, d.Config(c.version, withFallback, "anthropic:default"))
			switch {
			case c.json:
				mustNil(t, d.WriteJSON("agents/main/agent/auth-profiles.json", c.store))
				mustNil(t, d.WriteJSON("agents/main/agent/auth-state.json", c.state))
			case c.agentDB:
				mustNil(t, d.AgentStore("main", c.store, c.state))
			default:
				mustNil(t, d.SharedStore(c.store, c.state))
			}
			snap := readSnap(t, d.Path)
			in := &Input{Snap: snap, Now: testNow, SecretChanges: c.memory}
			if c.check != "" {
				in.Checks = statusFor(c.check, 200, "")(snap)
			}
			fs := Evaluate(in)
			var stale, active *Finding
			for i := range fs {
				f := &fs[i]
				assertNoSecretLeak(t, f.Title+f.Evidence+strings.Join(f.Remedy, "\n"))
				switch {
				case f.Code == CodeCooldownStale:
					stale = f
				case f.Subject == "anthropic:default" && (f.Code == CodeCooldownActive || f.Code == CodeBillingBlocked):
					active = f
				}
			}
			if active == nil {
				t.Fatalf("the window itself is not reported: %v", codes(fs))
			}
			if (stale != nil) != c.stale {
				t.Fatalf("cooldown.stale: got %v, want %v (findings %v)", stale != nil, c.stale, codes(fs))
			}
			if c.active != "" && !strings.Contains(active.Evidence+strings.Join(active.Remedy, "\n"), c.active) {
				t.Errorf("%s does not say %q:\n%s\n%s", active.Code, c.active, active.Evidence, strings.Join(active.Remedy, "\n"))
			}
			if stale == nil {
				if strings.Contains(active.Evidence+strings.Join(active.Remedy, "\n"), "predates") {
					t.Errorf("%s calls a window stale that is not: %s", active.Code, strings.Join(active.Remedy, "\n"))
				}
				return
			}
			if stale.Severity != c.sev || stale.Subject != "anthropic:default" || stale.Until.IsZero() {
				t.Errorf("finding %+v", stale)
			}
			for _, e := range c.evidence {
				if !strings.Contains(stale.Evidence, e) {
					t.Errorf("evidence lacks %q: %s", e, stale.Evidence)
				}
			}
			for _, r := range c.remedy {
				if !strings.Contains(strings.Join(stale.Remedy, "\n"), r) {
					t.Errorf("remedy lacks %q: %s", r, strings.Join(stale.Remedy, "\n"))
				}
			}
			if strings.Contains(strings.Join(active.Remedy, "\n"), "Anthropic rejected this credential") {
				t.Errorf("%s still says the key was rejected: %s", active.Code, strings.Join(active.Remedy, "\n"))
			}
		})
	}
}

// SecretMemory proves a change only when it saw the previous secret in
// place after the window began, persists only what changed, forgets
// credentials that are gone and learns nothing from a partial read.
func TestSecretMemory(t *testing.T) {
	d, err := sandbox.New(t.TempDir())
	mustNil(t, err)
	mustNil(t, d.Config("2026.9.6", nil, "anthropic:default"))
	at := testNow
	snapAt := func(t *testing.T, key string, failure time.Time) *openclaw.Snapshot {
		t.Helper()
		var state map[string]any
		if !failure.IsZero() {
			state = usage("anthropic:default", map[string]any{"cooldownUntil": failure.Add(time.Hour).UnixMilli(), "cooldownReason": "auth", "lastFailureAt": failure.UnixMilli()})
		}
		mustNil(t, d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{
			"anthropic:default": map[string]any{"type": "api_key", "provider": "anthropic", "key": key}}}, state))
		s := readSnap(t, d.Path)
		s.TakenAt = at
		return s
	}
	old, fresh := sandbox.APIKey("anthropic:default"), sandbox.APIKey("anthropic:backup")
	k := SecretKey("", "anthropic:default")

	m := LoadSecretMemory("")
	m.Observe(snapAt(t, old, time.Time{}))
	if !m.TakeDirty() || len(m.Changes()) != 0 {
		t.Fatalf("first sight: dirty and no evidence expected: %+v", m.Memos)
	}
	at = at.Add(time.Minute)
	m.Observe(snapAt(t, old, time.Time{}))
	if m.TakeDirty() {
		t.Fatal("an idle round changed the memory")
	}
	// A failure at +90 s: the next snapshot (+2 min) remembers the old
	// secret was in place then.
	failure := testNow.Add(90 * time.Second)
	at = testNow.Add(2 * time.Minute)
	m.Observe(snapAt(t, old, failure))
	if !m.TakeDirty() || !m.Memos[k].Seen.Equal(at) {
		t.Fatalf("a new failure must be remembered: %+v", m.Memos[k])
	}
	// The key is replaced (+5 min): evidence that it was stored after +2 min.
	at = testNow.Add(5 * time.Minute)
	m.Observe(snapAt(t, fresh, failure))
	ch, ok := m.Changes()[k]
	if !m.TakeDirty() || !ok || !ch.After.Equal(testNow.Add(2*time.Minute)) || ch.After.Before(failure) {
		t.Fatalf("rotation: %+v %v", ch, ok)
	}
	// Persisted and loaded again, it still proves it; never a secret in it.
	data := m.Marshal()
	for _, s := range []string{old, fresh, old[13:40], fresh[13:40]} {
		if strings.Contains(data, s) {
			t.Fatalf("the memory holds a secret: %s", data)
		}
	}
	if ch2 := LoadSecretMemory(data).Changes()[k]; !ch2.After.Equal(ch.After) {
		t.Fatalf("reloaded: %+v", ch2)
	}
	// A partial read teaches nothing (the profile may only be unread).
	partial := snapAt(t, fresh, failure)
	partial.Problems = []string{"locked"}
	partial.Shared.Profiles = nil
	m.Observe(partial)
	if m.TakeDirty() || len(m.Memos) != 1 {
		t.Fatalf("a partial read changed the memory: %+v", m.Memos)
	}
	// A damaged persisted memory is an empty one.
	if got := LoadSecretMemory("{not json"); len(got.Memos) != 0 {
		t.Fatalf("damaged: %+v", got.Memos)
	}

	// Seen only before the failure (the bot was down when it happened):
	// no proof.
	m2 := LoadSecretMemory("")
	at = testNow
	m2.Observe(snapAt(t, old, time.Time{}))
	at = testNow.Add(10 * time.Minute)
	m2.Observe(snapAt(t, fresh, testNow.Add(5*time.Minute)))
	if ch, ok := m2.Changes()[k]; !ok || !ch.After.Before(testNow.Add(5*time.Minute)) {
		t.Fatalf("evidence %+v %v: it must not prove a change after the failure", ch, ok)
	}
	// Logged out: forgotten.
	mustNil(t, d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{}}, nil))
	gone := readSnap(t, d.Path)
	m2.TakeDirty()
	m2.Observe(gone)
	if !m2.TakeDirty() || len(m2.Memos) != 0 {
		t.Fatalf("a removed profile must be forgotten: %+v", m2.Memos)
	}
}

// Inspector.CheckNew (serve's snapshots between key checks): a key with no
// verdict on a profile in a window is checked at once, so a key pasted
// after a failure is judged without waiting for the next scheduled check;
// nothing else is sent.
func TestInspectCheckNew(t *testing.T) {
	fake := fakeanthropic.New(fakeanthropic.Options{Mode: fakeanthropic.ModeOK})
	defer fake.Close()
	d, err := sandbox.New(t.TempDir())
	mustNil(t, err)
	now := time.Now()
	d.Now = func() time.Time { return now }
	mustNil(t, d.Config("2026.9.6", nil, "anthropic:default", "anthropic:backup"))
	mustNil(t, d.SharedStore(apiKeyStore("anthropic:default", "anthropic:backup"), usage("anthropic:default", map[string]any{
		"cooldownUntil": now.Add(time.Hour).UnixMilli(), "cooldownReason": "auth", "lastFailureAt": now.Add(-time.Minute).UnixMilli()})))
	target := Target{Name: "t", Locate: openclaw.LocateOptions{StateDir: d.Path, Getenv: func(string) string { return "" }, Home: t.TempDir()},
		Env: openclaw.EnvSources{NoProc: true}, BaseURLFlag: fake.URL()}
	for _, checkNew := range []bool{false, true} {
		fake.Reset()
		insp := &Inspector{Checker: NewChecker(CheckerOptions{}), CachedOnly: true, CheckNew: checkNew}
		rep, _, err := insp.Inspect(context.Background(), target, "")
		mustNil(t, err)
		want := 0
		if checkNew {
			want = 1 // anthropic:default only: anthropic:backup is in no window
		}
		if n := fake.Count("/v1/models"); n != want {
			t.Errorf("CheckNew %v: %d requests, want %d", checkNew, n, want)
		}
		for _, p := range rep.Profiles {
			if p.ID == "anthropic:default" && (p.Check == string(StatusAccepted)) != checkNew {
				t.Errorf("CheckNew %v: anthropic:default check %q", checkNew, p.Check)
			}
		}
	}
}
