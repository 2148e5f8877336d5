package store

import (
	"context"
	"fmt"
	"testing"
	"time"
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
