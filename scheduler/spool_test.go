package scheduler

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// closedStore is a store that answers nothing (every call fails, as
// against an unreachable PostgreSQL).
func closedStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "gone.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return st
}

// The spool without a server: the service's store is swapped for one that
// answers nothing, the install fires, resolves, fires anew and resolves
// (one evaluation each), and the store comes back. Drain writes the kept
// batches in order (merged past a bound of 2, or apart) and delivers
// post, edit, post, edit, once each; every incident occurrence has one row.
func TestSpoolKeepsOrderWhileTheStoreIsDown(t *testing.T) {
	for _, tc := range []struct {
		name        string
		max         int
		wantSpooled int
	}{
		{"apart", 0, 4},
		{"merged past the bound", 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, filepath.Join(t.TempDir(), "bot.db"))
			logs := &lockedBuffer{}
			f.svc.Log = zerolog.New(logs).Level(zerolog.InfoLevel)
			f.svc.spool.max = tc.max
			if err := f.svc.Load(ctx); err != nil {
				t.Fatal(err)
			}
			eval := func() {
				t.Helper()
				if err := f.svc.Evaluate(ctx, "prod"); err != nil {
					t.Fatal(err)
				}
			}
			eval() // healthy: what the service knows when the store goes
			up := f.svc.Store
			f.svc.Store = closedStore(t)

			cooldown(t, f.dir, time.Now().Add(time.Hour))
			eval()
			if err := f.dir.SetRow("authProfiles.state", nil); err != nil {
				t.Fatal(err)
			}
			eval()
			cooldown(t, f.dir, time.Now().Add(2*time.Hour))
			eval()
			if err := f.dir.SetRow("authProfiles.state", nil); err != nil {
				t.Fatal(err)
			}
			eval()
			if n := f.svc.Spooled(); n != tc.wantSpooled {
				t.Errorf("Spooled %d, want %d", n, tc.wantSpooled)
			}
			if n := f.svc.DeliverDue(ctx); n != 0 {
				t.Errorf("DeliverDue with the store down tried %d", n)
			}

			f.svc.Store = up
			if left := f.svc.Drain(ctx); left != 0 || f.svc.Spooled() != 0 {
				t.Fatalf("Drain: %d left, %d spooled", left, f.svc.Spooled())
			}
			var kinds []bot.Kind
			var refs []string
			for _, s := range f.slack.sent {
				kinds = append(kinds, s.Msg.Kind)
				refs = append(refs, s.Msg.Ref)
				if (s.Msg.Kind == bot.KindResolved) != (s.Prev != nil) {
					t.Errorf("%s %s: prev %v (a resolve edits its alert, an alert is a new post)", s.Msg.Kind, s.Msg.Ref, s.Prev)
				}
			}
			if want := []bot.Kind{bot.KindAlert, bot.KindResolved, bot.KindAlert, bot.KindResolved}; !slices.Equal(kinds, want) ||
				refs[0] != refs[1] || refs[2] != refs[3] || refs[0] == refs[2] {
				t.Errorf("delivered %v %v, want alert, its resolve, a new alert, its resolve", kinds, refs)
			}
			if len(f.tg.sent) != 4 {
				t.Errorf("telegram got %d messages, want 4", len(f.tg.sent))
			}
			all, err := up.RecentIncidents(ctx, "prod", 0)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[rowKey]int{}
			for _, r := range all {
				seen[rowKeyOf(r.Target, r.Subject, r.Code, r.FirstSeen)]++
				if r.State != store.StateResolved {
					t.Errorf("incident %s@%s still %s", r.Code, r.Subject, r.State)
				}
			}
			for k, n := range seen {
				if n != 1 {
					t.Errorf("incident %v stored %d times", k, n)
				}
			}
			if len(all) == 0 || len(all)%2 != 0 {
				t.Errorf("%d incident rows, want each code's two occurrences", len(all))
			}
			log := logs.String()
			for msg, want := range map[string]int{
				"store unreachable: keeping evaluations in memory until it returns": 1,
				"store reachable again: 4 evaluations written, 4 notices queued":    1,
			} {
				if got := strings.Count(log, msg); got != want {
					t.Errorf("log %q %d times, want %d:\n%s", msg, got, want, log)
				}
			}
		})
	}
}

// A batch the store refuses for good does not block: a row of the same
// occurrence already there (its commit's answer was lost) is updated; an
// open row of another occurrence makes the batch go without its incident
// rows, its notices still queued.
func TestWriteRefusedBatch(t *testing.T) {
	first := time.UnixMilli(1_700_000_000_000).UTC()
	for _, tc := range []struct {
		name      string
		stored    time.Time // FirstSeen of the open row already in the store
		wantRows  int
		wantState string // of the stored row afterwards
		wantLog   string
	}{
		{"same occurrence: adopted", first, 1, store.StateFiring, "incident rows already in the store"},
		{"another occurrence: rows dropped", first.Add(-time.Hour), 1, store.StatePending, "the store refuses this evaluation's incident rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st, err := store.Open(ctx, filepath.Join(t.TempDir(), "bot.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			logs := &lockedBuffer{}
			s := &Service{Store: st, Log: zerolog.New(logs)}
			row := store.Incident{Target: "prod", Subject: "anthropic:default", Code: "cooldown.active", Severity: "critical",
				State: store.StatePending, Finding: []byte("{}"), FirstSeen: tc.stored, LastSeen: tc.stored}
			if err := st.Apply(ctx, store.Batch{Incidents: []store.Incident{row}}); err != nil {
				t.Fatal(err)
			}
			row.FirstSeen, row.State, row.FiredAt = first, store.StateFiring, first
			b := store.Batch{Incidents: []store.Incident{row},
				Outbox: []store.OutboxItem{{Channel: "slack", Dest: "C1", Ref: "r1", Kind: store.KindPost, Payload: []byte("{}"), NextAttempt: first, CreatedAt: first}}}
			if err := s.write(ctx, &b); err != nil {
				t.Fatalf("write: %v", err)
			}
			all, err := st.RecentIncidents(ctx, "prod", 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != tc.wantRows || all[0].State != tc.wantState {
				t.Errorf("%d rows, first %s; want %d, %s", len(all), all[0].State, tc.wantRows, tc.wantState)
			}
			if n, _ := st.OutboxDepth(ctx); n != 1 {
				t.Errorf("outbox depth %d, want the notice queued", n)
			}
			if !strings.Contains(logs.String(), tc.wantLog) {
				t.Errorf("log lacks %q:\n%s", tc.wantLog, logs)
			}
		})
	}
}

// Past its bound the spool merges new batches into the newest one, never
// into the oldest (a flush may be writing it): an occurrence's newer row
// replaces its older one in place, outbox items and kv accumulate.
func TestSpoolMerge(t *testing.T) {
	at := func(m int64) time.Time { return time.UnixMilli(m).UTC() }
	inc := func(code, state string, first int64, id int64) store.Incident {
		return store.Incident{ID: id, Target: "prod", Subject: "p", Code: code, State: state, FirstSeen: at(first)}
	}
	batch := func(out string, kv map[string]string, rows ...store.Incident) spooled {
		return spooled{batch: store.Batch{Incidents: rows, Outbox: []store.OutboxItem{{Ref: out}}, KV: kv}, evals: 1, notices: 1}
	}
	sp := spool{max: 2}
	for i, e := range []spooled{
		batch("a", nil, inc("x", store.StateFiring, 1, 0)),
		batch("b", map[string]string{"version:prod": "1"}, inc("x", store.StateResolved, 1, 0)),
		batch("c", map[string]string{"version:prod": "2"}, inc("x", store.StateFiring, 2, 0), inc("y", store.StatePending, 3, 7)),
		batch("d", nil, inc("x", store.StateResolved, 2, 0), inc("y", store.StateResolved, 3, 0)),
	} {
		pushed, started := sp.push(e, i > 0)
		if !pushed || started != (i == 0) {
			t.Fatalf("push %d: pushed %v started %v", i, pushed, started)
		}
	}
	if sp.len() != 2 {
		t.Fatalf("%d entries, want 2 (the bound)", sp.len())
	}
	if h, _ := sp.head(); len(h.batch.Incidents) != 1 || h.batch.Outbox[0].Ref != "a" || h.evals != 1 {
		t.Errorf("the oldest entry changed: %+v", h)
	}
	last := sp.entries[1]
	var got []string
	for _, r := range last.batch.Incidents {
		got = append(got, r.Code+"/"+r.State+"/"+r.FirstSeen.Format("05.000"))
	}
	want := []string{"x/resolved/00.001", "x/resolved/00.002", "y/resolved/00.003"}
	if !slices.Equal(got, want) {
		t.Errorf("merged rows %v, want %v", got, want)
	}
	if last.batch.Incidents[2].ID != 7 {
		t.Errorf("the merged row of y lost its id: %d", last.batch.Incidents[2].ID)
	}
	var outs []string
	for _, o := range last.batch.Outbox {
		outs = append(outs, o.Ref)
	}
	if !slices.Equal(outs, []string{"b", "c", "d"}) || last.evals != 3 || last.notices != 3 {
		t.Errorf("merged outbox %v, %d evaluations, %d notices", outs, last.evals, last.notices)
	}
	if v, _ := sp.kv("version:prod"); v != "2" {
		t.Errorf("newest version %q, want 2", v)
	}
	if _, ok := sp.kv("secrets:prod"); ok {
		t.Error("kv of a key nobody wrote")
	}
	if evals, notices := sp.totals(); evals != 4 || notices != 4 {
		t.Errorf("totals %d evaluations, %d notices, want 4, 4", evals, notices)
	}
	if pushed, _ := (&spool{}).push(batch("e", nil), true); pushed {
		t.Error("push onlyIfBusy into an empty spool")
	}
}
