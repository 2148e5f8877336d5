package metrics

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/openclaw-bot/openclaw-bot/diagnostics"
)

func report(until time.Time) diagnostics.Report {
	return diagnostics.Report{
		Verdict: "down",
		Profiles: []diagnostics.ProfileStatus{
			{ID: "anthropic:default", Health: "cooldown", Until: until, Check: "ok"},
			{ID: "anthropic:backup", Health: "invalid", Check: "invalid"},
			{ID: "anthropic:default", Agent: "ops", Health: "ok"},
		},
		Findings: []diagnostics.Finding{{Code: "cooldown.active", Severity: diagnostics.Critical}, {Code: "key.invalid", Severity: diagnostics.Critical}},
	}
}

// The state gauges are computed at scrape time from the latest reports;
// targets dropped by a reload disappear; counters count.
func TestMetricsState(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	m := New(BuildInfo{Version: "1.2.3", Revision: "abc", GoVersion: "go1.26.8"})
	m.now = func() time.Time { return now }
	m.SetTargets([]string{"prod", "lab"})
	m.SetSources(Sources{
		OutboxDepth: func(context.Context) (int, error) { return 4, nil },
		Firing:      func() map[[2]string]int { return map[[2]string]int{{"prod", "critical"}: 2} },
	})
	m.Evaluated("prod", true, report(now.Add(90*time.Second)), 3*time.Millisecond, nil)
	m.Evaluated("lab", false, diagnostics.Report{}, time.Millisecond, errors.New("unreadable"))
	m.Delivered("slack", Sent)
	m.Delivered("slack", Retried)
	m.Command("cooldown reset", "slack", "ok", 40*time.Millisecond, true)
	m.Command("status", "telegram", "ok", 5*time.Millisecond, false)
	m.SurfaceUp("slack", true)
	m.SurfaceUp("telegram", false)

	want := `
# HELP openclaw_bot_cooldown_remaining_seconds Seconds until the profile's cooldown (or disable) ends; absent when it has none.
# TYPE openclaw_bot_cooldown_remaining_seconds gauge
openclaw_bot_cooldown_remaining_seconds{agent="",profile="anthropic:default",target="prod"} 90
# HELP openclaw_bot_incidents_firing Open incidents in state firing by target and severity.
# TYPE openclaw_bot_incidents_firing gauge
openclaw_bot_incidents_firing{severity="critical",target="lab"} 0
openclaw_bot_incidents_firing{severity="critical",target="prod"} 2
openclaw_bot_incidents_firing{severity="info",target="lab"} 0
openclaw_bot_incidents_firing{severity="info",target="prod"} 0
openclaw_bot_incidents_firing{severity="warning",target="lab"} 0
openclaw_bot_incidents_firing{severity="warning",target="prod"} 0
# HELP openclaw_bot_outbox_depth Notifications waiting in the outbox (not yet delivered, not dead).
# TYPE openclaw_bot_outbox_depth gauge
openclaw_bot_outbox_depth 4
# HELP openclaw_bot_snapshot_ok 1 when the latest snapshot of the target could be read and diagnosed, 0 when it failed or part of the state could not be read (state.unreadable).
# TYPE openclaw_bot_snapshot_ok gauge
openclaw_bot_snapshot_ok{target="lab"} 0
openclaw_bot_snapshot_ok{target="prod"} 1
# HELP openclaw_bot_key_check_result 1 for each profile's latest zero-token key check result (ok, invalid, forbidden, …); absent before the first check.
# TYPE openclaw_bot_key_check_result gauge
openclaw_bot_key_check_result{agent="",profile="anthropic:backup",result="invalid",target="prod"} 1
openclaw_bot_key_check_result{agent="",profile="anthropic:default",result="ok",target="prod"} 1
# HELP openclaw_bot_actions_total Confirmed actions (cooldown reset, undo, restart, doctor fix, probe --spend) by action and outcome.
# TYPE openclaw_bot_actions_total counter
openclaw_bot_actions_total{action="cooldown reset",outcome="ok"} 1
# HELP openclaw_bot_notifications_total Alert deliveries by channel (slack, telegram, console) and result: sent, failed (permanently), retried (a retryable failure, will be sent again).
# TYPE openclaw_bot_notifications_total counter
openclaw_bot_notifications_total{channel="slack",result="retried"} 1
openclaw_bot_notifications_total{channel="slack",result="sent"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"openclaw_bot_cooldown_remaining_seconds", "openclaw_bot_incidents_firing", "openclaw_bot_outbox_depth",
		"openclaw_bot_snapshot_ok", "openclaw_bot_key_check_result", "openclaw_bot_actions_total", "openclaw_bot_notifications_total"); err != nil {
		t.Error(err)
	}
	if got := m.Disconnected(); len(got) != 1 || got[0] != "telegram" {
		t.Errorf("Disconnected = %v", got)
	}

	// The cooldown ends: the gauge disappears without a new evaluation.
	now = now.Add(2 * time.Minute)
	if n := testutil.CollectAndCount(stateCollector{m}, "openclaw_bot_cooldown_remaining_seconds"); n != 0 {
		t.Errorf("an ended cooldown still has %d series", n)
	}
	// A reload drops a target: its series go.
	m.SetTargets([]string{"lab"})
	if n := testutil.CollectAndCount(stateCollector{m}, "openclaw_bot_profile_health"); n != 0 {
		t.Errorf("profile_health of a dropped target: %d series", n)
	}

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `openclaw_bot_build_info{goversion="go1.26.8",revision="abc",version="1.2.3"} 1`) {
		t.Errorf("/metrics: %d\n%s", rec.Code, rec.Body.String())
	}
}

// A nil *Metrics is a no-op: callers need no checks.
func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.Evaluated("x", false, diagnostics.Report{}, 0, nil)
	m.Delivered("slack", Sent)
	m.Command("status", "slack", "ok", 0, false)
	m.Reloaded("applied")
	m.SurfaceUp("slack", true)
	m.SetTargets(nil)
	m.SetSources(Sources{})
	m.ResetSurfaces()
	if m.Disconnected() != nil {
		t.Error("nil Metrics has disconnected surfaces")
	}
}

// A report with state.unreadable (a hung mount, a FIFO, permissions) is
// diagnosed but not read whole: snapshot_ok is 0, the verdict is the
// report's, and the timestamp stays that of the latest complete snapshot.
func TestMetricsStateUnreadableIsNotOK(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	m := New(BuildInfo{})
	m.now = func() time.Time { return now }
	m.SetTargets([]string{"hung", "fifo"})
	m.Evaluated("hung", false, diagnostics.Report{Verdict: "ok"}, time.Millisecond, nil)
	now = now.Add(time.Minute)
	unreadable := diagnostics.Report{Verdict: "down", Findings: []diagnostics.Finding{{Code: diagnostics.CodeStateUnreadable, Severity: diagnostics.Critical}}}
	m.Evaluated("hung", false, unreadable, 5*time.Second, nil)
	m.Evaluated("fifo", false, unreadable, time.Millisecond, nil)
	want := `
# HELP openclaw_bot_snapshot_ok 1 when the latest snapshot of the target could be read and diagnosed, 0 when it failed or part of the state could not be read (state.unreadable).
# TYPE openclaw_bot_snapshot_ok gauge
openclaw_bot_snapshot_ok{target="fifo"} 0
openclaw_bot_snapshot_ok{target="hung"} 0
# HELP openclaw_bot_snapshot_timestamp_seconds When the target's latest successful snapshot was taken (Unix seconds).
# TYPE openclaw_bot_snapshot_timestamp_seconds gauge
openclaw_bot_snapshot_timestamp_seconds{target="hung"} 1.795608e+09
# HELP openclaw_bot_target_verdict 1 for the target's current verdict (ok, degraded, down) from its latest snapshot.
# TYPE openclaw_bot_target_verdict gauge
openclaw_bot_target_verdict{target="fifo",verdict="degraded"} 0
openclaw_bot_target_verdict{target="fifo",verdict="down"} 1
openclaw_bot_target_verdict{target="fifo",verdict="ok"} 0
openclaw_bot_target_verdict{target="hung",verdict="degraded"} 0
openclaw_bot_target_verdict{target="hung",verdict="down"} 1
openclaw_bot_target_verdict{target="hung",verdict="ok"} 0
`
	if err := testutil.CollectAndCompare(stateCollector{m}, strings.NewReader(want),
		"openclaw_bot_snapshot_ok", "openclaw_bot_snapshot_timestamp_seconds", "openclaw_bot_target_verdict"); err != nil {
		t.Error(err)
	}
}

// The fleet's gauges and the evaluations held while the store is down.
func TestMetricsFleet(t *testing.T) {
	m := New(BuildInfo{})
	m.SetSources(Sources{
		Held:      func() int { return 3 },
		Instances: func() map[string]int { return map[string]int{"running": 2, "silent": 1} },
		Roles:     func() map[string]bool { return map[string]bool{"telegram_polling": true} },
	})
	want := `
# HELP openclaw_bot_fleet_instances Instances of the fleet sharing the PostgreSQL store, by state (running, silent, stopped), as this instance last read them.
# TYPE openclaw_bot_fleet_instances gauge
openclaw_bot_fleet_instances{state="running"} 2
openclaw_bot_fleet_instances{state="silent"} 1
openclaw_bot_fleet_instances{state="stopped"} 0
# HELP openclaw_bot_fleet_role 1 while this instance holds a fleet-wide role (telegram_polling), 0 while another holds it.
# TYPE openclaw_bot_fleet_role gauge
openclaw_bot_fleet_role{role="telegram_polling"} 1
# HELP openclaw_bot_store_held_evaluations Evaluations kept in memory because the store did not answer; written, in order, when it does.
# TYPE openclaw_bot_store_held_evaluations gauge
openclaw_bot_store_held_evaluations 3
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"openclaw_bot_fleet_instances", "openclaw_bot_fleet_role", "openclaw_bot_store_held_evaluations"); err != nil {
		t.Error(err)
	}
	// Alone (SQLite): no fleet series.
	m.SetSources(Sources{})
	if n := testutil.CollectAndCount(stateCollector{m}, "openclaw_bot_fleet_instances", "openclaw_bot_fleet_role"); n != 0 {
		t.Errorf("%d fleet series without a fleet", n)
	}
}
