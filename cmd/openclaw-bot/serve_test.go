package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/store"
)

// With no chat platform configured, serve talks on the console: the same
// router as Slack and Telegram, one command per line; EOF ends the chat, not
// the service.
func TestServeConsoleChat(t *testing.T) {
	d := install(t, "", "", "")
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "bot.yaml")
	must(t, os.WriteFile(cfgPath, []byte(fmt.Sprintf("store:\n  path: %s\nhttp:\n  listen: \"\"\nanthropic:\n  key_check_every: 0\ntargets:\n  - name: local\n    state_dir: %s\nscheduler:\n  openclaw_log_dir: \"\"\n",
		filepath.Join(dir, "bot.db"), d)), 0o600))
	cfg, err := loadConfig(cfgPath)
	must(t, err)
	out := &syncBuffer{}
	stop := startServe(t, cfg, zerolog.Nop(), serveOptions{Stdin: strings.NewReader("status\nwhoami\nfrobnicate\n"), Stdout: out})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "frobnicate") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	// A second serve on the same store refuses to start, naming the holder
	// (two would alert and act twice), and touches nothing.
	err = serve(context.Background(), cfg, zerolog.Nop(), serveOptions{Stdout: io.Discard})
	if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("second serve on the same store: %v, want store.ErrLocked naming this pid", err)
	}
	var stdout, stderr strings.Builder
	if rc := run(context.Background(), []string{"serve", "--config", cfgPath}, nil, &stdout, &stderr); rc != exitCritical ||
		!strings.Contains(stderr.String(), "serve could not start") || !strings.Contains(stderr.String(), "in use by another openclaw-bot serve") {
		t.Errorf("second serve command: rc %d, stderr %s", rc, stderr.String())
	}
	stop()
	text := out.String()
	for _, want := range []string{"anthropic:default", "console", "frobnicate"} {
		if !strings.Contains(text, want) {
			t.Errorf("console chat output lacks %q:\n%s", want, text)
		}
	}
	assertNoSecretLeak(t, text, fixtureSecrets(t))
}
