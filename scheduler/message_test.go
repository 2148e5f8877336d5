package scheduler

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
)

func spansText(s []bot.Span) string {
	var b strings.Builder
	for _, x := range s {
		b.WriteString(x.Text)
	}
	return b.String()
}

func codeSpans(s []bot.Span) []string {
	var out []string
	for _, x := range s {
		if x.Code {
			out = append(out, x.Text)
		}
	}
	return out
}

func msgIncident(f diagnostics.Finding, fired time.Time) Incident {
	return Incident{Target: "prod", Subject: f.Subject, Code: f.Code, Severity: f.Severity, State: IncidentFiring,
		Finding: f, FirstSeen: fired, LastSeen: fired, FiredAt: fired, LastNotified: fired, Seen: 1, GroupRef: "alert:prod:1"}
}

func TestMessageTitles(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cool := incCooldown("anthropic:default")
	rej := incFinding(diagnostics.CodeKeyRejected, diagnostics.Critical, "anthropic:b")
	ver := incFinding(diagnostics.CodeVersionChanged, diagnostics.Info, "openclaw")
	ver.Title = "OpenClaw changed from 2026.9.6 to 2026.10.1"
	cases := []struct {
		name string
		kind bot.Kind
		f    []diagnostics.Finding
		now  time.Time
		want string
		sev  bot.Severity
	}{
		{"two problems", bot.KindAlert, []diagnostics.Finding{cool, rej}, t0, "openclaw-bot: 2 problems on target prod", bot.SevCritical},
		{"one problem", bot.KindAlert, []diagnostics.Finding{cool}, t0, "openclaw-bot: 1 problem on target prod: anthropic:default is in cooldown (rate_limit)", bot.SevCritical},
		{"event", bot.KindAlert, []diagnostics.Finding{ver}, t0, "openclaw-bot: 1 notice on target prod: OpenClaw changed from 2026.9.6 to 2026.10.1", bot.SevInfo},
		{"mixed", bot.KindAlert, []diagnostics.Finding{cool, rej, ver}, t0, "openclaw-bot: 2 problems and 1 notice on target prod", bot.SevCritical},
		{"reminder", bot.KindReminder, []diagnostics.Finding{cool, rej}, t0.Add(4 * time.Hour), "Still firing (4h): openclaw-bot: 2 problems on target prod", bot.SevCritical},
		{"reminder odd", bot.KindReminder, []diagnostics.Finding{cool}, t0.Add(4*time.Hour + 30*time.Minute), "Still firing (4h30m): openclaw-bot: 1 problem on target prod: anthropic:default is in cooldown (rate_limit)", bot.SevCritical},
		{"resolved", bot.KindResolved, []diagnostics.Finding{cool, rej}, t0.Add(12 * time.Minute), "Resolved: openclaw-bot: 2 problems on target prod", bot.SevResolved},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := Notice{Kind: c.kind, Target: "prod", Ref: "alert:prod:1"}
			for _, f := range c.f {
				n.Incidents = append(n.Incidents, msgIncident(f, t0))
			}
			m := n.Message(c.now)
			if m.Title != c.want {
				t.Errorf("title = %q, want %q", m.Title, c.want)
			}
			if m.Severity != c.sev || m.Kind != c.kind || m.Target != "prod" || m.Ref != "alert:prod:1" {
				t.Errorf("message = %+v", m)
			}
			if len(m.Items) != len(c.f) {
				t.Errorf("%d items", len(m.Items))
			}
		})
	}
}

func TestMessageItems(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f := diagnostics.Finding{
		Code: diagnostics.CodeCooldownActive, Severity: diagnostics.Critical, Subject: "anthropic:default",
		Title:    "anthropic:default is in cooldown (auth) until 2026-11-25T13:00:00Z (in 1h)",
		Evidence: "usageStats[anthropic:default] in /s/auth-profiles.json: cooldownReason=auth. Check with `openclaw models status --json`.",
		Remedy: []string{
			"Anthropic rejected this credential. Replace it first:",
			"Store a valid key: printf '%s' \"$NEW_ANTHROPIC_KEY\" | openclaw models auth paste-api-key --provider anthropic --profile-id anthropic:default",
			"Fix models.providers.anthropic.apiKey in /s/openclaw.json (or remove it and store the key as a profile: openclaw models auth paste-api-key --profile-id anthropic:default).",
			"To end it early: `openclaw models auth logout anthropic:default --yes`, then run the paste command again.",
		},
		File: "/s/auth-profiles.json", Line: 4, Column: 2,
		Until: t0.Add(time.Hour),
	}
	in := msgIncident(f, t0)
	in.AckedBy = "U42"
	m := Notice{Kind: bot.KindAlert, Target: "prod", Ref: "alert:prod:1", Incidents: []Incident{in}}.Message(t0.Add(12 * time.Minute))
	it := m.Items[0]
	if it.Code != f.Code || it.Severity != bot.SevCritical || it.Subject != f.Subject || it.Title != f.Title || !it.Until.Equal(f.Until) || it.Resolved {
		t.Fatalf("item = %+v", it)
	}
	if got := codeSpans(it.Details); len(got) != 2 || got[0] != "openclaw models status --json" || got[1] != "/s/auth-profiles.json:4:2" {
		t.Errorf("detail code spans = %q", got)
	}
	if d := spansText(it.Details); !strings.HasPrefix(d, "usageStats[anthropic:default]") || !strings.Contains(d, "Acked by U42.") || strings.Contains(d, "`") {
		t.Errorf("details = %q", d)
	}
	wantRemedy := []struct{ text, code string }{
		{f.Remedy[0], ""},
		{f.Remedy[1], `printf '%s' "$NEW_ANTHROPIC_KEY" | openclaw models auth paste-api-key --provider anthropic --profile-id anthropic:default`},
		{f.Remedy[2], "openclaw models auth paste-api-key --profile-id anthropic:default"},
		{strings.ReplaceAll(f.Remedy[3], "`", ""), "openclaw models auth logout anthropic:default --yes"},
	}
	if len(it.Remedy) != len(wantRemedy) {
		t.Fatalf("%d remedy lines", len(it.Remedy))
	}
	for i, w := range wantRemedy {
		if got := spansText(it.Remedy[i]); got != w.text {
			t.Errorf("remedy %d text = %q, want %q", i, got, w.text)
		}
		codes := codeSpans(it.Remedy[i])
		if w.code == "" && len(codes) != 0 || w.code != "" && (len(codes) != 1 || codes[0] != w.code) {
			t.Errorf("remedy %d code spans = %q, want %q", i, codes, w.code)
		}
	}
	if foot := spansText(m.Footer); !strings.Contains(foot, "target prod") || !strings.Contains(foot, "(12m)") {
		t.Errorf("footer = %q", foot)
	}
	var at bool
	for _, s := range m.Footer {
		at = at || s.IsTime() && s.Time.Equal(t0)
	}
	if !at {
		t.Errorf("footer has no firing-since time: %+v", m.Footer)
	}
	if _, err := json.Marshal(m); err != nil {
		t.Fatal(err)
	}
}

func TestMessageInline(t *testing.T) {
	cases := []struct {
		in   string
		text string
		code []string
	}{
		{"plain", "plain", nil},
		{"run `a b` now", "run a b now", []string{"a b"}},
		{"`x` and `y`", "x and y", []string{"x", "y"}},
		{"odd ` backtick", "odd ` backtick", nil},
		{"empty `` pair", "empty  pair", nil},
	}
	for _, c := range cases {
		s := bot.Inline(c.in)
		if got := spansText(s); got != c.text {
			t.Errorf("%q: text %q, want %q", c.in, got, c.text)
		}
		if got := codeSpans(s); strings.Join(got, "|") != strings.Join(c.code, "|") {
			t.Errorf("%q: code %q, want %q", c.in, got, c.code)
		}
	}
}

func TestMessageButtons(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	long := strings.Repeat("ü", 40) + ":profile (agent " + strings.Repeat("x", 50) + ")"
	longTarget := strings.Repeat("t", 80)
	cases := []struct {
		name   string
		target string
		f      []diagnostics.Finding
		want   []string // actions
	}{
		{"cooldown", "prod", []diagnostics.Finding{incCooldown("anthropic:default")},
			[]string{"reset:anthropic:default|prod", "check:prod", "silence:prod:1h"}},
		{"no cooldown", "prod", []diagnostics.Finding{incFinding(diagnostics.CodeKeyRejected, diagnostics.Critical, "k")},
			[]string{"check:prod", "silence:prod:1h"}},
		{"cooldown.all", "prod", []diagnostics.Finding{incFinding(diagnostics.CodeCooldownAll, diagnostics.Critical, "anthropic"), incCooldown("a"), incCooldown("b")},
			[]string{"reset:a|prod", "reset:b|prod", "reset:all|prod", "check:prod", "silence:prod:1h"}},
		{"long subject", "prod", []diagnostics.Finding{incCooldown(long)}, nil},
		{"long target", longTarget, []diagnostics.Finding{incCooldown("a")}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := Notice{Kind: bot.KindAlert, Target: c.target, Ref: "alert:x:1"}
			for _, f := range c.f {
				n.Incidents = append(n.Incidents, msgIncident(f, t0))
			}
			sortIncidents(n.Incidents)
			m := n.Message(t0)
			var got []string
			for _, b := range m.Buttons {
				if len(b.Action) > bot.MaxActionBytes || !utf8.ValidString(b.Action) || b.Text == "" {
					t.Errorf("button %+v: %d bytes", b, len(b.Action))
				}
				got = append(got, b.Action)
			}
			if c.want != nil && strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("actions = %q, want %q", got, c.want)
			}
			texts := map[string]bool{}
			for _, b := range m.Buttons {
				texts[strings.SplitN(b.Text, ":", 2)[0]] = true
			}
			if !texts["Re-check"] || !texts["Silence 1h"] {
				t.Errorf("buttons = %+v", m.Buttons)
			}
			if c.name == "long subject" {
				a, err := bot.ParseAction(got[0])
				if err != nil || a.For != "prod" {
					t.Errorf("ParseAction(%q) = %+v, %v; want the target prod", got[0], a, err)
				}
				arg := a.Arg
				if !bot.ArgMatches(arg, long) || bot.ArgMatches(arg, long+"x") || bot.ArgMatches(arg, "anthropic:default") {
					t.Errorf("ArgMatches(%q) wrong", arg)
				}
				if m.Buttons[0].Text != "Reset cooldown" {
					t.Errorf("text %q", m.Buttons[0].Text)
				}
			}
			if c.name == "long target" {
				if !strings.HasSuffix(got[2], ":1h") || !strings.HasPrefix(got[2], "silence:ttt") {
					t.Errorf("silence action %q", got[2])
				}
				if !bot.ArgMatches(strings.TrimSuffix(strings.TrimPrefix(got[2], "silence:"), ":1h"), longTarget) {
					t.Errorf("silence arg does not match the target")
				}
			}
		})
	}
	// Resolved notices carry no buttons.
	n := Notice{Kind: bot.KindResolved, Target: "prod", Incidents: []Incident{msgIncident(incCooldown("a"), t0)}}
	if m := n.Message(t0); len(m.Buttons) != 0 {
		t.Errorf("resolved buttons %+v", m.Buttons)
	}
}

// End to end: engine notices rendered, in virtual time.
func TestMessageFromEngine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := NewEngine(EngineOptions{})
		fs := []diagnostics.Finding{incCooldown("anthropic:a"), incCooldown("anthropic:b")}
		r := e.Evaluate("prod", fs, time.Now(), EvalContext{})
		alert := r.Notices[0].Message(time.Now())
		if alert.Kind != bot.KindAlert || alert.Title != "openclaw-bot: 2 problems on target prod" || len(alert.Buttons) != 4 {
			t.Fatalf("alert = %+v", alert)
		}

		time.Sleep(4 * time.Hour)
		r = e.Evaluate("prod", fs, time.Now(), EvalContext{})
		rem := r.Notices[0].Message(time.Now())
		if rem.Kind != bot.KindReminder || !strings.HasPrefix(rem.Title, "Still firing (4h): ") {
			t.Fatalf("reminder = %+v", rem)
		}

		time.Sleep(12 * time.Minute)
		r = e.Evaluate("prod", nil, time.Now(), EvalContext{})
		res := r.Notices[0].Message(time.Now())
		if res.Kind != bot.KindResolved || !res.IsEdit() || res.Ref != alert.Ref || res.Severity != bot.SevResolved ||
			res.Title != "Resolved: openclaw-bot: 2 problems on target prod" || len(res.Buttons) != 0 {
			t.Fatalf("resolved = %+v", res)
		}
		for _, it := range res.Items {
			if !it.Resolved || !it.Until.IsZero() {
				t.Errorf("item %+v", it)
			}
		}
		var line bool
		for _, s := range res.Footer {
			line = line || s.Text == "resolved after 4h12m"
		}
		if !line {
			t.Errorf("footer = %q", spansText(res.Footer))
		}
	})
}

func TestMessageResolvedAfter12m(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := NewEngine(EngineOptions{})
		f := incCooldown("anthropic:a")
		f.Until = time.Now().Add(10 * time.Minute)
		e.Evaluate("prod", []diagnostics.Finding{f}, time.Now(), EvalContext{})
		time.Sleep(12 * time.Minute)
		r := e.Evaluate("prod", nil, time.Now(), EvalContext{})
		m := r.Notices[0].Message(time.Now())
		if !strings.Contains(spansText(m.Footer), "resolved after 12m") || !m.Items[0].Resolved {
			t.Fatalf("resolved message = %+v", m)
		}
	})
}
