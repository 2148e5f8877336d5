package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
)

// BenchmarkApply is one evaluation's write: one new incident and two
// outbox rows (Slack and Telegram) in one transaction.
func BenchmarkApply(b *testing.B) {
	s := openTest(b)
	ctx := context.Background()
	payload := []byte(`{"kind":"alert","severity":"critical","target":"local","title":"cooldown.active on anthropic:default","ref":"alert:local:g"}`)
	i := 0
	for b.Loop() {
		i++
		batch := Batch{
			Incidents: []Incident{{Target: "local", Subject: "anthropic:default", Code: fmt.Sprintf("code.%d", i),
				Severity: "critical", State: StateFiring, Title: "cooldown", Finding: payload, FirstSeen: t0, LastSeen: t0, FiredAt: t0, Seen: 2}},
			Outbox: []OutboxItem{
				{Channel: ChannelSlack, Dest: "C0123456789", Ref: "alert:local:g", Payload: payload, CreatedAt: t0},
				{Channel: ChannelTelegram, Dest: "-1001234567890", Ref: "alert:local:g", Payload: payload, CreatedAt: t0},
			},
		}
		if err := s.Apply(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDueOutbox reads 50 due items out of 1000 pending, with 5000
// delivered and 100 dead rows around.
func BenchmarkDueOutbox(b *testing.B) {
	s := openTest(b)
	ctx := context.Background()
	payload := []byte(`{"kind":"alert","title":"x"}`)
	var batch Batch
	for i := range 6100 {
		batch.Outbox = append(batch.Outbox, OutboxItem{Channel: ChannelSlack, Dest: "C1", Ref: fmt.Sprintf("r%d", i),
			Payload: payload, CreatedAt: t0.Add(time.Duration(i) * time.Second)})
	}
	if err := s.Apply(ctx, batch); err != nil {
		b.Fatal(err)
	}
	for i, o := range batch.Outbox {
		switch {
		case i < 5000:
			if _, err := s.db.Exec(`UPDATE outbox SET sent_at = ? WHERE id = ?`, t0.UnixMilli(), o.ID); err != nil {
				b.Fatal(err)
			}
		case i < 5100:
			if _, err := s.db.Exec(`UPDATE outbox SET dead = 1 WHERE id = ?`, o.ID); err != nil {
				b.Fatal(err)
			}
		}
	}
	now := t0.Add(24 * time.Hour)
	for b.Loop() {
		items, err := s.DueOutbox(ctx, now, 50)
		if err != nil {
			b.Fatal(err)
		}
		if len(items) != 50 {
			b.Fatalf("%d items", len(items))
		}
	}
}

// BenchmarkClaimAck is the outbox worker's loop on both drivers: claim up
// to 10 due items (ClaimOutbox), mark each sent (MarkSent: the outbox row
// and a notification log row, in one transaction). One op is one item
// delivered. workers=4 runs four workers, each with its own Store (as four
// processes would): SQLite serializes them on its one writer, PostgreSQL
// lets them claim side by side (SKIP LOCKED).
func BenchmarkClaimAck(b *testing.B) {
	for _, d := range drivers {
		for _, workers := range []int{1, 4} {
			b.Run(fmt.Sprintf("%s/workers=%d", d.name, workers), func(b *testing.B) { benchClaimAck(b, d, workers) })
		}
	}
}

func benchClaimAck(b *testing.B, d testDriver, workers int) {
	c := d.fresh(b)
	stores := make([]*Store, workers)
	for i := range stores {
		stores[i] = d.open(b, c)
	}
	ctx := context.Background()
	payload := []byte(`{"kind":"alert","severity":"critical","target":"local","title":"cooldown.active on anthropic:default","ref":"alert:local:g"}`)
	for done := 0; done < b.N; {
		var batch Batch
		for i := 0; i < 1000 && done < b.N; i++ {
			batch.Outbox = append(batch.Outbox, OutboxItem{Channel: ChannelSlack, Dest: "C0123456789", Ref: fmt.Sprintf("alert:local:%d", done),
				Payload: payload, CreatedAt: t0.Add(time.Duration(done) * time.Millisecond)})
			done++
		}
		if err := stores[0].Apply(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	now := t0.Add(24 * time.Hour)
	var delivered atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	for _, s := range stores {
		wg.Go(func() {
			for {
				items, err := s.ClaimOutbox(ctx, now, 10, time.Minute)
				if err != nil {
					b.Error(err)
					return
				}
				if len(items) == 0 {
					return
				}
				for _, o := range items {
					if err := s.MarkSent(ctx, o.ID, bot.Sent{Channel: "C0123456789", ID: "1700000000.000100"}, now); err != nil {
						b.Error(err)
						return
					}
					delivered.Add(1)
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if int(delivered.Load()) != b.N {
		b.Fatalf("%d items delivered, want %d", delivered.Load(), b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
}
