package actions

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/bot/router"
	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/internal/fakeanthropic"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// routed is a sandbox install behind the real router and actions, used as
// an on-call person would: commands and button presses on the console.
type routed struct {
	t    *testing.T
	d    *sandbox.Dir
	st   *store.Store
	rt   *router.Router
	keys []string
}

func newRouted(t *testing.T) *routed {
	t.Helper()
	keys := []string{sandbox.APIKey("confirm-default"), sandbox.APIKey("confirm-local")}
	d, err := sandbox.New(filepath.Join(t.TempDir(), "state"))
	must(t, err)
	must(t, d.Config("2026.9.6", nil, "anthropic:default"))
	fake := fakeanthropic.New(fakeanthropic.Options{Mode: fakeanthropic.ModeKeyed, Keys: keys})
	t.Cleanup(fake.Close)
	tgt := diagnostics.Target{Name: "local", BaseURLFlag: fake.URL(),
		Locate: openclaw.LocateOptions{StateDir: d.Path, Home: t.TempDir(), Getenv: func(string) string { return "" }},
		Env:    openclaw.EnvSources{NoProc: true}}
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "bot.db"))
	must(t, err)
	t.Cleanup(func() { st.Close() })
	checker := diagnostics.NewChecker(diagnostics.CheckerOptions{})
	acts := New(Options{Targets: []Target{{Target: tgt}}, Checker: checker, BackupDir: filepath.Join(t.TempDir(), "backups")})
	rt := router.New(router.Options{Store: st, Diagnoser: diag{tgt, checker}, Actions: acts})
	return &routed{t: t, d: d, st: st, rt: rt, keys: keys}
}

// shared writes the shared store (anthropic:default) with this usage entry.
func (r *routed) shared(usage map[string]any) {
	r.t.Helper()
	must(r.t, r.d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{
		"anthropic:default": map[string]any{"type": "api_key", "provider": "anthropic", "key": r.keys[0]}}},
		map[string]any{"version": 1, "usageStats": map[string]any{"anthropic:default": usage}}))
}

func (r *routed) ask(text string) bot.Reply {
	r.t.Helper()
	rep := r.rt.Handle(context.Background(), bot.Request{Surface: bot.SurfaceConsole, UserID: "console", Private: true, Text: text})
	r.noLeak(rep)
	return rep
}

func (r *routed) press(rep bot.Reply, label string) bot.Reply {
	r.t.Helper()
	for _, b := range rep.Message.Buttons {
		if b.Text == label {
			out := r.rt.Press(context.Background(), bot.Press{Surface: bot.SurfaceConsole, UserID: "console", Private: true, Action: b.Action})
			r.noLeak(out)
			return out
		}
	}
	r.t.Fatalf("no %s button in %q", label, text(rep.Message))
	return bot.Reply{}
}

// noLeak: no key of the install, nor anything credential-shaped, in any
// text of the reply.
func (r *routed) noLeak(rep bot.Reply) {
	r.t.Helper()
	all := []string{rep.Toast, text(rep.Message)}
	for _, s := range rep.Message.Footer {
		all = append(all, s.Text)
	}
	for _, it := range rep.Message.Items {
		for _, s := range it.Details {
			all = append(all, s.Text)
		}
	}
	for _, s := range all {
		for _, k := range r.keys {
			if strings.Contains(s, k[len(k)-24:]) || strings.Contains(s, k[:30]) {
				r.t.Fatalf("reply leaks a key: %q", s)
			}
		}
		if redact.String(s) != s {
			r.t.Fatalf("reply holds something credential-shaped: %q", s)
		}
	}
}

func (r *routed) lastAudit() store.AuditEntry {
	r.t.Helper()
	list, err := r.st.Audit(context.Background(), 1)
	must(r.t, err)
	return list[0]
}

// Confirm acts on what the preview showed, or not at all: a state that
// changed between the preview and Confirm is left exactly as it is, and
// the answer is a fresh preview (new buttons) that says what changed.
func TestConfirmComparesWithThePreview(t *testing.T) {
	ms := func(d time.Duration) int64 { return time.Now().Add(d).UnixMilli() }
	at := func(v int64) string { return time.UnixMilli(v).UTC().Format(time.RFC3339) }
	auth60, billing5h := ms(time.Hour), ms(5*time.Hour)
	rl5, rl10h := ms(5*time.Minute), ms(10*time.Hour)
	for _, tc := range []struct {
		name      string
		before    map[string]any
		meanwhile map[string]any // nil: nothing changes
		want      []string       // in the answer to Confirm
		buttons   bool           // the answer is a fresh preview with Confirm/Cancel
	}{{
		name:   "auth cooldown becomes a billing disable",
		before: map[string]any{"cooldownUntil": auth60, "cooldownReason": "auth", "errorCount": 1, "failureCounts": map[string]int{"auth": 1}},
		meanwhile: map[string]any{"cooldownUntil": auth60, "cooldownReason": "auth", "disabledUntil": billing5h, "disabledReason": "billing",
			"errorCount": 2, "failureCounts": map[string]int{"auth": 1, "billing": 1}},
		want: []string{"Changed since the preview, nothing done", "anthropic:default: cooldown (auth) until " + at(auth60) + " → disabled (billing) until " + at(billing5h),
			"disabled for billing. A reset adds no credits", "Confirm clears"},
		buttons: true,
	}, {
		name:      "5-minute rate limit becomes 10 hours",
		before:    map[string]any{"cooldownUntil": rl5, "cooldownReason": "rate_limit", "errorCount": 1},
		meanwhile: map[string]any{"cooldownUntil": rl10h, "cooldownReason": "rate_limit", "errorCount": 2},
		want: []string{"Changed since the preview, nothing done", "anthropic:default: cooldown (rate_limit) until " + at(rl5) + " → cooldown (rate_limit) until " + at(rl10h),
			"Confirm clears"},
		buttons: true,
	}, {
		name:      "the window ended meanwhile",
		before:    map[string]any{"cooldownUntil": rl5, "cooldownReason": "rate_limit", "errorCount": 1},
		meanwhile: map[string]any{"cooldownUntil": ms(-time.Second), "cooldownReason": "rate_limit", "errorCount": 1},
		want:      []string{"Changed since the preview, nothing done", "→ no cooldown or disable (it ended: nothing to reset)", "not in cooldown"},
	}, {
		name:      "only the counters moved",
		before:    map[string]any{"cooldownUntil": auth60, "cooldownReason": "auth", "errorCount": 1},
		meanwhile: map[string]any{"cooldownUntil": auth60, "cooldownReason": "auth", "errorCount": 4},
		want:      []string{"Changed since the preview, nothing done", "failure counters changed (errorCount 1 → 4)"},
		buttons:   true,
	}, {
		name:   "unchanged: the reset happens",
		before: map[string]any{"cooldownUntil": auth60, "cooldownReason": "auth", "errorCount": 1},
		want:   []string{"Cleared anthropic:default", "cleared, key accepted"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRouted(t)
			r.shared(tc.before)
			preview := r.ask("cooldown reset anthropic:default")
			if tc.meanwhile != nil {
				r.shared(tc.meanwhile) // OpenClaw writes between the preview and Confirm
			}
			written := readRow(t, r.d.Path)
			done := r.press(preview, "Confirm")
			got := text(done.Message)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("answer to Confirm lacks %q:\n%s", w, got)
				}
			}
			if tc.meanwhile == nil {
				if a := r.lastAudit(); a.Outcome != router.OutcomeOK || readRow(t, r.d.Path) == written {
					t.Fatalf("an unchanged state must be reset: audit %+v\n%s", a, got)
				}
				return
			}
			if row := readRow(t, r.d.Path); row != written {
				t.Fatalf("Confirm wrote over a state that changed since the preview:\nwas  %s\nnow  %s", written, row)
			}
			a := r.lastAudit()
			if a.Outcome != router.OutcomeRefused || !strings.Contains(a.Error, "changed since the preview") || a.BackupPath != "" {
				t.Errorf("audit %+v", a)
			}
			if (len(done.Message.Buttons) == 2) != tc.buttons {
				t.Fatalf("buttons %+v, want a fresh preview: %v\n%s", done.Message.Buttons, tc.buttons, got)
			}
			if !tc.buttons {
				return
			}
			// The fresh preview is a preview like any other: Confirm acts on
			// what it showed.
			again := text(r.press(done, "Confirm").Message)
			if !strings.Contains(again, "Cleared anthropic:default") {
				t.Fatalf("Confirm of the fresh preview: %s", again)
			}
			if tc.meanwhile["disabledReason"] == "billing" && !strings.Contains(again, "was disabled for billing") {
				t.Errorf("after a billing disable the reset must say billing is unverified: %s", again)
			}
		})
	}
}

// undo restores only the state its preview showed: a profile written to
// after the undo's preview makes Confirm restore nothing at all (not the
// profiles whose store did not change either) and answer with a fresh
// preview.
func TestUndoRefusesWhenTheStateChangedSinceItsPreview(t *testing.T) {
	r := newRouted(t)
	auth60 := time.Now().Add(time.Hour).UnixMilli()
	r.shared(map[string]any{"cooldownUntil": auth60, "cooldownReason": "auth", "errorCount": 1})
	// The main agent's own store, with a profile of its own in cooldown.
	agentState := func(until int64, reason string) map[string]any {
		return map[string]any{"version": 1, "usageStats": map[string]any{
			"anthropic:local": map[string]any{"cooldownUntil": until, "cooldownReason": reason, "errorCount": 1}}}
	}
	must(t, r.d.AgentStore("main", map[string]any{"version": 1, "profiles": map[string]any{
		"anthropic:local": map[string]any{"type": "api_key", "provider": "anthropic", "key": r.keys[1]}}}, agentState(auth60, "auth")))

	done := r.press(r.ask("cooldown reset all"), "Confirm")
	if got := text(done.Message); !strings.Contains(got, "anthropic:default") || !strings.Contains(got, "anthropic:local") {
		t.Fatalf("reset: %s", got)
	}
	reset := r.lastAudit()
	if reset.BackupPath == "" {
		t.Fatalf("reset audit %+v", reset)
	}
	preview := r.ask(fmt.Sprintf("undo %d", reset.ID))
	if got := text(preview.Message); !strings.Contains(got, "Now: anthropic:local [main]: no cooldown or disable") ||
		!strings.Contains(got, "Before the reset: anthropic:default: cooldown (auth)") {
		t.Fatalf("undo preview: %s", got)
	}
	// OpenClaw puts anthropic:local into a new cooldown meanwhile.
	rl := time.Now().Add(10 * time.Minute).UnixMilli()
	must(t, r.d.AgentStore("main", nil, agentState(rl, "rate_limit")))
	shared := readRow(t, r.d.Path)

	got := r.press(preview, "Confirm")
	if s := text(got.Message); !strings.Contains(s, "Changed since the preview, nothing done") ||
		!strings.Contains(s, "anthropic:local [main]: no cooldown or disable") || !strings.Contains(s, "→ cooldown (rate_limit) until") {
		t.Fatalf("answer to Confirm: %s", s)
	}
	if len(got.Message.Buttons) != 2 {
		t.Fatalf("want a fresh undo preview, got buttons %+v", got.Message.Buttons)
	}
	if row := readRow(t, r.d.Path); row != shared {
		t.Fatalf("undo restored the shared store although the state changed since its preview:\nwas %s\nnow %s", shared, row)
	}
	if a := r.lastAudit(); a.Outcome != router.OutcomeRefused || a.Command != "undo" {
		t.Fatalf("audit %+v", a)
	}
	// The fresh preview shows the new cooldown; its Confirm finds the
	// agent's store no longer holds what the reset wrote, and restores
	// nothing (not the shared store first).
	again := text(r.press(got, "Confirm").Message)
	if !strings.Contains(again, "since the reset; nothing was restored") {
		t.Fatalf("Confirm of the fresh undo preview: %s", again)
	}
	if row := readRow(t, r.d.Path); row != shared {
		t.Fatalf("undo restored the shared store although the agent's changed since the reset:\nwas %s\nnow %s", shared, row)
	}
}
