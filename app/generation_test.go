package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/config"
	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
	"github.com/openclaw-bot/openclaw-bot/metrics"
	"github.com/openclaw-bot/openclaw-bot/scheduler"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// An action that ends after a reload re-evaluates on the current
// generation: its engine resolves the incident, and the stopped
// generation's engine is left as it was (before, the action's callback
// was bound to the generation that built it, whose alert state a reload
// had replaced). A new generation knows what already fired as soon as it
// is published, before its scheduler's first round.
func TestActionAfterReloadEvaluatesOnTheCurrentGeneration(t *testing.T) {
	dir := install(t, "", "state.cooldown-auth-1h.json", "")
	work := t.TempDir()
	conf := func(reminder string) string {
		return fmt.Sprintf("store:\n  path: %s\nanthropic:\n  key_check_every: 0\nscheduler:\n  openclaw_log_dir: \"\"\n"+
			"alerts:\n  reminder_every: %s\ntargets:\n  - name: two\n    state_dir: %s\n", filepath.Join(work, "bot.db"), reminder, dir)
	}
	load := func(name, body string) *config.Config {
		p := filepath.Join(work, name)
		must(t, os.WriteFile(p, []byte(body), 0o600))
		c, err := loadConfig(p)
		must(t, err)
		return c
	}
	cfg1, cfg2 := load("one.yaml", conf("4h")), load("two.yaml", conf("2h"))
	critical := func(e *scheduler.Engine) int { return e.Firing()[[2]string{"two", "critical"}] }

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := store.Open(ctx, cfg1.Store.Path)
	must(t, err)
	defer st.Close()
	logs := &syncBuffer{}
	s := &App{opts: Options{Stdout: &syncBuffer{}, ShutdownTimeout: 5 * time.Second}, log: zerolog.New(logs),
		store: st, metrics: metrics.New(metrics.BuildInfo{}), handler: &handlerRef{}}
	defer s.stopGeneration(context.Background())

	gen1, err := s.newGeneration(cfg1, nil)
	must(t, err)
	s.runGeneration(ctx, gen1)
	// Fired and persisted (the engine knows a moment before the store does).
	waitFor(t, "the cooldown alert", 10*time.Second, func() bool {
		open, err := st.ActiveIncidents(ctx)
		return err == nil && len(open) > 0 && len(open) == critical(gen1.svc.Engine)
	})
	firing := gen1.svc.Engine.Firing()

	// The reload, as serve does it.
	gen2, err := s.newGeneration(cfg2, s.gen)
	must(t, err)
	s.stopGeneration(ctx)
	s.runGeneration(ctx, gen2)
	if got := gen2.svc.Engine.Firing(); fmt.Sprint(got) != fmt.Sprint(firing) {
		t.Fatalf("the new generation starts with %v firing, the old one had %v", got, firing)
	}

	// The action (started on generation 1) clears the cooldown, then
	// calls its re-evaluation callback.
	d, err := sandbox.New(dir)
	must(t, err)
	must(t, d.SetRow("authProfiles.state", map[string]any{"version": 1, "usageStats": map[string]any{}}))
	s.reevaluate(ctx, "two")
	if n := critical(gen2.svc.Engine); n != 0 {
		t.Errorf("the current generation still has %d critical incidents firing after the action's re-evaluation", n)
	}
	if got := gen1.svc.Engine.Firing(); fmt.Sprint(got) != fmt.Sprint(firing) {
		t.Errorf("the stopped generation's engine changed: %v, was %v", got, firing)
	}
	// A target the reload removed is skipped, not an error.
	s.reevaluate(ctx, "gone")
	if l := logs.String(); !strings.Contains(l, `"target":"gone","message":"re-evaluation after an action skipped`) || strings.Contains(l, `"level":"warn"`) {
		t.Errorf("re-evaluating a removed target:\n%s", l)
	}
}
