package diagnostics

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/fakeanthropic"
	"github.com/openclaw-bot/openclaw-bot/internal/peer"
	"github.com/openclaw-bot/openclaw-bot/openclaw/change"
)

// The rotation story with the real CLI (2026.9.6): onboarded with key A, a
// probe against a fake that rejects A records a window (a 401: an auth
// cooldown of 30 s; a 400 "credit balance too low": a billing disable of
// 10 min, which a slow machine cannot outlive); the user
// stores key B with the real `paste-api-key`, which keeps the cooldown
// (measured); the fake accepts B. Our status then says cooldown.stale —
// from the store's own write time alone, no memory — and a reset, the
// bot's, leaves OpenClaw itself with nothing unusable. Key A rejected
// before the paste: not stale.
func TestCooldownStaleRelease(t *testing.T) {
	cli := peer.RequireRelease(t, "2026.9.6")
	for _, probe := range []fakeanthropic.Mode{fakeanthropic.Mode400Credit, fakeanthropic.ModeKeyed} {
		t.Run(string(probe), func(t *testing.T) { testStaleRelease(t, cli, probe) })
	}
}

func testStaleRelease(t *testing.T, cli *peer.CLI, probe fakeanthropic.Mode) {
	keyA, keyB := peer.FakeAPIKey(), peer.FakeAPIKey()
	// The zero-token check (GET /v1/models) accepts B only; the probe's
	// POST /v1/messages gets the mode under test (keyed: 401 for A).
	fake := fakeanthropic.New(fakeanthropic.Options{Mode: fakeanthropic.ModeKeyed, Keys: []string{keyB},
		PathModes: map[string]fakeanthropic.Mode{"/v1/messages": probe}})
	defer fake.Close()
	sb := peer.NewReleaseSandbox(t, cli)
	sb.ProbeTimeout = 2 * time.Minute
	if err := sb.OnboardRelease(keyA, fake.URL()); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Probe(); err != nil {
		t.Logf("probe: %v (the state is what matters)", err)
	}
	checker := NewChecker(CheckerOptions{})
	rep, _ := ours(t, sb, checker, fake.URL())
	window := CodeCooldownActive
	if probe == fakeanthropic.Mode400Credit {
		window = CodeBillingBlocked
	}
	if !hasFinding(rep, window) || hasFinding(rep, CodeCooldownStale) {
		t.Fatalf("after the failure, before any new key: %v", codes(rep.Findings))
	}
	if err := sb.PasteAPIKey(keyB, "anthropic:default"); err != nil {
		t.Fatal(err)
	}
	rep, snap := ours(t, sb, checker, fake.URL())
	u, _ := snap.Usage(snap.DefaultAgent(), "anthropic:default")
	if _, active := u.Active(time.Now()); !active {
		if probe == fakeanthropic.ModeKeyed {
			t.Skipf("the 30 s auth cooldown ended before the check on this loaded machine (the billing case covers the story)")
		}
		t.Fatalf("the window ended before the check: it proves nothing")
	}
	var stale *Finding
	for i := range rep.Findings {
		f := &rep.Findings[i]
		for _, k := range []string{keyA, keyB} {
			if strings.Contains(f.Title+f.Evidence+strings.Join(f.Remedy, " "), k[10:40]) {
				t.Fatalf("%s leaks a key", f.Code)
			}
		}
		if f.Code == CodeCooldownStale {
			stale = f
		}
	}
	if stale == nil || stale.Subject != "anthropic:default" || !strings.Contains(stale.Evidence, "OpenClaw last wrote the credentials") {
		t.Fatalf("no cooldown.stale after paste-api-key with an accepted key: %v", rep.Findings)
	}

	plans, err := change.PlanResets(context.Background(), snap, "", []string{"anthropic:default"})
	mustNil(t, err)
	for _, pl := range plans {
		if _, err := change.ApplyReset(context.Background(), pl); err != nil {
			t.Fatal(err)
		}
	}
	st, err := sb.ModelsStatusJSON("")
	mustNil(t, err)
	if u := st.UnusableProfile("anthropic:default"); u != nil {
		t.Fatalf("OpenClaw still finds anthropic:default unusable after the reset: %+v", u)
	}
	if rep, _ := ours(t, sb, checker, fake.URL()); hasFinding(rep, CodeCooldownStale) || hasFinding(rep, window) {
		t.Fatalf("after the reset: %v", codes(rep.Findings))
	}
}

func hasFinding(r Report, code string) bool {
	for _, f := range r.Findings {
		if f.Code == code {
			return true
		}
	}
	return false
}
