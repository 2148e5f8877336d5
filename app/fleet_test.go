package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/internal/pgtest"
	"github.com/openclaw-bot/openclaw-bot/internal/servetest"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// serve on PostgreSQL is an instance of the fleet: it claims its targets at
// start (refused when another instance owns one), a reload that adds
// another's target is refused naming it and changes nothing, one that
// swaps targets moves the claims, and a clean stop frees them.
func TestServeFleetTargets(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	st, err := store.OpenConfig(ctx, store.Config{Driver: store.DriverPostgres, DSN: dsn})
	must(t, err)
	defer st.Close()
	now, err := st.Now(ctx)
	must(t, err)
	must(t, st.RegisterInstance(ctx, store.Instance{Name: "two", Host: "h2", PID: 2}, now, time.Hour))
	must(t, st.ClaimTargets(ctx, "two", []string{"x-2"}, now))

	stateDir := servetest.Install(t, "", "", "")
	dir := t.TempDir()
	path := filepath.Join(dir, "bot.yaml")
	write := func(targets ...string) {
		var b strings.Builder
		fmt.Fprintf(&b, "store:\n  driver: postgres\n  dsn: ${FLEET_DSN}\n  path: %s\nhttp:\n  listen: \"\"\nanthropic:\n  key_check_every: 0\ninstance:\n  name: one\ntargets:\n",
			filepath.Join(dir, "bot.db"))
		for _, n := range targets {
			fmt.Fprintf(&b, "  - name: %s\n    state_dir: %s\n", n, stateDir)
		}
		must(t, os.WriteFile(path, []byte(b.String()), 0o600))
	}
	t.Setenv("FLEET_DSN", dsn)
	owners := func() map[string]string {
		list, err := st.Instances(ctx)
		must(t, err)
		m := map[string]string{}
		for _, in := range list {
			for _, tg := range in.Targets {
				m[tg] = in.Name
			}
		}
		return m
	}

	write("x-1", "x-2")
	cfg, err := loadConfig(path)
	must(t, err)
	if _, err := New(ctx, cfg, Options{Log: zerolog.Nop()}); !errors.Is(err, store.ErrTargetTaken) || !strings.Contains(err.Error(), "x-2 (instance two") {
		t.Fatalf("start with another instance's target: %v", err)
	}

	write("x-1")
	cfg, err = loadConfig(path)
	must(t, err)
	var mu sync.Mutex
	var reloads []string
	a, err := New(ctx, cfg, Options{Log: zerolog.Nop(), ConfigPath: path, Stdout: &servetest.SyncBuffer{},
		OnReload: func(r string, err error) {
			mu.Lock()
			reloads = append(reloads, fmt.Sprint(r, ": ", err))
			mu.Unlock()
		}})
	must(t, err)
	must(t, a.Start(ctx))
	if got := owners(); got["x-1"] != "one" || got["x-2"] != "two" {
		t.Fatalf("owners after start: %v", got)
	}

	write("x-1", "x-2")
	a.Reload("test")
	write("x-3")
	a.Reload("test")
	mu.Lock()
	got := slices.Clone(reloads)
	mu.Unlock()
	if len(got) != 2 || !strings.HasPrefix(got[0], "refused: ") || !strings.Contains(got[0], "x-2 (instance two") || got[1] != "applied: <nil>" {
		t.Errorf("reloads %q", got)
	}
	if o := owners(); o["x-3"] != "one" || o["x-1"] != "" || o["x-2"] != "two" {
		t.Errorf("owners after the reloads: %v", o)
	}
	if ts := a.svc.Load().TargetNames(); strings.Join(ts, ",") != "x-3" {
		t.Errorf("watching %v", ts)
	}

	a.Stop(ctx)
	if o := owners(); o["x-3"] != "" {
		t.Errorf("owners after a clean stop: %v", o)
	}
	list, err := st.Instances(ctx)
	must(t, err)
	for _, in := range list {
		if in.Name == "one" && in.Stopped.IsZero() {
			t.Error("instance one not recorded as stopped")
		}
	}
}
