package change

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/openclaw/run"
)

// A cooldown row as OpenClaw 2026.9.6 writes it (compact, its key order),
// plus a field OpenClaw does not know (xFuture), a second profile and an
// unknown top-level member: all of it must survive a reset byte for byte.
const resetStateRow = `{"version":1,"order":{"anthropic":["anthropic:default","anthropic:second"]},"lastGood":{"anthropic":"anthropic:second"},` +
	`"usageStats":{"anthropic:default":{"lastUsed":1795610000000,"cooldownUntil":4102444800000,"cooldownReason":"auth","errorCount":2,"failureCounts":{"auth":2},"lastFailureAt":1795610588103,"xFuture":{"a":[1,2.50,"é\u00e9"]}},` +
	`"anthropic:second":{"errorCount":0,"lastUsed":1795610000001,"lastProbeAt":1795610000002}},"zTop":[1,2]}`

// What resetAuthProfileFailureState makes of it: cooldown fields and
// failureCounts gone, errorCount 0 in place, lastFailureAt/lastUsed kept.
const resetStateAfter = `{"version":1,"order":{"anthropic":["anthropic:default","anthropic:second"]},"lastGood":{"anthropic":"anthropic:second"},` +
	`"usageStats":{"anthropic:default":{"lastUsed":1795610000000,"errorCount":0,"lastFailureAt":1795610588103,"xFuture":{"a":[1,2.50,"é\u00e9"]}},` +
	`"anthropic:second":{"errorCount":0,"lastUsed":1795610000001,"lastProbeAt":1795610000002}},"zTop":[1,2]}`

const resetStoreRow = `{"version":1,"profiles":{"anthropic:default":{"type":"api_key","provider":"anthropic","key":"sk-ant-api03-AAAA"},"anthropic:second":{"type":"api_key","provider":"anthropic","key":"sk-ant-api03-BBBB"}}}`

func resetCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// resetInstall is a 2026.9.6 install written by internal/sandbox.
func resetInstall(t *testing.T, version string) (*sandbox.Dir, openclaw.Location) {
	t.Helper()
	home := t.TempDir()
	d, err := sandbox.New(filepath.Join(home, ".openclaw"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Config(version, nil, "anthropic:default", "anthropic:second"); err != nil {
		t.Fatal(err)
	}
	loc, err := openclaw.Locate(openclaw.LocateOptions{StateDir: d.Path, Home: home, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	return d, loc
}

func resetSnap(t *testing.T, loc openclaw.Location) *openclaw.Snapshot {
	t.Helper()
	s, err := openclaw.ReadSnapshot(context.Background(), loc, openclaw.ReadOptions{Env: openclaw.EnvSources{NoProc: true}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type resetRow struct {
	val string
	at  int64
}

// resetRows reads every row of a key/value table directly.
func resetRows(t *testing.T, path, table, keyCol, valCol, timeCol string) map[string]resetRow {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(fmt.Sprintf(`SELECT %s, %s, %s FROM %s`, keyCol, valCol, timeCol, table))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]resetRow{}
	for rows.Next() {
		var k string
		var r resetRow
		if err := rows.Scan(&k, &r.val, &r.at); err != nil {
			t.Fatal(err)
		}
		out[k] = r
	}
	return out
}

func stateRows(t *testing.T, loc openclaw.Location) map[string]resetRow {
	return resetRows(t, loc.StateDB(), "config_machine_state", "state_key", "value_json", "updated_at_ms")
}

func agentStateRow(t *testing.T, dbPath string) resetRow {
	return resetRows(t, dbPath, "auth_profile_state", "state_key", "state_json", "updated_at")[openclaw.AgentRowKey]
}

func resetExec(t *testing.T, path, q string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}

func journalMode(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var m string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func sharedInstall(t *testing.T, state string) (*sandbox.Dir, openclaw.Location) {
	t.Helper()
	d, loc := resetInstall(t, "2026.9.6")
	if err := d.SharedStore(json.RawMessage(resetStoreRow), json.RawMessage(state)); err != nil {
		t.Fatal(err)
	}
	return d, loc
}

func TestResetSharedStateDB(t *testing.T) {
	_, loc := sharedInstall(t, resetStateRow)
	resetExec(t, loc.StateDB(), `PRAGMA journal_mode=WAL`) // like OpenClaw
	// Backdate every row so an update of updated_at_ms is visible.
	resetExec(t, loc.StateDB(), `UPDATE config_machine_state SET updated_at_ms = 1000`)
	before := stateRows(t, loc)
	if before[openclaw.KeyProfileState].val != resetStateRow {
		t.Fatalf("sandbox wrote %s", before[openclaw.KeyProfileState].val)
	}
	snap := resetSnap(t, loc)
	if _, ok := snap.Shared.State.Usage["anthropic:default"].Active(time.Now()); !ok {
		t.Fatal("fixture has no active cooldown")
	}

	plan, err := PlanReset(resetCtx(t), snap, "", []string{"anthropic:default"})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Where != openclaw.StoreStateDB || plan.Path != loc.StateDB() || plan.Key != openclaw.KeyProfileState || plan.AgentID != "main" ||
		string(plan.Before) != resetStateRow || strings.Join(plan.Profiles, ",") != "anthropic:default" {
		t.Fatalf("plan = %+v", plan)
	}
	t0 := time.Now().UnixMilli()
	after, err := ApplyReset(resetCtx(t), plan)
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != resetStateAfter {
		t.Fatalf("after =\n%s\nwant\n%s", after, resetStateAfter)
	}
	rows := stateRows(t, loc)
	if rows[openclaw.KeyProfileState].val != resetStateAfter || rows[openclaw.KeyProfileState].at < t0 {
		t.Errorf("row = %+v", rows[openclaw.KeyProfileState])
	}
	for k, r := range before {
		if k != openclaw.KeyProfileState && rows[k] != r {
			t.Errorf("row %s changed: %+v → %+v", k, r, rows[k])
		}
	}
	if len(rows) != len(before) {
		t.Errorf("rows %d → %d", len(before), len(rows))
	}
	if m := journalMode(t, loc.StateDB()); m != "wal" {
		t.Errorf("journal mode changed to %s", m)
	}
	snap = resetSnap(t, loc)
	u := snap.Shared.State.Usage["anthropic:default"]
	if _, ok := u.Active(time.Now()); ok || u.ErrorCount != 0 || u.FailureCounts != nil || u.LastFailureAt.IsZero() || u.LastUsed.IsZero() {
		t.Errorf("after reset the bot reads %+v", u)
	}
	// A second reset has nothing left to do.
	if _, err := PlanReset(resetCtx(t), snap, "main", []string{"anthropic:default"}); !errors.Is(err, ErrNothingToReset) {
		t.Errorf("second plan: %v", err)
	}
}

// A database in rollback-journal mode keeps it (no journal-mode change).
func TestResetKeepsJournalMode(t *testing.T) {
	_, loc := sharedInstall(t, resetStateRow)
	if m := journalMode(t, loc.StateDB()); m != "delete" {
		t.Fatalf("sandbox journal mode %s", m)
	}
	plan, err := PlanReset(resetCtx(t), resetSnap(t, loc), "", []string{"anthropic:default"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ApplyReset(resetCtx(t), plan); err != nil {
		t.Fatal(err)
	}
	if m := journalMode(t, loc.StateDB()); m != "delete" {
		t.Errorf("journal mode changed to %s", m)
	}
}

// Every field resetAuthProfileFailureState clears, and nothing else.
func TestResetClearsExactlyOpenClawsFields(t *testing.T) {
	entry := `{"blockedUntil":4102444800000,"blockedReason":"subscription_limit","blockedSource":"wham","blockedModel":"m","blockedScope":"model",` +
		`"cooldownUntil":4102444800000,"cooldownReason":"rate_limit","cooldownClassification":"wham_account_dead","cooldownModel":"claude-opus-5",` +
		`"disabledUntil":4102444800000,"disabledReason":"billing","failureCounts":{"billing":3,"rate_limit":2},` +
		`"lastFailureAt":5,"lastUsed":6,"lastProbeAt":7,"unknownCounter":8}`
	state := `{"version":1,"usageStats":{"anthropic:default":` + entry + `}}`
	_, loc := sharedInstall(t, state)
	plan, err := PlanReset(resetCtx(t), resetSnap(t, loc), "", []string{"anthropic:default"})
	if err != nil {
		t.Fatal(err)
	}
	after, err := ApplyReset(resetCtx(t), plan)
	if err != nil {
		t.Fatal(err)
	}
	// errorCount was absent: appended last, like {...existing, errorCount: 0}.
	want := `{"version":1,"usageStats":{"anthropic:default":{"lastFailureAt":5,"lastUsed":6,"lastProbeAt":7,"unknownCounter":8,"errorCount":0}}}`
	if string(after) != want {
		t.Errorf("after = %s\nwant    %s", after, want)
	}
	// The same function on the 2026.3.31 field set keeps what that version
	// does not clear.
	eo, err := parseJSONObject([]byte(entry))
	if err != nil {
		t.Fatal(err)
	}
	legacy, _ := resetEntry(eo, legacyResetFields)
	for _, k := range []string{"blockedUntil", "cooldownClassification"} {
		if _, ok := legacy.get(k); !ok {
			t.Errorf("2026.3.31 reset removed %s", k)
		}
	}
	for _, k := range []string{"cooldownUntil", "disabledReason", "failureCounts"} {
		if _, ok := legacy.get(k); ok {
			t.Errorf("2026.3.31 reset kept %s", k)
		}
	}
}

func TestResetBillingDisableAndTwoProfiles(t *testing.T) {
	state := `{"version":1,"usageStats":{"anthropic:default":{"disabledUntil":4102444800000,"disabledReason":"billing","errorCount":1,"failureCounts":{"billing":1},"lastFailureAt":9},` +
		`"anthropic:second":{"cooldownUntil":4102444800000,"cooldownReason":"auth","errorCount":1}}}`
	_, loc := sharedInstall(t, state)
	plan, err := PlanReset(resetCtx(t), resetSnap(t, loc), "main", []string{"anthropic:second", "anthropic:default", "anthropic:default"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(plan.Profiles, ",") != "anthropic:default,anthropic:second" {
		t.Fatalf("profiles %v", plan.Profiles)
	}
	after, err := ApplyReset(resetCtx(t), plan)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":1,"usageStats":{"anthropic:default":{"errorCount":0,"lastFailureAt":9},"anthropic:second":{"errorCount":0}}}`
	if string(after) != want {
		t.Errorf("after = %s", after)
	}
}

// Only the named profile changes; the other's cooldown stays.
func TestResetOtherProfileUntouched(t *testing.T) {
	state := `{"version":1,"usageStats":{"anthropic:default":{"cooldownUntil":4102444800000,"cooldownReason":"auth","errorCount":1},` +
		`"anthropic:second":{"cooldownUntil":4102444800000,"cooldownReason":"auth","errorCount":1,"failureCounts":{"auth":1}}}}`
	_, loc := sharedInstall(t, state)
	plan, err := PlanReset(resetCtx(t), resetSnap(t, loc), "main", []string{"anthropic:default"})
	if err != nil {
		t.Fatal(err)
	}
	after, err := ApplyReset(resetCtx(t), plan)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":1,"usageStats":{"anthropic:default":{"errorCount":0},"anthropic:second":{"cooldownUntil":4102444800000,"cooldownReason":"auth","errorCount":1,"failureCounts":{"auth":1}}}}`
	if string(after) != want {
		t.Errorf("after = %s", after)
	}
}

// legacy-main: no auth.sharedStore row, the shared store is main's agent DB.
func TestResetLegacyMainAgentDB(t *testing.T) {
	d, loc := resetInstall(t, "2026.9.6")
	if err := d.SetRow("config.lastTouchedAt", "2026-11-25T12:31:57.096Z"); err != nil {
		t.Fatal(err)
	}
	if err := d.AgentStore("main", json.RawMessage(resetStoreRow), json.RawMessage(resetStateRow)); err != nil {
		t.Fatal(err)
	}
	// A stale authProfiles.state in the state DB is NOT what OpenClaw reads.
	if err := d.SetRow(openclaw.KeyProfileState, json.RawMessage(resetStateRow)); err != nil {
		t.Fatal(err)
	}
	stateBefore := stateRows(t, loc)
	mainDB := openclaw.AgentDB(loc.AgentDirOf("main"))
	plan, err := PlanReset(resetCtx(t), resetSnap(t, loc), "", []string{"anthropic:default"})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Where != openclaw.StoreAgentDB || plan.Path != mainDB || plan.Key != openclaw.AgentRowKey {
		t.Fatalf("plan = %+v", plan)
	}
	if _, err := ApplyReset(resetCtx(t), plan); err != nil {
		t.Fatal(err)
	}
	if got := agentStateRow(t, mainDB).val; got != resetStateAfter {
		t.Errorf("main agent DB row = %s", got)
	}
	if got := stateRows(t, loc); fmt.Sprint(got) != fmt.Sprint(stateBefore) {
		t.Errorf("state DB touched: %v", got)
	}
}

// An agent's own usageStats entry overrides the shared one: reset there,
// and only for that agent.
func TestResetAgentLocalOverride(t *testing.T) {
	d, loc := sharedInstall(t, `{"version":1,"usageStats":{"anthropic:second":{"cooldownUntil":4102444800000,"cooldownReason":"auth","errorCount":1}}}`)
	opsStore := `{"version":1,"profiles":{"anthropic:ops":{"type":"api_key","provider":"anthropic","key":"sk-ant-api03-CCCC"}}}`
	opsState := `{"version":1,"usageStats":{"anthropic:default":{"cooldownUntil":4102444800000,"cooldownReason":"auth","errorCount":3,"failureCounts":{"auth":3}},"anthropic:ops":{"errorCount":0,"lastUsed":1}}}`
	if err := d.AgentStore("ops", json.RawMessage(opsStore), json.RawMessage(opsState)); err != nil {
		t.Fatal(err)
	}
	opsDB := filepath.Join(d.Path, "agents", "ops", "agent", "openclaw-agent.sqlite")
	snap := resetSnap(t, loc)
	if snap.Agent("ops") == nil {
		t.Fatalf("snapshot has no ops agent: %+v", snap.Agents)
	}
	ctx := resetCtx(t)

	// main reads the shared store: default is clean there.
	if _, err := PlanReset(ctx, snap, "main", []string{"anthropic:default"}); !errors.Is(err, ErrNothingToReset) {
		t.Errorf("main: %v", err)
	}
	// ops: its own entry wins.
	plan, err := PlanReset(ctx, snap, "ops", []string{"anthropic:default"})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Where != openclaw.StoreAgentDB || plan.Path != opsDB || plan.AgentID != "ops" || string(plan.Before) != opsState {
		t.Fatalf("plan = %+v", plan)
	}
	// ops' second has no own entry: the shared one applies.
	plan2, err := PlanReset(ctx, snap, "ops", []string{"anthropic:second"})
	if err != nil || plan2.Where != openclaw.StoreStateDB {
		t.Fatalf("ops second: %+v %v", plan2, err)
	}
	// Both at once live in two stores.
	if _, err := PlanReset(ctx, snap, "ops", []string{"anthropic:default", "anthropic:second"}); !errors.Is(err, ErrSplitStores) {
		t.Errorf("split: %v", err)
	} else {
		t.Logf("split: %v", err)
	}
	plans, err := PlanResets(ctx, snap, "ops", []string{"anthropic:default", "anthropic:second", "anthropic:ops"})
	if err != nil || len(plans) != 2 {
		t.Fatalf("PlanResets: %v %v", plans, err)
	}
	sharedBefore := stateRows(t, loc)
	after, err := ApplyReset(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":1,"usageStats":{"anthropic:default":{"errorCount":0},"anthropic:ops":{"errorCount":0,"lastUsed":1}}}`
	if string(after) != want || agentStateRow(t, opsDB).val != want {
		t.Errorf("ops after = %s", after)
	}
	if got := stateRows(t, loc); fmt.Sprint(got) != fmt.Sprint(sharedBefore) {
		t.Errorf("shared state touched")
	}
}

// State in an agent DB without a credential store row is ignored by
// OpenClaw: refuse rather than reset a copy nobody reads.
func TestResetRefusesOrphanAgentState(t *testing.T) {
	d, loc := sharedInstall(t, `{"version":1,"usageStats":{"anthropic:default":{"cooldownUntil":4102444800000,"cooldownReason":"auth","errorCount":1}}}`)
	if err := d.AgentStore("ops", nil, json.RawMessage(`{"version":1,"usageStats":{"anthropic:default":{"cooldownUntil":4102444800000,"cooldownReason":"auth"}}}`)); err != nil {
		t.Fatal(err)
	}
	d.Config("2026.9.6", map[string]any{"agents": map[string]any{
		"defaults":  map[string]any{"model": map[string]any{"primary": "anthropic/claude-opus-5"}},
		"ownership": "explicit",
		"entries":   map[string]any{"main": map[string]any{}, "ops": map[string]any{}},
	}}, "anthropic:default")
	_, err := PlanReset(resetCtx(t), resetSnap(t, loc), "ops", []string{"anthropic:default"})
	if !errors.Is(err, ErrAmbiguous) {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
}

func TestResetPlanRefusals(t *testing.T) {
	cooldown := `{"version":1,"usageStats":{"anthropic:default":{"cooldownUntil":4102444800000,"cooldownReason":"auth","errorCount":1}}}`
	ctx := resetCtx(t)
	check := func(name string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Errorf("%s: err = %v, want %v", name, err, want)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}

	d, loc := sharedInstall(t, cooldown)
	if err := d.SetRow(openclaw.KeySharedStore, map[string]any{"location": "elsewhere"}); err != nil {
		t.Fatal(err)
	}
	_, err := PlanReset(ctx, resetSnap(t, loc), "", []string{"anthropic:default"})
	check("invalid auth.sharedStore", err, ErrAmbiguous)

	d, loc = sharedInstall(t, cooldown)
	if err := d.WriteFile("agents/main/agent/auth-profiles.json", []byte(`{"version":1,"profiles":{}}`)); err != nil {
		t.Fatal(err)
	}
	_, err = PlanReset(ctx, resetSnap(t, loc), "", []string{"anthropic:default"})
	check("unmigrated legacy file", err, ErrAmbiguous)

	_, loc = sharedInstall(t, `{"version":1,"usageStats":{"anthropic:default":{"errorCount":0,"lastUsed":5}}}`)
	snap := resetSnap(t, loc)
	_, err = PlanReset(ctx, snap, "", []string{"anthropic:default", "anthropic:second"})
	check("clean", err, ErrNothingToReset)
	if _, err = PlanReset(ctx, snap, "", []string{"anthropic:nosuch"}); err == nil || !strings.Contains(err.Error(), "no profile anthropic:nosuch") {
		t.Errorf("unknown profile: %v", err)
	}
	if _, err = PlanReset(ctx, snap, "nosuch", []string{"anthropic:default"}); err == nil || !strings.Contains(err.Error(), "unknown agent") {
		t.Errorf("unknown agent: %v", err)
	}
	for _, bad := range [][]string{nil, {""}, {" anthropic:default"}, {"a\nb"}} {
		if _, err = PlanReset(ctx, snap, "", bad); err == nil {
			t.Errorf("profiles %q accepted", bad)
		}
	}
	if _, err = PlanReset(ctx, nil, "", []string{"anthropic:default"}); err == nil {
		t.Error("nil snapshot accepted")
	}

	_, loc = sharedInstall(t, `{"version":1,"usageStats":{"anthropic:default":"cooldown"}}`)
	_, err = PlanReset(ctx, resetSnap(t, loc), "", []string{"anthropic:default"})
	check("entry not an object", err, ErrAmbiguous)

	d, loc = resetInstall(t, "2026.9.6")
	if err := d.SharedStore(json.RawMessage(resetStoreRow), nil); err != nil {
		t.Fatal(err)
	}
	resetExec(t, loc.StateDB(), `INSERT INTO config_machine_state VALUES(?, ?, 1)`, openclaw.KeyProfileState, `{"usageStats":`)
	_, err = PlanReset(ctx, resetSnap(t, loc), "", []string{"anthropic:default"})
	check("state row not JSON", err, ErrAmbiguous)

	// Legacy files, but the config was last written by 2026.9.6.
	d, loc = resetInstall(t, "2026.9.6")
	if err := d.WriteFile("agents/main/agent/auth-profiles.json", []byte(resetLegacyFile)); err != nil {
		t.Fatal(err)
	}
	snap = resetSnap(t, loc)
	if snap.Layout != openclaw.LayoutLegacy {
		t.Fatalf("layout %s", snap.Layout)
	}
	_, err = PlanReset(ctx, snap, "", []string{"anthropic:default"})
	check("legacy files under 2026.9.6", err, ErrAmbiguous)
}

func TestResetOptimisticConflict(t *testing.T) {
	d, loc := sharedInstall(t, resetStateRow)
	ctx := resetCtx(t)
	plan, err := PlanReset(ctx, resetSnap(t, loc), "", []string{"anthropic:default"})
	if err != nil {
		t.Fatal(err)
	}
	// OpenClaw writes in between (another failure recorded).
	changed := strings.Replace(resetStateRow, `"errorCount":2`, `"errorCount":3`, 1)
	if err := d.SetRow(openclaw.KeyProfileState, json.RawMessage(changed)); err != nil {
		t.Fatal(err)
	}
	if _, err := ApplyReset(ctx, plan); !errors.Is(err, ErrChanged) {
		t.Fatalf("err = %v", err)
	}
	if got := stateRows(t, loc)[openclaw.KeyProfileState].val; got != changed {
		t.Errorf("row written despite the conflict: %s", got)
	}
	// Re-preview and apply.
	plan, err = PlanReset(ctx, resetSnap(t, loc), "", []string{"anthropic:default"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ApplyReset(ctx, plan); err != nil {
		t.Fatal(err)
	}
	// The row vanished (logout) → ErrChanged, nothing created.
	plan.Before = []byte(changed)
	if err := d.SetRow(openclaw.KeyProfileState, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ApplyReset(ctx, plan); !errors.Is(err, ErrChanged) {
		t.Fatalf("deleted row: %v", err)
	}
	if _, ok := stateRows(t, loc)[openclaw.KeyProfileState]; ok {
		t.Error("row recreated")
	}
}

// Two resets of the same preview race: exactly one wins.
func TestResetConcurrentApplyOneWins(t *testing.T) {
	_, loc := sharedInstall(t, resetStateRow)
	plan, err := PlanReset(resetCtx(t), resetSnap(t, loc), "", []string{"anthropic:default"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = ApplyReset(context.Background(), plan)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrChanged):
			t.Errorf("unexpected: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d resets succeeded", ok)
	}
}

// A writer holding the database waits out the busy timeout; ApplyReset
// then re-reads under its own lock and sees the writer's change.
func TestResetWaitsForWriterThenChecks(t *testing.T) {
	_, loc := sharedInstall(t, resetStateRow)
	plan, err := PlanReset(resetCtx(t), resetSnap(t, loc), "", []string{"anthropic:default"})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+loc.StateDB()+"?_txlock=immediate&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(resetStateRow, `"lastUsed":1795610000000`, `"lastUsed":1795610000009`, 1)
	if _, err := tx.Exec(`UPDATE config_machine_state SET value_json=? WHERE state_key=?`, changed, openclaw.KeyProfileState); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(400 * time.Millisecond)
		tx.Commit()
	}()
	start := time.Now()
	_, err = ApplyReset(resetCtx(t), plan)
	if !errors.Is(err, ErrChanged) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Errorf("did not wait for the writer (%v)", time.Since(start))
	}
}

// The busy timeout is bounded: a writer that never lets go gives ErrLocked.
func TestResetBusyTimeout(t *testing.T) {
	_, loc := sharedInstall(t, resetStateRow)
	plan, err := PlanReset(resetCtx(t), resetSnap(t, loc), "", []string{"anthropic:default"})
	if err != nil {
		t.Fatal(err)
	}
	old := writeBusyTimeout
	writeBusyTimeout = 300 * time.Millisecond
	defer func() { writeBusyTimeout = old }()
	db, err := sql.Open("sqlite", "file:"+loc.StateDB()+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`UPDATE config_machine_state SET updated_at_ms = updated_at_ms WHERE state_key = 'x'`); err != nil {
		t.Fatal(err)
	}
	if _, err := ApplyReset(resetCtx(t), plan); !errors.Is(err, openclaw.ErrLocked) {
		t.Fatalf("err = %v", err)
	}
}

func TestRestoreBackup(t *testing.T) {
	d, loc := sharedInstall(t, resetStateRow)
	ctx := resetCtx(t)
	plan, err := PlanReset(ctx, resetSnap(t, loc), "", []string{"anthropic:default"})
	if err != nil {
		t.Fatal(err)
	}
	after, err := ApplyReset(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	// Undo with a wrong expectation: refused, nothing written.
	if err := RestoreBackup(ctx, plan, plan.Before, []byte(`{"version":1}`)); !errors.Is(err, ErrChanged) {
		t.Fatalf("wrong expectation: %v", err)
	}
	if err := RestoreBackup(ctx, plan, []byte("not json"), after); err == nil {
		t.Fatal("garbage backup accepted")
	}
	if err := RestoreBackup(ctx, plan, plan.Before, after); err != nil {
		t.Fatal(err)
	}
	if got := stateRows(t, loc)[openclaw.KeyProfileState].val; got != resetStateRow {
		t.Errorf("restored row = %s", got)
	}
	// Undo after OpenClaw wrote again: refused.
	after, err = ApplyReset(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	later := strings.Replace(string(after), `"errorCount":0,"lastFailureAt"`, `"errorCount":0,"lastProbeAt":42,"lastFailureAt"`, 1)
	if err := d.SetRow(openclaw.KeyProfileState, json.RawMessage(later)); err != nil {
		t.Fatal(err)
	}
	if err := RestoreBackup(ctx, plan, plan.Before, after); !errors.Is(err, ErrChanged) {
		t.Fatalf("conflict: %v", err)
	}
	if got := stateRows(t, loc)[openclaw.KeyProfileState].val; got != later {
		t.Errorf("row = %s", got)
	}
}

func TestResetPlanValidation(t *testing.T) {
	ctx := resetCtx(t)
	_, loc := sharedInstall(t, resetStateRow)
	good, err := PlanReset(ctx, resetSnap(t, loc), "", []string{"anthropic:default"})
	if err != nil {
		t.Fatal(err)
	}
	bad := []func(p *ResetPlan){
		func(p *ResetPlan) { p.Key = openclaw.KeyProfileStore }, // never the secrets row
		func(p *ResetPlan) { p.Key = openclaw.KeySharedStore },
		func(p *ResetPlan) { p.Where = "elsewhere" },
		func(p *ResetPlan) { p.Where = openclaw.StoreAgentDB },
		func(p *ResetPlan) { p.Path = "relative/openclaw.sqlite" },
		func(p *ResetPlan) { p.Before = nil },
		func(p *ResetPlan) { p.Profiles = nil },
		func(p *ResetPlan) { p.Path = filepath.Join(filepath.Dir(p.Path), "missing", "openclaw.sqlite") },
	}
	for i, mut := range bad {
		p := *good
		mut(&p)
		if _, err := ApplyReset(ctx, &p); err == nil {
			t.Errorf("bad plan %d accepted", i)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(good.Path), "missing")); err == nil {
		t.Error("a database directory was created")
	}
	if _, err := ApplyReset(ctx, nil); err == nil {
		t.Error("nil plan accepted")
	}
}

// ---------------------------------------------------------------------------
// Legacy auth-profiles.json (2026.3.31).

// As 2026.3.31 writes it: JSON.stringify(store, null, 2) + "\n".
const resetLegacyFile = `{
  "version": 1,
  "profiles": {
    "anthropic:default": {
      "type": "api_key",
      "provider": "anthropic",
      "key": "sk-ant-api03-AAAA"
    }
  },
  "lastGood": {
    "anthropic": "anthropic:default"
  },
  "usageStats": {
    "anthropic:default": {
      "errorCount": 1,
      "failureCounts": {
        "auth": 1
      },
      "lastFailureAt": 1795616020875,
      "cooldownUntil": 4102444800000,
      "cooldownReason": "auth",
      "blockedUntil": 4102444800000
    }
  }
}
`

const resetLegacyAfter = `{
  "version": 1,
  "profiles": {
    "anthropic:default": {
      "type": "api_key",
      "provider": "anthropic",
      "key": "sk-ant-api03-AAAA"
    }
  },
  "lastGood": {
    "anthropic": "anthropic:default"
  },
  "usageStats": {
    "anthropic:default": {
      "errorCount": 0,
      "lastFailureAt": 1795616020875,
      "blockedUntil": 4102444800000
    }
  }
}
`

func legacyInstall(t *testing.T) (*sandbox.Dir, openclaw.Location, string) {
	t.Helper()
	d, loc := resetInstall(t, "2026.3.31")
	if err := d.WriteFile("agents/main/agent/auth-profiles.json", []byte(resetLegacyFile)); err != nil {
		t.Fatal(err)
	}
	return d, loc, filepath.Join(d.Path, "agents", "main", "agent", "auth-profiles.json")
}

func legacyPlan(t *testing.T, loc openclaw.Location, agent string) *ResetPlan {
	t.Helper()
	snap := resetSnap(t, loc)
	if snap.Layout != openclaw.LayoutLegacy {
		t.Fatalf("layout %s", snap.Layout)
	}
	plan, err := PlanReset(resetCtx(t), snap, agent, []string{"anthropic:default"})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

func TestResetLegacyJSON(t *testing.T) {
	_, loc, file := legacyInstall(t)
	before, _ := os.Stat(file)
	plan := legacyPlan(t, loc, "")
	if plan.Where != openclaw.StoreLegacyJSON || plan.Path != file || plan.Key != "" || string(plan.Before) != resetLegacyFile {
		t.Fatalf("plan = %+v", plan)
	}
	after, err := ApplyReset(resetCtx(t), plan)
	if err != nil {
		t.Fatal(err)
	}
	// 2026.3.31's resetUsageStats does not know blockedUntil: kept.
	if string(after) != resetLegacyAfter {
		t.Fatalf("after =\n%s", after)
	}
	got, _ := os.ReadFile(file)
	if string(got) != resetLegacyAfter {
		t.Errorf("file =\n%s", got)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	if os.SameFile(before, fi) {
		t.Error("file rewritten in place, not replaced atomically")
	}
	bs, fs := before.Sys().(*syscall.Stat_t), fi.Sys().(*syscall.Stat_t)
	if bs.Uid != fs.Uid || bs.Gid != fs.Gid {
		t.Errorf("owner %d:%d → %d:%d", bs.Uid, bs.Gid, fs.Uid, fs.Gid)
	}
	ents, _ := os.ReadDir(filepath.Dir(file))
	for _, e := range ents {
		if e.Name() != "auth-profiles.json" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	// The bot reads it back clean.
	u := resetSnap(t, loc).Shared.State.Usage["anthropic:default"]
	if _, ok := u.Active(time.Now().Add(-time.Hour)); !ok {
		// blockedUntil survives (2026.3.31 ignores it), cooldown is gone.
		t.Errorf("blocked window lost: %+v", u)
	}
	if !u.CooldownUntil.IsZero() || u.ErrorCount != 0 {
		t.Errorf("after reset: %+v", u)
	}

	// Undo.
	if err := RestoreBackup(resetCtx(t), plan, plan.Before, []byte("{}")); !errors.Is(err, ErrChanged) {
		t.Errorf("restore with wrong expectation: %v", err)
	}
	if err := RestoreBackup(resetCtx(t), plan, plan.Before, after); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(file); string(got) != resetLegacyFile {
		t.Errorf("restored =\n%s", got)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("restored mode %v", fi.Mode().Perm())
	}
}

func TestResetLegacyKeepsOtherMode(t *testing.T) {
	_, loc, file := legacyInstall(t)
	if err := os.Chmod(file, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := ApplyReset(resetCtx(t), legacyPlan(t, loc, "")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
}

func TestResetLegacyAgentFile(t *testing.T) {
	d, loc, mainFile := legacyInstall(t)
	ops := strings.Replace(resetLegacyFile, `"errorCount": 1`, `"errorCount": 5`, 1)
	if err := d.WriteFile("agents/ops/agent/auth-profiles.json", []byte(ops)); err != nil {
		t.Fatal(err)
	}
	plan := legacyPlan(t, loc, "ops")
	if plan.Path != filepath.Join(d.Path, "agents", "ops", "agent", "auth-profiles.json") {
		t.Fatalf("plan path %s", plan.Path)
	}
	if _, err := ApplyReset(resetCtx(t), plan); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(mainFile); string(got) != resetLegacyFile {
		t.Error("main's file changed")
	}
	// An agent file without usage for the profile: main's entry applies.
	if err := d.WriteFile("agents/ops/agent/auth-profiles.json", []byte(`{"version":1,"profiles":{}}`)); err != nil {
		t.Fatal(err)
	}
	if plan := legacyPlan(t, loc, "ops"); plan.Path != mainFile {
		t.Errorf("plan path %s, want main's", plan.Path)
	}
}

func writeLock(t *testing.T, file string, pid int, created time.Time) string {
	t.Helper()
	lock := file + ".lock"
	b := fmt.Sprintf("{\n  \"pid\": %d,\n  \"createdAt\": %q\n}", pid, created.UTC().Format("2006-01-02T15:04:05.000Z"))
	if err := os.WriteFile(lock, []byte(b), 0o644); err != nil {
		t.Fatal(err)
	}
	return lock
}

func setLockWait(t *testing.T, d time.Duration) {
	old := legacyLockWait
	legacyLockWait = d
	t.Cleanup(func() { legacyLockWait = old })
}

// A fresh lock of a live process blocks; when released the reset proceeds.
func TestResetLegacyLockHeld(t *testing.T) {
	_, loc, file := legacyInstall(t)
	plan := legacyPlan(t, loc, "")
	lock := writeLock(t, file, os.Getpid(), time.Now())
	held, _ := os.ReadFile(lock)

	setLockWait(t, 400*time.Millisecond)
	start := time.Now()
	_, err := ApplyReset(resetCtx(t), plan)
	if !errors.Is(err, ErrLegacyLocked) {
		t.Fatalf("err = %v", err)
	}
	t.Logf("blocked %v: %v", time.Since(start).Round(time.Millisecond), err)
	if time.Since(start) < 350*time.Millisecond {
		t.Errorf("gave up after %v", time.Since(start))
	}
	if got, _ := os.ReadFile(file); string(got) != resetLegacyFile {
		t.Error("file written without the lock")
	}
	if got, _ := os.ReadFile(lock); !bytes.Equal(got, held) {
		t.Error("someone else's lock was touched")
	}

	setLockWait(t, 5*time.Second)
	go func() {
		time.Sleep(300 * time.Millisecond)
		os.Remove(lock)
	}()
	start = time.Now()
	if _, err := ApplyReset(resetCtx(t), plan); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 250*time.Millisecond {
		t.Errorf("did not wait for the lock (%v)", time.Since(start))
	}
	if _, err := os.Stat(lock); !errors.Is(err, os.ErrNotExist) {
		t.Error("our lock was left behind")
	}
}

// Stale locks are taken over like OpenClaw does: dead pid, createdAt older
// than 30 s (even with a live pid), unreadable and mtime older than 30 s.
func TestResetLegacyStaleLock(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	setLockWait(t, 2*time.Second)
	cases := map[string]func(file string){
		"dead pid": func(file string) { writeLock(t, file, dead.Process.Pid, time.Now()) },
		"old live": func(file string) { writeLock(t, file, os.Getpid(), time.Now().Add(-31*time.Second)) },
		"garbage old": func(file string) {
			os.WriteFile(file+".lock", []byte("{"), 0o600)
			old := time.Now().Add(-time.Minute)
			os.Chtimes(file+".lock", old, old)
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			_, loc, file := legacyInstall(t)
			plan := legacyPlan(t, loc, "")
			mk(file)
			start := time.Now()
			if _, err := ApplyReset(resetCtx(t), plan); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
			if _, err := os.Stat(file + ".lock"); !errors.Is(err, os.ErrNotExist) {
				t.Error("lock left behind")
			}
		})
	}
	// A fresh unreadable lock (OpenClaw between open and write) is not stale.
	_, loc, file := legacyInstall(t)
	plan := legacyPlan(t, loc, "")
	os.WriteFile(file+".lock", nil, 0o600)
	setLockWait(t, 300*time.Millisecond)
	if _, err := ApplyReset(resetCtx(t), plan); !errors.Is(err, ErrLegacyLocked) {
		t.Errorf("fresh empty lock: %v", err)
	}
}

// The lock lives beside realpath(dir), like OpenClaw's.
func TestResetLegacyLockRealpath(t *testing.T) {
	_, _, file := legacyInstall(t)
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(filepath.Dir(file), link); err != nil {
		t.Fatal(err)
	}
	real, _ := filepath.EvalSymlinks(filepath.Dir(file))
	if got := legacyLockPath(filepath.Join(link, "auth-profiles.json")); got != filepath.Join(real, "auth-profiles.json.lock") {
		t.Errorf("lock path %s", got)
	}
	// A lock at the real path blocks a writer going through the link.
	writeLock(t, file, os.Getpid(), time.Now())
	setLockWait(t, 200*time.Millisecond)
	_, err := swapLegacy(resetCtx(t), filepath.Join(link, "auth-profiles.json"), filepath.Join(link, "auth-profiles.json"), []byte(resetLegacyFile),
		func(b []byte) ([]byte, error) { return b, nil })
	if !errors.Is(err, ErrLegacyLocked) {
		t.Errorf("err = %v", err)
	}
}

func TestResetLegacyConflict(t *testing.T) {
	_, loc, file := legacyInstall(t)
	plan := legacyPlan(t, loc, "")
	changed := strings.Replace(resetLegacyFile, `"errorCount": 1`, `"errorCount": 2`, 1)
	if err := os.WriteFile(file, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ApplyReset(resetCtx(t), plan); !errors.Is(err, ErrChanged) {
		t.Fatalf("err = %v", err)
	}
	if got, _ := os.ReadFile(file); string(got) != changed {
		t.Error("file written despite the conflict")
	}
	if _, err := os.Stat(file + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Error("lock left behind")
	}
}

// ---------------------------------------------------------------------------
// JSON editing.

func TestResetJSONEditPreservesRawText(t *testing.T) {
	doc := `{ "k\u00e9y" : 1.50e3 , "usageStats": {"p:\u0031": {"errorCount": 7, "n": -0.0, "s": "a\/b\u2028<&>"}} , "tail":null }`
	out, err := resetState([]byte(doc), []string{"p:1"}, resetFields, false)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"k\u00e9y":1.50e3,"usageStats":{"p:\u0031":{"errorCount":0,"n":-0.0,"s":"a\/b\u2028<&>"}},"tail":null}`
	if string(out) != want {
		t.Errorf("out  = %s\nwant = %s", out, want)
	}
	for _, bad := range []string{`[]`, `{"a":1,"a":2}`, `{"usageStats":[]}`, `{"usageStats":{"p:1":3}}`, `{} {}`, `{"usageStats":{}}`} {
		if _, err := resetState([]byte(bad), []string{"p:1"}, resetFields, false); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// ---------------------------------------------------------------------------
// RefreshGateway (fake CLI; the real gateway is in reset_integration_test.go).

func resetFakeCLI(t *testing.T, mode string) (*run.CLI, string) {
	t.Helper()
	tmp := t.TempDir()
	rec := filepath.Join(tmp, "rec")
	state := filepath.Join(tmp, "home", ".openclaw")
	for _, d := range []string{rec, state} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script, err := os.ReadFile(filepath.Join("testdata", "reset", "openclaw"))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(tmp, "openclaw")
	if err := os.WriteFile(bin, script, 0o755); err != nil {
		t.Fatal(err)
	}
	return &run.CLI{
		Bin:          bin,
		Loc:          openclaw.Location{StateDir: state, ConfigPath: filepath.Join(state, "openclaw.json"), Home: filepath.Join(tmp, "home")},
		Timeout:      20 * time.Second,
		Grace:        2 * time.Second,
		GatewayToken: redact.Secret("gw-token-0123456789abcdef0123456789abcdef"),
		ExtraEnv:     map[string]string{"RESETFAKE_DIR": rec, "RESETFAKE_MODE": mode},
	}, rec
}

func TestRefreshGateway(t *testing.T) {
	ctx := resetCtx(t)
	c, rec := resetFakeCLI(t, "refreshed")
	if r, err := RefreshGateway(ctx, c, ""); err != nil || r.Outcome != GatewayReloaded || r.Method != openclaw.RefreshAuth {
		t.Fatal(r, err)
	}
	argv, _ := os.ReadFile(filepath.Join(rec, "argv"))
	want := strings.Join([]string{"gateway", "call", "models.authRefresh", "--params", `{"operation":"update"}`, "--json"}, "\x1f") + "\x1f\n"
	if string(argv) != want {
		t.Errorf("argv %q, want %q", argv, want)
	}
	if strings.Contains(string(argv), "gw-token") {
		t.Error("gateway token in argv")
	}
	env, _ := os.ReadFile(filepath.Join(rec, "env"))
	if !strings.Contains(string(env), "OPENCLAW_GATEWAY_TOKEN=gw-token-0123456789abcdef0123456789abcdef\n") {
		t.Error("gateway token not passed in the environment")
	}
	os.Remove(filepath.Join(rec, "argv"))
	if err := RefreshGatewayAgent(ctx, c, "ops"); err != nil {
		t.Fatal(err)
	}
	if argv, _ := os.ReadFile(filepath.Join(rec, "argv")); !strings.Contains(string(argv), `{"agentId":"ops","operation":"update"}`) {
		t.Errorf("argv %q", argv)
	}
	if err := RefreshGatewayAgent(ctx, c, "bad agent"); err == nil || !errors.Is(err, run.ErrInvalidArg) {
		t.Errorf("bad agent id: %v", err)
	}

	c, _ = resetFakeCLI(t, "norun")
	_, err := RefreshGateway(ctx, c, "")
	var ce *run.CLIError
	if !errors.Is(err, ErrNoGateway) || !errors.As(err, &ce) {
		t.Errorf("no gateway: %v", err)
	} else {
		t.Logf("no gateway: %v", err)
	}
	for _, mode := range []string{"reset", "unauthorized", "weird"} {
		c, _ = resetFakeCLI(t, mode)
		_, err := RefreshGateway(ctx, c, "")
		if err == nil || errors.Is(err, ErrNoGateway) {
			t.Errorf("%s: %v", mode, err)
		} else if strings.Contains(err.Error(), "gw-token") {
			t.Errorf("%s: token in error: %v", mode, err)
		} else {
			t.Logf("%s: %v", mode, err)
		}
	}
	if _, err := RefreshGateway(ctx, nil, ""); err == nil {
		t.Error("nil CLI accepted")
	}

	// A multi-agent gateway without an owner: every configured agent.
	c, rec = resetFakeCLI(t, "multi")
	cfg := `{"agents":{"ownership":"explicit","entries":{"main":{},"ops":{}}}}`
	if err := os.WriteFile(c.Loc.ConfigPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := RefreshGateway(ctx, c, ""); err != nil {
		t.Fatal(err)
	}
	argv, _ = os.ReadFile(filepath.Join(rec, "argv"))
	if n := strings.Count(string(argv), "models.authRefresh"); n != 3 ||
		!strings.Contains(string(argv), `{"agentId":"main","operation":"update"}`) || !strings.Contains(string(argv), `{"agentId":"ops","operation":"update"}`) {
		t.Errorf("calls: %q", argv)
	}
}

// The reload RPC follows the gateway's release, as measured on real
// gateways (generation.go, Release.Refresh): models.authRefresh from
// 2026.9.5, secrets.reload for 2026.2.26 – 7.x, none for 2026.8.x (a
// restart is needed; secrets.reload answers ok there but changes nothing),
// none up to 2026.2.25 (they read the disk). An install whose version is
// unknown or wrong is settled by the gateway's own runtimeVersion.
func TestRefreshGatewayByRelease(t *testing.T) {
	ctx := resetCtx(t)
	cases := []struct {
		name       string
		version    string // RefreshGateway's version argument
		config     string // meta.lastTouchedVersion in openclaw.json ("" = no config)
		cliVersion string // CLI.ExpectVersion (and the fake's --version)
		gw         string // the running gateway's release (RESETFAKE_GW)
		outcome    string
		method     string
		gotVersion string
		unknown    []string
		calls      []string // gateway methods called, in order
	}{
		{name: "9.6", version: "2026.9.6", gw: "2026.9.6", outcome: GatewayReloaded, method: openclaw.RefreshAuth, gotVersion: "2026.9.6",
			calls: []string{"models.authRefresh"}},
		{name: "8.2 needs a restart", version: "2026.8.2", gw: "2026.8.2", outcome: GatewayRestartNeeded, gotVersion: "2026.8.2",
			calls: []string{"status"}},
		{name: "7.35", version: "2026.7.35", gw: "2026.7.35", outcome: GatewayReloaded, method: openclaw.RefreshSecrets, gotVersion: "2026.7.35",
			calls: []string{"secrets.reload"}},
		{name: "6.11", version: "2026.6.11", gw: "2026.6.11", outcome: GatewayReloaded, method: openclaw.RefreshSecrets, gotVersion: "2026.6.11",
			calls: []string{"secrets.reload"}},
		{name: "4.24", version: "2026.4.24", gw: "2026.4.24", outcome: GatewayReloaded, method: openclaw.RefreshSecrets, gotVersion: "2026.4.24",
			calls: []string{"secrets.reload"}},
		{name: "1.29 reads the disk", version: "2026.1.29", gw: "2026.1.29", outcome: GatewayReadsDisk, gotVersion: "2026.1.29"},
		{name: "version from the config", config: "2026.7.35", gw: "2026.7.35", outcome: GatewayReloaded, method: openclaw.RefreshSecrets,
			gotVersion: "2026.7.35", calls: []string{"secrets.reload"}},
		{name: "version from the CLI", cliVersion: "2026.8.2", config: "2026.9.6", gw: "2026.8.2", outcome: GatewayRestartNeeded,
			gotVersion: "2026.8.2", calls: []string{"status"}},
		{name: "unknown version, 9.6", gw: "2026.9.6", outcome: GatewayReloaded, method: openclaw.RefreshAuth, calls: []string{"models.authRefresh"}},
		{name: "unknown version, 8.2", gw: "2026.8.2", outcome: GatewayRestartNeeded, gotVersion: "2026.8.2",
			unknown: []string{openclaw.RefreshAuth}, calls: []string{"models.authRefresh", "status"}},
		{name: "unknown version, 6.11", gw: "2026.6.11", outcome: GatewayReloaded, method: openclaw.RefreshSecrets, gotVersion: "2026.6.11",
			unknown: []string{openclaw.RefreshAuth}, calls: []string{"models.authRefresh", "status", "secrets.reload"}},
		{name: "unknown version, 4.24 (text errors)", gw: "2026.4.24", outcome: GatewayReloaded, method: openclaw.RefreshSecrets, gotVersion: "2026.4.24",
			unknown: []string{openclaw.RefreshAuth}, calls: []string{"models.authRefresh", "status", "secrets.reload"}},
		{name: "unknown version, gateway without runtimeVersion", gw: "nover", outcome: GatewayUnconfirmed, method: openclaw.RefreshSecrets,
			unknown: []string{openclaw.RefreshAuth}, calls: []string{"models.authRefresh", "status", "secrets.reload"}},
		{name: "unknown version, 1.29", gw: "2026.1.29", outcome: GatewayReadsDisk,
			unknown: []string{openclaw.RefreshAuth, openclaw.RefreshSecrets}, calls: []string{"models.authRefresh", "status", "secrets.reload"}},
		{name: "install says 9.6, gateway is 8.2", version: "2026.9.6", gw: "2026.8.2", outcome: GatewayRestartNeeded, gotVersion: "2026.8.2",
			unknown: []string{openclaw.RefreshAuth}, calls: []string{"models.authRefresh", "status"}},
		{name: "install says 9.6, gateway has no runtimeVersion", version: "2026.9.6", gw: "nover", outcome: GatewayUnconfirmed,
			method: openclaw.RefreshSecrets, unknown: []string{openclaw.RefreshAuth}, calls: []string{"models.authRefresh", "status", "secrets.reload"}},
		{name: "install says 8.2, gateway is 9.6", version: "2026.8.2", gw: "2026.9.6", outcome: GatewayReloaded, method: openclaw.RefreshAuth,
			gotVersion: "2026.9.6", calls: []string{"status", "models.authRefresh"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, rec := resetFakeCLI(t, "release")
			c.ExtraEnv["RESETFAKE_GW"] = tc.gw
			if tc.cliVersion != "" {
				c.ExpectVersion = tc.cliVersion
				c.ExtraEnv["RESETFAKE_CLIVERSION"] = tc.cliVersion
			}
			if tc.config != "" {
				if err := os.WriteFile(c.Loc.ConfigPath, []byte(`{"meta":{"lastTouchedVersion":"`+tc.config+`"}}`), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			r, err := RefreshGateway(ctx, c, tc.version)
			if err != nil {
				t.Fatal(err)
			}
			if r.Outcome != tc.outcome || r.Method != tc.method || r.Version != tc.gotVersion || !slices.Equal(r.Unknown, tc.unknown) {
				t.Errorf("got %+v, want outcome %s method %q version %q unknown %v", r, tc.outcome, tc.method, tc.gotVersion, tc.unknown)
			}
			if calls := resetFakeCalls(t, rec); !slices.Equal(calls, tc.calls) {
				t.Errorf("gateway calls %v, want %v", calls, tc.calls)
			}
		})
	}

	// No gateway: typed, also on the restart path.
	c, _ := resetFakeCLI(t, "norun")
	if r, err := RefreshGateway(ctx, c, "2026.8.2"); !errors.Is(err, ErrNoGateway) || r.Outcome != "" {
		t.Errorf("8.2, no gateway: %+v %v", r, err)
	}
	// A failing secrets.reload is an error naming the method, not success.
	c, _ = resetFakeCLI(t, "release")
	c.ExtraEnv["RESETFAKE_GW"] = "secretsfail"
	r, err := RefreshGateway(ctx, c, "2026.6.11")
	if err == nil || errors.Is(err, ErrNoGateway) || r.Method != openclaw.RefreshSecrets || r.Outcome != "" || !strings.Contains(err.Error(), "secrets.reload failed") {
		t.Errorf("secrets.reload failing: %+v %v", r, err)
	}
}

// resetFakeCalls lists the gateway methods the fake CLI was called with.
func resetFakeCalls(t *testing.T, rec string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(rec, "argv"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var calls []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		args := strings.Split(line, "\x1f")
		if len(args) > 2 && args[0] == "gateway" && args[1] == "call" {
			calls = append(calls, args[2])
		}
	}
	return calls
}

// RefreshOf agrees with every release row, and its boundaries are where
// the measurements and the code reading put them.
func TestRefreshOf(t *testing.T) {
	for _, r := range openclaw.Releases {
		if got := openclaw.RefreshOf(r.Version); got != r.Refresh {
			t.Errorf("RefreshOf(%s) = %s, the release row says %s", r.Version, got, r.Refresh)
		}
	}
	for v, want := range map[string]string{
		"": openclaw.RefreshAuth, "2026.1.29": openclaw.RefreshNone, "2026.2.25": openclaw.RefreshNone, "2026.2.26": openclaw.RefreshSecrets,
		"2026.7.40": openclaw.RefreshSecrets, "2026.8.1": openclaw.RefreshRestart, "2026.8.2": openclaw.RefreshRestart, "2026.9.4": openclaw.RefreshRestart,
		"2026.9.5": openclaw.RefreshAuth, "2026.10.1": openclaw.RefreshAuth, "2027.1.1": openclaw.RefreshAuth,
	} {
		if got := openclaw.RefreshOf(v); got != want {
			t.Errorf("RefreshOf(%q) = %s, want %s", v, got, want)
		}
	}
}
