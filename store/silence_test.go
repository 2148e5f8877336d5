package store

import (
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSilenceMatches(t *testing.T) {
	start, end := t0, t0.Add(time.Hour)
	wild := Silence{Starts: start, Ends: end}
	full := Silence{Target: "local", Subject: "anthropic:default", Code: "cooldown.active", Starts: start, Ends: end}
	window := Silence{Target: "local", Starts: t0.Add(24 * time.Hour), Ends: t0.Add(26 * time.Hour)} // maintenance
	for _, tc := range []struct {
		name                  string
		s                     Silence
		target, subject, code string
		at                    time.Time
		want                  bool
	}{
		{"all wildcards", wild, "local", "anthropic:default", "cooldown.active", t0.Add(time.Minute), true},
		{"all wildcards, empty fields", wild, "", "", "", t0.Add(time.Minute), true},
		{"exact match", full, "local", "anthropic:default", "cooldown.active", t0.Add(time.Minute), true},
		{"other target", full, "prod", "anthropic:default", "cooldown.active", t0.Add(time.Minute), false},
		{"other subject", full, "local", "anthropic:backup", "cooldown.active", t0.Add(time.Minute), false},
		{"other code", full, "local", "anthropic:default", "disabled.active", t0.Add(time.Minute), false},
		{"case matters", full, "Local", "anthropic:default", "cooldown.active", t0.Add(time.Minute), false},
		{"no prefix matching", Silence{Code: "cooldown", Starts: start, Ends: end}, "local", "x", "cooldown.active", t0, false},
		{"target wildcard only", Silence{Target: "local", Starts: start, Ends: end}, "local", "any:thing", "key.rejected", t0, true},
		{"code only, any target", Silence{Code: "version.changed", Starts: start, Ends: end}, "prod", "", "version.changed", t0, true},
		{"at start (inclusive)", full, "local", "anthropic:default", "cooldown.active", start, true},
		{"at end (exclusive)", full, "local", "anthropic:default", "cooldown.active", end, false},
		{"just before end", full, "local", "anthropic:default", "cooldown.active", end.Add(-time.Nanosecond), true},
		{"before start", full, "local", "anthropic:default", "cooldown.active", start.Add(-time.Nanosecond), false},
		{"expired", full, "local", "anthropic:default", "cooldown.active", end.Add(time.Hour), false},
		{"maintenance window not yet", window, "local", "anthropic:default", "cooldown.active", t0, false},
		{"maintenance window in effect", window, "local", "anthropic:default", "cooldown.active", t0.Add(25 * time.Hour), true},
		{"maintenance window, other target", window, "prod", "anthropic:default", "cooldown.active", t0.Add(25 * time.Hour), false},
		{"maintenance window over", window, "local", "anthropic:default", "cooldown.active", t0.Add(26 * time.Hour), false},
		{"zero silence matches nothing", Silence{}, "", "", "", t0, false},
		{"other time zone", full, "local", "anthropic:default", "cooldown.active", t0.Add(time.Minute).UTC(), true},
	} {
		if got := tc.s.Matches(tc.target, tc.subject, tc.code, tc.at); got != tc.want {
			t.Errorf("%s: Matches = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSilencesStore(t *testing.T) { eachDriver(t, testSilencesStore) }

func testSilencesStore(t *testing.T, d testDriver) {
	s := d.openFresh(t)
	ctx := t.Context()

	active := Silence{Target: "local", Code: "cooldown.active", Starts: t0, Ends: t0.Add(time.Hour), CreatedBy: "U1", Comment: "known, fixing", CreatedAt: t0}
	window := Silence{Target: "local", Starts: t0.Add(24 * time.Hour), Ends: t0.Add(26 * time.Hour), CreatedBy: "U2", Comment: "maintenance"}
	expired := Silence{Starts: t0.Add(-2 * time.Hour), Ends: t0.Add(-time.Hour)}
	for _, sil := range []*Silence{&active, &window, &expired} {
		must(t, s.AddSilence(ctx, sil))
	}
	idRE := regexp.MustCompile(`^[a-z2-7]{8}$`)
	for _, sil := range []Silence{active, window, expired} {
		if !idRE.MatchString(sil.ID) {
			t.Errorf("generated id %q", sil.ID)
		}
	}
	if window.CreatedAt.IsZero() {
		t.Error("CreatedAt not defaulted")
	}

	check := func(name string, got []Silence, err error, want ...Silence) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d silences, want %d: %+v", name, len(got), len(want), got)
		}
		for i := range got {
			w := want[i]
			if got[i].ID != w.ID || got[i].Target != w.Target || got[i].Code != w.Code || got[i].Comment != w.Comment ||
				got[i].CreatedBy != w.CreatedBy || !got[i].Starts.Equal(ms0(w.Starts)) || !got[i].Ends.Equal(ms0(w.Ends)) ||
				!got[i].CreatedAt.Equal(ms0(w.CreatedAt)) {
				t.Errorf("%s[%d] = %+v, want %+v", name, i, got[i], w)
			}
		}
	}
	got, err := s.ActiveSilences(ctx, t0.Add(time.Minute))
	check("active now", got, err, active)
	got, err = s.ActiveSilences(ctx, t0.Add(25*time.Hour))
	check("active in the window", got, err, window)
	got, err = s.ActiveSilences(ctx, t0.Add(time.Hour)) // end is exclusive
	check("active at end", got, err)
	got, err = s.Silences(ctx, t0.Add(time.Minute))
	check("not over", got, err, active, window)

	// Explicit id, case-insensitive; duplicates refused.
	mine := Silence{ID: "abcd2345", Ends: t0.Add(time.Hour), Starts: t0}
	must(t, s.AddSilence(ctx, &mine))
	dup := Silence{ID: "ABCD2345", Ends: t0.Add(time.Hour), Starts: t0}
	if err := s.AddSilence(ctx, &dup); err == nil || !strings.HasPrefix(err.Error(), "store: ") {
		t.Errorf("duplicate id: %v", err)
	}
	if got, err := s.Silence(ctx, "ABCD2345"); err != nil || got.ID != "abcd2345" {
		t.Errorf("Silence(upper) = %+v, %v", got, err)
	}
	if _, err := s.Silence(ctx, "zzzzzzzz"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing silence: %v", err)
	}
	for _, tc := range []struct {
		id   string
		want bool
	}{{"ABCD2345", true}, {"abcd2345", false}, {"nope", false}, {active.ID, true}} {
		if got, err := s.RemoveSilence(ctx, tc.id); err != nil || got != tc.want {
			t.Errorf("RemoveSilence(%q) = %v, %v; want %v", tc.id, got, err, tc.want)
		}
	}
	got, err = s.ActiveSilences(ctx, t0.Add(time.Minute))
	check("after remove", got, err)

	// Invalid windows.
	for _, bad := range []Silence{
		{Starts: t0},                                 // no end
		{Starts: t0, Ends: t0},                       // empty
		{Starts: t0, Ends: t0.Add(-time.Hour)},       // backwards
		{Starts: t0, Ends: t0.Add(time.Microsecond)}, // empty at millisecond precision
	} {
		if err := s.AddSilence(ctx, &bad); err == nil {
			t.Errorf("AddSilence(%+v) succeeded", bad)
		}
	}
	// A zero Starts means from now.
	now := Silence{Ends: time.Now().Add(time.Hour)}
	must(t, s.AddSilence(ctx, &now))
	if got, _ := s.ActiveSilences(ctx, time.Now()); len(got) != 1 || got[0].ID != now.ID {
		t.Errorf("silence from now not active: %+v", got)
	}
}

func TestSilenceIDsUnique(t *testing.T) { eachDriver(t, testSilenceIDsUnique) }

func testSilenceIDsUnique(t *testing.T, d testDriver) {
	s := d.openFresh(t)
	ctx := t.Context()
	seen := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 25 {
				sil := Silence{Starts: t0, Ends: t0.Add(time.Hour)}
				if err := s.AddSilence(ctx, &sil); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[strings.ToLower(sil.ID)] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 100 {
		t.Errorf("%d distinct ids for 100 silences", len(seen))
	}
}
