package router

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
)

// Confirm acts on what the preview showed, or not at all: on a difference
// nothing is done and the answer is a fresh preview (new buttons, its
// own Confirm) that says what changed.
func TestConfirmComparesWithPreview(t *testing.T) {
	authWindow := func(r *diagnostics.Report) {
		r.Windows = openclaw.Windows{{Profile: "anthropic:default", Kind: "cooldown", Reason: "auth", Until: t0.Add(30 * time.Minute),
			CooldownUntil: t0.Add(30 * time.Minute), CooldownReason: "auth", ErrorCount: 3}}
	}
	billing := func(r *diagnostics.Report) {
		until := t0.Add(5 * time.Hour)
		r.Profiles[0].Health, r.Profiles[0].Reason, r.Profiles[0].Until = "disabled", "billing", until
		r.Windows = openclaw.Windows{{Profile: "anthropic:default", Kind: "disabled", Reason: "billing", Until: until,
			CooldownUntil: t0.Add(30 * time.Minute), CooldownReason: "auth", DisabledUntil: until, DisabledReason: "billing", ErrorCount: 4}}
	}
	for _, tc := range []struct {
		name      string
		who       Who
		command   string
		meanwhile func(r *diagnostics.Report) // what OpenClaw writes between preview and Confirm
		action    error                       // what the action answers the first Confirm
		want      []string
	}{{
		name: "restart: the verdict and a profile changed", who: slackIn(uAdmin, chAlert), command: "restart prod",
		meanwhile: func(r *diagnostics.Report) {
			r.Verdict = "ok"
			r.Profiles[0].Health, r.Profiles[0].Reason, r.Profiles[0].Until = "ok", "", time.Time{}
		},
		want: []string{"Changed since the preview, nothing done. Restart the OpenClaw gateway of prod?", "verdict DOWN → OK",
			"anthropic:default: invalid (auth) → ok"},
	}, {
		name: "doctor fix: a profile appeared", who: slackIn(uAdmin, chAlert), command: "doctor fix prod",
		meanwhile: func(r *diagnostics.Report) {
			r.Profiles = append(r.Profiles, diagnostics.ProfileStatus{ID: "anthropic:oauth", Agent: "ops", Provider: "anthropic", Type: "oauth", Health: "expiring"})
		},
		want: []string{"Changed since the preview, nothing done. Run openclaw doctor --fix on prod?", "anthropic:oauth [ops]: new, expiring",
			"REFUSE to run while these logins are not named, because a failed refresh destroys a login for good: anthropic:oauth"},
	}, {
		name: "probe --spend: a window started", who: slackIn(uAdmin, chAlert), command: "probe --spend prod",
		meanwhile: func(r *diagnostics.Report) {
			r.Profiles[1].Health, r.Profiles[1].Reason = "cooldown", "rate_limit"
		},
		want: []string{"anthropic:backup: ok → cooldown (rate_limit)"},
	}, {
		name: "cooldown reset: the action saw a billing disable", who: slackIn(uResp, chAlert), command: "cooldown reset anthropic:default prod",
		meanwhile: billing,
		action:    fmt.Errorf("%w (anthropic:default)", ErrChangedSincePreview),
		want: []string{"Changed since the preview, nothing done. Reset the cooldown of anthropic:default on prod?",
			"anthropic:default: cooldown (auth) until 2026-11-25T12:30:00Z → disabled (billing) until 2026-11-25T17:00:00Z",
			"disabled for billing. A reset adds no credits"},
	}, {
		name: "cooldown reset: the action saw a change the windows do not show", who: slackIn(uResp, chAlert), command: "cooldown reset anthropic:default prod",
		action: fmt.Errorf("%w: OpenClaw wrote to /srv/openclaw/state/openclaw.sqlite meanwhile", ErrChangedSincePreview),
		want:   []string{"Changed since the preview, nothing done", "OpenClaw wrote to /srv/openclaw/state/openclaw.sqlite meanwhile"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, noLimit)
			e.diag.setMod(func(_ string, r *diagnostics.Report) { authWindow(r) })
			ok, _ := buttons(t, e.handle(tc.who, tc.command))
			if tc.meanwhile != nil {
				e.diag.setMod(func(_ string, r *diagnostics.Report) { authWindow(r); tc.meanwhile(r) })
			}
			e.act.fail = tc.action
			rep := e.press(tc.who, ok)
			got := strings.Join(allText(rep), "") // spans joined as they read
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("answer lacks %q:\n%s", w, got)
				}
			}
			calls := e.act.Calls()
			if tc.action == nil && len(calls) != 0 {
				t.Fatalf("the action ran although the state changed: %+v", calls)
			}
			a := e.lastAudit()
			if a.Outcome != OutcomeRefused || !strings.HasPrefix(a.Error, "changed since the preview") || !strings.HasPrefix(tc.command, a.Command) {
				t.Errorf("audit %+v", a)
			}
			ok2, _ := buttons(t, rep) // a fresh preview …
			if ok2 == ok {
				t.Fatal("the fresh preview reuses the spent confirmation")
			}
			e.act.fail = nil
			if done := e.press(tc.who, ok2); !strings.Contains(flat(done), "Confirmed by") { // … whose Confirm acts
				t.Fatalf("confirm of the fresh preview: %s", flat(done))
			}
			if n := len(e.act.Calls()); n != len(calls)+1 {
				t.Fatalf("calls %+v", e.act.Calls())
			}
		})
	}
}

// The action gets what the preview showed of the state it changes.
func TestConfirmPassesTheShownState(t *testing.T) {
	e := newEnv(t, noLimit)
	ws := openclaw.Windows{
		{Profile: "anthropic:backup", ErrorCount: 1},
		{Profile: "anthropic:default", Kind: "cooldown", Reason: "auth", Until: t0.Add(30 * time.Minute), CooldownUntil: t0.Add(30 * time.Minute), CooldownReason: "auth"},
		{Profile: "anthropic:default", Agent: "ops", Kind: "cooldown", Reason: "auth", Until: t0.Add(time.Hour), CooldownUntil: t0.Add(time.Hour), CooldownReason: "auth"},
	}
	e.diag.setMod(func(_ string, r *diagnostics.Report) { r.Windows = ws })
	w := slackIn(uResp, chAlert)
	ok, _ := buttons(t, e.handle(w, "cooldown reset anthropic:default prod"))
	e.press(w, ok)
	c := e.act.Calls()
	if len(c) != 1 || !slices.Equal(c[0].Expected, []string{"anthropic:default"}) || c[0].Digest != ws[1:].Digest() {
		t.Fatalf("calls %+v, want the digest %s of anthropic:default's two windows", c, ws[1:].Digest())
	}
	if ws[1:].Digest() == ws[1:2].Digest() || ws.Digest() == ws[1:].Digest() {
		t.Fatal("the digest must cover every store's copy, and only the profiles shown")
	}
}
