package change

// Integration tests of the cooldown reset against the real OpenClaw CLI
// (2026.9.6, internal/peer; skipped without it) and a fake Anthropic API.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/fakeanthropic"
	"github.com/openclaw-bot/openclaw-bot/internal/peer"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/openclaw/run"
)

type resetPeerEnv struct {
	sb  *peer.Sandbox
	fa  *fakeanthropic.Server
	loc openclaw.Location
	oc  *run.CLI // the bot's guarded runner pointed at the sandbox
}

func newResetPeer(t *testing.T, mode fakeanthropic.Mode) *resetPeerEnv {
	t.Helper()
	cli := peer.Require(t)
	fa, err := fakeanthropic.Start(fakeanthropic.Options{Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fa.Close)
	sb := peer.NewOnboardedSandbox(t, cli)
	// Templates share gateway.port; a gateway of another test on it would
	// answer our RefreshGateway. Use a port of our own.
	port, err := peer.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.SetGatewayPort(port); err != nil {
		t.Fatal(err)
	}
	if err := sb.SetBaseURL(fa.URL()); err != nil {
		t.Fatal(err)
	}
	loc, err := openclaw.Locate(openclaw.LocateOptions{StateDir: sb.StateDir(), Home: sb.Home, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	oc := &run.CLI{Bin: cli.Bin, Loc: loc, Timeout: 90 * time.Second, Grace: 5 * time.Second}
	return &resetPeerEnv{sb: sb, fa: fa, loc: loc, oc: oc}
}

func (e *resetPeerEnv) plan(t *testing.T, agent string, profiles ...string) *ResetPlan {
	t.Helper()
	snap, err := openclaw.ReadSnapshot(context.Background(), e.loc, openclaw.ReadOptions{Env: openclaw.EnvSources{NoProc: true}})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := PlanReset(resetCtx(t), snap, agent, profiles)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

func (e *resetPeerEnv) status(t *testing.T, agent string) *peer.ModelsStatus {
	t.Helper()
	st, err := e.sb.ModelsStatusJSON(agent)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (e *resetPeerEnv) probeStatus(t *testing.T, args ...string) (string, string) {
	t.Helper()
	st, err := e.sb.Probe(args...)
	if err != nil {
		t.Fatal(err)
	}
	if st.Auth.Probes == nil || len(st.Auth.Probes.Results) == 0 {
		t.Fatalf("probe without results: %s", e.sb.Redact(string(st.Raw)))
	}
	r := st.Auth.Probes.Results[0]
	return r.Status, r.Error
}

// usageEntry decodes usageStats[id] of a state document.
func usageEntry(t *testing.T, doc []byte, id string) map[string]any {
	t.Helper()
	var st struct {
		UsageStats map[string]map[string]any `json:"usageStats"`
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&st); err != nil {
		t.Fatalf("state %s: %v", doc, err)
	}
	return st.UsageStats[id]
}

// checkResetEntry: what OpenClaw's resetAuthProfileFailureState leaves.
func checkResetEntry(t *testing.T, e map[string]any, kept ...string) {
	t.Helper()
	if e == nil {
		t.Fatal("entry gone")
	}
	if fmt.Sprint(e["errorCount"]) != "0" {
		t.Errorf("errorCount = %v", e["errorCount"])
	}
	for _, f := range resetFields {
		if _, ok := e[f]; ok {
			t.Errorf("%s kept: %v", f, e)
		}
	}
	for _, f := range kept {
		if _, ok := e[f]; !ok {
			t.Errorf("%s lost: %v", f, e)
		}
	}
}

// (1) and (2): a real probe against a failing fake records the state;
// ApplyReset clears it; the CLI agrees and a probe against an ok fake
// succeeds.
func TestResetIntegrationProbeFailures(t *testing.T) {
	cases := []struct {
		name   string
		mode   fakeanthropic.Mode
		probe  string // probe status after the failure
		kind   string // unusableProfiles kind
		reason string
	}{
		{"auth401", fakeanthropic.Mode401, "auth", "cooldown", "auth"},
		{"billing400credit", fakeanthropic.Mode400Credit, "billing", "disabled", "billing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newResetPeer(t, tc.mode)
			ctx := resetCtx(t)
			if status, msg := e.probeStatus(t); status != tc.probe {
				t.Fatalf("probe against %s: %s %s", tc.mode, status, msg)
			}
			st := e.status(t, "")
			u := st.UnusableProfile("anthropic:default")
			if u == nil || u.Kind != tc.kind || u.Reason != tc.reason || !st.MissingInUse("anthropic") {
				t.Fatalf("after the failure: %s", e.sb.Redact(string(st.Raw)))
			}
			storeBefore, _ := e.sb.StateRow(peer.RowProfilesStore)
			sharedBefore, _ := e.sb.StateRow(peer.RowSharedStore)

			plan := e.plan(t, "", "anthropic:default")
			if plan.Where != openclaw.StoreStateDB || plan.Key != openclaw.KeyProfileState {
				t.Fatalf("plan %+v", plan)
			}
			t.Logf("before: %s", plan.Before)
			after, err := ApplyReset(ctx, plan)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("after:  %s", after)
			row, _ := e.sb.StateRow(peer.RowProfilesState)
			if !bytes.Equal(row, after) {
				t.Errorf("row %s != returned %s", row, after)
			}
			checkResetEntry(t, usageEntry(t, after, "anthropic:default"), "lastFailureAt")
			if b, _ := e.sb.StateRow(peer.RowProfilesStore); !bytes.Equal(b, storeBefore) {
				t.Error("authProfiles.store changed")
			}
			if b, _ := e.sb.StateRow(peer.RowSharedStore); !bytes.Equal(b, sharedBefore) {
				t.Error("auth.sharedStore changed")
			}
			// No gateway runs: that is fine, and typed.
			if _, err := RefreshGateway(ctx, e.oc, ""); !errors.Is(err, ErrNoGateway) {
				t.Errorf("RefreshGateway without a gateway: %v", err)
			}

			st = e.status(t, "")
			if len(st.Auth.UnusableProfiles) != 0 || st.MissingInUse("anthropic") {
				t.Fatalf("after the reset the CLI still sees: %s", e.sb.Redact(string(st.Raw)))
			}
			e.fa.SetMode(fakeanthropic.ModeOK)
			n := e.fa.Count(fakeanthropic.PathMessages)
			if status, msg := e.probeStatus(t); status != "ok" {
				t.Fatalf("probe after the reset: %s %s", status, msg)
			}
			if e.fa.Count(fakeanthropic.PathMessages) <= n {
				t.Error("the probe sent no request")
			}
		})
	}
}

// (3) A profile whose state lives in an agent database.
func TestResetIntegrationAgentDB(t *testing.T) {
	e := newResetPeer(t, fakeanthropic.ModeOK)
	ctx := resetCtx(t)
	if err := e.sb.AddAgentConfig("ops"); err != nil {
		t.Fatal(err)
	}
	opsKey := peer.FakeAPIKey()
	if err := e.sb.PasteAPIKeyFor("ops", opsKey, "anthropic:ops"); err != nil {
		t.Fatal(err)
	}
	store, ok, err := e.sb.AgentAuthRow("ops", peer.AgentAuthStore)
	if err != nil || !ok || !bytes.Contains(store, []byte(`"anthropic:ops"`)) {
		t.Fatalf("paste-api-key --agent ops did not create the agent DB store: %v %v", ok, err)
	}
	state, _, err := e.sb.AgentAuthRow("ops", peer.AgentAuthState)
	if err != nil {
		t.Fatal(err)
	}
	doc := map[string]any{"version": 1}
	if state != nil {
		if err := json.Unmarshal(state, &doc); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UnixMilli()
	doc["usageStats"] = map[string]any{"anthropic:ops": map[string]any{
		"cooldownUntil": now + 3600_000, "cooldownReason": "auth", "errorCount": 2,
		"failureCounts": map[string]any{"auth": 2}, "lastFailureAt": now - 1000, "lastUsed": now - 5000,
	}}
	b, _ := json.Marshal(doc)
	if err := e.sb.SetAgentAuthRow("ops", peer.AgentAuthState, b); err != nil {
		t.Fatal(err)
	}
	st := e.status(t, "ops")
	if u := st.UnusableProfile("anthropic:ops"); u == nil || u.Reason != "auth" {
		t.Fatalf("ops does not see the injected cooldown: %s", e.sb.Redact(string(st.Raw)))
	}
	sharedState, _ := e.sb.StateRow(peer.RowProfilesState)
	sharedStore, _ := e.sb.StateRow(peer.RowProfilesStore)

	plan := e.plan(t, "ops", "anthropic:ops")
	if plan.Where != openclaw.StoreAgentDB || plan.Path != e.sb.AgentDBPath("ops") || plan.Key != openclaw.AgentRowKey {
		t.Fatalf("plan %+v", plan)
	}
	after, err := ApplyReset(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ops after: %s", after)
	checkResetEntry(t, usageEntry(t, after, "anthropic:ops"), "lastFailureAt", "lastUsed")
	if b, _ := e.sb.StateRow(peer.RowProfilesState); !bytes.Equal(b, sharedState) {
		t.Error("shared authProfiles.state changed")
	}
	if b, _ := e.sb.StateRow(peer.RowProfilesStore); !bytes.Equal(b, sharedStore) {
		t.Error("shared authProfiles.store changed")
	}
	if b, _, _ := e.sb.AgentAuthRow("ops", peer.AgentAuthStore); !bytes.Equal(b, store) {
		t.Error("ops auth_profile_store changed")
	}
	// Multi-agent, no gateway: still the typed "not running".
	if _, err := RefreshGateway(ctx, e.oc, ""); !errors.Is(err, ErrNoGateway) {
		t.Errorf("RefreshGateway: %v", err)
	}

	st = e.status(t, "ops")
	if len(st.Auth.UnusableProfiles) != 0 {
		t.Fatalf("ops still sees: %s", e.sb.Redact(string(st.Raw)))
	}
	n := e.fa.Count(fakeanthropic.PathMessages)
	if status, msg := e.probeStatus(t, "--agent", "ops", "--probe-profile", "anthropic:ops"); status != "ok" {
		t.Fatalf("probe ops: %s %s", status, msg)
	}
	reqs := e.fa.RequestsFor(fakeanthropic.PathMessages)
	if len(reqs) <= n || reqs[len(reqs)-1].Credential != fakeanthropic.Fingerprint(opsKey) {
		t.Errorf("the probe did not use ops' key (%d requests)", len(reqs))
	}
}

// (4) A real gateway: it ignores external edits until models.authRefresh.
func TestResetIntegrationGatewayRefresh(t *testing.T) {
	e := newResetPeer(t, fakeanthropic.ModeOK)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// Two agents without an explicit owner: RefreshGateway must name them.
	if err := e.sb.AddAgentConfig("ops"); err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Gateway struct {
			Port int `json:"port"`
			Auth struct {
				Token string `json:"token"`
			} `json:"auth"`
		} `json:"gateway"`
	}
	raw, _ := e.sb.ReadConfig()
	if err := json.Unmarshal(raw, &cfg); err != nil || cfg.Gateway.Port == 0 || cfg.Gateway.Auth.Token == "" {
		t.Fatalf("config gateway: %v %+v", err, cfg.Gateway.Port)
	}
	e.sb.AddSecret(cfg.Gateway.Auth.Token)
	e.oc.GatewayToken = redact.Secret(cfg.Gateway.Auth.Token) // env, never argv
	_, stop := startTestGateway(t, e.sb, cfg.Gateway.Port)
	defer stop()

	probe := func(what string) (string, int) {
		t.Helper()
		n := e.fa.Count(fakeanthropic.PathMessages)
		res, err := e.oc.GatewayProbe(ctx, map[string]any{"provider": "anthropic", "timeoutMs": 15000, "agentId": "main"})
		if err != nil {
			t.Fatalf("%s: gateway models.probe: %v", what, err)
		}
		var out struct {
			Status  string `json:"status"`
			Results []struct {
				Status string `json:"status"`
				Error  string `json:"error"`
			} `json:"results"`
		}
		if err := res.Decode(&out); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: models.probe → %s %+v", what, out.Status, out.Results)
		return out.Status, e.fa.Count(fakeanthropic.PathMessages) - n
	}

	now := time.Now().UnixMilli()
	cooldown := fmt.Sprintf(`{"version":1,"usageStats":{"anthropic:default":{"cooldownUntil":%d,"cooldownReason":"auth","errorCount":1,"failureCounts":{"auth":1},"lastFailureAt":%d}}}`, now+3600_000, now-1000)
	if err := e.sb.SetStateRow(peer.RowProfilesState, []byte(cooldown)); err != nil {
		t.Fatal(err)
	}
	if r, err := RefreshGateway(ctx, e.oc, ""); err != nil || r.Outcome != GatewayReloaded || r.Method != openclaw.RefreshAuth {
		t.Fatalf("RefreshGateway: %+v %v", r, err)
	}
	if status, sent := probe("injected cooldown, refreshed"); status == "ok" || sent != 0 {
		t.Fatalf("the gateway did not pick up the injected cooldown (%s, %d requests)", status, sent)
	}

	plan := e.plan(t, "main", "anthropic:default")
	after, err := ApplyReset(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after: %s", after)
	if status, sent := probe("reset, not refreshed"); status == "ok" || sent != 0 {
		t.Logf("note: the gateway saw the reset before models.authRefresh (%s)", status)
	}
	start := time.Now()
	if r, err := RefreshGateway(ctx, e.oc, ""); err != nil || r.Outcome != GatewayReloaded {
		t.Fatalf("RefreshGateway: %+v %v", r, err)
	}
	t.Logf("RefreshGateway took %v", time.Since(start).Round(time.Millisecond))
	if status, sent := probe("reset, refreshed"); status != "ok" || sent == 0 {
		t.Fatalf("after reset + refresh: %s, %d requests", status, sent)
	}
}

// (5) Resets while the real CLI writes the same state never corrupt it.
func TestResetIntegrationConcurrentWriters(t *testing.T) {
	e := newResetPeer(t, fakeanthropic.ModeOK)
	e.sb.Quiet = true
	secondKey := peer.FakeAPIKey()
	if err := e.sb.PasteAPIKey(secondKey, "anthropic:second"); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	second := map[string]any{"disabledUntil": now + 24*3600_000, "disabledReason": "billing", "errorCount": 1,
		"failureCounts": map[string]any{"billing": 1}, "lastFailureAt": now - 2000, "lastUsed": now - 9000}
	initial := map[string]any{
		"version":  1,
		"order":    map[string]any{"anthropic": []any{"anthropic:default", "anthropic:second"}},
		"lastGood": map[string]any{"anthropic": "anthropic:default"},
		"usageStats": map[string]any{
			"anthropic:default": resetCooldownEntry(now),
			"anthropic:second":  second,
		},
	}
	b, _ := json.Marshal(initial)
	if err := e.sb.SetStateRow(peer.RowProfilesState, b); err != nil {
		t.Fatal(err)
	}
	storeBefore := resetStoreKeys(t, e.sb)

	deadline := time.Now().Add(40 * time.Second)
	var resets, changed, nothing, locked, injects, pastes, probes, probesOK atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 100)
	wg.Add(3)
	go func() { // the bot: inject a cooldown, preview, reset; repeat
		defer wg.Done()
		for time.Now().Before(deadline) {
			if err := resetInjectCooldown(e.sb.StateDBPath()); err != nil {
				errc <- fmt.Errorf("inject: %w", err)
				return
			}
			injects.Add(1)
			for try := 0; try < 5; try++ {
				snap, err := openclaw.ReadSnapshot(context.Background(), e.loc, openclaw.ReadOptions{Env: openclaw.EnvSources{NoProc: true}})
				if err != nil {
					errc <- err
					return
				}
				plan, err := PlanReset(context.Background(), snap, "", []string{"anthropic:default"})
				if errors.Is(err, ErrNothingToReset) {
					nothing.Add(1) // a probe reset it first
					break
				}
				if err != nil {
					errc <- fmt.Errorf("plan: %w", err)
					return
				}
				// A user reading the preview: OpenClaw may write meanwhile.
				time.Sleep(time.Duration(rand.IntN(800)) * time.Millisecond)
				_, err = ApplyReset(context.Background(), plan)
				switch {
				case err == nil:
					resets.Add(1)
				case errors.Is(err, ErrChanged):
					changed.Add(1)
					continue
				case errors.Is(err, openclaw.ErrLocked):
					locked.Add(1)
					continue
				default:
					errc <- fmt.Errorf("apply: %w", err)
					return
				}
				break
			}
			// Leave the profile usable for a while: successful probes
			// write its usage state then.
			time.Sleep(time.Duration(rand.IntN(1500)) * time.Millisecond)
		}
	}()
	go func() { // OpenClaw: paste-api-key rewrites the store (same key)
		defer wg.Done()
		for time.Now().Before(deadline) {
			if err := e.sb.PasteAPIKey(e.sb.APIKey, "anthropic:default"); err != nil {
				errc <- err
				return
			}
			pastes.Add(1)
		}
	}()
	go func() { // OpenClaw: probes write usage state on success
		defer wg.Done()
		for time.Now().Before(deadline) {
			st, err := e.sb.Probe("--probe-profile", "anthropic:default")
			if err != nil {
				errc <- err
				return
			}
			probes.Add(1)
			if st.Auth.Probes != nil && len(st.Auth.Probes.Results) > 0 && st.Auth.Probes.Results[0].Status == "ok" {
				probesOK.Add(1)
			}
		}
	}()
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	t.Logf("%d injects, %d resets, %d ErrChanged (re-previewed), %d openclaw.ErrLocked, %d already reset by a probe; concurrently %d paste-api-key and %d probes (%d ok, writing usage state)",
		injects.Load(), resets.Load(), changed.Load(), locked.Load(), nothing.Load(), pastes.Load(), probes.Load(), probesOK.Load())
	if resets.Load() == 0 || pastes.Load() == 0 || probes.Load() == 0 {
		t.Error("no real concurrency happened")
	}

	// Integrity, and the CLI reads every value.
	db, err := sql.Open("sqlite", "file:"+e.sb.StateDBPath()+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var ic string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&ic); err != nil || ic != "ok" {
		t.Errorf("integrity_check: %s %v", ic, err)
	}
	db.Close()
	row, _ := e.sb.StateRow(peer.RowProfilesState)
	var final map[string]any
	dec := json.NewDecoder(bytes.NewReader(row))
	dec.UseNumber()
	if err := dec.Decode(&final); err != nil {
		t.Fatalf("final state is not JSON: %v", err)
	}
	want := map[string]any{}
	wb, _ := json.Marshal(initial)
	dec = json.NewDecoder(bytes.NewReader(wb))
	dec.UseNumber()
	dec.Decode(&want)
	for _, k := range []string{"order", "lastGood"} {
		if !reflect.DeepEqual(final[k], want[k]) {
			t.Errorf("%s changed: %v → %v", k, want[k], final[k])
		}
	}
	if got := final["usageStats"].(map[string]any)["anthropic:second"]; !reflect.DeepEqual(got, want["usageStats"].(map[string]any)["anthropic:second"]) {
		t.Errorf("unrelated profile changed: %v", got)
	}
	if got := resetStoreKeys(t, e.sb); !reflect.DeepEqual(got, storeBefore) {
		t.Error("stored keys changed")
	}
	st := e.status(t, "")
	if u := st.UnusableProfile("anthropic:second"); u == nil || u.Kind != "disabled" || u.Reason != "billing" {
		t.Errorf("the CLI lost anthropic:second's billing disable: %s", e.sb.Redact(string(st.Raw)))
	}
	if p := st.Provider("anthropic"); p == nil || p.Profiles.Count != 2 {
		t.Errorf("the CLI does not see both profiles")
	}
}

func resetCooldownEntry(now int64) map[string]any {
	return map[string]any{"cooldownUntil": now + 3600_000, "cooldownReason": "auth", "errorCount": 1,
		"failureCounts": map[string]any{"auth": 1}, "lastFailureAt": now - 1000}
}

// resetInjectCooldown puts anthropic:default into an auth cooldown with a
// read-modify-write of authProfiles.state in one BEGIN IMMEDIATE
// transaction (test-only writer; keeps every other member).
func resetInjectCooldown(path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_txlock=immediate&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var v string
	if err := tx.QueryRow(`SELECT value_json FROM config_machine_state WHERE state_key=?`, openclaw.KeyProfileState).Scan(&v); err != nil {
		return err
	}
	doc := map[string]json.RawMessage{}
	if err := json.Unmarshal([]byte(v), &doc); err != nil {
		return err
	}
	usage := map[string]json.RawMessage{}
	if u, ok := doc["usageStats"]; ok {
		if err := json.Unmarshal(u, &usage); err != nil {
			return err
		}
	}
	usage["anthropic:default"], _ = json.Marshal(resetCooldownEntry(time.Now().UnixMilli()))
	doc["usageStats"], _ = json.Marshal(usage)
	nb, _ := json.Marshal(doc)
	if _, err := tx.Exec(`UPDATE config_machine_state SET value_json=?, updated_at_ms=? WHERE state_key=?`, string(nb), time.Now().UnixMilli(), openclaw.KeyProfileState); err != nil {
		return err
	}
	return tx.Commit()
}

// resetStoreKeys: profile id → key of authProfiles.store.
func resetStoreKeys(t *testing.T, sb *peer.Sandbox) map[string]string {
	t.Helper()
	b, _ := sb.StateRow(peer.RowProfilesStore)
	var st struct {
		Profiles map[string]struct {
			Key string `json:"key"`
		} `json:"profiles"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("authProfiles.store: %v", err)
	}
	out := map[string]string{}
	for id, p := range st.Profiles {
		out[id] = p.Key
	}
	return out
}

// The real CLI writes between our preview and our write: ApplyReset must
// refuse (ErrChanged). The writer here is OpenClaw's own success path
// (markAuthProfileSuccess → resetAuthProfileFailureState), so this also
// compares our reset with OpenClaw's on the same entry.
func TestResetIntegrationPreviewRaceWithProbe(t *testing.T) {
	e := newResetPeer(t, fakeanthropic.ModeOK)
	ctx := resetCtx(t)
	// Hold the fake's answer so the probe is in flight, past its cooldown
	// check, while we inject a cooldown and preview.
	e.fa.SetDelay(3 * time.Second)
	n := e.fa.Count(fakeanthropic.PathMessages)
	type result struct {
		st  *peer.ModelsStatus
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := e.sb.Probe("--probe-profile", "anthropic:default")
		done <- result{st, err}
	}()
	if _, err := e.fa.WaitForRequests(ctx, fakeanthropic.PathMessages, n+1); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	entry, _ := json.Marshal(resetCooldownEntry(now))
	if err := e.sb.SetStateRow(peer.RowProfilesState, []byte(`{"version":1,"usageStats":{"anthropic:default":`+string(entry)+`}}`)); err != nil {
		t.Fatal(err)
	}
	plan := e.plan(t, "", "anthropic:default")
	ours, err := resetState(plan.Before, plan.Profiles, resetFields, false)
	if err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if res := r.st.Auth.Probes.Results; len(res) == 0 || res[0].Status != "ok" {
		t.Fatalf("probe: %+v", r.st.Auth.Probes)
	}
	if _, err := ApplyReset(ctx, plan); !errors.Is(err, ErrChanged) {
		t.Fatalf("ApplyReset after OpenClaw wrote: %v", err)
	}
	row, _ := e.sb.StateRow(peer.RowProfilesState)
	t.Logf("injected: %s", entry)
	t.Logf("OpenClaw's success wrote: %s", row)
	t.Logf("our reset would write:    %s", ours)
	theirs := usageEntry(t, row, "anthropic:default")
	// markAuthProfileSuccess adds its overrides {lastProbeAt, lastUsed}.
	delete(theirs, "lastProbeAt")
	delete(theirs, "lastUsed")
	if mine := usageEntry(t, ours, "anthropic:default"); !reflect.DeepEqual(theirs, mine) {
		t.Errorf("OpenClaw's reset %v != ours %v", theirs, mine)
	}
	snap, err := openclaw.ReadSnapshot(ctx, e.loc, openclaw.ReadOptions{Env: openclaw.EnvSources{NoProc: true}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PlanReset(ctx, snap, "", []string{"anthropic:default"}); !errors.Is(err, ErrNothingToReset) {
		t.Errorf("re-preview: %v", err)
	}
}

// ---------------------------------------------------------------------------
// Optional: the legacy JSON layout with the real OpenClaw 2026.3.31
// (npm install --prefix /tmp/oc_old openclaw@2026.3.31; or set
// OPENCLAW_OLD_BIN). Skipped when it is not installed.

type resetOldCLI struct {
	t    *testing.T
	bin  string
	path string // PATH with a Node >= 22 first
	home string
}

func requireOldCLI(t *testing.T) *resetOldCLI {
	t.Helper()
	if testing.Short() {
		t.Skip("slow; skipped in -short mode")
	}
	bin := os.Getenv("OPENCLAW_OLD_BIN")
	if bin == "" {
		bin = "/tmp/oc_old/node_modules/.bin/openclaw"
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("OpenClaw 2026.3.31 not installed at %s (npm install --prefix /tmp/oc_old openclaw@2026.3.31, or set OPENCLAW_OLD_BIN)", bin)
	}
	peerCLI, err := peer.FindCLI() // for its Node 24
	if err != nil {
		t.Skipf("no Node for OpenClaw 2026.3.31: %v", err)
	}
	o := &resetOldCLI{t: t, bin: bin, path: peerCLI.PathPrefix + ":/usr/local/bin:/usr/bin:/bin", home: filepath.Join(t.TempDir(), "home")}
	if err := os.MkdirAll(o.home, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, _, rc := o.run("", "--version"); rc != 0 || !strings.Contains(out, "2026.3.31") {
		t.Skipf("%s --version: rc %d %q", bin, rc, out)
	}
	return o
}

func (o *resetOldCLI) run(stdin string, args ...string) (stdout, stderr string, rc int) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, o.bin, args...)
	cmd.Env = []string{"HOME=" + o.home, "PATH=" + o.path, "DO_NOT_TRACK=1", "OPENCLAW_NO_AUTO_UPDATE=1", "NO_COLOR=1"}
	cmd.Dir = o.home
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		for _, p := range append(peer.Descendants(cmd.Process.Pid), cmd.Process.Pid) {
			syscall.Kill(p, syscall.SIGKILL)
		}
		return nil
	}
	cmd.WaitDelay = 5 * time.Second
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	rc = 0
	if err != nil {
		rc = -1
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			rc = ee.ExitCode()
		}
	}
	o.t.Logf("openclaw@2026.3.31 %s → rc %d in %.1fs", strings.Join(args[:min(len(args), 4)], " "), rc, time.Since(start).Seconds())
	return out.String(), errb.String(), rc
}

// probe runs `models status --probe` and returns the first result's status.
func (o *resetOldCLI) probe() string {
	o.t.Helper()
	out, errs, rc := o.run("", "models", "status", "--probe", "--probe-provider", "anthropic", "--json")
	doc := run.FindJSON([]byte(out)) // a log line may precede the JSON
	var st struct {
		Auth struct {
			Probes struct {
				Results []struct {
					Status string `json:"status"`
				} `json:"results"`
			} `json:"probes"`
		} `json:"auth"`
	}
	if rc != 0 || doc == nil || json.Unmarshal(doc, &st) != nil || len(st.Auth.Probes.Results) == 0 {
		o.t.Fatalf("probe: rc %d %s %s", rc, peer.Redact(out), peer.Redact(errs))
	}
	return st.Auth.Probes.Results[0].Status
}

func (o *resetOldCLI) unusable() []json.RawMessage {
	o.t.Helper()
	out, errs, rc := o.run("", "models", "status", "--json")
	var st struct {
		Auth struct {
			UnusableProfiles []json.RawMessage `json:"unusableProfiles"`
		} `json:"auth"`
	}
	doc := run.FindJSON([]byte(out))
	if rc != 0 || doc == nil || json.Unmarshal(doc, &st) != nil {
		o.t.Fatalf("models status: rc %d %s %s", rc, peer.Redact(out), peer.Redact(errs))
	}
	return st.Auth.UnusableProfiles
}

func TestResetIntegrationLegacy2026331(t *testing.T) {
	o := requireOldCLI(t)
	fa, err := fakeanthropic.Start(fakeanthropic.Options{Mode: fakeanthropic.Mode401})
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Close()
	port, _ := peer.FreePort()
	if _, errs, rc := o.run("", "onboard", "--non-interactive", "--accept-risk", "--mode", "local", "--auth-choice", "apiKey",
		"--anthropic-api-key", peer.FakeAPIKey(), "--skip-daemon", "--skip-health", "--skip-channels", "--skip-skills",
		"--skip-search", "--skip-ui", "--gateway-bind", "loopback", "--gateway-port", strconv.Itoa(port), "--json"); rc != 0 {
		t.Fatalf("onboard: %s", peer.Redact(errs))
	}
	state := filepath.Join(o.home, ".openclaw")
	cfgPath := filepath.Join(state, "openclaw.json")
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	// The fake, and a fallback model so the cooldown persists (without
	// one 2026.3.31 turns the 401 into a reply and clears it, measured).
	peer.Obj(peer.Obj(cfg, "models"), "providers")["anthropic"] = map[string]any{"baseUrl": fa.URL(), "models": []any{}}
	peer.Obj(peer.Obj(peer.Obj(cfg, "agents"), "defaults"), "model")["fallbacks"] = []any{"anthropic/claude-opus-4-6"}
	raw, _ = json.MarshalIndent(cfg, "", "  ")
	if err := os.WriteFile(cfgPath, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if s := o.probe(); s != "auth" {
		t.Fatalf("probe against 401: %s", s)
	}
	file := filepath.Join(state, "agents", "main", "agent", "auth-profiles.json")
	before, _ := os.ReadFile(file)
	if !bytes.Contains(before, []byte(`"cooldownReason": "auth"`)) || len(o.unusable()) == 0 {
		t.Fatalf("no cooldown recorded:\n%s", peer.Redact(string(before)))
	}

	loc, err := openclaw.Locate(openclaw.LocateOptions{StateDir: state, Home: o.home, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := openclaw.ReadSnapshot(context.Background(), loc, openclaw.ReadOptions{Env: openclaw.EnvSources{NoProc: true}})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Layout != openclaw.LayoutLegacy || snap.Version != "2026.3.31" {
		t.Fatalf("layout %s version %s", snap.Layout, snap.Version)
	}
	plan, err := PlanReset(resetCtx(t), snap, "", []string{"anthropic:default"})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Where != openclaw.StoreLegacyJSON || plan.Path != file {
		t.Fatalf("plan %+v", plan)
	}
	after, err := ApplyReset(resetCtx(t), plan)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after:\n%s", peer.Redact(string(after)))
	checkResetEntry(t, usageEntry(t, after, "anthropic:default"), "lastFailureAt")
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	if u := o.unusable(); len(u) != 0 {
		t.Fatalf("2026.3.31 still sees %s", u)
	}
	fa.SetMode(fakeanthropic.ModeOK)
	if s := o.probe(); s != "ok" {
		t.Fatalf("probe after the reset: %s", s)
	}

	// Resets while 2026.3.31 probes write the same file (under the same
	// lock): the file stays valid and the profile intact.
	deadline := time.Now().Add(25 * time.Second)
	var wg sync.WaitGroup
	var resets, conflicts, probes atomic.Int64
	wg.Add(2)
	go func() {
		defer wg.Done()
		for time.Now().Before(deadline) {
			o.probe()
			probes.Add(1)
		}
	}()
	go func() {
		defer wg.Done()
		for time.Now().Before(deadline) {
			cur, _, err := readLegacyStable(file)
			if err != nil {
				t.Error(err)
				return
			}
			_, err = swapLegacy(context.Background(), file, file, cur, func(b []byte) ([]byte, error) {
				doc := map[string]any{}
				if err := json.Unmarshal(b, &doc); err != nil {
					return nil, err
				}
				peer.Obj(doc, "usageStats")["anthropic:default"] = resetCooldownEntry(time.Now().UnixMilli())
				out, _ := json.MarshalIndent(doc, "", "  ")
				return append(out, '\n'), nil
			})
			if errors.Is(err, ErrChanged) {
				conflicts.Add(1)
				continue
			}
			if err != nil {
				t.Error(err)
				return
			}
			snap, err := openclaw.ReadSnapshot(context.Background(), loc, openclaw.ReadOptions{Env: openclaw.EnvSources{NoProc: true}})
			if err != nil {
				t.Error(err)
				return
			}
			plan, err := PlanReset(context.Background(), snap, "", []string{"anthropic:default"})
			if errors.Is(err, ErrNothingToReset) {
				continue
			}
			if err != nil {
				t.Error(err)
				return
			}
			time.Sleep(time.Duration(rand.IntN(500)) * time.Millisecond)
			switch _, err := ApplyReset(context.Background(), plan); {
			case err == nil:
				resets.Add(1)
			case errors.Is(err, ErrChanged):
				conflicts.Add(1)
			default:
				t.Error(err)
				return
			}
			time.Sleep(time.Duration(rand.IntN(800)) * time.Millisecond)
		}
	}()
	wg.Wait()
	t.Logf("%d resets, %d ErrChanged, concurrently %d probes by 2026.3.31", resets.Load(), conflicts.Load(), probes.Load())
	final, _ := os.ReadFile(file)
	var doc struct {
		Profiles map[string]json.RawMessage `json:"profiles"`
	}
	if err := json.Unmarshal(final, &doc); err != nil || doc.Profiles["anthropic:default"] == nil {
		t.Fatalf("final file broken (%v):\n%s", err, peer.Redact(string(final)))
	}
	if _, err := os.Stat(file + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Error("a lock was left behind")
	}
	o.unusable() // 2026.3.31 reads it
}
