package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openclaw-bot/openclaw-bot/internal/fakeslack"
	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
)

// holdProxy forwards to the fake Slack but holds the first chat.postMessage:
// forwarding it first (the message is delivered, the answer never arrives)
// or not at all (the send never happened).
type holdProxy struct {
	proxy   *httputil.ReverseProxy
	forward bool
	mu      sync.Mutex
	held    bool
	arrived chan struct{}
	release chan struct{}
}

func (h *holdProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/chat.postMessage") {
		h.mu.Lock()
		first := !h.held
		h.held = true
		h.mu.Unlock()
		if first {
			if h.forward {
				rec := &discardWriter{h: http.Header{}}
				h.proxy.ServeHTTP(rec, r)
			}
			close(h.arrived)
			<-h.release // the bot is killed meanwhile
			return
		}
	}
	h.proxy.ServeHTTP(w, r)
}

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

func buildBot(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "openclaw-bot")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// kill -9 of the bot in the middle of a Slack send: after a restart on the
// same database the alert is delivered exactly once — whether or not Slack
// had received it — because the bot looks for its metadata tag before
// sending again.
func TestKill9MidSend(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBot(t)
	for _, forward := range []bool{true, false} {
		name := "send reached Slack"
		if !forward {
			name = "send never reached Slack"
		}
		t.Run(name, func(t *testing.T) {
			d, err := sandbox.New(filepath.Join(t.TempDir(), "state"))
			must(t, err)
			must(t, d.Config("2026.9.6", nil, "anthropic:default"))
			must(t, d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{"anthropic:default": map[string]any{
				"type": "api_key", "provider": "anthropic", "key": sandbox.APIKey("kill")}}},
				map[string]any{"version": 1, "usageStats": map[string]any{"anthropic:default": map[string]any{
					"cooldownUntil": time.Now().Add(time.Hour).UnixMilli(), "cooldownReason": "auth", "errorCount": 1}}}))
			fs := fakeslack.New()
			defer fs.Close()
			fs.UseClock(time.Now)
			target, _ := url.Parse(strings.TrimSuffix(fs.URL(), "/api/"))
			hp := &holdProxy{proxy: httputil.NewSingleHostReverseProxy(target), forward: forward, arrived: make(chan struct{}), release: make(chan struct{})}
			srv := &http.Server{Handler: hp}
			ln := listenLoopback(t)
			go srv.Serve(ln)
			defer srv.Close()
			defer func() {
				select {
				case <-hp.release:
				default:
					close(hp.release)
				}
			}()

			cfgPath := serveConfig(t, d.Path, "http://"+ln.Addr().String()+"/api/", "", "http://127.0.0.1:9")
			// Slack only: drop the telegram block.
			b, _ := os.ReadFile(cfgPath)
			cfg := string(b)
			cfg = cfg[:strings.Index(cfg, "telegram:")] + cfg[strings.Index(cfg, "scheduler:"):]
			must(t, os.WriteFile(cfgPath, []byte(cfg), 0o600))

			// The two processes' logs, shown only when the test fails.
			out := &syncBuffer{}
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("serve output:\n%s", out.String())
				}
			})
			start := func() *exec.Cmd {
				cmd := exec.Command(bin, "serve", "--config", cfgPath)
				cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
				cmd.Stdout, cmd.Stderr = out, out
				must(t, cmd.Start())
				return cmd
			}
			first := start()
			select {
			case <-hp.arrived:
			case <-time.After(30 * time.Second):
				first.Process.Kill()
				t.Fatal("the bot never tried to post the alert")
			}
			must(t, first.Process.Signal(syscall.SIGKILL))
			first.Wait()
			close(hp.release)

			second := start()
			deadline := time.Now().Add(20 * time.Second)
			for len(fs.Messages(testChannel)) == 0 && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(2 * time.Second) // anything else it would send is sent by now
			must(t, second.Process.Signal(syscall.SIGTERM))
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			waitErr := make(chan error, 1)
			go func() { waitErr <- second.Wait() }()
			select {
			case err := <-waitErr:
				if err != nil {
					t.Errorf("serve did not exit cleanly on SIGTERM: %v", err)
				}
			case <-ctx.Done():
				second.Process.Kill()
				t.Error("serve did not stop within 15s of SIGTERM")
			}
			msgs := fs.Messages(testChannel)
			if len(msgs) != 1 {
				t.Fatalf("want exactly one alert in Slack, got %d", len(msgs))
			}
			if finds := fs.Calls("conversations.history"); len(finds) == 0 {
				t.Error("the restarted bot did not look for an earlier delivery before sending")
			}
		})
	}
}

func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}
