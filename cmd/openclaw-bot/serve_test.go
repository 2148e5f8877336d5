package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/config"
	"github.com/openclaw-bot/openclaw-bot/internal/fakeanthropic"
	"github.com/openclaw-bot/openclaw-bot/internal/fakeslack"
	"github.com/openclaw-bot/openclaw-bot/internal/faketelegram"
	"github.com/openclaw-bot/openclaw-bot/internal/peer"
	"github.com/openclaw-bot/openclaw-bot/store"
)

const (
	testSlackToken = "xoxb-test-bot-token"
	testAppToken   = "xapp-test-app-token"
	testTGToken    = "123456:TEST-telegram-token-abcdefghijklmnopqrstu"
	testChannel    = "C0123456789"
	testChat       = "-1001234567890"
)

// serveConfig writes a bot config pointing every platform at loopback fakes.
func serveConfig(t *testing.T, stateDir, slackURL, tgURL, anthropicURL string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`store:
  path: %s
http:
  listen: ""
anthropic:
  base_url: %s
  key_check_every: 0
targets:
  - name: sandbox
    state_dir: %s
slack:
  mode: socket
  bot_token: %s
  app_token: %s
  api_url: %s
  alert_channel: %s
telegram:
  token: %s
  api_url: %s
  alert_chat: "%s"
scheduler:
  snapshot_every: 1m
  openclaw_log_dir: %s
`, filepath.Join(dir, "bot.db"), anthropicURL, stateDir, testSlackToken, testAppToken, slackURL, testChannel, testTGToken, tgURL, testChat, filepath.Join(dir, "openclaw-logs"))
	p := filepath.Join(dir, "bot.yaml")
	must(t, os.WriteFile(p, []byte(cfg), 0o600))
	return p
}

// startServe runs serve in the background. stop ends it and fails the test
// if serve returned an error; it runs at most once (call it mid-test to
// read what serve wrote on its way out, or defer it).
func startServe(t *testing.T, cfg *config.Config, log zerolog.Logger, o serveOptions) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, log, o) }()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
}

// With the real OpenClaw CLI: a profile put into an auth cooldown by a real
// `models status --probe` against a 401 fake Anthropic yields exactly one
// Slack and one Telegram alert within 2 s of the write, and one resolved
// notice (an edit of each) once the cooldown is cleared.
func TestServeAlertsOnRealCooldown(t *testing.T) {
	cli := peer.Require(t)
	sb := peer.NewOnboardedSandbox(t, cli)
	anth := fakeanthropic.New(fakeanthropic.Options{Mode: fakeanthropic.Mode401})
	defer anth.Close()
	must(t, sb.SetBaseURL(anth.URL()))
	fs := fakeslack.New()
	defer fs.Close()
	ft := faketelegram.New(testTGToken)
	defer ft.Close()

	cfg, err := loadConfig(serveConfig(t, sb.StateDir(), fs.URL(), ft.URL(), anth.URL()))
	must(t, err)
	defer startServe(t, cfg, zerolog.Nop(), serveOptions{Stdout: os.Stdout})()
	time.Sleep(time.Second) // first evaluation of a healthy install: silent
	if n := len(fs.Messages(testChannel)); n != 0 {
		t.Fatalf("healthy install alerted: %d messages", n)
	}

	// Note when OpenClaw writes the cooldown row.
	var wroteAt time.Time
	var mu sync.Mutex
	watchCtx, stopWatch := context.WithCancel(context.Background())
	go func() {
		for watchCtx.Err() == nil {
			if _, ok := sb.StateRow("authProfiles.state"); ok {
				mu.Lock()
				wroteAt = time.Now()
				mu.Unlock()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	if _, err := sb.Probe(); err != nil {
		t.Fatalf("probe: %v", err)
	}
	chat, _ := strconv.ParseInt(testChat, 10, 64)
	deadline := time.Now().Add(10 * time.Second)
	for (len(fs.Messages(testChannel)) == 0 || len(ft.Messages(chat)) == 0) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	stopWatch()
	mu.Lock()
	wrote := wroteAt
	mu.Unlock()
	if wrote.IsZero() {
		t.Fatal("the probe wrote no authProfiles.state row")
	}
	posts := fs.Calls("chat.postMessage")
	sends := ft.CallsFor("sendMessage")
	if len(posts) != 1 || len(sends) != 1 {
		t.Fatalf("want exactly one Slack and one Telegram alert, got %d and %d", len(posts), len(sends))
	}
	for name, at := range map[string]time.Time{"slack": posts[0].At, "telegram": sends[0].Time} {
		if lag := at.Sub(wrote); lag > 2*time.Second {
			t.Errorf("%s alert %s after the cooldown was written (want ≤ 2s)", name, lag)
		}
	}

	// Clear the cooldown: each alert is edited into a resolved notice.
	must(t, sb.DeleteStateRow("authProfiles.state"))
	deadline = time.Now().Add(5 * time.Second)
	for (len(fs.Calls("chat.update")) == 0 || len(ft.CallsFor("editMessageText")) == 0) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if u, e := len(fs.Calls("chat.update")), len(ft.CallsFor("editMessageText")); u != 1 || e != 1 {
		t.Fatalf("resolved notices: %d Slack updates, %d Telegram edits; want 1 each", u, e)
	}
	if n, p := len(fs.Calls("chat.postMessage")), len(ft.CallsFor("sendMessage")); n != 1 || p != 1 {
		t.Errorf("extra messages: %d Slack posts, %d Telegram sends", n, p)
	}
}

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

type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Chat end to end through serve: a Slack slash command over Socket Mode and
// a Telegram command over long polling reach the router and are answered on
// each platform; a viewer cannot reset; nothing secret is in any reply.
func TestServeChatEndToEnd(t *testing.T) {
	d := install(t, "", "", "")
	fs := fakeslack.NewSocketMode()
	defer fs.Close()
	ft := faketelegram.New(testTGToken)
	defer ft.Close()
	cfgPath := serveConfig(t, d, fs.URL(), ft.URL(), "http://127.0.0.1:9")
	b, _ := os.ReadFile(cfgPath)
	must(t, os.WriteFile(cfgPath, append(b, []byte("access:\n  viewers: [\"U0VIEWER\", \"42\"]\n  responders: [\"U0RESP\"]\n")...), 0o600))
	cfg, err := loadConfig(cfgPath)
	must(t, err)
	defer startServe(t, cfg, zerolog.Nop(), serveOptions{Stdout: os.Stdout})()

	fs.PushSlashCommand(fakeslack.SlashCommand{Text: "status", UserID: "U0VIEWER", ChannelID: testChannel})
	fs.PushSlashCommand(fakeslack.SlashCommand{Text: "cooldown reset anthropic:default", UserID: "U0VIEWER", ChannelID: testChannel})
	resps := fs.WaitResponses(2, 15*time.Second)
	if len(resps) < 2 {
		t.Fatalf("Slack: %d replies", len(resps))
	}
	all := ""
	for _, r := range resps {
		all += r.Text + r.Blocks
	}
	if !strings.Contains(all, "anthropic:default") || !strings.Contains(strings.ToLower(all), "responder") {
		t.Errorf("Slack replies: status must list the profile and the reset must be refused for a viewer:\n%s", all)
	}

	chat, _ := strconv.ParseInt(testChat, 10, 64)
	ft.QueueMessage(chat, 42, "/status")
	deadline := time.Now().Add(15 * time.Second)
	for len(ft.CallsFor("sendMessage")) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	sends := ft.CallsFor("sendMessage")
	if len(sends) == 0 || !strings.Contains(sends[0].Params.Get("text"), "anthropic:default") {
		t.Fatalf("Telegram reply: %+v", sends)
	}
	if len(ft.CallsFor("setMyCommands")) == 0 {
		t.Error("setMyCommands was not called at start")
	}
	for _, s := range sends {
		all += s.Params.Get("text")
	}
	assertNoSecretLeak(t, all, fixtureSecrets(t))
}
