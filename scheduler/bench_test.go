package scheduler

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/diagnostics"
	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
	"github.com/openclaw-bot/openclaw-bot/openclaw"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// BenchmarkDetectToSend measures cooldown-written → alert-delivered through
// the whole pipeline (watcher, snapshot, engine, store, outbox, notifier),
// alternating a cooldown and its clearing. Reports p50/p99 in ms.
func BenchmarkDetectToSend(b *testing.B) {
	f := newFixtureB(b)
	ctx, cancel := context.WithCancel(context.Background())
	f.svc.started = make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- f.svc.Run(ctx) }()
	<-f.svc.started
	time.Sleep(300 * time.Millisecond)
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		if i%2 == 0 {
			if err := f.dir.SetRow("authProfiles.state", map[string]any{"version": 1, "usageStats": map[string]any{"anthropic:default": map[string]any{
				"cooldownUntil": time.Now().Add(time.Hour).UnixMilli(), "cooldownReason": "auth", "errorCount": 1}}}); err != nil {
				b.Fatal(err)
			}
		} else if err := f.dir.SetRow("authProfiles.state", nil); err != nil {
			b.Fatal(err)
		}
		select {
		case <-f.slack.ch:
		case <-time.After(10 * time.Second):
			b.Fatal("no delivery")
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	cancel()
	<-done
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[(len(lat)*99)/100].Microseconds())/1000, "p99-ms")
}

func newFixtureB(b *testing.B) *fixture {
	d, err := sandbox.New(filepath.Join(b.TempDir(), "state"))
	if err != nil {
		b.Fatal(err)
	}
	if err := d.Config("2026.9.6", nil, "anthropic:default"); err != nil {
		b.Fatal(err)
	}
	if err := d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{"anthropic:default": map[string]any{
		"type": "api_key", "provider": "anthropic", "key": sandbox.APIKey("bench")}}}, nil); err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "bot.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	f := &fixture{dir: d, store: st, slack: newMem("slack"), tg: newMem("telegram")}
	f.slack.ch = make(chan memSent, 1<<16)
	f.svc = &Service{
		Targets: []ServiceTarget{{Target: diagnostics.Target{Name: "prod",
			Locate: openclaw.LocateOptions{StateDir: d.Path, Home: b.TempDir(), Getenv: func(string) string { return "" }},
			Env:    openclaw.EnvSources{NoProc: true}}}},
		Store: st, Engine: NewEngine(EngineOptions{}), Routes: []Route{{Notifier: f.slack, Dest: "C1"}},
		Log: zerolog.Nop(), SnapshotEvery: time.Hour,
	}
	return f
}

// BenchmarkEvaluate500Targets is one evaluation round over 500 installs with
// 4 Anthropic profiles each (one in cooldown), through snapshot, rules,
// engine and store. Reports the round time and the process's peak RSS.
func BenchmarkEvaluate500Targets(b *testing.B) {
	const targets = 500
	root := b.TempDir()
	svc := &Service{Engine: NewEngine(EngineOptions{}), Log: zerolog.Nop(), Routes: []Route{{Notifier: newMemBench(), Dest: "C1"}}}
	st, err := store.Open(context.Background(), filepath.Join(root, "bot.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc.Store = st
	for i := range targets {
		d, err := sandbox.New(filepath.Join(root, fmt.Sprintf("t%03d", i)))
		if err != nil {
			b.Fatal(err)
		}
		ids := []string{"anthropic:a", "anthropic:b", "anthropic:c", "anthropic:d"}
		profiles := map[string]any{}
		for _, id := range ids {
			profiles[id] = map[string]any{"type": "api_key", "provider": "anthropic", "key": sandbox.APIKey(fmt.Sprint(i, id))}
		}
		if err := d.Config("2026.9.6", nil, ids...); err != nil {
			b.Fatal(err)
		}
		if err := d.SharedStore(map[string]any{"version": 1, "profiles": profiles}, map[string]any{"version": 1, "usageStats": map[string]any{
			"anthropic:a": map[string]any{"cooldownUntil": time.Now().Add(time.Hour).UnixMilli(), "cooldownReason": "rate_limit"}}}); err != nil {
			b.Fatal(err)
		}
		svc.Targets = append(svc.Targets, ServiceTarget{Target: diagnostics.Target{Name: fmt.Sprintf("t%03d", i),
			Locate: openclaw.LocateOptions{StateDir: d.Path, Home: root, Getenv: func(string) string { return "" }},
			Env:    openclaw.EnvSources{NoProc: true}}})
	}
	svc.kick = make(chan struct{}, 1)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		for _, t := range svc.Targets {
			if err := svc.Evaluate(ctx, t.Name); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/round")
	}
	b.StopTimer()
	b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
}

func newMemBench() *memNotifier {
	m := newMem("slack")
	m.ch = make(chan memSent, 1<<16)
	return m
}

// peakRSSMB reads VmHWM of this process (Linux).
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb / 1024
		}
	}
	return 0
}
