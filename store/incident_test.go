package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func inc(target, subject, code, state string) Incident {
	return Incident{Target: target, Subject: subject, Code: code, Severity: "critical", State: state,
		Title: code + " on " + subject, FirstSeen: t0, LastSeen: t0, Seen: 1}
}

// snapshot counts every table's rows, to prove a failed Apply wrote nothing.
func snapshot(t *testing.T, s *Store) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"incidents", "outbox", "notification_log", "kv", "silences", "audit", "pending"} {
		var n int
		if err := s.db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	// SQLite's AUTOINCREMENT counters must not move either. (PostgreSQL's
	// sequences are not transactional: see TestIDsAfterRollback.)
	if !s.d.pg {
		var seq int
		if err := s.db.QueryRow(`SELECT coalesce(sum(seq), 0) FROM sqlite_sequence`).Scan(&seq); err != nil {
			t.Fatal(err)
		}
		out["sqlite_sequence"] = seq
	}
	return out
}

func TestApplyAtomicity(t *testing.T) { eachDriver(t, testApplyAtomicity) }

func testApplyAtomicity(t *testing.T, d testDriver) {
	s := d.openFresh(t)
	ctx := t.Context()
	existing := Batch{
		Incidents: []Incident{inc("local", "anthropic:default", "cooldown.active", StateFiring)},
		KV:        map[string]string{"k": "old"},
	}
	must(t, s.Apply(ctx, existing))
	existingID := existing.Incidents[0].ID

	okInc := func() Incident { return inc("local", "anthropic:other", "key.rejected", StatePending) }
	okOut := func() OutboxItem {
		return OutboxItem{Channel: ChannelSlack, Dest: "C1", Ref: "alert:local:9", Payload: []byte(`{"kind":"alert"}`)}
	}
	for _, tc := range []struct {
		name string
		b    Batch
		is   error
	}{
		{"duplicate open incident in the batch", Batch{
			Incidents: []Incident{okInc(), okInc()},
			Outbox:    []OutboxItem{okOut()},
			KV:        map[string]string{"k": "new"},
		}, ErrDuplicate},
		{"duplicate of an open incident in the db (SQL unique constraint)", Batch{
			Incidents: []Incident{okInc(), inc("local", "anthropic:default", "cooldown.active", StatePending)},
			KV:        map[string]string{"k": "new"},
		}, ErrDuplicate},
		{"update makes a duplicate", Batch{
			Incidents: []Incident{okInc(), func() Incident { i := okInc(); i.ID = existingID; return i }()},
		}, ErrDuplicate},
		{"failing outbox item after incidents and outbox rows", Batch{
			Incidents: []Incident{okInc()},
			Outbox:    []OutboxItem{okOut(), {Channel: ChannelSlack, Kind: "delete"}},
			KV:        map[string]string{"k": "new"},
		}, nil},
		{"empty channel", Batch{
			Incidents: []Incident{okInc()},
			Outbox:    []OutboxItem{okOut(), {Dest: "C1"}},
		}, nil},
		{"update of a missing incident", Batch{
			Incidents: []Incident{okInc(), func() Incident { i := okInc(); i.ID = 9999; i.Code = "x"; return i }()},
			Outbox:    []OutboxItem{okOut()},
		}, ErrNotFound},
		{"invalid state", Batch{
			Incidents: []Incident{okInc(), inc("local", "s", "c", "exploded")},
		}, nil},
		{"outbox item with an id", Batch{
			Incidents: []Incident{okInc()},
			Outbox:    []OutboxItem{okOut(), func() OutboxItem { o := okOut(); o.ID = 5; return o }()},
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, s)
			orig := Batch{
				Incidents: append([]Incident(nil), tc.b.Incidents...),
				Outbox:    append([]OutboxItem(nil), tc.b.Outbox...),
			}
			err := s.Apply(ctx, tc.b)
			if err == nil {
				t.Fatal("Apply succeeded")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v, want %v", err, tc.is)
			}
			if after := snapshot(t, s); !reflect.DeepEqual(after, before) {
				t.Errorf("rows changed: %v -> %v", before, after)
			}
			if !reflect.DeepEqual(tc.b.Incidents, orig.Incidents) || !reflect.DeepEqual(tc.b.Outbox, orig.Outbox) {
				t.Error("failed Apply left IDs or defaults in the batch")
			}
			if v, _, _ := s.Get(ctx, "k"); v != "old" {
				t.Errorf("kv = %q", v)
			}
			got, _ := s.Incident(ctx, existingID)
			if got == nil || got.State != StateFiring {
				t.Errorf("existing incident changed: %+v", got)
			}
		})
	}

	// The same batches without the faulty parts go through, and IDs land
	// in the caller's slices.
	b := Batch{Incidents: []Incident{okInc()}, Outbox: []OutboxItem{okOut(), okOut()}, KV: map[string]string{"k": "new"}}
	must(t, s.Apply(ctx, b))
	if b.Incidents[0].ID == 0 || b.Outbox[0].ID == 0 || b.Outbox[1].ID <= b.Outbox[0].ID {
		t.Errorf("IDs not assigned: %+v", b)
	}
	if b.Outbox[0].Kind != KindPost || b.Outbox[0].CreatedAt.IsZero() || !b.Outbox[0].NextAttempt.Equal(b.Outbox[0].CreatedAt) {
		t.Errorf("defaults not written back: %+v", b.Outbox[0])
	}
	if err := s.Apply(ctx, Batch{}); err != nil {
		t.Errorf("empty batch: %v", err)
	}
	// A cancelled context writes nothing.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	before := snapshot(t, s)
	if err := s.Apply(cctx, Batch{Incidents: []Incident{inc("x", "y", "z", StateFiring)}}); err == nil {
		t.Error("Apply with a cancelled context succeeded")
	}
	if after := snapshot(t, s); !reflect.DeepEqual(after, before) {
		t.Errorf("cancelled Apply wrote: %v -> %v", before, after)
	}
}

func TestIncidentUniquenessAndLifecycle(t *testing.T) {
	eachDriver(t, testIncidentUniquenessAndLifecycle)
}

func testIncidentUniquenessAndLifecycle(t *testing.T, d testDriver) {
	s := d.openFresh(t)
	ctx := t.Context()

	first := inc("local", "anthropic:default", "cooldown.active", StatePending)
	first.Finding = []byte(`{"code":"cooldown.active","until":"2026-11-25T13:00:00Z"}`)
	b := Batch{Incidents: []Incident{first, inc("other", "anthropic:default", "cooldown.active", StateFiring)}}
	must(t, s.Apply(ctx, b))
	first = b.Incidents[0]

	// Same key on the same target while open: refused, pending or firing.
	for _, st := range []string{StatePending, StateFiring} {
		err := s.Apply(ctx, Batch{Incidents: []Incident{inc("local", "anthropic:default", "cooldown.active", st)}})
		if !errors.Is(err, ErrDuplicate) {
			t.Errorf("second open %s incident: %v", st, err)
		}
	}
	// A different subject or code is a different incident.
	must(t, s.Apply(ctx, Batch{Incidents: []Incident{
		inc("local", "anthropic:backup", "cooldown.active", StateFiring),
		inc("local", "anthropic:default", "disabled.active", StateFiring),
	}}))

	// Update in place: firing.
	first.State, first.FiredAt, first.Seen, first.GroupRef = StateFiring, t0.Add(time.Minute), 3, "alert:local:abc"
	first.LastNotifiedAt = t0.Add(time.Minute)
	must(t, s.Apply(ctx, Batch{Incidents: []Incident{first}}))
	got, err := s.Incident(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertIncident(t, *got, first)

	// Ack.
	must(t, s.AckIncident(ctx, first.ID, "U0123", t0.Add(2*time.Minute)))
	got, _ = s.Incident(ctx, first.ID)
	if got.AckedBy != "U0123" || !got.AckedAt.Equal(ms0(t0.Add(2*time.Minute))) {
		t.Errorf("ack not stored: %+v", got)
	}
	if err := s.AckIncident(ctx, 9999, "U1", t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("ack missing: %v", err)
	}
	if _, err := s.Incident(ctx, 9999); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing incident: %v", err)
	}

	// Resolve: history stays, a new occurrence is a new row.
	first = *got
	first.State, first.ResolvedAt, first.Missed = StateResolved, t0.Add(time.Hour), 2
	must(t, s.Apply(ctx, Batch{Incidents: []Incident{first}}))
	if err := s.AckIncident(ctx, first.ID, "U1", t0); !errors.Is(err, ErrResolved) {
		t.Errorf("ack resolved: %v", err)
	}
	again := Batch{Incidents: []Incident{inc("local", "anthropic:default", "cooldown.active", StatePending)}}
	must(t, s.Apply(ctx, again))
	if again.Incidents[0].ID == first.ID {
		t.Error("new occurrence reused the resolved row")
	}
	// Resolving it too: two resolved rows with one key are fine.
	again.Incidents[0].State = StateResolved
	must(t, s.Apply(ctx, again))
	// Reopening the older resolved one while none is open is allowed.
	first.State = StateFiring
	must(t, s.Apply(ctx, Batch{Incidents: []Incident{first}}))

	open, err := s.OpenIncidents(ctx, "local")
	if err != nil {
		t.Fatal(err)
	}
	codes := func(is []Incident) (out []string) {
		for _, i := range is {
			out = append(out, i.Target+"/"+i.Subject+"/"+i.Code+"/"+i.State)
		}
		return out
	}
	wantOpen := []string{
		"local/anthropic:default/cooldown.active/firing",
		"local/anthropic:backup/cooldown.active/firing",
		"local/anthropic:default/disabled.active/firing",
	}
	if !reflect.DeepEqual(codes(open), wantOpen) {
		t.Errorf("OpenIncidents(local) = %v, want %v", codes(open), wantOpen)
	}
	all, _ := s.OpenIncidents(ctx, "")
	if len(all) != 4 {
		t.Errorf("OpenIncidents(all) = %v", codes(all))
	}
	if none, err := s.OpenIncidents(ctx, "nope"); err != nil || len(none) != 0 {
		t.Errorf("OpenIncidents(nope) = %v, %v", none, err)
	}

	recent, _ := s.RecentIncidents(ctx, "local", 2)
	if len(recent) != 2 || recent[0].ID != again.Incidents[0].ID || recent[0].State != StateResolved {
		t.Errorf("RecentIncidents(local, 2) = %v", codes(recent))
	}
	if all, _ := s.RecentIncidents(ctx, "", 0); len(all) != 5 {
		t.Errorf("RecentIncidents(all) = %d rows", len(all))
	}
}

func assertIncident(t *testing.T, got, want Incident) {
	t.Helper()
	norm := func(i Incident) Incident {
		for _, p := range []*time.Time{&i.FirstSeen, &i.LastSeen, &i.FiredAt, &i.ResolvedAt, &i.LastNotifiedAt, &i.AckedAt} {
			if !p.IsZero() {
				*p = ms0(*p)
			}
		}
		if len(i.Finding) == 0 {
			i.Finding = nil
		}
		return i
	}
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		t.Errorf("incident\n got %+v\nwant %+v", g, w)
	}
}
