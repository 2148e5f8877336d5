package openclaw

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// Windows: every store's copy of a profile's usage state, with the window
// active at the time; the digest moves with any of it.
func TestSnapshotWindows(t *testing.T) {
	d, loc := sharedInstall(t, `{"version":1,"usageStats":{"anthropic:default":{"cooldownUntil":4102444800000,"cooldownReason":"auth","errorCount":1},"anthropic:second":{"errorCount":0}}}`)
	if err := d.AgentStore("ops", json.RawMessage(`{"version":1,"profiles":{"anthropic:ops":{"type":"api_key","provider":"anthropic","key":"sk-ant-api03-CCCC"}}}`),
		json.RawMessage(`{"version":1,"usageStats":{"anthropic:default":{"disabledUntil":4102444800000,"disabledReason":"billing","failureCounts":{"billing":2}}}}`)); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ws := resetSnap(t, loc).Windows(now)
	var got []string
	for _, w := range ws {
		got = append(got, w.Profile+"/"+w.Agent+"/"+w.Kind+"/"+w.Reason)
	}
	want := []string{"anthropic:default//cooldown/auth", "anthropic:default/ops/disabled/billing", "anthropic:ops/ops//", "anthropic:second///"}
	if !slices.Equal(got, want) {
		t.Fatalf("windows %v, want %v", got, want)
	}
	def := ws.Of([]string{"anthropic:default"})
	if len(def) != 2 || def.Digest() != resetSnap(t, loc).Windows(now).Of([]string{"anthropic:default"}).Digest() {
		t.Fatalf("Of/Digest not stable: %+v", def)
	}
	// The window ending, a counter moving: another digest.
	if resetSnap(t, loc).Windows(time.UnixMilli(4102444800000)).Of([]string{"anthropic:default"}).Digest() == def.Digest() {
		t.Error("an ended window must change the digest")
	}
	if err := d.SetRow(KeyProfileState, json.RawMessage(`{"version":1,"usageStats":{"anthropic:default":{"cooldownUntil":4102444800000,"cooldownReason":"auth","errorCount":2}}}`)); err != nil {
		t.Fatal(err)
	}
	if resetSnap(t, loc).Windows(now).Of([]string{"anthropic:default"}).Digest() == def.Digest() {
		t.Error("a counter that moved must change the digest")
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
	if err := d.SetRow(KeyProfileState, json.RawMessage(`{"version":1,"usageStats":{"anthropic:default":{"cooldownUntil":4102444800000,"cooldownReason":"rate_limit","errorCount":1}}}`)); err != nil {
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
