package scheduler

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/internal/pgtest"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// PostgreSQL goes away and comes back (a server of the test's own, paused
// and resumed) while serve keeps watching: an alert decided during the
// outage is delivered once it is over, exactly once; a resolve, a new
// occurrence and its resolve, all during a second outage, arrive after it
// in that order, once each (edit, post, edit); every incident row is in
// the store once; and a batch still kept at shutdown is written by Drain
// when the store is back, or reported lost when it is not.
func TestServicePostgresOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	srv := pgtest.Own(t)
	ctx := context.Background()
	db, err := srv.CreateDatabase(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenConfig(ctx, store.Config{Driver: store.DriverPostgres, DSN: srv.DSN(db)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	f := newFixtureWith(t, newSandbox(t), st)
	logs := &lockedBuffer{}
	f.svc.Log = zerolog.New(logs).Level(zerolog.InfoLevel)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service log:\n%s", logs)
		}
	})
	stop := f.run(t)
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()

	pause := func() {
		t.Helper()
		if err := srv.Pause(ctx); err != nil {
			t.Fatal(err)
		}
	}
	resume := func() {
		t.Helper()
		if err := srv.Resume(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// firing waits until the engine holds firing incidents of prod (a
	// cooldown is two: cooldown.active and cooldown.all), or none: the
	// evaluation after a state change is done. It says how many.
	firing := func(want bool) int {
		t.Helper()
		got := 0
		eventually(t, 5*time.Second, fmt.Sprintf("firing incidents: %v", want), func() bool {
			got = 0
			for _, in := range f.svc.Engine.Incidents("prod") {
				if in.State == IncidentFiring {
					got++
				}
			}
			return (got > 0) == want
		})
		return got
	}
	spooled := func(n int) {
		t.Helper()
		eventually(t, 5*time.Second, fmt.Sprintf("%d batches spooled", n), func() bool { return f.svc.Spooled() == n })
	}
	undelivered := func() {
		t.Helper()
		for _, n := range []*memNotifier{f.slack, f.tg} {
			n.mu.Lock()
			sent := len(n.sent)
			n.mu.Unlock()
			if sent != 0 {
				t.Fatalf("%s: %d messages sent while the store was down", n.name, sent)
			}
		}
	}
	forget := func() { // what was sent so far is checked
		for _, n := range []*memNotifier{f.slack, f.tg} {
			n.mu.Lock()
			n.sent = nil
			n.mu.Unlock()
		}
	}
	settled := func() {
		t.Helper()
		eventually(t, 10*time.Second, "outbox empty", func() bool {
			n, err := st.OutboxDepth(ctx)
			return err == nil && n == 0
		})
	}
	// rows checks the store's incident rows of prod: each occurrence once,
	// the open ones in the states the engine has.
	rows := func(wantRows, wantFiring int) {
		t.Helper()
		all, err := st.RecentIncidents(ctx, "prod", 0)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[rowKey]int{}
		fired := 0
		for _, r := range all {
			seen[rowKeyOf(r.Target, r.Subject, r.Code, r.FirstSeen)]++
			if r.State == store.StateFiring {
				fired++
			}
		}
		for k, n := range seen {
			if n != 1 {
				t.Errorf("incident %v stored %d times", k, n)
			}
		}
		if len(all) != wantRows || fired != wantFiring {
			t.Errorf("store holds %d incident rows of prod, %d firing; want %d, %d", len(all), fired, wantRows, wantFiring)
		}
	}

	// Outage 1: an alert decided while PostgreSQL is down.
	pause()
	cooldown(t, f.dir, time.Now().Add(time.Hour))
	k := firing(true)
	spooled(1)
	undelivered()
	resume()
	alerts := map[string]string{} // notifier → ref of the first alert
	for _, n := range []*memNotifier{f.slack, f.tg} {
		s := n.next(t, 10*time.Second)
		if s.Msg.Kind != bot.KindAlert || s.Prev != nil {
			t.Fatalf("%s after the outage: %s (prev %v), want the alert", n.name, s.Msg.Kind, s.Prev)
		}
		alerts[n.name] = s.Msg.Ref
	}
	settled()
	spooled(0)
	f.slack.quiet(t, 300*time.Millisecond) // nothing twice
	forget()
	rows(k, k)

	// Outage 2: resolved, fired again (a new occurrence) and resolved
	// again, all while PostgreSQL is down.
	pause()
	if err := f.dir.SetRow("authProfiles.state", nil); err != nil {
		t.Fatal(err)
	}
	firing(false)
	spooled(1)
	cooldown(t, f.dir, time.Now().Add(2*time.Hour))
	firing(true)
	spooled(2)
	if err := f.dir.SetRow("authProfiles.state", nil); err != nil {
		t.Fatal(err)
	}
	firing(false)
	spooled(3)
	undelivered()
	resume()
	for _, n := range []*memNotifier{f.slack, f.tg} {
		got := []memSent{n.next(t, 10*time.Second), n.next(t, 5*time.Second), n.next(t, 5*time.Second)}
		want := []bot.Kind{bot.KindResolved, bot.KindAlert, bot.KindResolved}
		for i, s := range got {
			if s.Msg.Kind != want[i] {
				t.Fatalf("%s message %d after the second outage: %s, want %s (order: resolved, alert, resolved)", n.name, i+1, s.Msg.Kind, want[i])
			}
		}
		if got[0].Prev == nil || got[0].Msg.Ref != alerts[n.name] {
			t.Errorf("%s: the first resolve must edit the first alert %s: ref %s prev %v", n.name, alerts[n.name], got[0].Msg.Ref, got[0].Prev)
		}
		if got[1].Prev != nil || got[1].Msg.Ref == alerts[n.name] {
			t.Errorf("%s: the new occurrence must be a new post: ref %s prev %v", n.name, got[1].Msg.Ref, got[1].Prev)
		}
		if got[2].Prev == nil || got[2].Msg.Ref != got[1].Msg.Ref {
			t.Errorf("%s: the second resolve must edit the second alert %s: ref %s prev %v", n.name, got[1].Msg.Ref, got[2].Msg.Ref, got[2].Prev)
		}
	}
	settled()
	f.slack.quiet(t, 300*time.Millisecond) // nothing twice
	forget()
	rows(2*k, 0)

	for _, tc := range []struct {
		msg  string
		want int
	}{
		{`"store unreachable: keeping evaluations in memory until it returns"`, 2},
		{`"store reachable again: 1 evaluations written, 1 notices queued"`, 1},
		{`"store reachable again: 3 evaluations written, 3 notices queued"`, 1},
	} {
		if got := strings.Count(logs.String(), tc.msg); got != tc.want {
			t.Errorf("log line %s %d times, want %d", tc.msg, got, tc.want)
		}
	}

	// Shutdown during an outage with an alert kept: Drain cannot write it
	// and says it is lost; when the store is back in time, Drain writes
	// and delivers it.
	pause()
	cooldown(t, f.dir, time.Now().Add(3*time.Hour))
	firing(true)
	spooled(1)
	stop()
	stopped = true
	dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if left := f.svc.Drain(dctx); left != -1 {
		t.Errorf("Drain with the store down: %d left, want -1 (unknown)", left)
	}
	if !strings.Contains(logs.String(), "store unreachable at shutdown: 1 notices are lost with the process") {
		t.Errorf("Drain did not report the lost notice: %s", logs.String())
	}
	undelivered()
	resume()
	if left := f.svc.Drain(ctx); left != 0 || f.svc.Spooled() != 0 {
		t.Errorf("Drain with the store back: %d left, %d spooled", left, f.svc.Spooled())
	}
	for _, n := range []*memNotifier{f.slack, f.tg} {
		if s := n.next(t, time.Second); s.Msg.Kind != bot.KindAlert || s.Prev != nil {
			t.Errorf("%s: Drain delivered %s (prev %v), want the new alert", n.name, s.Msg.Kind, s.Prev)
		}
	}
	rows(3*k, k)
}

// eventually polls cond until it holds or within passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
