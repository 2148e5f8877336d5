package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/internal/fakeanthropic"
	"github.com/openclaw-bot/openclaw-bot/internal/fakeslack"
	"github.com/openclaw-bot/openclaw-bot/internal/faketelegram"
	"github.com/openclaw-bot/openclaw-bot/internal/logging"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
)

// freeAddr is a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// series is one scrape: "name{label="v",…}" → value.
type series map[string]float64

func scrape(t *testing.T, url string) series {
	t.Helper()
	resp, err := http.Get(url)
	must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	out := series{}
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

// find returns the samples of a family whose labels include all of want
// ("k=v" pairs), summed, and how many matched.
func (s series) find(name string, want ...string) (float64, int) {
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

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// serve with Slack (Socket Mode) and Telegram (polling) fakes, a profile
// cooling down and a working key: /readyz turns ready once both chat
// surfaces are connected, and /metrics has every family with sane values —
// profile health, key check, seconds until the cooldown ends, incidents
// firing, notifications sent and retried, outbox depth, commands by
// name/surface/outcome with latency, action outcomes.
func TestServeMetricsAndReadiness(t *testing.T) {
	d := install(t, "", "state.cooldown-auth-1h.json", "")
	anth := fakeanthropic.New(fakeanthropic.Options{Mode: fakeanthropic.ModeOK})
	defer anth.Close()
	fs := fakeslack.NewSocketMode()
	defer fs.Close()
	fs.FailNext("chat.postMessage", 1, http.StatusInternalServerError, "")
	ft := faketelegram.New(testTGToken)
	defer ft.Close()

	addr := freeAddr(t)
	cfgPath := serveConfig(t, d, fs.URL(), ft.URL(), anth.URL())
	b, _ := os.ReadFile(cfgPath)
	b = regexp.MustCompile(`(?m)^  listen: ""$`).ReplaceAll(b, []byte("  listen: "+addr))
	b = regexp.MustCompile(`(?m)^  key_check_every: 0$`).ReplaceAll(b, []byte("  key_check_every: 1h"))
	b = append(b, []byte("access:\n  responders: [\"U0RESP\"]\n")...)
	must(t, os.WriteFile(cfgPath, b, 0o600))
	cfg, err := loadConfig(cfgPath)
	must(t, err)

	defer startServe(t, cfg, zerolog.Nop(), serveOptions{Stdout: io.Discard})()
	base := "http://" + addr
	waitFor(t, "/readyz 200", 15*time.Second, func() bool { c, _ := get(t, base+"/readyz"); return c == http.StatusOK })
	if c, body := get(t, base+"/healthz"); c != http.StatusOK || !strings.Contains(body, `"ok":true`) {
		t.Errorf("/healthz: %d %s", c, body)
	}
	// The alert: its first post fails with a 500 (retried), then is sent.
	waitFor(t, "the Slack alert", 15*time.Second, func() bool { return len(fs.Messages(testChannel)) > 0 })
	before := scrape(t, base+"/metrics")
	if v, _ := before.find("openclaw_bot_incidents_firing", "target=sandbox", "severity=critical"); v < 1 {
		t.Errorf("incidents_firing{critical} = %v while the cooldown alert is out", v)
	}
	if v, n := before.find("openclaw_bot_cooldown_remaining_seconds", "target=sandbox", "profile=anthropic:default"); n != 1 || v <= 0 || v > 7200 {
		t.Errorf("cooldown_remaining_seconds = %v (%d series) during the cooldown", v, n)
	}

	// A read command and a confirmed action over Slack.
	fs.PushSlashCommand(fakeslack.SlashCommand{Text: "status", UserID: "U0RESP", ChannelID: testChannel})
	fs.PushSlashCommand(fakeslack.SlashCommand{Text: "cooldown reset anthropic:default", UserID: "U0RESP", ChannelID: testChannel})
	resps := fs.WaitResponses(2, 15*time.Second)
	var confirm string
	for _, r := range resps {
		if m := regexp.MustCompile(`"value":"(ok:[^"]+)"`).FindStringSubmatch(r.Blocks); m != nil {
			confirm = m[1]
		}
	}
	if confirm == "" {
		t.Fatalf("no Confirm button in the replies: %+v", resps)
	}
	fs.PushBlockAction(fakeslack.BlockAction{UserID: "U0RESP", ChannelID: testChannel, ActionID: confirm, Value: confirm})
	fs.WaitResponses(3, 20*time.Second)

	var s series
	waitFor(t, "the action's metrics", 20*time.Second, func() bool {
		s = scrape(t, base+"/metrics")
		_, n := s.find("openclaw_bot_actions_total", `action=cooldown reset`)
		return n > 0
	})
	checks := []struct {
		name   string
		labels []string
		ok     func(v float64) bool
	}{
		{"openclaw_bot_build_info", nil, func(v float64) bool { return v == 1 }},
		{"openclaw_bot_targets", nil, func(v float64) bool { return v == 1 }},
		{"openclaw_bot_snapshots_total", []string{"target=sandbox", "result=ok"}, func(v float64) bool { return v >= 1 }},
		{"openclaw_bot_snapshot_ok", []string{"target=sandbox"}, func(v float64) bool { return v == 1 }},
		{"openclaw_bot_snapshot_duration_seconds_count", nil, func(v float64) bool { return v >= 1 }},
		{"openclaw_bot_profile_health", []string{"target=sandbox", "profile=anthropic:default"}, func(v float64) bool { return v == 1 }},
		{"openclaw_bot_key_checks_total", []string{"target=sandbox", "result=ok"}, func(v float64) bool { return v >= 1 }},
		{"openclaw_bot_key_check_result", []string{"target=sandbox", "profile=anthropic:default"}, func(v float64) bool { return v == 1 }},
		{"openclaw_bot_target_verdict", []string{"target=sandbox"}, func(v float64) bool { return v == 1 }}, // exactly one verdict is 1
		{"openclaw_bot_findings", []string{"target=sandbox"}, func(v float64) bool { return v >= 1 }},
		{"openclaw_bot_incidents_firing", []string{"target=sandbox", "severity=critical"}, func(v float64) bool { return v == 0 }}, // the reset resolved it
		{"openclaw_bot_notifications_total", []string{"channel=slack", "result=sent"}, func(v float64) bool { return v >= 1 }},
		{"openclaw_bot_notifications_total", []string{"channel=slack", "result=retried"}, func(v float64) bool { return v == 1 }},
		{"openclaw_bot_notifications_total", []string{"channel=telegram", "result=sent"}, func(v float64) bool { return v >= 1 }},
		{"openclaw_bot_outbox_depth", nil, func(v float64) bool { return v >= 0 && v < 5 }},
		{"openclaw_bot_commands_total", []string{"command=status", "surface=slack", "outcome=ok"}, func(v float64) bool { return v == 1 }},
		{"openclaw_bot_commands_total", []string{"command=cooldown reset", "surface=slack", "outcome=previewed"}, func(v float64) bool { return v == 1 }},
		{"openclaw_bot_command_duration_seconds_count", []string{"command=status", "surface=slack"}, func(v float64) bool { return v == 1 }},
		{"openclaw_bot_actions_total", []string{"action=cooldown reset", "outcome=ok"}, func(v float64) bool { return v == 1 }},
		{"openclaw_bot_chat_connected", []string{"surface=slack"}, func(v float64) bool { return v == 1 }},
		{"openclaw_bot_chat_connected", []string{"surface=telegram"}, func(v float64) bool { return v == 1 }},
		{"openclaw_bot_config_reloads_total", nil, func(v float64) bool { return v == 0 }},
		{"go_goroutines", nil, func(v float64) bool { return v > 0 }},
		{"process_resident_memory_bytes", nil, func(v float64) bool { return v > 0 }},
	}
	for _, c := range checks {
		v, n := s.find(c.name, c.labels...)
		if n == 0 && c.name != "openclaw_bot_config_reloads_total" {
			t.Errorf("%s%v: no series", c.name, c.labels)
			continue
		}
		if !c.ok(v) {
			t.Errorf("%s%v = %v: not sane", c.name, c.labels, v)
		}
	}
	if _, n := s.find("openclaw_bot_cooldown_remaining_seconds", "target=sandbox"); n != 0 {
		t.Error("cooldown_remaining_seconds still present after the reset")
	}
	// The confirmed reset cleared the cooldown: the re-evaluation after the
	// action updated the gauges.
	if _, n := s.find("openclaw_bot_profile_health", "health=cooldown"); n != 0 {
		t.Error("profile_health still says cooldown after a successful reset")
	}
	body := fmt.Sprint(s)
	assertNoSecretLeak(t, body, append(fixtureSecrets(t), testSlackToken, testAppToken, testTGToken))
}

// The cooldown gauge before any action: seconds until the fixture's
// cooldown ends, computed at scrape time (it decreases between scrapes).
func TestServeMetricsCooldownSeconds(t *testing.T) {
	d := install(t, "", "state.cooldown-auth-1h.json", "")
	dir := t.TempDir()
	addr := freeAddr(t)
	cfgPath := filepath.Join(dir, "bot.yaml")
	must(t, os.WriteFile(cfgPath, []byte(fmt.Sprintf("store:\n  path: %s\nhttp:\n  listen: \"\"\nmetrics:\n  listen: %s\nanthropic:\n  key_check_every: 0\ntargets:\n  - name: local\n    state_dir: %s\nscheduler:\n  openclaw_log_dir: \"\"\n",
		filepath.Join(dir, "bot.db"), addr, d)), 0o600))
	cfg, err := loadConfig(cfgPath)
	must(t, err)
	defer startServe(t, cfg, zerolog.Nop(), serveOptions{Stdout: io.Discard})()

	var first float64
	waitFor(t, "a cooldown gauge", 10*time.Second, func() bool {
		c, _ := get(t, "http://"+addr+"/metrics")
		if c != http.StatusOK {
			return false
		}
		v, n := scrape(t, "http://"+addr+"/metrics").find("openclaw_bot_cooldown_remaining_seconds", "target=local", "profile=anthropic:default")
		first = v
		return n == 1
	})
	if first <= 0 || first > 7200 {
		t.Fatalf("cooldown_remaining_seconds = %v, want (0, 7200]", first)
	}
	time.Sleep(1100 * time.Millisecond)
	second, _ := scrape(t, "http://"+addr+"/metrics").find("openclaw_bot_cooldown_remaining_seconds", "target=local", "profile=anthropic:default")
	if !(second < first) {
		t.Errorf("the gauge did not count down: %v then %v", first, second)
	}
	if v, _ := scrape(t, "http://"+addr+"/metrics").find("openclaw_bot_profile_health", "profile=anthropic:default", "health=cooldown"); v != 1 {
		t.Errorf("profile_health{health=cooldown} = %v", v)
	}
	// http.listen is off: only /metrics is served on metrics.listen.
	if c, _ := get(t, "http://"+addr+"/readyz"); c != http.StatusNotFound {
		t.Errorf("/readyz on metrics.listen: %d, want 404", c)
	}
}

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
	sighup := make(chan struct{}, 1)
	out := &syncBuffer{}
	logs := &syncBuffer{}
	logger, level, err := logging.NewLeveled(logs, "info", "json", redact.NewScrubber())
	must(t, err)
	defer startServe(t, cfg, logger, serveOptions{ConfigPath: cfgPath, Reload: sighup, LogLevel: level, Stdout: out, OnReload: rl.add})()
	base := "http://" + addr
	targets := func() float64 { v, _ := scrape(t, base+"/metrics").find("openclaw_bot_targets"); return v }
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
	if v, _ := s.find("openclaw_bot_config_reloads_total", "result=refused"); v != 1 {
		t.Errorf("reloads refused = %v", v)
	}
	if v, _ := s.find("openclaw_bot_config_reloads_total", "result=applied"); v != 1 {
		t.Errorf("reloads applied = %v", v)
	}

	// 3. SIGHUP with the same file: nothing to do.
	_, n, _ := rl.last()
	sighup <- struct{}{}
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

func TestProbeURL(t *testing.T) {
	for _, tc := range []struct {
		listen string
		ready  bool
		want   string
	}{
		{"127.0.0.1:8080", false, "http://127.0.0.1:8080/healthz"},
		{"0.0.0.0:8080", true, "http://127.0.0.1:8080/readyz"},
		{":9000", false, "http://127.0.0.1:9000/healthz"},
		{"[::]:8080", false, "http://[::1]:8080/healthz"},
		{"localhost:1", true, "http://localhost:1/readyz"},
	} {
		got, err := probeURL(tc.listen, tc.ready)
		if err != nil || got != tc.want {
			t.Errorf("probeURL(%q, %v) = %q, %v; want %q", tc.listen, tc.ready, got, err, tc.want)
		}
	}
}
