// Package servetest holds what the tests of serve (package app) and of
// the command (cmd/openclaw-bot) share: fixture installs, configs pointing
// at loopback fakes, scrapes, and the secret-leak check.
package servetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
)

// fixtures is testdata/openclaw/fixtures of the repository.
var fixtures = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "openclaw", "fixtures")
}()

// Fixtures is the directory of the OpenClaw fixtures.
func Fixtures() string { return fixtures }

// Credentials and places of the fake chat platforms.
const (
	SlackToken = "xoxb-test-bot-token"
	AppToken   = "xapp-test-app-token"
	TGToken    = "123456:TEST-telegram-token-abcdefghijklmnopqrstu"
	Channel    = "C0123456789"
	Chat       = "-1001234567890"
)

// Install lays out a state dir from fixture files: the onboarded config and
// database, plus the given authProfiles.state / store fixture (or none).
func Install(t *testing.T, storeFile, stateFile, dotenv string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), ".openclaw")
	d, err := sandbox.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(fixtures + "/state/openclaw.onboarded.json")
	if err != nil {
		t.Fatal(err)
	}
	Must(t, d.WriteFile("openclaw.json", bytes.ReplaceAll(cfg, []byte("$WORK/home/.openclaw"), []byte(dir))))
	var rows []struct {
		Key   string          `json:"state_key"`
		Value json.RawMessage `json:"value_json"`
	}
	b, err := os.ReadFile(fixtures + "/state/config_machine_state.onboarded.rows.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatalf("rows fixture: %v", err)
	}
	for _, r := range rows {
		var v any
		if err := json.Unmarshal(r.Value, &v); err != nil {
			var s string // value_json stored as a JSON string
			if json.Unmarshal(r.Value, &s) != nil || json.Unmarshal([]byte(s), &v) != nil {
				t.Fatalf("row %s: %v", r.Key, err)
			}
		}
		if s, ok := v.(string); ok && strings.HasPrefix(s, "{") {
			_ = json.Unmarshal([]byte(s), &v)
		}
		Must(t, d.SetRow(r.Key, v))
	}
	for key, file := range map[string]string{"authProfiles.store": storeFile, "authProfiles.state": stateFile} {
		if file == "" {
			continue
		}
		var v any
		b, err := os.ReadFile(fixtures + "/state/" + file)
		if err != nil {
			t.Fatal(err)
		}
		Must(t, json.Unmarshal(b, &v))
		Must(t, d.SetRow(key, rebase(v, time.Now().UnixMilli()-fixtureCapturedMs)))
	}
	if dotenv != "" {
		Must(t, d.WriteFile(".env", []byte(dotenv)))
	}
	return dir
}

// fixtureCapturedMs is about when the state fixtures were captured; rebase
// moves their timestamps by the same distance so a cooldown that was an hour
// ahead then is an hour ahead now, whatever the wall clock says.
const fixtureCapturedMs = 1795610300000

func rebase(v any, delta int64) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if f, ok := e.(float64); ok && f > 1e12 && (strings.HasSuffix(k, "Until") || strings.HasSuffix(k, "At") || k == "expires" || k == "lastUsed") {
				x[k] = f + float64(delta)
				continue
			}
			x[k] = rebase(e, delta)
		}
	case []any:
		for i := range x {
			x[i] = rebase(x[i], delta)
		}
	}
	return v
}

// Must fails the test on an error.
func Must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var secretRE = regexp.MustCompile(`sk-ant-[A-Za-z0-9_\-]{20,}|"token":\s*"[0-9a-f]{40,}"`)

// Secrets are every secret in the fixtures (keys, tokens).
func Secrets(t *testing.T) []string {
	t.Helper()
	var out []string
	seen := map[string]bool{}
	err := filepath.Walk(fixtures, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range secretRE.FindAllString(string(b), -1) {
			if i := strings.LastIndex(m, `"`); strings.HasPrefix(m, `"token"`) {
				m = m[strings.LastIndex(m[:i], `"`)+1 : i]
			}
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// AssertNoSecretLeak fails if text holds a secret or a 16-character inner
// fragment of one (masks show only the first and last 8).
func AssertNoSecretLeak(t *testing.T, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		frag := s
		if len(s) > 32 {
			frag = s[12 : len(s)-12]
		}
		if strings.Contains(text, s) || strings.Contains(text, frag) {
			t.Fatalf("secret %s… leaked into output", s[:10])
		}
	}
}

// FreeAddr is a loopback address nothing listens on.
func FreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Must(t, err)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Series is one Scrape: "name{label="v",…}" → value.
type Series map[string]float64

// Scrape reads a /metrics page.
func Scrape(t *testing.T, url string) Series {
	t.Helper()
	resp, err := http.Get(url)
	Must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	Must(t, err)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	out := Series{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

// Find returns the samples of a family whose labels include all of want
// ("k=v" pairs), summed, and how many matched.
func (s Series) Find(name string, want ...string) (float64, int) {
	sum, n := 0.0, 0
	for k, v := range s {
		if k != name && !strings.HasPrefix(k, name+"{") {
			continue
		}
		ok := true
		for _, w := range want {
			kv := strings.SplitN(w, "=", 2)
			if !strings.Contains(k, kv[0]+`="`+kv[1]+`"`) {
				ok = false
			}
		}
		if ok {
			sum += v
			n++
		}
	}
	return sum, n
}

// WaitFor polls cond until it holds, or fails the test after timeout.
func WaitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Get is a GET: the status (0 when no answer) and the body or error.
func Get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// ServeConfig writes a bot config pointing every platform at loopback fakes.
func ServeConfig(t *testing.T, stateDir, slackURL, tgURL, anthropicURL string) string {
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
`, filepath.Join(dir, "bot.db"), anthropicURL, stateDir, SlackToken, AppToken, slackURL, Channel, TGToken, tgURL, Chat, filepath.Join(dir, "openclaw-logs"))
	p := filepath.Join(dir, "bot.yaml")
	Must(t, os.WriteFile(p, []byte(cfg), 0o600))
	return p
}

// SyncBuffer is a strings.Builder safe for concurrent writes.
type SyncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// FIFODB replaces the Install's state/openclaw.sqlite by a FIFO (where a
// hung network mount would block the same way). A watchdog, and the
// cleanup, open it for writing: a reader blocked in open(2) then gets EOF,
// so a test of the old behaviour fails instead of hanging forever.
func FIFODB(t *testing.T, stateDir string) string {
	t.Helper()
	p := filepath.Join(stateDir, "state", "openclaw.sqlite")
	Must(t, os.Remove(p))
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	release := func() {
		if f, err := os.OpenFile(p, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	}
	watchdog := time.AfterFunc(15*time.Second, func() {
		for range 100 {
			release()
			time.Sleep(50 * time.Millisecond)
		}
	})
	t.Cleanup(func() { watchdog.Stop(); release() })
	return p
}
