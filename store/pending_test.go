package store

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPending(t *testing.T) { eachDriver(t, testPending) }

func testPending(t *testing.T, d testDriver) {
	s := d.openFresh(t)
	ctx := t.Context()

	p := Pending{Actor: "U0123", Surface: "slack", Where: "C0123", Command: "cooldown reset",
		Args: []string{"anthropic:default"}, Preview: []byte(`{"profiles":["anthropic:default"]}`), Created: t0}
	must(t, s.AddPending(ctx, &p))
	if !regexp.MustCompile(`^[a-z2-7]{16}$`).MatchString(p.ID) {
		t.Errorf("generated id %q", p.ID)
	}
	if !p.Expires.Equal(t0.Add(PendingTTL)) {
		t.Errorf("Expires defaulted to %v", p.Expires)
	}

	mk := func(created time.Time) string {
		q := Pending{Actor: "U0123", Command: "restart", Created: created}
		must(t, s.AddPending(ctx, &q))
		return q.ID
	}
	expiring := mk(t0)
	for _, tc := range []struct {
		name, id, actor string
		now             time.Time
		want            error
	}{
		{"unknown id", "nope", "U0123", t0, ErrNotFound},
		{"empty id", "", "U0123", t0, ErrNotFound},
		{"someone else", p.ID, "U9999", t0, ErrWrongActor},
		{"owner", p.ID, "U0123", t0.Add(time.Minute), nil},
		{"second use", p.ID, "U0123", t0.Add(time.Minute), ErrUsed},
		{"second use by someone else", p.ID, "U9999", t0.Add(time.Minute), ErrWrongActor},
		{"at expiry", expiring, "U0123", t0.Add(PendingTTL), ErrExpired},
		{"after expiry", expiring, "U0123", t0.Add(time.Hour), ErrExpired},
		{"case matters", strings.ToUpper(mk(t0)), "U0123", t0, ErrNotFound},
	} {
		got, err := s.TakePending(ctx, tc.id, tc.actor, tc.now)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
			continue
		}
		if err != nil {
			if got != nil {
				t.Errorf("%s: returned %+v with an error", tc.name, got)
			}
			if !strings.HasPrefix(err.Error(), "store: take pending: ") || strings.Contains(err.Error(), tc.id) && tc.id != "" {
				t.Errorf("%s: error text %q", tc.name, err)
			}
			continue
		}
		want := p
		want.Created, want.Expires, want.Used = ms0(p.Created), ms0(p.Expires), true
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, *got, want)
		}
	}

	if err := s.AddPending(ctx, &Pending{Command: "restart"}); err == nil {
		t.Error("pending without actor accepted")
	}
	dup := Pending{ID: p.ID, Actor: "U1"}
	if err := s.AddPending(ctx, &dup); err == nil {
		t.Error("duplicate id accepted")
	}
}

func TestTakePendingConcurrent(t *testing.T) { eachDriver(t, testTakePendingConcurrent) }

func testTakePendingConcurrent(t *testing.T, d testDriver) {
	c := d.fresh(t)
	// Two stores on one database (two pools, like two processes), four
	// goroutines each.
	stores := []*Store{d.open(t, c), d.open(t, c)}
	ctx := t.Context()
	for round := range 5 {
		p := Pending{Actor: "U1", Command: "restart", Created: t0}
		must(t, stores[0].AddPending(ctx, &p))
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			wins   int
			others = map[string]int{}
		)
		start := make(chan struct{})
		for g := range 8 {
			wg.Go(func() {
				<-start
				got, err := stores[g%2].TakePending(ctx, p.ID, "U1", t0.Add(time.Second))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && got != nil && got.Used:
					wins++
				case errors.Is(err, ErrUsed):
					others["used"]++
				default:
					others[err.Error()]++
				}
			})
		}
		close(start)
		wg.Wait()
		if wins != 1 || others["used"] != 7 {
			t.Errorf("round %d: %d winners, others %v; want exactly 1 and 7 ErrUsed", round, wins, others)
		}
	}
}
