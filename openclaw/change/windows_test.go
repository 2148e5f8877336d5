package change

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// A cooldown reset clears a subscription block window the way each
// release's own success path does (resetFieldsFor): blocked* from
// 2026.5.12, blockedScope from 2026.8.1, nothing of it before.
func TestResetClearsBlockWindows(t *testing.T) {
	for v, want := range map[string][]string{
		"2026.3.31": nil,
		"2026.5.28": {"blockedUntil", "blockedReason", "blockedSource", "blockedModel"},
		"2026.9.6":  {"blockedUntil", "blockedReason", "blockedSource", "blockedModel", "blockedScope"},
	} {
		got := resetFieldsFor(v)
		for _, f := range []string{"blockedUntil", "blockedReason", "blockedSource", "blockedModel", "blockedScope"} {
			if slices.Contains(got, f) != slices.Contains(want, f) {
				t.Errorf("%s: resets %s = %v, want %v", v, f, slices.Contains(got, f), slices.Contains(want, f))
			}
		}
	}
	// A block-only entry on 2026.9.6 is something to reset, and is gone after.
	_, loc := sharedInstall(t, `{"version":1,"usageStats":{"anthropic:default":{"blockedUntil":4102444800000,"blockedReason":"subscription_limit","blockedSource":"wham","blockedModel":"claude-opus-5","blockedScope":"model","lastUsed":5}}}`)
	snap := resetSnap(t, loc)
	// The preview shows the block with its source and scope (and Confirm
	// compares them).
	ws := snap.Windows(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)).Of([]string{"anthropic:default"})
	if len(ws) != 1 || ws[0].Kind != openclaw.WindowBlocked || ws[0].Model != "claude-opus-5" || ws[0].BlockedSource != "wham" || ws[0].BlockedScope != "model" {
		t.Fatalf("preview windows %+v", ws)
	}
	plan, err := PlanReset(resetCtx(t), snap, "", []string{"anthropic:default"})
	if err != nil {
		t.Fatal(err)
	}
	after, err := ApplyReset(resetCtx(t), plan)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"version":1,"usageStats":{"anthropic:default":{"lastUsed":5,"errorCount":0}}}`; string(after) != want {
		t.Errorf("after = %s, want %s", after, want)
	}
	if _, ok := resetSnap(t, loc).Shared.State.Usage["anthropic:default"].Active(time.Now()); ok {
		t.Error("the block window survived the reset")
	}
}

// ReadFrom: a plan is made from exactly the bytes the snapshot read, or
// the caller learns it (the state changed in between).
func TestResetPlanReadFrom(t *testing.T) {
	d, loc := sharedInstall(t, resetStateRow)
	ctx := resetCtx(t)
	snap := resetSnap(t, loc)
	plan, err := PlanReset(ctx, snap, "", []string{"anthropic:default"})
	if err != nil {
		t.Fatal(err)
	}
	if !plan.ReadFrom(snap) {
		t.Fatal("a plan from an unchanged state must match its snapshot")
	}
	// OpenClaw writes between the snapshot and the plan.
	if err := d.SetRow(openclaw.KeyProfileState, json.RawMessage(`{"version":1,"usageStats":{"anthropic:default":{"cooldownUntil":4102444800000,"cooldownReason":"rate_limit","errorCount":1}}}`)); err != nil {
		t.Fatal(err)
	}
	plan, err = PlanReset(ctx, snap, "", []string{"anthropic:default"})
	if err != nil {
		t.Fatal(err)
	}
	if plan.ReadFrom(snap) || !plan.ReadFrom(resetSnap(t, loc)) {
		t.Fatal("ReadFrom must tell a plan read after the state changed")
	}
	// Legacy JSON: the file is the state.
	legacyDir, legacyLoc := resetInstall(t, "2026.3.31")
	if err := legacyDir.WriteFile(filepath.Join("agents", "main", "agent", "auth-profiles.json"), []byte(`{"version":1,"profiles":{"anthropic:default":{"type":"api_key","provider":"anthropic","key":"sk-ant-api03-AAAA"}},"usageStats":{"anthropic:default":{"cooldownUntil":4102444800000,"cooldownReason":"auth"}}}`)); err != nil {
		t.Fatal(err)
	}
	ls := resetSnap(t, legacyLoc)
	if lp, err := PlanReset(ctx, ls, "", []string{"anthropic:default"}); err != nil || !lp.ReadFrom(ls) {
		t.Fatalf("legacy plan %+v %v", lp, err)
	}
}
