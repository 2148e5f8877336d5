package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/config"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// memNotifier records deliveries; it can fail the next n sends.
type memNotifier struct {
	mu    sync.Mutex
	name  string
	sent  []memSent
	fail  int
	retry bool
	ch    chan memSent
}

type memSent struct {
	Dest string
	Msg  bot.Message
	Prev *bot.Sent
	At   time.Time
}

func newMem(name string) *memNotifier { return &memNotifier{name: name, ch: make(chan memSent, 100)} }
func (m *memNotifier) Name() string   { return m.name }
func (m *memNotifier) Send(_ context.Context, dest string, msg bot.Message, prev *bot.Sent) (bot.Sent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail > 0 {
		m.fail--
		if m.retry {
			return bot.Sent{}, &bot.RetryError{After: 10 * time.Millisecond, Err: errors.New("503 from fake")}
		}
		return bot.Sent{}, errors.New("channel_not_found")
	}
	s := memSent{Dest: dest, Msg: msg, Prev: prev, At: time.Now()}
	m.sent = append(m.sent, s)
	m.ch <- s
	id := "1"
	if prev != nil {
		id = prev.ID
	}
	return bot.Sent{Channel: dest, ID: id}, nil
}

func (m *memNotifier) next(t *testing.T, within time.Duration) memSent {
	t.Helper()
	select {
	case s := <-m.ch:
		return s
	case <-time.After(within):
		t.Fatalf("%s: nothing delivered within %s", m.name, within)
	}
	return memSent{}
}

func (m *memNotifier) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case s := <-m.ch:
		t.Fatalf("%s: unexpected delivery %q", m.name, s.Msg.Title)
	case <-time.After(d):
	}
}

type fixture struct {
	dir   *sandbox.Dir
	store *store.Store
	svc   *Service
	slack *memNotifier
	tg    *memNotifier
}

func newFixture(t *testing.T, dbPath string) *fixture {
	t.Helper()
	return newFixtureOn(t, newSandbox(t), dbPath)
}

// newSandbox is a healthy 2026.9.6 install with one API key profile.
func newSandbox(t *testing.T) *sandbox.Dir {
	t.Helper()
	d, err := sandbox.New(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Config("2026.9.6", map[string]any{"agents": map[string]any{"defaults": map[string]any{"model": map[string]any{
		"primary": "anthropic/claude-opus-5", "fallbacks": []string{"anthropic/claude-sonnet-5"}}}}}, "anthropic:default"); err != nil {
		t.Fatal(err)
	}
	if err := d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{"anthropic:default": map[string]any{
		"type": "api_key", "provider": "anthropic", "key": sandbox.APIKey("svc")}}}, nil); err != nil {
		t.Fatal(err)
	}
	return d
}

func newFixtureOn(t *testing.T, d *sandbox.Dir, dbPath string) *fixture {
	t.Helper()
	st, err := store.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newFixtureWith(t, d, st)
}

// newFixtureWith is newFixtureOn on an open store (PostgreSQL).
func newFixtureWith(t *testing.T, d *sandbox.Dir, st *store.Store) *fixture {
	t.Helper()
	f := &fixture{dir: d, store: st, slack: newMem("slack"), tg: newMem("telegram")}
	f.svc = &Service{
		Targets: []ServiceTarget{{Target: diagnostics.Target{Name: "prod",
			Locate: openclaw.LocateOptions{StateDir: d.Path, Home: t.TempDir(), Getenv: func(string) string { return "" }},
			Env:    openclaw.EnvSources{NoProc: true}}}},
		Store:         st,
		Engine:        NewEngine(EngineOptions{}),
		Routes:        []Route{{Notifier: f.slack, Dest: "C1"}, {Notifier: f.tg, Dest: "-100"}},
		Log:           zerolog.Nop(),
		SnapshotEvery: time.Hour, // only the watcher triggers evaluations here
		Watch:         WatchOptions{Debounce: 100 * time.Millisecond},
	}
	return f
}

func (f *fixture) run(t *testing.T) (stop func()) {
	t.Helper()
	f.svc.started = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.svc.Run(ctx) }()
	select {
	case <-f.svc.started:
	case err := <-done:
		t.Fatalf("service stopped: %v", err)
	}
	time.Sleep(200 * time.Millisecond) // watcher armed
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func cooldown(t *testing.T, d *sandbox.Dir, until time.Time) {
	t.Helper()
	if err := d.SetRow("authProfiles.state", map[string]any{"version": 1, "usageStats": map[string]any{"anthropic:default": map[string]any{
		"cooldownUntil": until.UnixMilli(), "cooldownReason": "auth", "errorCount": 1, "failureCounts": map[string]int{"auth": 1}}}}); err != nil {
		t.Fatal(err)
	}
}

// A cooldown written into OpenClaw's state is alerted within 2 s on every
// route, once; clearing it edits the same messages into a resolved notice;
// a restart on the same store alerts nothing again.
func TestServiceAlertsAndResolves(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bot.db")
	f := newFixture(t, db)
	stop := f.run(t)
	f.slack.quiet(t, 300*time.Millisecond) // a healthy install says nothing

	written := time.Now()
	cooldown(t, f.dir, time.Now().Add(10*time.Minute))
	for _, n := range []*memNotifier{f.slack, f.tg} {
		s := n.next(t, 2*time.Second)
		if s.Prev != nil || s.Msg.Kind != bot.KindAlert || s.At.Sub(written) > 2*time.Second {
			t.Fatalf("%s: %+v after %s", n.name, s.Msg, s.At.Sub(written))
		}
		if len(s.Msg.Items) == 0 || s.Msg.Items[0].Until.IsZero() {
			t.Errorf("%s: the alert must say when the cooldown ends: %+v", n.name, s.Msg.Items)
		}
	}
	// Unrelated writes do not re-alert.
	cooldown(t, f.dir, time.Now().Add(10*time.Minute))
	f.slack.quiet(t, 500*time.Millisecond)

	if err := f.dir.SetRow("authProfiles.state", nil); err != nil { // cleared
		t.Fatal(err)
	}
	for _, n := range []*memNotifier{f.slack, f.tg} {
		s := n.next(t, 2*time.Second)
		if s.Msg.Kind != bot.KindResolved || s.Prev == nil {
			t.Fatalf("%s: want an in-place resolved edit, got %+v prev=%v", n.name, s.Msg.Kind, s.Prev)
		}
	}
	stop()

	// Restart on the same DB with the cooldown back: one new alert (new
	// occurrence), and after another restart nothing is repeated.
	cooldown(t, f.dir, time.Now().Add(10*time.Minute))
	g := newFixtureOn(t, f.dir, db)
	stop = g.run(t)
	g.slack.next(t, 2*time.Second)
	stop()
	h := newFixtureOn(t, f.dir, db)
	stop = h.run(t)
	h.slack.quiet(t, 700*time.Millisecond)
	stop()
}

// A chat outage delays delivery; nothing is lost.
func TestServiceDeliversAfterOutage(t *testing.T) {
	f := newFixture(t, filepath.Join(t.TempDir(), "bot.db"))
	f.slack.fail, f.slack.retry = 3, true
	stop := f.run(t)
	defer stop()
	cooldown(t, f.dir, time.Now().Add(10*time.Minute))
	s := f.slack.next(t, 10*time.Second)
	if s.Msg.Kind != bot.KindAlert {
		t.Fatalf("%+v", s.Msg)
	}
	// Marked sent right after the notifier returns.
	deadline := time.Now().Add(5 * time.Second)
	n := -1
	for n != 0 && time.Now().Before(deadline) {
		n, _ = f.store.OutboxDepth(context.Background())
		time.Sleep(20 * time.Millisecond)
	}
	if n != 0 {
		t.Errorf("outbox depth %d after delivery", n)
	}
}

func TestRouteFilters(t *testing.T) {
	n := Notice{Target: "prod", Incidents: []Incident{{Code: "credential.expiring", Severity: diagnostics.Warning}}}
	for _, tc := range []struct {
		r    Route
		want bool
	}{
		{Route{}, true},
		{Route{MinSeverity: diagnostics.Critical}, false},
		{Route{MinSeverity: diagnostics.Info}, true},
		{Route{Targets: []string{"staging"}}, false},
		{Route{Targets: []string{"staging", "prod"}}, true},
	} {
		if got := tc.r.wants(n); got != tc.want {
			t.Errorf("%+v wants %v, want %v", tc.r, got, tc.want)
		}
	}
	ev := Notice{Target: "prod", Incidents: []Incident{{Code: "version.changed", Severity: diagnostics.Info}}}
	if !(Route{MinSeverity: diagnostics.Critical}).wants(ev) {
		t.Error("version.changed is an event every route should get")
	}
}

// A maintenance window from the config mutes alerts while it lasts.
func TestServiceMaintenanceWindowMutes(t *testing.T) {
	f := newFixture(t, filepath.Join(t.TempDir(), "bot.db"))
	f.svc.Maintenance = []Silence{{ID: "maintenance-1", Target: "prod", Starts: time.Now().Add(-time.Minute), Ends: time.Now().Add(time.Hour)}}
	stop := f.run(t)
	defer stop()
	cooldown(t, f.dir, time.Now().Add(10*time.Minute))
	f.slack.quiet(t, time.Second)
}

// blockingNotifier never answers until ctx ends (a hung platform).
type blockingNotifier struct{ name string }

func (b blockingNotifier) Name() string { return b.name }
func (b blockingNotifier) Send(ctx context.Context, _ string, _ bot.Message, _ *bot.Sent) (bot.Sent, error) {
	<-ctx.Done()
	return bot.Sent{}, ctx.Err()
}

// Drain (the graceful shutdown) delivers every due outbox item; with a hung
// platform it gives up when its deadline passes and the items stay for the
// next start.
func TestServiceDrain(t *testing.T) {
	f := newFixture(t, filepath.Join(t.TempDir(), "bot.db"))
	ctx := context.Background()
	now := time.Now()
	payload, _ := json.Marshal(bot.Message{Kind: bot.KindAlert, Title: "queued at shutdown"})
	var batch store.Batch
	for i := range 3 {
		batch.Outbox = append(batch.Outbox,
			store.OutboxItem{Channel: "slack", Dest: "C1", Ref: fmt.Sprintf("r%d", i), Kind: "post", Payload: payload, NextAttempt: now, CreatedAt: now},
			store.OutboxItem{Channel: "telegram", Dest: "-100", Ref: fmt.Sprintf("r%d", i), Kind: "post", Payload: payload, NextAttempt: now, CreatedAt: now})
	}
	if err := f.store.Apply(ctx, batch); err != nil {
		t.Fatal(err)
	}
	obs := &countObserver{}
	f.svc.Observer = obs
	if left := f.svc.Drain(ctx); left != 0 {
		t.Fatalf("Drain left %d undelivered", left)
	}
	if len(f.slack.sent) != 3 || len(f.tg.sent) != 3 {
		t.Fatalf("delivered slack %d telegram %d, want 3 and 3", len(f.slack.sent), len(f.tg.sent))
	}
	if obs.delivered["slack/sent"] != 3 || obs.delivered["telegram/sent"] != 3 {
		t.Errorf("observer: %v", obs.delivered)
	}

	// A hung platform: Drain returns at its deadline, the item stays due.
	f.svc.Routes = []Route{{Notifier: blockingNotifier{"slack"}, Dest: "C1"}}
	if err := f.store.Apply(ctx, store.Batch{Outbox: []store.OutboxItem{{Channel: "slack", Dest: "C1", Ref: "hung", Kind: "post", Payload: payload, NextAttempt: now, CreatedAt: now}}}); err != nil {
		t.Fatal(err)
	}
	dctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if left := f.svc.Drain(dctx); left != 1 {
		t.Errorf("Drain with a hung platform left %d, want 1", left)
	}
	if n, _ := f.store.OutboxDepth(ctx); n != 1 {
		t.Errorf("outbox depth after the deadline: %d, want 1 (kept for the next start)", n)
	}
}

type countObserver struct {
	mu        sync.Mutex
	delivered map[string]int
}

func (c *countObserver) Evaluated(string, bool, diagnostics.Report, time.Duration, error) {}
func (c *countObserver) Delivered(channel, result string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.delivered == nil {
		c.delivered = map[string]int{}
	}
	c.delivered[channel+"/"+result]++
}

// An alert group resolved partly before a restart and fully after it: the
// resolved notice (an edit of the alert) lists both members, not only the
// one resolved after the restart.
func TestServiceGroupResolvedAcrossRestart(t *testing.T) {
	d, err := sandbox.New(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Config("2026.9.6", nil, "anthropic:default", "anthropic:backup"); err != nil {
		t.Fatal(err)
	}
	if err := d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{
		"anthropic:default": map[string]any{"type": "api_key", "provider": "anthropic", "key": sandbox.APIKey("one")},
		"anthropic:backup":  map[string]any{"type": "api_key", "provider": "anthropic", "key": sandbox.APIKey("two")}}}, nil); err != nil {
		t.Fatal(err)
	}
	cool := func(ids ...string) {
		t.Helper()
		stats := map[string]any{}
		for _, id := range ids {
			stats[id] = map[string]any{"cooldownUntil": time.Now().Add(time.Hour).UnixMilli(), "cooldownReason": "auth", "errorCount": 1}
		}
		if err := d.SetRow("authProfiles.state", map[string]any{"version": 1, "usageStats": stats}); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(t.TempDir(), "bot.db")
	cool("anthropic:default", "anthropic:backup")
	f := newFixtureOn(t, d, db)
	stop := f.run(t)
	alert := f.slack.next(t, 2*time.Second)
	if alert.Msg.Kind != bot.KindAlert || len(alert.Msg.Items) < 2 {
		t.Fatalf("want one alert with both profiles, got %s with %d items", alert.Msg.Kind, len(alert.Msg.Items))
	}
	subjectsOf := func(m bot.Message) []string {
		var out []string
		for _, it := range m.Items {
			out = append(out, it.Code+"@"+it.Subject)
		}
		sort.Strings(out)
		return out
	}
	alerted := subjectsOf(alert.Msg)
	cool("anthropic:backup") // default recovers: the group is partly resolved
	time.Sleep(600 * time.Millisecond)
	stop()

	g := newFixtureOn(t, d, db)
	stop = g.run(t)
	defer stop()
	if err := d.SetRow("authProfiles.state", nil); err != nil {
		t.Fatal(err)
	}
	var res memSent
	for deadline := time.Now().Add(3 * time.Second); ; {
		res = g.slack.next(t, time.Until(deadline))
		if res.Msg.Kind == bot.KindResolved {
			break
		}
	}
	if res.Prev == nil {
		t.Error("the resolved notice must edit the original alert")
	}
	if got := subjectsOf(res.Msg); !slices.Equal(got, alerted) {
		t.Errorf("resolved notice lists %v, want everything alerted: %v", got, alerted)
	}
}

// A configured target's findings say where its state dir came from (the
// bot config), not "--state-dir", which the operator never typed.
func TestTargetFromSaysWhereTheStateDirCameFrom(t *testing.T) {
	for _, tc := range []struct {
		target config.Target
		want   string
	}{
		{config.Target{Name: "prod", StateDir: "/srv/openclaw"}, "state_dir of target prod in the bot config"},
		{config.Target{Name: "dev", OpenClawProfile: "dev"}, "openclaw_profile dev of target dev in the bot config"},
	} {
		st, loc, err := TargetFrom(tc.target, "")
		if err != nil {
			t.Fatal(err)
		}
		again, err := openclaw.Locate(st.Target.Locate)
		if err != nil {
			t.Fatal(err)
		}
		if loc.How != tc.want || again.How != tc.want || again.StateDir != loc.StateDir {
			t.Errorf("%s: How %q, then %q (%s), want %q", tc.target.Name, loc.How, again.How, again.StateDir, tc.want)
		}
	}
}

// An ack written from chat (store.AckIncident, on any instance) sticks: the
// next evaluations keep it in the store, and the engine stops reminding
// and shows who acked.
func TestServiceKeepsAcks(t *testing.T) {
	f := newFixture(t, filepath.Join(t.TempDir(), "bot.db"))
	f.svc.Engine = NewEngine(EngineOptions{Reminder: time.Minute})
	now := time.Now()
	f.svc.Now = func() time.Time { return now }
	ctx := context.Background()
	if err := f.svc.Load(ctx); err != nil {
		t.Fatal(err)
	}
	cooldown(t, f.dir, now.Add(time.Hour))
	if err := f.svc.Evaluate(ctx, "prod"); err != nil {
		t.Fatal(err)
	}
	open, err := f.store.ActiveIncidents(ctx)
	if err != nil || len(open) == 0 {
		t.Fatalf("open incidents: %d, %v", len(open), err)
	}
	for _, in := range open { // cooldown.active and cooldown.all
		if err := f.store.AckIncident(ctx, in.ID, "U0RESP", now); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		now = now.Add(2 * time.Minute) // past the reminder interval
		if err := f.svc.Evaluate(ctx, "prod"); err != nil {
			t.Fatal(err)
		}
	}
	after, err := f.store.ActiveIncidents(ctx)
	if err != nil || len(after) != len(open) {
		t.Fatalf("after evaluations: %d open, %v", len(after), err)
	}
	for _, in := range after {
		if in.AckedBy != "U0RESP" {
			t.Errorf("%s: acked by %q after evaluations, want the ack kept", in.Code, in.AckedBy)
		}
		if e, ok := f.svc.Engine.Get("prod", in.Subject, in.Code); !ok || e.AckedBy != "U0RESP" {
			t.Errorf("%s: the engine does not know the ack (%q)", in.Code, e.AckedBy)
		}
	}
	items, err := f.store.DueOutbox(ctx, now.Add(time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if strings.HasPrefix(it.Ref, "reminder:") {
			t.Errorf("a reminder after the ack: %s", it.Ref)
		}
	}
}
