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

	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
	"github.com/openclaw-bot/openclaw-bot/metrics"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/scheduler"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// recovery.reset_after_rotation wires the scheduler to the router's
// automatic reset, which runs the real cooldown reset: the window is
// cleared in OpenClaw's state, after a backup, with an audit row naming the
// bot. Off (the default), serve has no way to reset by itself.
func TestResetAfterRotationWiring(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprint(on), func(t *testing.T) {
			d, err := sandbox.New(filepath.Join(t.TempDir(), "state"))
			must(t, err)
			key := sandbox.APIKey("wired")
			must(t, d.Config("2026.9.6", nil, "anthropic:default"))
			must(t, d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{
				"anthropic:default": map[string]any{"type": "api_key", "provider": "anthropic", "key": key}}},
				map[string]any{"version": 1, "usageStats": map[string]any{"anthropic:default": map[string]any{
					"cooldownUntil": time.Now().Add(time.Hour).UnixMilli(), "cooldownReason": "auth", "errorCount": 1,
					"lastFailureAt": time.Now().Add(-time.Hour).UnixMilli()}}}))
			work := t.TempDir()
			p := filepath.Join(work, "bot.yaml")
			must(t, os.WriteFile(p, []byte(fmt.Sprintf("store:\n  path: %s\nanthropic:\n  key_check_every: 0\nscheduler:\n  openclaw_log_dir: \"\"\n"+
				"recovery:\n  reset_after_rotation: %v\ntargets:\n  - name: t\n    state_dir: %s\n", filepath.Join(work, "bot.db"), on, d.Path)), 0o600))
			cfg, err := loadConfig(p)
			must(t, err)
			ctx := context.Background()
			st, err := store.Open(ctx, cfg.Store.Path)
			must(t, err)
			defer st.Close()
			s := &App{opts: Options{Stdout: &syncBuffer{}, ShutdownTimeout: 5 * time.Second}, log: zerolog.Nop(),
				store: st, metrics: metrics.New(metrics.BuildInfo{}), handler: &handlerRef{}}
			gen, err := s.newGeneration(cfg, nil)
			must(t, err)
			if !on {
				if gen.svc.ResetAfterRotation || gen.svc.AutoReset != nil {
					t.Fatal("serve can reset by itself without recovery.reset_after_rotation")
				}
				return
			}
			if !gen.svc.ResetAfterRotation || gen.svc.AutoReset == nil {
				t.Fatal("recovery.reset_after_rotation: true is not wired")
			}
			rep, err := gen.svc.Report(ctx, "t", false)
			must(t, err)
			msg, err := gen.svc.AutoReset(ctx, scheduler.AutoResetRequest{Target: "t", Profiles: []string{"anthropic:default"},
				State: rep.Windows.Of([]string{"anthropic:default"}), Verdict: rep.Verdict, Why: []string{"stale"}})
			must(t, err)
			text := msg.Title
			for _, sp := range append(msg.Text, msg.Footer...) {
				text += sp.Text
			}
			if !strings.Contains(text, "Cleared anthropic:default") || !strings.Contains(text, "Done by "+scheduler.AutoResetActor) || strings.Contains(text, key[10:40]) {
				t.Fatalf("reply: %s", text)
			}
			audit, err := st.Audit(ctx, 1)
			must(t, err)
			if len(audit) != 1 || audit[0].Actor != scheduler.AutoResetActor || audit[0].Outcome != "ok" || audit[0].BackupPath == "" {
				t.Fatalf("audit %+v", audit)
			}
			snap, err := openclaw.ReadSnapshot(ctx, openclaw.Location{StateDir: d.Path, ConfigPath: filepath.Join(d.Path, "openclaw.json")}, openclaw.ReadOptions{Env: openclaw.EnvSources{NoProc: true}})
			must(t, err)
			if u, _ := snap.Usage("main", "anthropic:default"); !u.CooldownUntil.IsZero() {
				t.Fatalf("the window is still there: %+v", u)
			}
		})
	}
}
