package fleet

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/internal/pgtest"
	"github.com/openclaw-bot/openclaw-bot/scheduler"
	"github.com/openclaw-bot/openclaw-bot/store"
)

const testBeat = 100 * time.Millisecond

// recorder is a handler that answers at once and remembers what it ran and
// who forwarded it.
type recorder struct {
	mu   sync.Mutex
	runs []string
}

func (r *recorder) Handle(ctx context.Context, req bot.Request) bot.Reply {
	r.mu.Lock()
	r.runs = append(r.runs, req.Text+" from "+bot.ForwardedFrom(ctx))
	r.mu.Unlock()
	return bot.Reply{Message: bot.Message{Kind: bot.KindReply, Title: "ran " + req.Text}, Ephemeral: true}
}

func (r *recorder) Press(ctx context.Context, p bot.Press) bot.Reply {
	r.mu.Lock()
	r.runs = append(r.runs, "press "+p.Action+" from "+bot.ForwardedFrom(ctx))
	r.mu.Unlock()
	return bot.Reply{Message: bot.Message{Kind: bot.KindReply, Title: "pressed " + p.Action}, Toast: "ok"}
}

func (r *recorder) ran() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.runs...)
}

// notifierName is a route's notifier (only its name is used here).
type notifierName string

func (n notifierName) Name() string { return string(n) }
func (n notifierName) Send(context.Context, string, bot.Message, *bot.Sent) (bot.Sent, error) {
	return bot.Sent{}, nil
}

// testMember is one instance: its store, its Fleet and a way to stop its
// Run without Leave (what a kill -9 looks like to the others).
type testMember struct {
	st   *store.Store
	f    *Fleet
	h    *recorder
	stop func()
}

func join(t *testing.T, dsn, name string, targets []string, wait time.Duration) *testMember {
	t.Helper()
	st, err := store.OpenConfig(t.Context(), store.Config{Driver: store.DriverPostgres, DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	m := &testMember{st: st, h: &recorder{}}
	m.f = New(Options{Store: st, Name: name, Host: "test-host", PID: os.Getpid(), HeartbeatEvery: testBeat, Wait: wait, Log: zerolog.Nop()})
	if err := m.f.Join(t.Context(), targets); err != nil {
		t.Fatal(err)
	}
	m.f.SetHandler(m.h, []scheduler.Route{{Notifier: notifierName(store.ChannelSlack), Dest: "C1"}})
	m.run(t)
	return m
}

func (m *testMember) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = m.f.Run(ctx) }()
	var once sync.Once
	m.stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(m.stop)
}

func waitUntil(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A command or a press for a target another instance owns runs there,
// marked as forwarded, and its reply comes back; nobody forwards for its
// own targets.
func TestForward(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	a := join(t, dsn, "a", []string{"a-1"}, 10*time.Second)
	b := join(t, dsn, "b", []string{"b-1"}, 10*time.Second)
	waitUntil(t, "a knows b's target", 5*time.Second, func() bool { _, ok := a.f.Remote("b-1"); return ok })
	if _, ok := a.f.Remote("a-1"); ok {
		t.Error("a's own target is remote to a")
	}
	if got := a.f.RemoteTargets(); strings.Join(got, ",") != "b-1" {
		t.Errorf("a's remote targets %v", got)
	}
	rep, err := a.f.Forward(t.Context(), "b-1", &bot.Request{Surface: "telegram", UserID: "42", Text: "check b-1"}, nil)
	if err != nil || rep.Message.Title != "ran check b-1" || !rep.Ephemeral {
		t.Fatalf("forwarded command: %+v %v", rep, err)
	}
	rep, err = a.f.Forward(t.Context(), "b-1", nil, &bot.Press{Surface: "slack", UserID: "U1", Action: "confirm:x"})
	if err != nil || rep.Message.Title != "pressed confirm:x" || rep.Toast != "ok" {
		t.Fatalf("forwarded press: %+v %v", rep, err)
	}
	if got := b.h.ran(); strings.Join(got, "; ") != "check b-1 from a; press confirm:x from a" {
		t.Errorf("b ran %q", got)
	}
	if got := a.h.ran(); len(got) != 0 {
		t.Errorf("a ran %q itself", got)
	}
	if _, err := a.f.Forward(t.Context(), "a-1", &bot.Request{Text: "x"}, nil); err == nil {
		t.Error("forwarding a's own target: nil error")
	}
}

// A command the owner does not take within the wait fails for the asker
// and is never run later: the owner answers it as expired.
func TestForwardExpires(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	a := join(t, dsn, "a", []string{"a-1"}, 300*time.Millisecond)
	b := join(t, dsn, "b", []string{"b-1"}, 10*time.Second)
	waitUntil(t, "a knows b's target", 5*time.Second, func() bool { _, ok := a.f.Remote("b-1"); return ok })
	b.stop() // b is not taking requests (its row still beats recently)
	_, err := a.f.Forward(t.Context(), "b-1", &bot.Request{Text: "restart b-1"}, nil)
	if err == nil || !strings.Contains(err.Error(), "will not run it later") {
		t.Fatalf("forward to a stopped owner: %v", err)
	}
	b.run(t)
	waitUntil(t, "b answered the expired request", 5*time.Second, func() bool {
		r, err := a.st.RequestByID(t.Context(), 1)
		return err == nil && !r.Done.IsZero()
	})
	if got := b.h.ran(); len(got) != 0 {
		t.Errorf("b ran an expired request: %q", got)
	}
	r, _ := a.st.RequestByID(t.Context(), 1)
	var rep bot.Reply
	_ = json.Unmarshal(r.Reply, &rep)
	if !strings.Contains(rep.Message.Title, "after its asker gave up") {
		t.Errorf("expired request answered %q", rep.Message.Title)
	}
}

// An instance that stops beating (no Leave: a kill) gets exactly one
// instance.silent, from one of the two others; its target's report then
// carries the silence and is never ok; when it beats again the alert is
// resolved once. A clean stop (Leave) raises nothing.
func TestSilence(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	a := join(t, dsn, "a", []string{"a-1"}, time.Second)
	b := join(t, dsn, "b", []string{"b-1", "b-2"}, time.Second)
	c := join(t, dsn, "c", []string{"c-1"}, time.Second)
	ctx := t.Context()
	rep := diagnostics.Report{Target: "b-1", Verdict: "ok", CheckedAt: time.Now()}
	b.f.Publish(rep)
	waitUntil(t, "b's report published", 5*time.Second, func() bool { _, err := a.st.LatestReport(ctx, "b-1"); return err == nil })

	b.stop()
	silentItems := func() (posts, edits int) {
		items, err := a.st.DueOutbox(ctx, time.Now().Add(time.Hour), 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if strings.HasPrefix(it.Ref, "instance:b:") {
				if it.Kind == store.KindEdit {
					edits++
				} else {
					posts++
				}
			}
		}
		return posts, edits
	}
	waitUntil(t, "instance.silent queued", 5*time.Second, func() bool { p, _ := silentItems(); return p >= 1 })
	time.Sleep(10 * testBeat) // a second declaration would be queued by now
	if p, _ := silentItems(); p != 1 {
		t.Fatalf("instance.silent queued %d times, want once", p)
	}
	waitUntil(t, "a sees b silent", 5*time.Second, func() bool { o, _ := a.f.Remote("b-1"); return !o.SilentSince.IsZero() })
	got, err := a.f.Report(ctx, "b-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Verdict != "down" || len(got.Findings) == 0 || got.Findings[0].Code != diagnostics.CodeInstanceSilent ||
		got.Source == nil || got.Source.Instance != "b" || got.Source.OwnerSilentSince.IsZero() {
		t.Errorf("report of a silent owner's target: verdict %s, findings %+v, source %+v", got.Verdict, got.Findings, got.Source)
	}
	if _, err := a.f.Report(ctx, "b-2"); err == nil || !strings.Contains(err.Error(), "not published") {
		t.Errorf("report never published: %v", err)
	}

	b.run(t)
	waitUntil(t, "the silence resolved", 5*time.Second, func() bool { _, e := silentItems(); return e >= 1 })
	time.Sleep(5 * testBeat)
	if p, e := silentItems(); p != 1 || e != 1 {
		t.Errorf("after b returned: %d alerts, %d resolved edits; want 1 and 1", p, e)
	}
	waitUntil(t, "a sees b beating", 5*time.Second, func() bool { o, _ := a.f.Remote("b-1"); return o.SilentSince.IsZero() })

	// A clean stop: targets freed, nobody alerts.
	c.stop()
	if err := c.f.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(8 * testBeat)
	items, _ := a.st.DueOutbox(ctx, time.Now().Add(time.Hour), 0)
	for _, it := range items {
		if strings.HasPrefix(it.Ref, "instance:c:") {
			t.Errorf("a clean stop raised %s", it.Ref)
		}
	}
	if _, ok := a.f.Remote("c-1"); ok {
		t.Error("c-1 still owned after c stopped")
	}
}

// After PostgreSQL was down for longer than 3 beats, everyone's heartbeat
// is old: nobody may declare anybody silent for that.
func TestNoSilenceAfterStoreOutage(t *testing.T) {
	srv := pgtest.Own(t)
	name, err := srv.CreateDatabase(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	dsn := srv.DSN(name)
	a := join(t, dsn, "a", []string{"a-1"}, time.Second)
	_ = join(t, dsn, "b", []string{"b-1"}, time.Second)
	time.Sleep(5 * testBeat) // both judge now
	if err := srv.Pause(t.Context()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * testBeat)
	if err := srv.Resume(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "heartbeats again", 10*time.Second, func() bool {
		list, err := a.st.Instances(t.Context())
		if err != nil || len(list) != 2 {
			return false
		}
		now, err := a.st.Now(t.Context())
		return err == nil && now.Sub(list[0].Heartbeat) < 2*testBeat && now.Sub(list[1].Heartbeat) < 2*testBeat
	})
	time.Sleep(10 * testBeat)
	list, err := a.st.Instances(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range list {
		if !in.SilentSince.IsZero() {
			t.Errorf("instance %s declared silent after the store's outage", in.Name)
		}
	}
}

// Exclusive: one holder at a time; when the holder dies (its session
// ends), the other takes the role within about a second.
func TestExclusive(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	a := join(t, dsn, "a", []string{"a-1"}, time.Second)
	b := join(t, dsn, "b", []string{"b-1"}, time.Second)
	var holders atomic.Int32
	var who atomic.Value
	role := func(name string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			if n := holders.Add(1); n != 1 {
				t.Errorf("%d holders at once", n)
			}
			who.Store(name)
			<-ctx.Done()
			holders.Add(-1)
			return nil
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	const key = 7
	actx, killA := context.WithCancel(ctx)
	wg.Go(func() { _ = a.f.Exclusive(actx, key, "test", nil, role("a")) })
	waitUntil(t, "a holds the role", 5*time.Second, func() bool { v, _ := who.Load().(string); return v == "a" })
	wg.Go(func() { _ = b.f.Exclusive(ctx, key, "test", nil, role("b")) })
	time.Sleep(1500 * time.Millisecond)
	if v := who.Load().(string); v != "a" {
		t.Fatalf("role moved to %s while a held it", v)
	}
	killed := time.Now()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// a dies: its session ends (as PostgreSQL sees a kill -9) and it stops.
	if _, err := db.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1`, key); err != nil {
		t.Fatal(err)
	}
	killA()
	waitUntil(t, "b takes the role", 5*time.Second, func() bool { v, _ := who.Load().(string); return v == "b" })
	t.Logf("role taken over %s after the holder's session ended", time.Since(killed).Round(time.Millisecond))
}

// fleet forget of a silent instance: a running instance resolves its alert
// (once) and its targets are free; if it comes back after all, it claims
// them again.
func TestForgetSilent(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	a := join(t, dsn, "a", []string{"a-1"}, time.Second)
	b := join(t, dsn, "b", []string{"b-1"}, time.Second)
	ctx := t.Context()
	b.stop()
	count := func(prefix, kind string) int {
		items, err := a.st.DueOutbox(ctx, time.Now().Add(time.Hour), 0)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, it := range items {
			if strings.HasPrefix(it.Ref, prefix) && it.Kind == kind {
				n++
			}
		}
		return n
	}
	waitUntil(t, "b declared silent", 5*time.Second, func() bool { return count("instance:b:", store.KindPost) == 1 })
	now, err := a.st.Now(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if found, err := a.st.ForgetInstance(ctx, "b", now); err != nil || !found {
		t.Fatalf("forget b: %v %v", found, err)
	}
	waitUntil(t, "b's silence resolved", 5*time.Second, func() bool { return count("instance:b:", store.KindEdit) == 1 })
	items, _ := a.st.DueOutbox(ctx, time.Now().Add(time.Hour), 0)
	for _, it := range items {
		if it.Kind == store.KindEdit && strings.HasPrefix(it.Ref, "instance:b:") && !strings.Contains(string(it.Payload), "stopped or forgotten") {
			t.Errorf("resolved notice %s", it.Payload)
		}
	}
	time.Sleep(5 * testBeat)
	if n := count("instance:b:", store.KindEdit); n != 1 {
		t.Errorf("%d resolved notices, want 1", n)
	}
	if _, ok := a.f.Remote("b-1"); ok {
		t.Error("b-1 still owned by the forgotten b")
	}
	// b was only partitioned: it comes back and claims b-1 again.
	b.run(t)
	waitUntil(t, "b owns b-1 again", 5*time.Second, func() bool { o, ok := a.f.Remote("b-1"); return ok && o.Instance == "b" && o.SilentSince.IsZero() })
	if n := count("instance:b:", store.KindEdit); n != 1 {
		t.Errorf("%d resolved notices after b returned, want still 1", n)
	}
}
