package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/internal/pgtest"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// fleetPlatform is a chat platform shared by several deliverers: it
// records every message that went out, by ref, and answers history
// lookups (bot.Finder) from that record, as Slack's metadata search does.
type fleetPlatform struct {
	mu    sync.Mutex
	sent  map[string][]string // ref → deliverers that posted it
	finds map[string]int      // ref → history lookups
}

func (p *fleetPlatform) post(by, ref string) bot.Sent {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent[ref] = append(p.sent[ref], by)
	return bot.Sent{Channel: "C1", ID: fmt.Sprintf("%s/%d", ref, len(p.sent[ref]))}
}

// fleetNotifier is one deliverer's Slack notifier on the shared platform;
// with hang set, Send posts and then never answers (the process dies
// before it learns the outcome), signalling claimed with the ref.
type fleetNotifier struct {
	p       *fleetPlatform
	by      string
	hang    bool
	claimed chan string
}

func (n *fleetNotifier) Name() string { return store.ChannelSlack }

func (n *fleetNotifier) Send(ctx context.Context, _ string, msg bot.Message, _ *bot.Sent) (bot.Sent, error) {
	time.Sleep(3 * time.Millisecond) // a send takes a while: the deliverers overlap
	sent := n.p.post(n.by, msg.Ref)
	if n.hang {
		n.claimed <- msg.Ref
		<-ctx.Done()
		return bot.Sent{}, ctx.Err()
	}
	return sent, nil
}

func (n *fleetNotifier) Find(_ context.Context, _, ref string, _ time.Time) (*bot.Sent, error) {
	n.p.mu.Lock()
	defer n.p.mu.Unlock()
	n.p.finds[ref]++
	if len(n.p.sent[ref]) == 0 {
		return nil, nil
	}
	return &bot.Sent{Channel: "C1", ID: ref + "/1"}, nil
}

// fleetDeliverer runs one Service's delivery loop on its own store handle
// until stopped.
type fleetDeliverer struct {
	st     *store.Store
	cancel context.CancelFunc
	done   chan struct{}
}

func startDeliverer(st *store.Store, n *fleetNotifier, lease time.Duration) *fleetDeliverer {
	svc := &Service{Store: st, Routes: []Route{{Notifier: n, Dest: "C1"}}, Log: zerolog.Nop(), DeliveryLease: lease}
	ctx, cancel := context.WithCancel(context.Background())
	d := &fleetDeliverer{st: st, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(d.done)
		for ctx.Err() == nil {
			if svc.DeliverDue(ctx) == 0 {
				select {
				case <-ctx.Done():
				case <-time.After(5 * time.Millisecond):
				}
			}
		}
	}()
	return d
}

func (d *fleetDeliverer) stop() { d.cancel(); <-d.done }

// Several deliverers on one database (three processes on PostgreSQL, two
// handles on one SQLite file) deliver a burst of alerts exactly once; a
// deliverer killed between its send and MarkSent leaves its item to
// another one after the lease, which looks it up first and does not post
// it again.
func TestFleetDeliveryPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	dsn := pgtest.NewDatabase(t)
	testFleetDelivery(t, 3, func(t *testing.T) *store.Store {
		st, err := store.OpenConfig(context.Background(), store.Config{Driver: store.DriverPostgres, DSN: dsn})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	})
}

func TestFleetDeliverySQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	testFleetDelivery(t, 2, func(t *testing.T) *store.Store {
		st, err := store.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	})
}

func testFleetDelivery(t *testing.T, deliverers int, open func(t *testing.T) *store.Store) {
	ctx := context.Background()
	const (
		burst = 60
		lease = 2 * time.Second
	)
	admin := open(t)
	p := &fleetPlatform{sent: map[string][]string{}, finds: map[string]int{}}
	enqueue := func(prefix string, n int) {
		t.Helper()
		var b store.Batch
		for i := range n {
			ref := fmt.Sprintf("%s%03d", prefix, i)
			payload, _ := json.Marshal(bot.Message{Kind: bot.KindAlert, Ref: ref, Title: ref})
			b.Outbox = append(b.Outbox, store.OutboxItem{Channel: store.ChannelSlack, Dest: "C1", Ref: ref, Kind: store.KindPost, Payload: payload})
		}
		if err := admin.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	waitEmpty := func(within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			n, err := admin.OutboxDepth(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d items still undelivered after %v", n, within)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	exactlyOnce := func(prefix string, n int) {
		t.Helper()
		p.mu.Lock()
		defer p.mu.Unlock()
		for i := range n {
			ref := fmt.Sprintf("%s%03d", prefix, i)
			if got := p.sent[ref]; len(got) != 1 {
				t.Errorf("%s posted %d times (by %v), want exactly once", ref, len(got), got)
			}
		}
	}

	// A burst through all deliverers at once.
	enqueue("burst-", burst)
	var ds []*fleetDeliverer
	for i := range deliverers {
		ds = append(ds, startDeliverer(open(t), &fleetNotifier{p: p, by: fmt.Sprint("d", i)}, lease))
	}
	waitEmpty(30 * time.Second)
	for _, d := range ds {
		d.stop()
	}
	exactlyOnce("burst-", burst)
	by := map[string]int{}
	for _, who := range p.sent {
		by[who[0]]++
	}
	t.Logf("burst of %d: delivered by %v", burst, by)
	if len(by) < 2 {
		t.Errorf("burst delivered by %v: the deliverers did not run side by side", by)
	}
	if log, err := admin.NotificationLog(ctx, 0); err != nil || len(log) != burst {
		t.Errorf("notification log: %d rows (%v), want %d", len(log), err, burst)
	}

	// A deliverer killed mid-send: it claimed an item and posted it, and
	// dies (its connection with it) before MarkSent.
	const more = 5
	enqueue("kill-", more)
	claimed := make(chan string, 1)
	victim := startDeliverer(open(t), &fleetNotifier{p: p, by: "victim", hang: true, claimed: claimed}, lease)
	var ref string
	select {
	case ref = <-claimed:
	case <-time.After(10 * time.Second):
		t.Fatal("the victim claimed nothing")
	}
	killedAt := time.Now()
	_ = victim.st.Close() // the process is gone: no release of its claim
	victim.stop()
	ds = ds[:0]
	for i := range deliverers - 1 {
		ds = append(ds, startDeliverer(open(t), &fleetNotifier{p: p, by: fmt.Sprint("s", i)}, lease))
	}
	waitEmpty(30 * time.Second)
	took := time.Since(killedAt)
	for _, d := range ds {
		d.stop()
	}
	exactlyOnce("kill-", more)
	p.mu.Lock()
	finds, who := p.finds[ref], p.sent[ref]
	p.mu.Unlock()
	if finds == 0 {
		t.Errorf("%s was taken over without a history lookup", ref)
	}
	if len(who) != 1 || who[0] != "victim" {
		t.Errorf("%s posted by %v, want only by the victim", ref, who)
	}
	if took < lease/2 {
		t.Errorf("the victim's item was taken over after %v, before its lease (%v) could end", took, lease)
	}
	for _, r := range []string{"kill-000", "kill-001", "kill-002", "kill-003", "kill-004"} {
		if r != ref && p.finds[r] != 0 {
			t.Errorf("%s: %d history lookups for an item never attempted before", r, p.finds[r])
		}
	}
	log, err := admin.NotificationLog(ctx, 0)
	if err != nil || len(log) != burst+more {
		t.Errorf("notification log: %d rows (%v), want %d", len(log), err, burst+more)
	}
	t.Logf("the victim's %s delivered (found, not re-posted) %v after the kill; lookups %d", ref, took.Round(time.Millisecond), finds)
}
