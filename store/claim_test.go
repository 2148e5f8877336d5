package store

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestClaimOutbox(t *testing.T) { eachDriver(t, testClaimOutbox) }

func testClaimOutbox(t *testing.T, d testDriver) {
	s := d.openFresh(t)
	ctx := t.Context()
	var b Batch
	for i := range 5 {
		b.Outbox = append(b.Outbox, OutboxItem{Channel: ChannelSlack, Dest: "C1", Ref: fmt.Sprint(i), CreatedAt: t0.Add(time.Duration(5-i) * time.Second)})
	}
	b.Outbox = append(b.Outbox, OutboxItem{Channel: ChannelSlack, Dest: "C1", Ref: "later", CreatedAt: t0, NextAttempt: t0.Add(time.Hour)})
	must(t, s.Apply(ctx, b))
	id := func(i int) int64 { return b.Outbox[i].ID }
	now := t0.Add(time.Minute)
	claim := func(at time.Time, limit int) []OutboxItem {
		t.Helper()
		got, err := s.ClaimOutbox(ctx, at, limit, 10*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	first := claim(now, 2) // oldest first: created last in the batch
	if !reflect.DeepEqual(ids(first), []int64{id(4), id(3)}) {
		t.Fatalf("first claim %v, want %v", ids(first), []int64{id(4), id(3)})
	}
	for _, o := range first {
		if o.Attempts != 1 || !o.LastAttempt.Equal(ms0(now)) || !o.NextAttempt.Equal(ms0(now.Add(10*time.Minute))) {
			t.Errorf("claimed item: %+v", o)
		}
	}
	if got := ids(claim(now, 0)); !reflect.DeepEqual(got, []int64{id(2), id(1), id(0)}) {
		t.Errorf("second claim %v (the leased ones must not come back)", got)
	}
	if got := claim(now, 0); len(got) != 0 {
		t.Errorf("third claim %v, want none", ids(got))
	}
	// Acked, failed with a retry time, failed keeping the lease, dead.
	must(t, s.MarkSent(ctx, id(4), sent("C1", "1"), now))
	must(t, s.MarkFailed(ctx, id(3), "502", now.Add(time.Minute), false))
	must(t, s.MarkFailed(ctx, id(2), "timeout", time.Time{}, false))
	must(t, s.MarkFailed(ctx, id(1), "chat not found", time.Time{}, true))
	if got := ids(claim(now.Add(2*time.Minute), 0)); !reflect.DeepEqual(got, []int64{id(3)}) {
		t.Errorf("after the retry time: %v, want [%d]", got, id(3))
	}
	// When the lease ends, an item whose claimer never reported is due
	// again, with its attempts counted; the scheduled one too by now.
	got := claim(now.Add(time.Hour), 0)
	if want := []int64{id(5), id(3), id(2), id(0)}; !reflect.DeepEqual(ids(got), want) {
		t.Fatalf("after the lease: %v, want %v", ids(got), want)
	}
	if got[2].Attempts != 2 || got[2].LastError != "timeout" {
		t.Errorf("re-claimed item: %+v", got[2])
	}
	if n, _ := s.OutboxDepth(ctx); n != 4 {
		t.Errorf("depth %d, want 4", n)
	}
}

// Workers in several stores (processes) claim until nothing is left: every
// item is delivered exactly once.
func TestClaimOutboxConcurrent(t *testing.T) { eachDriver(t, testClaimOutboxConcurrent) }

func testClaimOutboxConcurrent(t *testing.T, d testDriver) {
	c := d.fresh(t)
	stores := []*Store{d.open(t, c), d.open(t, c), d.open(t, c)}
	ctx := t.Context()
	const n = 150
	var b Batch
	for i := range n {
		b.Outbox = append(b.Outbox, OutboxItem{Channel: ChannelTelegram, Dest: "-100", Ref: fmt.Sprint(i), CreatedAt: t0.Add(time.Duration(i) * time.Millisecond)})
	}
	must(t, stores[0].Apply(ctx, b))

	var (
		mu     sync.Mutex
		claims = map[int64]int{}
		wg     sync.WaitGroup
	)
	now := t0.Add(time.Minute)
	for w := range 6 {
		s := stores[w%len(stores)]
		wg.Go(func() {
			for {
				got, err := s.ClaimOutbox(ctx, now, 7, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				for _, o := range got {
					mu.Lock()
					claims[o.ID]++
					mu.Unlock()
					if err := s.MarkSent(ctx, o.ID, sent("-100", fmt.Sprint(o.ID)), now); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	if len(claims) != n {
		t.Errorf("%d items claimed, want %d", len(claims), n)
	}
	for id, k := range claims {
		if k != 1 {
			t.Errorf("item %d claimed %d times", id, k)
		}
	}
	if log, err := stores[1].NotificationLog(ctx, 0); err != nil || len(log) != n {
		t.Errorf("%d deliveries logged (%v), want %d", len(log), err, n)
	}
}

// A row another transaction holds: PostgreSQL's claim skips it and returns
// at once; SQLite has no row locks, so a claim waits for the other writer
// (BEGIN IMMEDIATE) and then sees everything.
func TestClaimWhileAnotherTransactionHoldsARow(t *testing.T) {
	eachDriver(t, func(t *testing.T, d testDriver) {
		c := d.fresh(t)
		a, b := d.open(t, c), d.open(t, c)
		ctx := t.Context()
		batch := Batch{Outbox: []OutboxItem{
			{Channel: ChannelSlack, Dest: "C1", Ref: "held", CreatedAt: t0},
			{Channel: ChannelSlack, Dest: "C1", Ref: "free", CreatedAt: t0.Add(time.Second)},
		}}
		must(t, a.Apply(ctx, batch))
		held, free := batch.Outbox[0].ID, batch.Outbox[1].ID

		tx, err := a.raw.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		lock := `UPDATE outbox SET dest = dest WHERE id = ?` // SQLite: takes the write lock
		if d.name == DriverPostgres {
			lock = `SELECT id FROM outbox WHERE id = $1 FOR UPDATE`
		}
		if _, err := tx.ExecContext(ctx, lock, held); err != nil {
			t.Fatal(err)
		}
		const hold = 400 * time.Millisecond
		go func() {
			time.Sleep(hold)
			_ = tx.Commit()
		}()
		start := time.Now()
		cctx, cancel := context.WithTimeout(ctx, 4*time.Second)
		defer cancel()
		got, err := b.ClaimOutbox(cctx, t0.Add(time.Minute), 0, time.Minute)
		took := time.Since(start)
		if err != nil {
			t.Fatalf("claim: %v (after %s)", err, took)
		}
		switch d.name {
		case DriverPostgres:
			if !reflect.DeepEqual(ids(got), []int64{free}) || took >= hold {
				t.Errorf("claim got %v after %s; want only %d, without waiting for the lock holder", ids(got), took, free)
			}
		case DriverSQLite:
			if !reflect.DeepEqual(ids(got), []int64{held, free}) || took < hold/2 {
				t.Errorf("claim got %v after %s; want both, after the writer committed", ids(got), took)
			}
		}
	})
}

// Two processes marking one item sent: one notification log row, and the
// item keeps the first delivery's id.
func TestMarkSentConcurrent(t *testing.T) { eachDriver(t, testMarkSentConcurrent) }

func testMarkSentConcurrent(t *testing.T, d testDriver) {
	c := d.fresh(t)
	stores := []*Store{d.open(t, c), d.open(t, c)}
	ctx := t.Context()
	for round := range 8 {
		b := Batch{Outbox: []OutboxItem{{Channel: ChannelSlack, Dest: "C1", Ref: fmt.Sprint("r", round)}}}
		must(t, stores[0].Apply(ctx, b))
		id := b.Outbox[0].ID
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range 4 {
			wg.Go(func() {
				<-start
				if err := stores[g%2].MarkSent(ctx, id, sent("C1", fmt.Sprint(g)), t0); err != nil {
					t.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
		var rows int
		if err := stores[0].db.QueryRow(`SELECT count(*) FROM notification_log WHERE outbox_id = ?`, id).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		o, err := stores[1].OutboxItem(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		sm, _ := stores[1].SentMessage(ctx, ChannelSlack, "C1", b.Outbox[0].Ref)
		if rows != 1 || sm == nil || *sm != o.External {
			t.Errorf("round %d: %d log rows, item %+v, log %+v; want one row matching the item", round, rows, o.External, sm)
		}
	}
}

// A serve that starts with the store to itself releases what an earlier
// process claimed and never finished (kill -9 mid-send): due at once, its
// Attempts kept (so the sender looks before resending); items never tried
// and items sent keep their times.
func TestReleaseClaims(t *testing.T) { eachDriver(t, testReleaseClaims) }

func testReleaseClaims(t *testing.T, d testDriver) {
	s := d.openFresh(t)
	ctx := t.Context()
	b := Batch{Outbox: []OutboxItem{
		{Channel: ChannelSlack, Dest: "C1", Ref: "claimed", CreatedAt: t0},
		{Channel: ChannelSlack, Dest: "C1", Ref: "scheduled", CreatedAt: t0, NextAttempt: t0.Add(time.Hour)},
		{Channel: ChannelSlack, Dest: "C1", Ref: "sent", CreatedAt: t0.Add(-time.Second)},
	}}
	must(t, s.Apply(ctx, b))
	claimed, err := s.ClaimOutbox(ctx, t0, 0, time.Hour)
	must(t, err)
	if len(claimed) != 2 {
		t.Fatalf("claimed %v", ids(claimed))
	}
	must(t, s.MarkSent(ctx, b.Outbox[2].ID, sent("C1", "1"), t0))
	restart := t0.Add(time.Minute)
	n, err := s.ReleaseClaims(ctx, restart)
	must(t, err)
	if n != 1 {
		t.Errorf("released %d, want 1", n)
	}
	due, err := s.ClaimOutbox(ctx, restart, 0, time.Hour)
	must(t, err)
	if len(due) != 1 || due[0].Ref != "claimed" || due[0].Attempts != 2 {
		t.Fatalf("due after the restart: %+v, want the claimed item at its second attempt", due)
	}
}
