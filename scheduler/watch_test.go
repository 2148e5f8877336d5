package scheduler

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
)

type changes struct {
	mu  sync.Mutex
	got []string
	ch  chan string
}

func newChanges() *changes { return &changes{ch: make(chan string, 100)} }
func (c *changes) on(t string) {
	c.mu.Lock()
	c.got = append(c.got, t)
	c.mu.Unlock()
	c.ch <- t
}

func (c *changes) wait(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-c.ch:
		if got != want {
			t.Fatalf("change for %q, want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no change reported for %s", want)
	}
}

func (c *changes) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case got := <-c.ch:
		t.Fatalf("unexpected change for %s", got)
	case <-time.After(d):
	}
}

func TestWatcherSeesOpenClawWrites(t *testing.T) {
	for _, poll := range []bool{false, true} {
		name := "fsnotify"
		if poll {
			name = "poll"
		}
		t.Run(name, func(t *testing.T) {
			a, b := t.TempDir(), t.TempDir()
			da, _ := sandbox.New(a)
			if err := da.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{}}, nil); err != nil {
				t.Fatal(err)
			}
			c := newChanges()
			modes := make(chan string, 4)
			w := NewWatcher(WatchOptions{Debounce: 50 * time.Millisecond, PollEvery: 100 * time.Millisecond, ForcePoll: poll,
				OnChange: c.on, OnMode: func(m string) { modes <- m }})
			w.Add("alpha", a)
			w.Add("beta", b)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- w.Run(ctx) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Error(err)
				}
			}()
			<-modes
			time.Sleep(150 * time.Millisecond) // let the first poll scan record the baseline

			// A cooldown written into the SQLite store (as OpenClaw does).
			if err := da.SetRow("authProfiles.state", map[string]any{"version": 1, "usageStats": map[string]any{"anthropic:default": map[string]any{"cooldownUntil": 1}}}); err != nil {
				t.Fatal(err)
			}
			c.wait(t, "alpha")
			// An unrelated file is ignored.
			os.WriteFile(filepath.Join(b, "notes.txt"), []byte("x"), 0o600)
			c.none(t, 400*time.Millisecond)
			// An atomic replace of openclaw.json in the other target.
			tmp := filepath.Join(b, ".openclaw.json.tmp")
			os.WriteFile(tmp, []byte("{}"), 0o600)
			os.Rename(tmp, filepath.Join(b, "openclaw.json"))
			c.wait(t, "beta")
			// A new agent directory created later is picked up.
			agentDir := filepath.Join(b, "agents", "ops", "agent")
			os.MkdirAll(agentDir, 0o700)
			time.Sleep(300 * time.Millisecond)
			os.WriteFile(filepath.Join(agentDir, "auth-profiles.json"), []byte("{}"), 0o600)
			c.wait(t, "beta")
		})
	}
}

func TestWatcherDebounces(t *testing.T) {
	dir := t.TempDir()
	c := newChanges()
	w := NewWatcher(WatchOptions{Debounce: 150 * time.Millisecond, OnChange: c.on})
	w.Add("t", dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	time.Sleep(100 * time.Millisecond)
	for i := range 20 {
		os.WriteFile(filepath.Join(dir, ".env"), []byte{byte('a' + i)}, 0o600)
		time.Sleep(5 * time.Millisecond)
	}
	c.wait(t, "t")
	c.none(t, 400*time.Millisecond)
}
