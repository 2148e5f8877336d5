package bot

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Every kind of payload reads back as what was written; the wire forms
// are those already on alert and preview messages in chats.
func TestActionRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		a    Action
		wire string
	}{
		{Action{Verb: VerbReset, Arg: "anthropic:default"}, "reset:anthropic:default"},
		{Action{Verb: VerbReset, Arg: "all"}, "reset:all"},
		{Action{Verb: VerbReset, Arg: "anthropic:default", For: "web-3"}, "reset:anthropic:default|web-3"},
		{Action{Verb: VerbReset, Arg: "all", For: "prod"}, "reset:all|prod"},
		{Action{Verb: VerbCheck, Arg: "prod"}, "check:prod"},
		{Action{Verb: VerbCheck}, "check:"},
		{Action{Verb: VerbSilence, Arg: "prod", For: "1h"}, "silence:prod:1h"},
		{Action{Verb: VerbSilence, Arg: "a:b", For: "2h30m"}, "silence:a:b:2h30m"},
		{Action{Verb: VerbSilence, For: "1h"}, "silence::1h"},
		{Action{Verb: VerbConfirm, Arg: "k3j9x2abqq7d4m2a"}, "ok:k3j9x2abqq7d4m2a"},
		{Action{Verb: VerbCancel, Arg: "k3j9x2abqq7d4m2a"}, "no:k3j9x2abqq7d4m2a"},
	} {
		if got := tc.a.Format(); got != tc.wire {
			t.Errorf("%+v.Format() = %q, want %q", tc.a, got, tc.wire)
		}
		back, err := ParseAction(tc.wire)
		if err != nil || back != tc.a {
			t.Errorf("ParseAction(%q) = %+v, %v; want %+v", tc.wire, back, err, tc.a)
		}
	}
	if a, err := ParseAction("reset:ALL"); err != nil || a.Arg != "all" {
		t.Errorf("reset:ALL = %+v, %v", a, err)
	}
}

func TestActionRejectsJunk(t *testing.T) {
	for _, s := range []string{"", "nothing", "bogus:1", "reset:", "silence:prod", "silence:prod:", "silence:prod:1 h",
		"ok:", "no:", "ok:a b", "ok:" + strings.Repeat("a", 33), "p:9b1d", "x:9b1d", "Reset:a", "check:\xff",
		"check:" + strings.Repeat("t", MaxActionBytes)} {
		if a, err := ParseAction(s); err == nil {
			t.Errorf("ParseAction(%q) = %+v, want an error", s, a)
		} else if !strings.HasSuffix(err.Error(), ".") {
			t.Errorf("ParseAction(%q): %q is not a sentence", s, err)
		}
	}
}

// A reset button's target, however long, leaves the profile room and
// still matches the full name.
func TestActionResetTarget(t *testing.T) {
	long := strings.Repeat("t", 60)
	for _, prof := range []string{"anthropic:default", strings.Repeat("p", 80)} {
		w := Action{Verb: VerbReset, Arg: prof, For: long}.Format()
		a, err := ParseAction(w)
		if err != nil || len(w) > MaxActionBytes || !ArgMatches(a.For, long) || !ArgMatches(a.Arg, prof) || len(a.Arg) < min(len(prof), 20) {
			t.Errorf("%q → %+v, %v", w, a, err)
		}
	}
}

// A too long Arg is cut to fit a button and still matches the full value.
func TestActionFormatFits(t *testing.T) {
	for _, arg := range []string{"", "a", strings.Repeat("a", 58), strings.Repeat("a", 59), strings.Repeat("€", 30), strings.Repeat("a", 500)} {
		a := Action{Verb: VerbReset, Arg: arg}.Format()
		if len(a) > MaxActionBytes || !utf8.ValidString(a) || !strings.HasPrefix(a, "reset:") {
			t.Errorf("Format(%d bytes) = %q (%d bytes)", len(arg), a, len(a))
		}
		if !ArgMatches(strings.TrimPrefix(a, "reset:"), arg) {
			t.Errorf("arg of %q does not match", a)
		}
		if len("reset:"+arg) <= MaxActionBytes && a != "reset:"+arg {
			t.Errorf("short arg changed: %q", a)
		}
	}
	long := strings.Repeat("t", 80)
	s := Action{Verb: VerbSilence, Arg: long, For: "1h"}.Format()
	a, err := ParseAction(s)
	if err != nil || a.For != "1h" || !ArgMatches(a.Arg, long) || ArgMatches(a.Arg, long+"x") {
		t.Errorf("%q → %+v, %v", s, a, err)
	}
}

// FuzzAction: whatever ParseAction accepts formats back to a payload that
// parses to the same Action, fits a button and is valid UTF-8; any Action
// formats to a payload that fits, and one whose Arg was not cut reads back
// as itself.
func FuzzAction(f *testing.F) {
	for _, s := range []string{"reset:anthropic:default", "reset:ALL", "check:", "check:prod", "silence:prod:1h",
		"silence:a:b:2h30m", "ok:k3j9x2ab", "no:k3j9x2ab", "ok:", "bogus:1", "reset:a~0011aabb"} {
		f.Add(s, "")
	}
	f.Add("silence", "1h")
	f.Fuzz(func(t *testing.T, s, dur string) {
		if a, err := ParseAction(s); err == nil {
			again, err := ParseAction(a.Format())
			if err != nil || again != a {
				t.Fatalf("ParseAction(%q) = %+v; Format %q reads %+v, %v", s, a, a.Format(), again, err)
			}
			if a.Format() != s && !strings.EqualFold(a.Format(), s) {
				t.Fatalf("ParseAction(%q) = %+v formats to %q", s, a, a.Format())
			}
		}
		for _, v := range []Verb{VerbReset, VerbCheck, VerbSilence, VerbConfirm, VerbCancel} {
			if !utf8.ValidString(s) {
				continue
			}
			a := Action{Verb: v, Arg: s}
			if v == VerbSilence {
				if !durationWord(dur) || len(dur) > 20 {
					continue
				}
				a.For = dur
			}
			w := a.Format()
			if len(w) > MaxActionBytes {
				t.Fatalf("%+v formats to %d bytes", a, len(w))
			}
			back, err := ParseAction(w)
			if err != nil {
				continue // not a valid Action (an empty profile, a bad duration or id)
			}
			if back.Verb != v || back.For != a.For || !ArgMatches(back.Arg, a.Arg) && !(v == VerbReset && strings.EqualFold(a.Arg, "all")) {
				t.Fatalf("%+v → %q → %+v", a, w, back)
			}
		}
	})
}
