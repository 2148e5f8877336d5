package scheduler

import (
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
)

// Every test with time in it runs in a synctest bubble: time.Sleep advances
// the fake clock instantly and time.Now() inside the bubble is "now".

func incFinding(code string, sev diagnostics.Severity, subject string) diagnostics.Finding {
	return diagnostics.Finding{
		Code: code, Severity: sev, Subject: subject,
		Title:    subject + " has " + code,
		Evidence: "evidence for " + subject,
		Remedy:   []string{"Run `openclaw-bot status --probe`."},
	}
}

func incCooldown(subject string) diagnostics.Finding {
	f := incFinding(diagnostics.CodeCooldownActive, diagnostics.Critical, subject)
	f.Title = subject + " is in cooldown (rate_limit)"
	return f
}

// incStore is the caller's persistence: an upsert of Result.Changed.
type incStore map[incidentKey]Incident

func (s incStore) apply(r Result) {
	for _, in := range r.Changed {
		s[incidentKey{in.Target, in.Subject, in.Code}] = in
	}
}

func (s incStore) all() []Incident {
	var out []Incident
	for _, in := range s {
		out = append(out, in)
	}
	return out
}

// incHarness evaluates and persists, and remembers the notices.
type incHarness struct {
	t     *testing.T
	e     *Engine
	store incStore
}

func newIncHarness(t *testing.T, opts EngineOptions) *incHarness {
	return &incHarness{t: t, e: NewEngine(opts), store: incStore{}}
}

func (h *incHarness) eval(target string, ctx EvalContext, f ...diagnostics.Finding) Result {
	h.t.Helper()
	r := h.e.Evaluate(target, f, time.Now(), ctx)
	h.store.apply(r)
	return r
}

func (h *incHarness) get(target, subject, code string) Incident {
	h.t.Helper()
	in, ok := h.e.Get(target, subject, code)
	if !ok {
		h.t.Fatalf("no incident %s/%s/%s", target, subject, code)
	}
	return in
}

func kinds(r Result) string {
	var s []string
	for _, n := range r.Notices {
		s = append(s, fmt.Sprintf("%s(%d)", n.Kind, len(n.Incidents)))
	}
	return strings.Join(s, ",")
}

func wantNotices(t *testing.T, r Result, want string) {
	t.Helper()
	if got := kinds(r); got != want {
		t.Fatalf("notices = %q, want %q", got, want)
	}
}

func TestThresholds(t *testing.T) {
	cases := []struct {
		name  string
		opts  EngineOptions
		f     diagnostics.Finding
		steps string // one char per evaluation: x = reported, . = not
		fire  int    // index of the evaluation that alerts; -1 = none
	}{
		{"cooldown fires at once", EngineOptions{}, incCooldown("anthropic:default"), "x", 0},
		{"gateway.down needs two", EngineOptions{}, incFinding("gateway.down", diagnostics.Critical, "http://127.0.0.1:18789/healthz"), "xx", 1},
		{"a network code needs two", EngineOptions{}, incFinding(diagnostics.CodeGatewayDown, diagnostics.Warning, "anthropic:default"), "xx", 1},
		{"one gap resets Seen", EngineOptions{}, incFinding(diagnostics.CodeGatewayDown, diagnostics.Warning, "anthropic:default"), "x.xx", 3},
		{"never two in a row", EngineOptions{}, incFinding(diagnostics.CodeGatewayDown, diagnostics.Warning, "anthropic:default"), "x.x.x.", -1},
		{"configured threshold", EngineOptions{Thresholds: map[string]int{diagnostics.CodeModelRef: 3}}, incFinding(diagnostics.CodeModelRef, diagnostics.Warning, "x"), "xxx", 2},
		{"threshold override to 1", EngineOptions{Thresholds: map[string]int{"gateway.down": 1}}, incFinding("gateway.down", diagnostics.Critical, "gw"), "x", 0},
		{"invalid threshold means default", EngineOptions{Thresholds: map[string]int{diagnostics.CodeCooldownActive: 0}}, incCooldown("p"), "x", 0},
		{"info never alerts", EngineOptions{}, incFinding(diagnostics.CodeFailoverNone, diagnostics.Info, "anthropic"), "xxxx", -1},
		{"info alerts with MinSeverity info", EngineOptions{MinSeverity: diagnostics.Info}, incFinding(diagnostics.CodeFailoverNone, diagnostics.Info, "anthropic"), "x", 0},
		{"warning below MinSeverity critical", EngineOptions{MinSeverity: diagnostics.Critical}, incFinding(diagnostics.CodeModelRef, diagnostics.Warning, "m"), "xx", -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newIncHarness(t, c.opts)
				fired := -1
				for i, step := range c.steps {
					var fs []diagnostics.Finding
					if step == 'x' {
						fs = append(fs, c.f)
					}
					r := h.eval("prod", EvalContext{}, fs...)
					for _, n := range r.Notices {
						if n.Kind != bot.KindAlert {
							t.Fatalf("step %d: unexpected %s notice", i, n.Kind)
						}
						if fired >= 0 {
							t.Fatalf("step %d: alerted twice (first at %d)", i, fired)
						}
						fired = i
					}
					time.Sleep(time.Minute)
				}
				if fired != c.fire {
					t.Fatalf("alert at evaluation %d, want %d", fired, c.fire)
				}
			})
		})
	}
}

func TestPendingIncidentState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newIncHarness(t, EngineOptions{})
		f := incFinding("gateway.down", diagnostics.Critical, "gw")
		r := h.eval("prod", EvalContext{}, f)
		if len(r.Changed) != 1 || r.Changed[0].State != IncidentPending || r.Changed[0].Seen != 1 {
			t.Fatalf("changed = %+v", r.Changed)
		}
		time.Sleep(time.Minute)
		r = h.eval("prod", EvalContext{})
		// The streak broke: the pending incident closes without having fired.
		if len(r.Changed) != 1 || r.Changed[0].State != IncidentResolved || !r.Changed[0].FiredAt.IsZero() || len(r.Notices) != 0 {
			t.Fatalf("after a gap: %+v %s", r.Changed, kinds(r))
		}
		if got := h.e.Incidents("prod"); len(got) != 0 {
			t.Fatalf("engine still holds %+v", got)
		}
	})
}

func TestResolve(t *testing.T) {
	for _, after := range []int{0, 1, 3} {
		t.Run(fmt.Sprintf("ResolveAfter=%d", after), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newIncHarness(t, EngineOptions{ResolveAfter: after})
				f := incCooldown("anthropic:default")
				r := h.eval("prod", EvalContext{}, f)
				wantNotices(t, r, "alert(1)")
				ref := r.Notices[0].Ref
				if want := fmt.Sprintf("alert:prod:%d", time.Now().UnixMilli()); ref != want {
					t.Fatalf("ref = %q, want %q", ref, want)
				}
				if h.get("prod", "anthropic:default", f.Code).GroupRef != ref {
					t.Fatal("GroupRef not stored")
				}
				need := max(after, 1)
				for i := 1; i < need; i++ {
					time.Sleep(time.Minute)
					r = h.eval("prod", EvalContext{})
					wantNotices(t, r, "")
					if in := h.get("prod", "anthropic:default", f.Code); in.State != IncidentFiring || in.Missed != i {
						t.Fatalf("after %d misses: %+v", i, in)
					}
				}
				time.Sleep(12 * time.Minute)
				r = h.eval("prod", EvalContext{})
				wantNotices(t, r, "resolved(1)")
				n := r.Notices[0]
				if n.Ref != ref || n.Incidents[0].State != IncidentResolved || n.Incidents[0].ResolvedAt.IsZero() {
					t.Fatalf("resolved notice = %+v", n)
				}
				if len(r.Changed) != 1 || r.Changed[0].State != IncidentResolved {
					t.Fatalf("changed = %+v", r.Changed)
				}
				if got := h.e.Incidents(""); len(got) != 0 {
					t.Fatalf("engine still holds %+v", got)
				}
				// Nothing more afterwards.
				time.Sleep(5 * time.Hour)
				wantNotices(t, h.eval("prod", EvalContext{}), "")
			})
		})
	}
}

func TestFlapWithinResolveAfterKeepsFiring(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newIncHarness(t, EngineOptions{ResolveAfter: 2})
		f := incCooldown("p")
		wantNotices(t, h.eval("prod", EvalContext{}, f), "alert(1)")
		time.Sleep(time.Minute)
		wantNotices(t, h.eval("prod", EvalContext{}), "")
		time.Sleep(time.Minute)
		wantNotices(t, h.eval("prod", EvalContext{}, f), "") // back: Missed resets
		if in := h.get("prod", "p", f.Code); in.Missed != 0 || in.State != IncidentFiring {
			t.Fatalf("%+v", in)
		}
		time.Sleep(time.Minute)
		wantNotices(t, h.eval("prod", EvalContext{}), "")
		time.Sleep(time.Minute)
		wantNotices(t, h.eval("prod", EvalContext{}), "resolved(1)")
	})
}

func TestPartialResolution(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newIncHarness(t, EngineOptions{})
		a, b := incCooldown("anthropic:a"), incCooldown("anthropic:b")
		r := h.eval("prod", EvalContext{}, a, b)
		wantNotices(t, r, "alert(2)")
		ref := r.Notices[0].Ref

		// a is fixed: nobody is told yet.
		time.Sleep(10 * time.Minute)
		r = h.eval("prod", EvalContext{}, b)
		wantNotices(t, r, "")
		if in := h.get("prod", "anthropic:a", a.Code); in.State != IncidentResolved {
			t.Fatalf("a = %+v", in)
		}

		// The reminder shows what still fires.
		time.Sleep(4*time.Hour - 10*time.Minute)
		r = h.eval("prod", EvalContext{}, b)
		wantNotices(t, r, "reminder(1)")
		if r.Notices[0].Incidents[0].Subject != "anthropic:b" {
			t.Fatalf("reminder = %+v", r.Notices[0].Incidents)
		}

		// b is fixed too: one resolved notice for the whole group.
		time.Sleep(time.Minute)
		r = h.eval("prod", EvalContext{})
		wantNotices(t, r, "resolved(2)")
		if r.Notices[0].Ref != ref {
			t.Fatalf("ref = %q, want %q", r.Notices[0].Ref, ref)
		}
		for _, in := range r.Notices[0].Incidents {
			if in.State != IncidentResolved || in.GroupRef != ref {
				t.Fatalf("member %+v", in)
			}
		}
	})
}

func TestPartiallyResolvedMemberComesBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newIncHarness(t, EngineOptions{})
		a, b := incCooldown("anthropic:a"), incCooldown("anthropic:b")
		ref := h.eval("prod", EvalContext{}, a, b).Notices[0].Ref
		time.Sleep(time.Minute)
		wantNotices(t, h.eval("prod", EvalContext{}, b), "")
		// a is back while its alert is still open: no new alert.
		time.Sleep(time.Minute)
		wantNotices(t, h.eval("prod", EvalContext{}, a, b), "")
		if in := h.get("prod", "anthropic:a", a.Code); in.State != IncidentFiring || in.GroupRef != ref {
			t.Fatalf("a = %+v", in)
		}
		time.Sleep(time.Minute)
		r := h.eval("prod", EvalContext{})
		wantNotices(t, r, "resolved(2)")
		if r.Notices[0].Ref != ref {
			t.Fatal("wrong ref")
		}
	})
}

func TestReminders(t *testing.T) {
	cases := []struct {
		name     string
		reminder time.Duration
		every    time.Duration // evaluation period
		until    time.Duration
		want     []time.Duration // reminder times after the alert
	}{
		{"default 4h", 0, time.Minute, 9 * time.Hour, []time.Duration{4 * time.Hour, 8 * time.Hour}},
		{"floor 5m", time.Minute, time.Minute, 16 * time.Minute, []time.Duration{5 * time.Minute, 10 * time.Minute, 15 * time.Minute}},
		{"1h", time.Hour, 10 * time.Minute, 150 * time.Minute, []time.Duration{time.Hour, 2 * time.Hour}},
		{"off", -1, 30 * time.Minute, 24 * time.Hour, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newIncHarness(t, EngineOptions{Reminder: c.reminder})
				f := incCooldown("p")
				start := time.Now()
				wantNotices(t, h.eval("prod", EvalContext{}, f), "alert(1)")
				var got []time.Duration
				for time.Since(start) < c.until {
					time.Sleep(c.every)
					r := h.eval("prod", EvalContext{}, f)
					for _, n := range r.Notices {
						if n.Kind != bot.KindReminder || !strings.HasPrefix(n.Ref, "reminder:prod:") {
							t.Fatalf("unexpected notice %+v", n)
						}
						got = append(got, time.Since(start))
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(c.want) {
					t.Fatalf("reminders at %v, want %v", got, c.want)
				}
			})
		})
	}
}

func TestReminderBoundary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newIncHarness(t, EngineOptions{})
		f := incCooldown("p")
		wantNotices(t, h.eval("prod", EvalContext{}, f), "alert(1)")
		time.Sleep(3*time.Hour + 59*time.Minute)
		wantNotices(t, h.eval("prod", EvalContext{}, f), "")
		time.Sleep(time.Minute) // 4h
		wantNotices(t, h.eval("prod", EvalContext{}, f), "reminder(1)")
		time.Sleep(3*time.Hour + 59*time.Minute)
		wantNotices(t, h.eval("prod", EvalContext{}, f), "")
		time.Sleep(time.Minute) // 8h
		wantNotices(t, h.eval("prod", EvalContext{}, f), "reminder(1)")
	})
}

func TestOptionsNormalized(t *testing.T) {
	cases := []struct {
		in   EngineOptions
		want EngineOptions
	}{
		{EngineOptions{}, EngineOptions{ResolveAfter: 1, Reminder: 4 * time.Hour, MinSeverity: diagnostics.Warning}},
		{EngineOptions{Reminder: time.Second, ResolveAfter: -2, MinSeverity: "bogus"}, EngineOptions{ResolveAfter: 1, Reminder: 5 * time.Minute, MinSeverity: diagnostics.Warning}},
		{EngineOptions{Reminder: 10 * time.Minute, ResolveAfter: 3, MinSeverity: diagnostics.Critical}, EngineOptions{ResolveAfter: 3, Reminder: 10 * time.Minute, MinSeverity: diagnostics.Critical}},
	}
	for _, c := range cases {
		got := NewEngine(c.in).Options()
		if got.ResolveAfter != c.want.ResolveAfter || got.Reminder != c.want.Reminder || got.MinSeverity != c.want.MinSeverity {
			t.Errorf("NewEngine(%+v).Options() = %+v, want %+v", c.in, got, c.want)
		}
	}
	o := NewEngine(EngineOptions{}).Options()
	for code, want := range map[string]int{"gateway.down": 2, diagnostics.CodeCooldownActive: 1, diagnostics.CodeVersionChanged: 1} {
		if got := o.Threshold(code); got != want {
			t.Errorf("Threshold(%s) = %d, want %d", code, got, want)
		}
	}
	if got := (EngineOptions{Thresholds: map[string]int{diagnostics.CodeVersionChanged: 5}}).Threshold(diagnostics.CodeVersionChanged); got != 1 {
		t.Errorf("events always fire at once, got threshold %d", got)
	}
}

func TestAck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newIncHarness(t, EngineOptions{})
		a, b := incCooldown("a"), incCooldown("b")
		r := h.eval("prod", EvalContext{}, a, b)
		ref := r.Notices[0].Ref
		acked := h.e.Ack("prod", "a", a.Code, "U123")
		if len(acked) != 1 || acked[0].AckedBy != "U123" {
			t.Fatalf("Ack = %+v", acked)
		}
		h.store.apply(Result{Changed: acked})
		if again := h.e.Ack("prod", "a", a.Code, "U123"); len(again) != 0 {
			t.Fatalf("second Ack changed %+v", again)
		}
		if none := h.e.Ack("other", "", "", "U123"); len(none) != 0 {
			t.Fatalf("Ack of another target changed %+v", none)
		}
		// 4h and 8h: only b is reminded.
		for range 2 {
			time.Sleep(4 * time.Hour)
			r = h.eval("prod", EvalContext{}, a, b)
			wantNotices(t, r, "reminder(1)")
			if r.Notices[0].Incidents[0].Subject != "b" {
				t.Fatalf("reminded %+v", r.Notices[0].Incidents)
			}
		}
		// Ack everything: no more reminders at all.
		if got := h.e.Ack("prod", "", "", "U9"); len(got) != 2 {
			t.Fatalf("Ack all = %+v", got)
		}
		time.Sleep(12 * time.Hour)
		wantNotices(t, h.eval("prod", EvalContext{}, a, b), "")
		// Acked incidents still resolve with a resolved notice.
		time.Sleep(time.Minute)
		r = h.eval("prod", EvalContext{})
		wantNotices(t, r, "resolved(2)")
		if r.Notices[0].Ref != ref {
			t.Fatal("wrong ref")
		}
	})
}

func TestSilence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newIncHarness(t, EngineOptions{})
		f := incCooldown("anthropic:default")
		sil := Silence{ID: "s1", Target: "prod", Code: diagnostics.CodeCooldownActive, Ends: time.Now().Add(time.Hour)}
		ctx := EvalContext{Silences: []Silence{sil}}

		// Muted while active, but the state still moves.
		r := h.eval("prod", ctx, f)
		wantNotices(t, r, "")
		if len(r.Changed) != 1 || r.Changed[0].State != IncidentFiring || !r.Changed[0].LastNotified.IsZero() {
			t.Fatalf("changed = %+v", r.Changed)
		}
		time.Sleep(59 * time.Minute)
		wantNotices(t, h.eval("prod", ctx, f), "")

		// The silence ends with the incident still firing: announced now.
		time.Sleep(time.Minute)
		r = h.eval("prod", ctx, f)
		wantNotices(t, r, "alert(1)")
		if r.Notices[0].Ref != fmt.Sprintf("alert:prod:%d", time.Now().UnixMilli()) {
			t.Fatalf("ref %q", r.Notices[0].Ref)
		}
		// And it resolves with a notice, since it was announced.
		time.Sleep(time.Minute)
		wantNotices(t, h.eval("prod", ctx), "resolved(1)")
	})
}

func TestSilencedNeverAnnouncedResolvesQuietly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newIncHarness(t, EngineOptions{})
		f := incCooldown("anthropic:default")
		ctx := EvalContext{Silences: []Silence{{ID: "s", Subject: "anthropic:default", Ends: time.Now().Add(time.Hour)}}}
		wantNotices(t, h.eval("prod", ctx, f), "")
		time.Sleep(10 * time.Minute)
		r := h.eval("prod", ctx)
		wantNotices(t, r, "")
		if len(r.Changed) != 1 || r.Changed[0].State != IncidentResolved {
			t.Fatalf("changed = %+v", r.Changed)
		}
		// After the silence there is nothing left to announce.
		time.Sleep(2 * time.Hour)
		wantNotices(t, h.eval("prod", ctx), "")
		if got := h.e.Incidents(""); len(got) != 0 {
			t.Fatalf("engine holds %+v", got)
		}
	})
}

func TestSilenceMatching(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := time.Now()
		cases := []struct {
			name  string
			s     Silence
			muted bool
		}{
			{"all", Silence{}, true},
			{"target", Silence{Target: "prod"}, true},
			{"other target", Silence{Target: "staging"}, false},
			{"subject", Silence{Subject: "p"}, true},
			{"other subject", Silence{Subject: "q"}, false},
			{"other code", Silence{Code: diagnostics.CodeKeyRejected}, false},
			{"expired", Silence{Ends: now}, false},
			{"future window", Silence{Starts: now.Add(time.Minute), Ends: now.Add(time.Hour)}, false},
			{"started window", Silence{Starts: now, Ends: now.Add(time.Hour)}, true},
		}
		for _, c := range cases {
			e := NewEngine(EngineOptions{})
			r := e.Evaluate("prod", []diagnostics.Finding{incCooldown("p")}, now, EvalContext{Silences: []Silence{c.s}})
			if muted := len(r.Notices) == 0; muted != c.muted {
				t.Errorf("%s: muted = %v, want %v", c.name, muted, c.muted)
			}
		}
	})
}

func TestMaintenanceWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newIncHarness(t, EngineOptions{Reminder: time.Hour})
		start := time.Now().Add(2 * time.Hour)
		ctx := EvalContext{Silences: []Silence{{ID: "mw", Target: "prod", Starts: start, Ends: start.Add(3 * time.Hour)}}}
		a := incCooldown("a")

		// Scheduled, not begun: alerts as usual.
		wantNotices(t, h.eval("prod", ctx, a), "alert(1)")
		time.Sleep(time.Hour)
		wantNotices(t, h.eval("prod", ctx, a), "reminder(1)")

		// Inside the window: no reminder, and a new problem is muted.
		time.Sleep(time.Hour)
		b := incCooldown("b")
		wantNotices(t, h.eval("prod", ctx, a, b), "")
		time.Sleep(2 * time.Hour)
		wantNotices(t, h.eval("prod", ctx, a, b), "")

		// The window is over: b is announced, a reminded.
		time.Sleep(time.Hour)
		r := h.eval("prod", ctx, a, b)
		wantNotices(t, r, "alert(1),reminder(1)")
		if r.Notices[0].Incidents[0].Subject != "b" || r.Notices[1].Incidents[0].Subject != "a" {
			t.Fatalf("notices = %+v", r.Notices)
		}
	})
}

func TestInhibition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newIncHarness(t, EngineOptions{})
		down := EvalContext{GatewayDown: true}
		gw := incFinding("gateway.down", diagnostics.Critical, "http://127.0.0.1:18789/healthz")
		cool := incCooldown("anthropic:default")
		cfg := incFinding(diagnostics.CodeConfigSyntax, diagnostics.Critical, "/home/u/.openclaw/openclaw.json")

		// Gateway down: the profile alert is muted, config.* is not; the
		// gateway finding itself needs its two evaluations.
		r := h.eval("prod", down, gw, cool, cfg)
		wantNotices(t, r, "alert(1)")
		if r.Notices[0].Incidents[0].Code != diagnostics.CodeConfigSyntax {
			t.Fatalf("alerted %+v", r.Notices[0].Incidents)
		}
		if in := h.get("prod", "anthropic:default", cool.Code); in.State != IncidentFiring || in.Announced() {
			t.Fatalf("cooldown = %+v", in)
		}
		time.Sleep(time.Minute)
		r = h.eval("prod", down, gw, cool, cfg)
		wantNotices(t, r, "alert(1)")
		if r.Notices[0].Incidents[0].Code != "gateway.down" {
			t.Fatalf("alerted %+v", r.Notices[0].Incidents)
		}

		// Still down, the cooldown finding disappears: it is not resolved.
		time.Sleep(time.Minute)
		wantNotices(t, h.eval("prod", down, gw, cfg), "")
		if in := h.get("prod", "anthropic:default", cool.Code); in.State != IncidentFiring || in.Missed != 0 {
			t.Fatalf("cooldown = %+v", in)
		}
		time.Sleep(time.Minute)
		wantNotices(t, h.eval("prod", down, gw, cool, cfg), "")

		// Gateway back: released. The gateway incident resolves, the
		// cooldown (still there) is announced now.
		time.Sleep(time.Minute)
		r = h.eval("prod", EvalContext{}, cool, cfg)
		wantNotices(t, r, "resolved(1),alert(1)")
		if r.Notices[0].Incidents[0].Code != "gateway.down" || r.Notices[1].Incidents[0].Code != diagnostics.CodeCooldownActive {
			t.Fatalf("notices = %+v", r.Notices)
		}
	})
}

func TestInhibitionKeepsAnnouncedIncidentOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newIncHarness(t, EngineOptions{Reminder: time.Hour})
		cool := incCooldown("p")
		wantNotices(t, h.eval("prod", EvalContext{}, cool), "alert(1)")
		// Gateway goes down and the cooldown vanishes from the findings:
		// no resolution, no reminder while inhibited.
		for range 3 {
			time.Sleep(time.Hour)
			wantNotices(t, h.eval("prod", EvalContext{GatewayDown: true}), "")
		}
		if in := h.get("prod", "p", cool.Code); in.State != IncidentFiring {
			t.Fatalf("%+v", in)
		}
		// Gateway up, cooldown really gone: resolved.
		time.Sleep(time.Minute)
		wantNotices(t, h.eval("prod", EvalContext{}), "resolved(1)")
	})
}

func TestInhibitedByGateway(t *testing.T) {
	for code, want := range map[string]bool{
		diagnostics.CodeCooldownActive: true, diagnostics.CodeKeyRejected: true, diagnostics.CodeLogAuthRejected: true,
		"gateway.down": false, diagnostics.CodeConfigSyntax: false, diagnostics.CodeConfigSchema: false,
		diagnostics.CodeVersionChanged: false,
	} {
		if got := InhibitedByGateway(code); got != want {
			t.Errorf("InhibitedByGateway(%s) = %v, want %v", code, got, want)
		}
	}
}

func TestGrouping(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newIncHarness(t, EngineOptions{})
		prod := []diagnostics.Finding{
			incCooldown("anthropic:a"),
			incFinding(diagnostics.CodeKeyRejected, diagnostics.Critical, "anthropic:b"),
			incFinding(diagnostics.CodeEnvShadowed, diagnostics.Warning, "env:ANTHROPIC_API_KEY"),
		}
		r := h.eval("prod", EvalContext{}, prod...)
		wantNotices(t, r, "alert(3)")
		ref := r.Notices[0].Ref
		if r.Notices[0].Target != "prod" || len(r.Changed) != 3 {
			t.Fatalf("notice %+v changed %d", r.Notices[0], len(r.Changed))
		}
		for _, in := range r.Notices[0].Incidents {
			if in.GroupRef != ref || in.LastNotified.IsZero() {
				t.Fatalf("member %+v", in)
			}
		}
		// Worst first.
		if r.Notices[0].Incidents[2].Severity != diagnostics.Warning {
			t.Fatalf("order %+v", r.Notices[0].Incidents)
		}
		r2 := h.eval("staging", EvalContext{}, incCooldown("anthropic:a"))
		wantNotices(t, r2, "alert(1)")
		if r2.Notices[0].Target != "staging" || r2.Notices[0].Ref == ref || !strings.HasPrefix(r2.Notices[0].Ref, "alert:staging:") {
			t.Fatalf("staging notice %+v", r2.Notices[0])
		}
		// Evaluating one target leaves the other alone.
		time.Sleep(time.Minute)
		wantNotices(t, h.eval("staging", EvalContext{}), "resolved(1)")
		if got := h.e.Incidents("prod"); len(got) != 3 {
			t.Fatalf("prod incidents %+v", got)
		}
		// A new problem later is a new group.
		r = h.eval("prod", EvalContext{}, append(prod, incCooldown("anthropic:c"))...)
		wantNotices(t, r, "alert(1)")
		if r.Notices[0].Ref == ref {
			t.Fatal("new group reuses the old ref")
		}
	})
}

func TestDuplicateFindingsOneIncident(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := NewEngine(EngineOptions{})
		w := incFinding(diagnostics.CodeModelRef, diagnostics.Warning, "m")
		c := w
		c.Severity = diagnostics.Critical
		r := e.Evaluate("prod", []diagnostics.Finding{w, c, w}, time.Now(), EvalContext{})
		if len(r.Changed) != 1 || r.Changed[0].Severity != diagnostics.Critical {
			t.Fatalf("changed = %+v", r.Changed)
		}
	})
}

func TestSameMillisecondRefsDiffer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := NewEngine(EngineOptions{})
		now := time.Now()
		r1 := e.Evaluate("prod", []diagnostics.Finding{incCooldown("a")}, now, EvalContext{})
		r2 := e.Evaluate("prod", []diagnostics.Finding{incCooldown("a"), incCooldown("b")}, now, EvalContext{})
		if r1.Notices[0].Ref == r2.Notices[0].Ref {
			t.Fatalf("both groups are %s", r1.Notices[0].Ref)
		}
	})
}

func TestRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newIncHarness(t, EngineOptions{})
		fs := []diagnostics.Finding{incCooldown("a"), incCooldown("b"), incFinding("gateway.down", diagnostics.Critical, "gw")}
		r := h.eval("prod", EvalContext{}, fs...)
		wantNotices(t, r, "alert(2)")
		ref := r.Notices[0].Ref
		time.Sleep(time.Minute)
		wantNotices(t, h.eval("prod", EvalContext{}, fs...), "alert(1)") // gateway, 2nd time

		// Restart: a new engine from what was persisted.
		time.Sleep(30 * time.Second)
		e2 := NewEngine(EngineOptions{})
		e2.Load(h.store.all())
		h.e = e2
		wantNotices(t, h.eval("prod", EvalContext{}, fs...), "")
		time.Sleep(time.Hour)
		wantNotices(t, h.eval("prod", EvalContext{}, fs...), "")

		// The reminder clock survived: 4h after the alerts.
		time.Sleep(3*time.Hour - 30*time.Second) // 4h01m after the first alert
		r = h.eval("prod", EvalContext{}, fs...)
		wantNotices(t, r, "reminder(3)")

		// a resolves (partial), restart again with the resolved member
		// persisted, then b: the group's resolved notice lists both.
		time.Sleep(time.Minute)
		wantNotices(t, h.eval("prod", EvalContext{}, fs[1], fs[2]), "")
		e3 := NewEngine(EngineOptions{})
		e3.Load(h.store.all())
		h.e = e3
		time.Sleep(time.Minute)
		r = h.eval("prod", EvalContext{}, fs[2])
		wantNotices(t, r, "resolved(2)")
		if r.Notices[0].Ref != ref {
			t.Fatalf("ref %q, want %q", r.Notices[0].Ref, ref)
		}
	})
}

func TestLoadKeepsOnlyWhatMatters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := time.Now()
		e := NewEngine(EngineOptions{})
		e.Load([]Incident{
			{Target: "p", Subject: "a", Code: "x", State: IncidentFiring, GroupRef: "g1", LastSeen: now},
			{Target: "p", Subject: "b", Code: "x", State: IncidentResolved, GroupRef: "g1", LastSeen: now},  // open group: kept
			{Target: "p", Subject: "c", Code: "x", State: IncidentResolved, GroupRef: "g2", LastSeen: now},  // closed group: dropped
			{Target: "p", Subject: "d", Code: "x", State: IncidentResolved, LastSeen: now},                  // history: dropped
			{Target: "p", Subject: "a", Code: "x", State: IncidentResolved, GroupRef: "g0", LastSeen: now},  // older record of a: open one wins
			{Target: "p", Subject: "e", Code: "x", State: IncidentPending, LastSeen: now.Add(-time.Minute)}, // older
			{Target: "p", Subject: "e", Code: "x", State: IncidentPending, LastSeen: now, Seen: 7},          // newest wins
		})
		var got []string
		for _, in := range e.Incidents("") {
			got = append(got, in.Subject+"/"+in.State)
		}
		if want := "[a/firing b/resolved e/pending]"; fmt.Sprint(got) != want {
			t.Fatalf("loaded %v, want %s", got, want)
		}
		if in, _ := e.Get("p", "e", "x"); in.Seen != 7 {
			t.Fatalf("e = %+v", in)
		}
	})
}

func TestVersionChanged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newIncHarness(t, EngineOptions{})
		v := incFinding(diagnostics.CodeVersionChanged, diagnostics.Info, "openclaw")
		v.Title = "OpenClaw changed from 2026.9.6 to 2026.10.1"

		// Info, yet sent: the per-code exception.
		r := h.eval("prod", EvalContext{}, v)
		wantNotices(t, r, "alert(1)")
		// Reported again unchanged (the caller had not stored the new
		// version yet): nothing.
		time.Sleep(time.Minute)
		wantNotices(t, h.eval("prod", EvalContext{}, v), "")
		// Gone: closes at once, silently, and is never reminded.
		time.Sleep(time.Minute)
		r = h.eval("prod", EvalContext{})
		wantNotices(t, r, "")
		if len(r.Changed) != 1 || r.Changed[0].State != IncidentResolved {
			t.Fatalf("changed %+v", r.Changed)
		}
		if got := h.e.Incidents(""); len(got) != 0 {
			t.Fatalf("engine holds %+v", got)
		}
		time.Sleep(5 * time.Hour)
		wantNotices(t, h.eval("prod", EvalContext{}), "")

		// Another upgrade: a new event.
		v2 := v
		v2.Title = "OpenClaw changed from 2026.10.1 to 2026.11.0"
		wantNotices(t, h.eval("prod", EvalContext{}, v2), "alert(1)")
		time.Sleep(time.Minute)
		v3 := v
		v3.Title = "OpenClaw changed from 2026.11.0 to 2026.11.1"
		wantNotices(t, h.eval("prod", EvalContext{}, v3), "alert(1)")
		// No reminder for an event, even if it stays.
		time.Sleep(5 * time.Hour)
		wantNotices(t, h.eval("prod", EvalContext{}, v3), "")
	})
}

func TestVersionChangedInAGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newIncHarness(t, EngineOptions{})
		v := incFinding(diagnostics.CodeVersionChanged, diagnostics.Info, "openclaw")
		c := incCooldown("p")
		r := h.eval("prod", EvalContext{GatewayDown: true}, v, c)
		// The upgrade is announced even while the gateway is down.
		wantNotices(t, r, "alert(1)")
		time.Sleep(time.Minute)
		r = h.eval("prod", EvalContext{}, c)
		wantNotices(t, r, "alert(1)")
		if r.Notices[0].Incidents[0].Code != c.Code {
			t.Fatalf("%+v", r.Notices[0].Incidents)
		}

		// Together in one group: the event closes silently, the group's
		// resolved notice comes with the cooldown.
		h2 := newIncHarness(t, EngineOptions{})
		r = h2.eval("prod", EvalContext{}, v, c)
		wantNotices(t, r, "alert(2)")
		time.Sleep(time.Minute)
		wantNotices(t, h2.eval("prod", EvalContext{}, c), "")
		time.Sleep(time.Minute)
		r = h2.eval("prod", EvalContext{})
		wantNotices(t, r, "resolved(2)")
	})
}

func TestInfoFindingsNeverAlert(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newIncHarness(t, EngineOptions{})
		info := []diagnostics.Finding{
			incFinding(diagnostics.CodeFailoverNone, diagnostics.Info, "anthropic"),
			incFinding(diagnostics.CodeEnvOverride, diagnostics.Info, "ANTHROPIC_BASE_URL"),
		}
		for range 10 {
			r := h.eval("prod", EvalContext{}, info...)
			if len(r.Notices) != 0 || len(r.Changed) != 0 {
				t.Fatalf("info findings made %+v", r)
			}
			time.Sleep(time.Hour)
		}
	})
}

func TestChangedOnlyWhatChanged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newIncHarness(t, EngineOptions{})
		h.eval("prod", EvalContext{}, incCooldown("a"))
		h.eval("other", EvalContext{}, incCooldown("a"))
		time.Sleep(time.Minute)
		r := h.eval("prod", EvalContext{}, incCooldown("a"))
		if len(r.Changed) != 1 || r.Changed[0].Target != "prod" || r.Changed[0].Seen != 2 || !r.Changed[0].LastSeen.Equal(time.Now()) {
			t.Fatalf("changed %+v", r.Changed)
		}
		if r := h.eval("empty", EvalContext{}); len(r.Changed)+len(r.Notices) != 0 {
			t.Fatalf("empty target changed %+v", r)
		}
	})
}

func TestNewEventClosesItsOldGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newIncHarness(t, EngineOptions{})
		v := incFinding(diagnostics.CodeVersionChanged, diagnostics.Info, "openclaw")
		c := incCooldown("p")
		ref := h.eval("prod", EvalContext{}, v, c).Notices[0].Ref
		time.Sleep(time.Minute)
		wantNotices(t, h.eval("prod", EvalContext{}, v), "") // c resolved, v still reported
		time.Sleep(time.Minute)
		v2 := v
		v2.Title = "another upgrade"
		r := h.eval("prod", EvalContext{}, v2)
		// The old group (old event + cooldown) is over; the new event is news.
		wantNotices(t, r, "resolved(1),alert(1)")
		if r.Notices[0].Ref != ref || r.Notices[0].Incidents[0].Code != c.Code || r.Notices[1].Ref == ref {
			t.Fatalf("notices %+v", r.Notices)
		}
		if got := h.e.Incidents("prod"); len(got) != 1 || got[0].Code != v.Code {
			t.Fatalf("engine holds %+v", got)
		}
	})
}

func TestUnack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newIncHarness(t, EngineOptions{})
		f := incCooldown("p")
		h.eval("prod", EvalContext{}, f)
		h.e.Ack("prod", "", "", "U1")
		if got := h.e.Ack("prod", "p", f.Code, ""); len(got) != 1 || got[0].AckedBy != "" {
			t.Fatalf("unack %+v", got)
		}
		time.Sleep(4 * time.Hour)
		wantNotices(t, h.eval("prod", EvalContext{}, f), "reminder(1)")
	})
}
