package store

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/internal/pgtest"
)

// FuzzStoreValues pushes arbitrary strings and bytes (NUL, invalid UTF-8,
// quotes, SQL) through every kind of row and checks they come back exactly,
// on SQLite and (unless OPENCLAW_BOT_PG=skip or it is not installed)
// PostgreSQL, whose text columns hold such strings escaped.
// Seeds: testdata/fuzz/FuzzStoreValues.
func FuzzStoreValues(f *testing.F) {
	f.Add("local", "anthropic:default", []byte(`{"code":"cooldown.active"}`))
	f.Add("nul\x00", "\xff\x1b00 ESC", []byte("\x00"))
	configs := []Config{{Path: filepath.Join(f.TempDir(), "fuzz.db")}}
	if pgtest.Wanted() {
		configs = append(configs, Config{Driver: DriverPostgres, DSN: pgtest.NewDatabase(f)})
	}
	var stores []*Store
	for _, c := range configs {
		s, err := OpenConfig(context.Background(), c)
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(func() { _ = s.Close() })
		stores = append(stores, s)
	}
	var n atomic.Int64

	f.Fuzz(func(t *testing.T, a, b string, c []byte) {
		for _, s := range stores {
			fuzzStore(t, s, &n, a, b, c)
		}
	})
}

func fuzzStore(t *testing.T, s *Store, n *atomic.Int64, a, b string, c []byte) {
	{
		ctx := context.Background()
		seq := n.Add(1)
		code := fmt.Sprintf("%s#%d", b, seq) // unique among open incidents
		at := t0.Add(time.Duration(seq) * time.Millisecond)

		batch := Batch{
			Incidents: []Incident{{Target: a, Subject: b, Code: code, Severity: a, State: StateFiring, Title: b,
				Finding: c, FirstSeen: at, LastSeen: at, FiredAt: at, Seen: len(a), Missed: len(b), AckedBy: a, GroupRef: b}},
			Outbox: []OutboxItem{{Channel: "c" + a, Dest: a, Ref: b, Kind: KindEdit, Payload: c, CreatedAt: at,
				LastError: b, External: bot.Sent{Channel: a, ID: b}}},
			KV: map[string]string{a: b, b: a},
		}
		if err := s.Apply(ctx, batch); err != nil {
			t.Fatalf("Apply: %v", err)
		}
		gotInc, err := s.Incident(ctx, batch.Incidents[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		assertIncident(t, *gotInc, batch.Incidents[0])

		gotOut, err := s.OutboxItem(ctx, batch.Outbox[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		wantOut := batch.Outbox[0]
		wantOut.CreatedAt, wantOut.NextAttempt = ms0(at), ms0(at)
		if !bytes.Equal(gotOut.Payload, wantOut.Payload) {
			t.Fatalf("payload %q, want %q", gotOut.Payload, wantOut.Payload)
		}
		gotOut.Payload, wantOut.Payload = nil, nil
		if !reflect.DeepEqual(*gotOut, wantOut) {
			t.Fatalf("outbox\n got %+v\nwant %+v", *gotOut, wantOut)
		}

		// KV: the later of the two writes wins when a == b.
		wantA, wantB := b, a
		if a == b {
			wantA = a
		}
		if v, ok, err := s.Get(ctx, a); err != nil || !ok || v != wantA {
			t.Fatalf("Get(%q) = %q, %v, %v; want %q", a, v, ok, err, wantA)
		}
		if v, ok, err := s.Get(ctx, b); err != nil || !ok || v != wantB {
			t.Fatalf("Get(%q) = %q, %v, %v; want %q", b, v, ok, err, wantB)
		}
		if err := s.Put(ctx, a, string(c)); err != nil {
			t.Fatal(err)
		}
		if v, _, _ := s.Get(ctx, a); v != string(c) {
			t.Fatalf("Put/Get(%q) = %q, want %q", a, v, c)
		}

		// Delivery and lookup for edit-in-place.
		if err := s.MarkSent(ctx, batch.Outbox[0].ID, bot.Sent{Channel: b, ID: "x" + a}, at); err != nil {
			t.Fatal(err)
		}
		if b != "" {
			sm, err := s.SentMessage(ctx, "c"+a, a, b)
			if err != nil || sm == nil || sm.Channel != b || sm.ID != "x"+a {
				t.Fatalf("SentMessage = %+v, %v", sm, err)
			}
		}

		// Audit.
		e := AuditEntry{At: at, Actor: a, ActorName: b, Surface: a, Where: b, Command: a + " " + b,
			Args: []string{a, b, "", string(c)}, Before: c, After: []byte(a), Outcome: b, Error: a,
			Duration: time.Duration(seq) * time.Microsecond, BackupPath: b}
		if err := s.AddAudit(ctx, &e); err != nil {
			t.Fatal(err)
		}
		gotAudit, err := s.AuditEntry(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		assertAudit(t, *gotAudit, e)
		if list, err := s.Audit(ctx, 1); err != nil || len(list) != 1 {
			t.Fatalf("Audit(1) = %d rows, %v", len(list), err)
		} else {
			assertAudit(t, list[0], e)
		}

		// Pending confirmation.
		p := Pending{Actor: "u" + a, Surface: b, Where: a, Command: b, Args: []string{b, a}, Preview: c, Created: at}
		if err := s.AddPending(ctx, &p); err != nil {
			t.Fatal(err)
		}
		gotP, err := s.TakePending(ctx, p.ID, "u"+a, at)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(gotP.Preview, c) || !reflect.DeepEqual(gotP.Args, []string{b, a}) || gotP.Actor != p.Actor ||
			gotP.Surface != b || gotP.Where != a || gotP.Command != b {
			t.Fatalf("pending\n got %+v\nwant %+v", *gotP, p)
		}

		// Silence with these fields matches exactly them.
		sil := Silence{Target: a, Subject: b, Code: code, Starts: at, Ends: at.Add(time.Hour), CreatedBy: a, Comment: b}
		if err := s.AddSilence(ctx, &sil); err != nil {
			t.Fatal(err)
		}
		if !sil.Matches(a, b, code, at) {
			t.Fatal("silence does not match its own fields")
		}
		gotS, err := s.Silence(ctx, sil.ID)
		if err != nil {
			t.Fatal(err)
		}
		if gotS.Target != a || gotS.Subject != b || gotS.Code != code || gotS.CreatedBy != a || gotS.Comment != b {
			t.Fatalf("silence\n got %+v\nwant %+v", *gotS, sil)
		}
		if !gotS.Matches(a, b, code, at.Add(time.Millisecond)) {
			t.Fatal("stored silence does not match its own fields")
		}
	}
}

func assertAudit(t testing.TB, got, want AuditEntry) {
	t.Helper()
	norm := func(e AuditEntry) AuditEntry {
		e.At = ms0(e.At)
		if len(e.Before) == 0 {
			e.Before = nil
		}
		if len(e.After) == 0 {
			e.After = nil
		}
		if len(e.Args) == 0 {
			e.Args = nil
		}
		return e
	}
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		t.Errorf("audit\n got %+v\nwant %+v", g, w)
	}
}
