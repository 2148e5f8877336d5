package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fleet's tables: registration, target ownership, heartbeats,
// exactly-once silence, reports and the request queue, on both drivers.
func TestFleetInstances(t *testing.T) { eachDriver(t, testFleetInstances) }

func testFleetInstances(t *testing.T, d testDriver) {
	s := d.open(t, d.fresh(t))
	ctx := t.Context()
	// Long ago: a Heartbeat writes the database clock, which is after it.
	t0 := time.UnixMilli(1_700_000_000_000).UTC()
	alive := 30 * time.Second
	a := Instance{Name: "a", Host: "host-a", PID: 10, Version: "v1"}
	must(t, s.RegisterInstance(ctx, a, t0, alive))
	// Another process under the same name while a beats: refused, named.
	err := s.RegisterInstance(ctx, Instance{Name: "a", Host: "host-x", PID: 11}, t0.Add(time.Second), alive)
	if !errors.Is(err, ErrInstanceRunning) || !strings.Contains(err.Error(), "host-a") {
		t.Fatalf("second live a: %v, want ErrInstanceRunning naming host-a", err)
	}
	// The same name after its heartbeat went stale (a restart after a crash): fine.
	must(t, s.RegisterInstance(ctx, Instance{Name: "a", Host: "host-a", PID: 12}, t0.Add(time.Minute), alive))

	b := Instance{Name: "b", Host: "host-b", PID: 20}
	must(t, s.RegisterInstance(ctx, b, t0, alive))
	must(t, s.ClaimTargets(ctx, "a", []string{"web-1", "web-2"}, t0))
	err = s.ClaimTargets(ctx, "b", []string{"web-2", "web-3"}, t0)
	if !errors.Is(err, ErrTargetTaken) || !strings.Contains(err.Error(), "web-2 (instance a") {
		t.Fatalf("b claims a's web-2: %v, want ErrTargetTaken naming a", err)
	}
	must(t, s.ClaimTargets(ctx, "b", []string{"web-3"}, t0))
	// A reload drops web-2: it is free for b.
	must(t, s.ClaimTargets(ctx, "a", []string{"web-1"}, t0))
	must(t, s.ClaimTargets(ctx, "b", []string{"web-3", "web-2"}, t0))
	list, err := s.Instances(ctx)
	must(t, err)
	if len(list) != 2 || strings.Join(list[0].Targets, ",") != "web-1" || strings.Join(list[1].Targets, ",") != "web-2,web-3" {
		t.Fatalf("instances %+v", list)
	}

	// b misses its beats: of three instances noticing, one wins and queues
	// the alert; b's outbox claims are released.
	_, err = s.Heartbeat(ctx, "a")
	must(t, err)
	item := OutboxItem{Channel: ChannelSlack, Dest: "C1", Ref: "alert:x", Payload: []byte(`{}`), CreatedAt: t0}
	must(t, s.Apply(ctx, Batch{Outbox: []OutboxItem{item}}))
	claimed, err := s.ClaimOutboxAs(ctx, "b", t0, 1, time.Hour)
	must(t, err)
	if len(claimed) != 1 {
		t.Fatalf("claimed %d", len(claimed))
	}
	silentAt := t0.Add(2 * time.Minute)
	var wins int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			alert := []OutboxItem{{Channel: ChannelSlack, Dest: "C1", Ref: "instance:b:1", Payload: []byte(`{}`), CreatedAt: silentAt}}
			won, err := s.MarkSilent(context.Background(), "b", silentAt.Add(-alive), silentAt, "instance:b:1", alert)
			if err != nil {
				t.Error(err)
			}
			if won {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("MarkSilent won %d times, want once", wins)
	}
	due, err := s.ClaimOutboxAs(ctx, "a", silentAt, 0, time.Hour)
	must(t, err)
	refs := map[string]bool{}
	for _, o := range due {
		refs[o.Ref] = true
	}
	if len(due) != 2 || !refs["alert:x"] || !refs["instance:b:1"] {
		t.Fatalf("due after b fell silent: %+v, want b's released claim and the one alert", due)
	}
	// a is alive (its heartbeat is on the database clock, after t0): not declared.
	if won, err := s.MarkSilent(ctx, "a", silentAt.Add(-alive), silentAt, "instance:a:1", nil); err != nil || won {
		t.Fatalf("MarkSilent of a beating instance: %v %v", won, err)
	}
	// b comes back: its heartbeat reports the silence, cleared once.
	prev, err := s.Heartbeat(ctx, "b")
	must(t, err)
	if prev.SilentSince.IsZero() || prev.SilentRef != "instance:b:1" {
		t.Fatalf("b's heartbeat after its silence: %+v", prev)
	}
	for i, want := range []bool{true, false} {
		won, err := s.ClearSilent(ctx, "b", prev.SilentRef, nil, silentAt)
		if err != nil || won != want {
			t.Fatalf("ClearSilent #%d: %v %v, want %v", i+1, won, err, want)
		}
	}
	// A clean stop frees the targets and is never declared silent.
	must(t, s.StopInstance(ctx, "b", silentAt))
	if won, err := s.MarkSilent(ctx, "b", silentAt.Add(time.Hour), silentAt.Add(time.Hour), "instance:b:2", nil); err != nil || won {
		t.Fatalf("MarkSilent of a stopped instance: %v %v", won, err)
	}
	must(t, s.ClaimTargets(ctx, "a", []string{"web-1", "web-3"}, silentAt))
	if _, err := s.Heartbeat(ctx, "zz"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("heartbeat of an unknown instance: %v", err)
	}
	found, err := s.ForgetInstance(ctx, "a", silentAt)
	if err != nil || !found {
		t.Fatalf("forget a: %v %v", found, err)
	}
	must(t, s.ClaimTargets(ctx, "b", []string{"web-1"}, silentAt))
}

func TestFleetReportsAndRequests(t *testing.T) { eachDriver(t, testFleetReportsAndRequests) }

func testFleetReportsAndRequests(t *testing.T, d testDriver) {
	s := d.open(t, d.fresh(t))
	ctx := t.Context()
	t0 := time.UnixMilli(1_800_000_000_000).UTC()
	if _, err := s.LatestReport(ctx, "web-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no report yet: %v", err)
	}
	must(t, s.PublishReport(ctx, Report{Target: "web-1", Instance: "a", At: t0.Add(time.Second), Body: []byte(`{"v":2}`)}))
	// An older report arriving late does not replace a newer one.
	must(t, s.PublishReport(ctx, Report{Target: "web-1", Instance: "a", At: t0, Body: []byte(`{"v":1}`)}))
	r, err := s.LatestReport(ctx, "web-1")
	must(t, err)
	if string(r.Body) != `{"v":2}` || !r.At.Equal(t0.Add(time.Second)) || r.Instance != "a" {
		t.Fatalf("latest report %+v", r)
	}

	var ids []int64
	for i := range 5 {
		id, err := s.AddRequest(ctx, Request{Instance: "b", Target: "web-2", Kind: RequestCommand, Payload: []byte(`{"text":"status"}`),
			Asker: "a", Created: t0.Add(time.Duration(i) * time.Millisecond), Expires: t0.Add(time.Minute)})
		must(t, err)
		ids = append(ids, id)
	}
	if got, err := s.ClaimRequests(ctx, "a", t0, 10); err != nil || len(got) != 0 {
		t.Fatalf("a claims b's requests: %v %v", got, err)
	}
	// Concurrent claimers of b never get the same request.
	seen := map[int64]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				got, err := s.ClaimRequests(context.Background(), "b", t0, 1)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, r := range got {
					seen[r.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("request %d claimed %d times", id, seen[id])
		}
	}
	must(t, s.AnswerRequest(ctx, ids[0], []byte(`{"message":{"title":"ok"}}`), t0))
	got, err := s.RequestByID(ctx, ids[0])
	must(t, err)
	if got.Done.IsZero() || string(got.Reply) != `{"message":{"title":"ok"}}` || got.Claimed.IsZero() || got.Asker != "a" {
		t.Fatalf("answered request %+v", got)
	}
	if n, err := s.PruneRequests(ctx, t0.Add(time.Hour)); err != nil || n != 5 {
		t.Fatalf("prune: %d %v", n, err)
	}
}

// LISTEN gets what AddRequest and AnswerRequest notify, on commit.
func TestFleetNotify(t *testing.T) {
	s := pgDriver.open(t, pgDriver.fresh(t))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	got := make(chan string, 4)
	ready := make(chan struct{})
	go func() {
		_ = s.Listen(ctx, []string{ChannelRequests, ChannelReplies}, func() { close(ready) }, func(ch, payload string) {
			got <- ch + ":" + payload
		})
	}()
	<-ready
	now := time.Now()
	id, err := s.AddRequest(ctx, Request{Instance: "b", Target: "t", Kind: RequestPress, Payload: []byte(`{}`), Asker: "a", Created: now, Expires: now.Add(time.Minute)})
	must(t, err)
	must(t, s.AnswerRequest(ctx, id, []byte(`{}`), now))
	for _, want := range []string{ChannelRequests + ":b", ChannelReplies + ":" + strconv.FormatInt(id, 10)} {
		select {
		case g := <-got:
			if g != want {
				t.Fatalf("notification %q, want %q", g, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no notification %q", want)
		}
	}
}
