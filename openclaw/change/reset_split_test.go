package change

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// 2026.4.7–6.1 (json-split): the usage state lives in auth-state.json, whose
// entry replaces auth-profiles.json's inline one per profile (an upgrade
// from 2026.3 leaves inline state behind). The reset writes where the entry
// that applies lives, under auth-profiles.json.lock, atomically, and leaves
// the credentials file alone.
func TestResetJSONSplit(t *testing.T) {
	const inline = `{"version":1,"profiles":{"anthropic:default":{"type":"api_key","provider":"anthropic","key":"sk-ant-api03-AAAA"},"anthropic:second":{"type":"api_key","provider":"anthropic","key":"sk-ant-api03-BBBB"}},` +
		`"usageStats":{"anthropic:default":{"cooldownUntil":99999999999999,"cooldownReason":"auth","errorCount":4},"anthropic:second":{"disabledUntil":99999999999999,"disabledReason":"billing","errorCount":1}}}`
	const state = `{"version":1,"usageStats":{"anthropic:default":{"cooldownUntil":99999999999999,"cooldownReason":"rate_limit","cooldownModel":"claude-opus-4-8","errorCount":1,"lastFailureAt":1}}}`
	for _, tc := range []struct {
		profile, wantPath string
	}{
		{"anthropic:default", "auth-state.json"},   // in both: auth-state.json wins
		{"anthropic:second", "auth-profiles.json"}, // only inline
	} {
		t.Run(tc.profile, func(t *testing.T) {
			d, loc := resetInstall(t, "2026.5.28")
			dir := filepath.Join(d.Path, "agents", "main", "agent")
			mustWrite(t, filepath.Join(dir, "auth-profiles.json"), inline)
			mustWrite(t, filepath.Join(dir, "auth-state.json"), state)
			snap := resetSnap(t, loc)
			if snap.Generation != openclaw.GenJSONSplit {
				t.Fatalf("generation %s", snap.Generation)
			}
			u := snap.Shared.State.Usage["anthropic:default"]
			if u.CooldownReason != "rate_limit" || u.CooldownModel != "claude-opus-4-8" {
				t.Fatalf("auth-state.json's entry does not win over the inline one: %+v", u)
			}
			plan, err := PlanReset(resetCtx(t), snap, "", []string{tc.profile})
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(plan.Path) != tc.wantPath {
				t.Fatalf("plan writes %s, want %s", plan.Path, tc.wantPath)
			}
			beforeProfiles, _ := os.ReadFile(filepath.Join(dir, "auth-profiles.json"))
			if _, err := ApplyReset(resetCtx(t), plan); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, "auth-profiles.json.lock")); !os.IsNotExist(err) {
				t.Errorf("lock left behind: %v", err)
			}
			after := resetSnap(t, loc)
			if w, ok := after.Shared.State.Usage[tc.profile].Active(after.TakenAt); ok {
				t.Errorf("%s still has %+v after the reset", tc.profile, w)
			}
			if tc.wantPath == "auth-state.json" {
				if got, _ := os.ReadFile(filepath.Join(dir, "auth-profiles.json")); string(got) != string(beforeProfiles) {
					t.Errorf("auth-profiles.json changed:\n%s", got)
				}
				// The inline (stale) window must stay hidden behind the cleared entry.
				var doc struct {
					UsageStats map[string]map[string]any `json:"usageStats"`
				}
				b, _ := os.ReadFile(filepath.Join(dir, "auth-state.json"))
				if err := json.Unmarshal(b, &doc); err != nil || doc.UsageStats["anthropic:default"] == nil || !strings.HasSuffix(string(b), "\n") {
					t.Errorf("auth-state.json after the reset: %s (%v)", b, err)
				}
			}
		})
	}
}

func mustWrite(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}
