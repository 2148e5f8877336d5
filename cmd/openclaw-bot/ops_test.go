package main

import (
	"context"
	"fmt"
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

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/internal/fakeslack"
	"github.com/openclaw-bot/openclaw-bot/internal/logging"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
)

// reloads records each reload outcome.
type reloads struct {
	mu  sync.Mutex
	got []string
	err []error
}

func (r *reloads) add(result string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got, r.err = append(r.got, result), append(r.err, err)
}

func (r *reloads) last() (result string, n int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) == 0 {
		return "", 0, nil
	}
	return r.got[len(r.got)-1], len(r.got), r.err[len(r.err)-1]
}

// Hot reload: an invalid config (by file change or SIGHUP) is refused with
// the reason and the old one keeps running; a valid one is applied (a new
// target is watched at once); an unchanged file is not reloaded.
func TestServeReload(t *testing.T) {
	a := install(t, "", "", "")
	b := install(t, "", "state.cooldown-auth-1h.json", "")
	dir := t.TempDir()
	addr := freeAddr(t)
	cfgPath := filepath.Join(dir, "bot.yaml")
	write := func(body string) { must(t, os.WriteFile(cfgPath, []byte(body), 0o600)) }
	head := fmt.Sprintf("store:\n  path: %s\nhttp:\n  listen: %s\nanthropic:\n  key_check_every: 0\nscheduler:\n  openclaw_log_dir: \"\"\n", filepath.Join(dir, "bot.db"), addr)
	write(head + fmt.Sprintf("targets:\n  - name: one\n    state_dir: %s\n", a))
	cfg, err := loadConfig(cfgPath)
	must(t, err)

	var rl reloads
	sighup := make(chan os.Signal, 1)
	out := &syncBuffer{}
	logs := &syncBuffer{}
	logger, level, err := logging.NewLeveled(logs, "info", "json", redact.NewScrubber())
	must(t, err)
	defer startServe(t, cfg, logger, serveOptions{ConfigPath: cfgPath, Reload: sighup, LogLevel: level, Stdout: out, OnReload: rl.add})()
	base := "http://" + addr
	targets := func() float64 { v, _ := scrape(t, base+"/metrics").Find("openclaw_bot_targets"); return v }
	waitFor(t, "serving", 10*time.Second, func() bool { c, _ := get(t, base+"/readyz"); return c == http.StatusOK })
	if n := targets(); n != 1 {
		t.Fatalf("targets = %v", n)
	}
	// The container probe: alive and ready here, exit 1 where nothing listens.
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"healthcheck", "--config", cfgPath}, exitOK},
		{[]string{"healthcheck", "--addr", addr, "--ready"}, exitOK},
		{[]string{"healthcheck", "--addr", freeAddr(t), "--timeout", "1s"}, exitCritical},
		{[]string{"healthcheck", "--addr", "no-port"}, exitError},
	} {
		var o, e strings.Builder
		if got := run(context.Background(), tc.args, nil, &o, &e); got != tc.want {
			t.Errorf("%v: exit %d, want %d (%s%s)", tc.args, got, tc.want, o.String(), e.String())
		}
	}

	// 1. A typo by file change: refused, with the reason; still serving one target.
	write(head + fmt.Sprintf("targets:\n  - name: one\n    state_dirr: %s\n", a))
	waitFor(t, "the refused reload", 10*time.Second, func() bool { r, _, _ := rl.last(); return r == "refused" })
	_, _, rerr := rl.last()
	if rerr == nil || !strings.Contains(rerr.Error(), "state_dirr") {
		t.Errorf("refusal reason: %v", rerr)
	}
	if !strings.Contains(logs.String(), "config reload refused") || !strings.Contains(logs.String(), "state_dir") {
		t.Errorf("the log does not say why:\n%s", logs.String())
	}
	if c, _ := get(t, base+"/readyz"); c != http.StatusOK || targets() != 1 {
		t.Errorf("after a refused reload: /readyz %d, targets %v", c, targets())
	}

	// 2. A valid config with a second target: applied; the cooling-down
	// install is watched and alerted on at once (console route).
	write(head + fmt.Sprintf("targets:\n  - name: one\n    state_dir: %s\n  - name: two\n    state_dir: %s\n", a, b))
	waitFor(t, "the applied reload", 10*time.Second, func() bool { r, _, _ := rl.last(); return r == "applied" })
	waitFor(t, "two targets", 5*time.Second, func() bool { return targets() == 2 })
	waitFor(t, "an alert about the new target", 10*time.Second, func() bool { return strings.Contains(out.String(), "two") })
	s := scrape(t, base+"/metrics")
	if v, _ := s.Find("openclaw_bot_config_reloads_total", "result=refused"); v != 1 {
		t.Errorf("reloads refused = %v", v)
	}
	if v, _ := s.Find("openclaw_bot_config_reloads_total", "result=applied"); v != 1 {
		t.Errorf("reloads applied = %v", v)
	}

	// 3. SIGHUP with the same file: nothing to do.
	_, n, _ := rl.last()
	sighup <- syscall.SIGHUP
	waitFor(t, "the SIGHUP reload", 5*time.Second, func() bool { _, m, _ := rl.last(); return m > n })
	if r, _, _ := rl.last(); r != "unchanged" {
		t.Errorf("SIGHUP with an unchanged file: %s", r)
	}

	// 4. A key that needs a restart: the rest applies, the listener stays.
	write(strings.Replace(head, addr, "127.0.0.1:1", 1) + fmt.Sprintf("targets:\n  - name: one\n    state_dir: %s\n", a))
	waitFor(t, "the reload with http.listen changed", 10*time.Second, func() bool { _, m, _ := rl.last(); return m > n+1 })
	if r, _, _ := rl.last(); r != "applied" {
		t.Errorf("reload result %s", r)
	}
	waitFor(t, "one target again", 5*time.Second, func() bool { return targets() == 1 })
	if !strings.Contains(logs.String(), "http.listen") {
		t.Errorf("the log does not name http.listen as needing a restart:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), `"level":"debug"`) {
		t.Fatal("debug lines at log.level info")
	}

	// 5. log.level applies at once: debug lines appear (the evaluation
	// after the reload logs one).
	_, n, _ = rl.last()
	write(strings.Replace(head, addr, "127.0.0.1:1", 1) + "log:\n  level: debug\n" + fmt.Sprintf("targets:\n  - name: one\n    state_dir: %s\n", a))
	waitFor(t, "the log-level reload", 10*time.Second, func() bool { _, m, _ := rl.last(); return m > n })
	if level.Get() != zerolog.DebugLevel {
		t.Errorf("log level after the reload: %s", level.Get())
	}
	waitFor(t, "a debug line", 10*time.Second, func() bool { return strings.Contains(logs.String(), `"level":"debug"`) })
}

// The real process and real signals: SIGHUP with an invalid config is
// refused (logged with the reason) and serve stays ready; SIGTERM while an
// alert's Slack send hangs stops gracefully: the send is abandoned, the
// outbox is drained (the alert is delivered during shutdown, once) and the
// process exits 0.
func TestServeSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBot(t)
	d := install(t, "", "state.cooldown-auth-1h.json", "")
	fs := fakeslack.New()
	defer fs.Close()
	fs.UseClock(time.Now)
	target, _ := url.Parse(strings.TrimSuffix(fs.URL(), "/api/"))
	hp := &holdProxy{proxy: httputil.NewSingleHostReverseProxy(target), arrived: make(chan struct{}), release: make(chan struct{})}
	srv := &http.Server{Handler: hp}
	ln := listenLoopback(t)
	go srv.Serve(ln)
	defer srv.Close()
	defer close(hp.release)

	addr := freeAddr(t)
	cfgPath := serveConfig(t, d, "http://"+ln.Addr().String()+"/api/", "", "http://127.0.0.1:9")
	b, _ := os.ReadFile(cfgPath)
	cfg := string(b)
	cfg = cfg[:strings.Index(cfg, "telegram:")] + cfg[strings.Index(cfg, "scheduler:"):]
	cfg = strings.Replace(cfg, "  listen: \"\"", "  listen: "+addr, 1)
	// Slack in HTTP mode: connected as soon as it is mounted on http.listen.
	cfg = strings.Replace(cfg, "  mode: socket\n", "  mode: http\n  signing_secret: test-signing-secret\n", 1)
	cfg = strings.Replace(cfg, "  app_token: "+testAppToken+"\n", "", 1)
	must(t, os.WriteFile(cfgPath, []byte(cfg), 0o600))

	logs := &syncBuffer{}
	cmd := exec.Command(bin, "serve", "--config", cfgPath)
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	cmd.Stderr = logs
	must(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	}()
	base := "http://" + addr
	waitFor(t, "/readyz", 20*time.Second, func() bool { c, _ := get(t, base+"/readyz"); return c == http.StatusOK })
	select {
	case <-hp.arrived: // the alert's first post hangs
	case <-time.After(20 * time.Second):
		t.Fatal("the bot never tried to post the alert")
	}

	// SIGHUP with a broken file: refused, with the reason; still ready.
	must(t, os.WriteFile(cfgPath, []byte(cfg+"bogus_key: 1\n"), 0o600))
	must(t, cmd.Process.Signal(syscall.SIGHUP))
	waitFor(t, "the refusal in the log", 10*time.Second, func() bool {
		return strings.Contains(logs.String(), "config reload refused") && strings.Contains(logs.String(), "bogus_key")
	})
	if c, _ := get(t, base+"/readyz"); c != http.StatusOK {
		t.Errorf("/readyz after a refused reload: %d", c)
	}

	// SIGTERM: graceful; the hung send is abandoned and the alert is
	// delivered by the drain.
	must(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("serve exited with %v on SIGTERM\n%s", err, logs.String())
		}
	case <-time.After(25 * time.Second):
		t.Fatalf("serve did not stop within 25 s of SIGTERM\n%s", logs.String())
	}
	if n := len(fs.Messages(testChannel)); n != 1 {
		t.Errorf("Slack got %d alerts, want exactly 1 (delivered while draining)", n)
	}
	if !strings.Contains(logs.String(), `"undelivered":0`) {
		t.Errorf("the log does not report a drained outbox:\n%s", logs.String())
	}
	assertNoSecretLeak(t, logs.String(), append(fixtureSecrets(t), testSlackToken, testAppToken))
}
