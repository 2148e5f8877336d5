package openclaw

import (
	"encoding/json"
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
