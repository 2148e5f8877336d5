package diagnostics

// The release matrix: every OpenClaw release of openclaw.Releases, installed
// from the npm registry, onboards its own install and breaks it through its
// own `models status --probe` against a loopback fake Anthropic (401, 400
// "credit balance too low", 429). No state is written by hand. For each
// broken state our status must agree with that release's
// `models status --json` (profile, kind, reason where it reports one, until
// within 5 s, verdict), and a reset must clear what that release then sees,
// leaving the credential and everything else intact (`models status --check`
// exits 0). The README's support table rests on this test.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/fakeanthropic"
	"github.com/openclaw-bot/openclaw-bot/internal/peer"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/openclaw/change"
)

func TestReleases(t *testing.T) {
	for _, rel := range openclaw.Releases {
		t.Run(rel.Version, func(t *testing.T) {
			cli := peer.RequireRelease(t, rel.Version)
			t.Parallel()
			testRelease(t, cli, rel)
		})
	}
}

func testRelease(t *testing.T, cli *peer.CLI, rel openclaw.Release) {
	fake := fakeanthropic.New(fakeanthropic.Options{Mode: fakeanthropic.ModeOK})
	defer fake.Close()
	sb := peer.NewReleaseSandbox(t, cli)
	sb.Timeout = 4 * time.Minute      // 2026.4.x installs ~550 MB of plugin dependencies on first use
	sb.ProbeTimeout = 3 * time.Minute // and its first probe takes ~60 s
	key := peer.FakeAPIKey()
	if err := sb.OnboardRelease(key, fake.URL()); err != nil {
		t.Fatal(err)
	}
	if openclaw.VersionLess(rel.Version, "2026.4.0") {
		// Up to 2026.3.x a probe's 401 only leaves a cooldown when the
		// model has a fallback (measured); without one it is reset at once.
		mustNil(t, sb.EditConfig(func(cfg map[string]any) error {
			m := peer.Obj(peer.Obj(peer.Obj(cfg, "agents"), "defaults"), "model")
			if _, ok := m["primary"]; !ok {
				m["primary"] = defaultModel(rel.Version)
			}
			m["fallbacks"] = []any{"anthropic/claude-haiku-4-5"}
			return nil
		}))
	}
	credBefore := credentialBytes(t, sb, rel)

	// Healthy: no critical finding, the generation is the release's own.
	rep, snap := ours(t, sb, nil, "")
	if snap.Generation != rel.Generation || rep.OpenClaw.Layout != openclaw.LayoutOf(rel.Generation) {
		t.Errorf("generation %s (layout %s), want %s (%s)", snap.Generation, rep.OpenClaw.Layout, rel.Generation, openclaw.LayoutOf(rel.Generation))
	}
	if rep.Verdict == "down" {
		t.Fatalf("a freshly onboarded %s install is down for the bot: %+v", rel.Version, rep.Findings)
	}
	agreeRelease(t, sb, "healthy")

	type scenario struct {
		name   string
		mode   fakeanthropic.Mode
		kind   string // cooldown | disabled
		reason string // what the release records ("" = none)
		model  bool   // a model-scoped window
		from   string // first release that records it ("" = all)
	}
	auth := "auth"
	if openclaw.VersionLess(rel.Version, "2026.3.0") {
		auth = "" // 2026.1–2.x write no cooldownReason (measured)
	}
	scenarios := []scenario{
		{name: "401", mode: fakeanthropic.Mode401, kind: "cooldown", reason: auth},
		{name: "400 credit", mode: fakeanthropic.Mode400Credit, kind: "disabled", reason: "billing"},
		// Earlier releases retry a 429 for minutes and write nothing or a
		// timeout cooldown (RELEASES.md); 2026.5.28+ write a model-scoped
		// rate_limit window after one request.
		{name: "429", mode: fakeanthropic.Mode429Daily, kind: "cooldown", reason: "rate_limit", model: true, from: "2026.5.0"},
	}
	for _, sc := range scenarios {
		if sc.from != "" && openclaw.VersionLess(rel.Version, sc.from) {
			continue
		}
		t.Run(sc.name, func(t *testing.T) {
			fake.SetMode(sc.mode)
			if _, err := sb.Probe(); err != nil {
				t.Logf("probe: %v (the state is what matters)", err)
			}
			rep, snap := ours(t, sb, nil, "")
			their := agreeRelease(t, sb, sc.name)
			u := their.UnusableProfile("anthropic:default")
			if u == nil {
				t.Fatalf("%s did not record the %s on anthropic:default: %+v", rel.Version, sc.name, their.Auth.UnusableProfiles)
			}
			p := reportProfile(rep, "anthropic:default")
			if p == nil {
				t.Fatalf("no anthropic:default in our report: %+v", rep.Profiles)
			}
			if want := time.UnixMilli(u.Until); p.Until.Sub(want).Abs() > 5*time.Second {
				t.Errorf("until: ours %s, %s's %s", p.Until, rel.Version, want)
			}
			if p.Health != sc.kind || p.Reason != sc.reason || (p.Model != "") != sc.model {
				t.Errorf("ours: health %s reason %q model %q; want %s %q (model-scoped %v)", p.Health, p.Reason, p.Model, sc.kind, sc.reason, sc.model)
			}
			if u.Reason != "" && u.Reason != p.Reason {
				t.Errorf("reason: ours %q, %s's %q", p.Reason, rel.Version, u.Reason)
			}
			if rep.Verdict != "down" {
				t.Errorf("verdict %s with %s %s", rep.Verdict, sc.kind, sc.reason)
			}

			// Reset, the way the bot's cooldown reset does it.
			plans, err := change.PlanResets(context.Background(), snap, "", []string{"anthropic:default"})
			if err != nil {
				t.Fatalf("plan reset: %v", err)
			}
			for _, pl := range plans {
				if _, err := change.ApplyReset(context.Background(), pl); err != nil {
					t.Fatalf("reset %s: %v", pl.Path, err)
				}
			}
			after := agreeRelease(t, sb, sc.name+" reset")
			if u := after.UnusableProfile("anthropic:default"); u != nil {
				t.Errorf("%s still sees %+v after the reset", rel.Version, u)
			}
			if time.Now().After(time.UnixMilli(u.Until)) {
				t.Fatalf("the %s window ended (%s) before the reset could be checked: the check proves nothing", sc.name, time.UnixMilli(u.Until))
			}
			r := sb.Exec(peer.RunOptions{}, "models", "status", "--json", "--check")
			if r.RC != 0 {
				t.Errorf("models status --check after the reset: rc %d", r.RC)
			}
			if got := credentialBytes(t, sb, rel); !bytes.Equal(got, credBefore) {
				t.Errorf("the reset changed the credential store")
			}
		})
	}
}

// agreeRelease compares our view with the release's `models status --json`.
func agreeRelease(t *testing.T, sb *peer.Sandbox, what string) *peer.ModelsStatus {
	t.Helper()
	rep, _ := ours(t, sb, nil, "")
	st, err := sb.ModelsStatusJSON("")
	if err != nil {
		t.Fatalf("%s: openclaw models status --json: %v", what, err)
	}
	theirs, mine := map[string]string{}, map[string]string{}
	for _, u := range st.Auth.UnusableProfiles {
		theirs[u.ProfileID] = u.Kind
	}
	for _, p := range rep.Profiles {
		if p.Agent == "" && (p.Health == "cooldown" || p.Health == "disabled") {
			mine[p.ID] = p.Health
		}
	}
	if fmt.Sprint(theirs) != fmt.Sprint(mine) {
		t.Errorf("%s: unusable profiles: openclaw %v, ours %v", what, theirs, mine)
	}
	if len(theirs) > 0 && rep.Verdict != "down" {
		t.Errorf("%s: openclaw has an unusable profile but our verdict is %s", what, rep.Verdict)
	}
	if len(theirs) == 0 {
		for _, f := range rep.Findings {
			if f.Severity == Critical {
				t.Errorf("%s: critical %s (%s) on an install the release finds healthy", what, f.Code, f.Title)
			}
		}
	}
	return st
}

func reportProfile(r Report, id string) *ProfileStatus {
	for i := range r.Profiles {
		if r.Profiles[i].ID == id && r.Profiles[i].Agent == "" {
			return &r.Profiles[i]
		}
	}
	return nil
}

// credentialBytes is the credential store of the release's generation.
func credentialBytes(t *testing.T, sb *peer.Sandbox, rel openclaw.Release) []byte {
	t.Helper()
	switch rel.Generation {
	case openclaw.GenStateSQLite:
		b, _, err := sb.ReadStateRow(openclaw.KeyProfileStore)
		mustNil(t, err)
		return b
	case openclaw.GenAgentSQLite:
		b, _, err := sb.AgentAuthRow("main", peer.AgentAuthStore)
		mustNil(t, err)
		return b
	case openclaw.GenJSONSplit:
		b, err := os.ReadFile(filepath.Join(sb.AgentDir("main"), "auth-profiles.json"))
		mustNil(t, err)
		return b
	}
	// Inline: the profiles object of auth-profiles.json.
	b, err := os.ReadFile(filepath.Join(sb.AgentDir("main"), "auth-profiles.json"))
	mustNil(t, err)
	return profilesOnly(t, b)
}

func defaultModel(version string) string {
	if openclaw.VersionLess(version, "2026.2.0") {
		return "anthropic/claude-opus-4-5"
	}
	return "anthropic/claude-opus-4-6"
}

// profilesOnly is the "profiles" member of an auth-profiles.json, as is.
func profilesOnly(t *testing.T, b []byte) []byte {
	t.Helper()
	var doc map[string]json.RawMessage
	mustNil(t, json.Unmarshal(b, &doc))
	return doc["profiles"]
}

// TestSupportTableMatchesReleases: every release the matrix tests has a row
// in the README's support table with its generation, and no row names a
// release the matrix does not test.
func TestSupportTableMatchesReleases(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	mustNil(t, err)
	rows := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "2026.") {
			continue
		}
		rows[strings.TrimSpace(cells[1])] = strings.Trim(strings.TrimSpace(cells[2]), "`")
	}
	for _, r := range openclaw.Releases {
		if got, ok := rows[r.Version]; !ok || got != r.Generation {
			t.Errorf("README support table: %s is %q, want a row with generation %s", r.Version, got, r.Generation)
		}
		delete(rows, r.Version)
	}
	for v := range rows {
		t.Errorf("README support table names %s, which TestReleases does not test", v)
	}
}
