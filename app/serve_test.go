package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/internal/fakeanthropic"
	"github.com/openclaw-bot/openclaw-bot/internal/fakeslack"
	"github.com/openclaw-bot/openclaw-bot/internal/faketelegram"
	"github.com/openclaw-bot/openclaw-bot/internal/peer"
	"github.com/openclaw-bot/openclaw-bot/internal/servetest"
)

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
	if v, _ := before.Find("openclaw_bot_incidents_firing", "target=sandbox", "severity=critical"); v < 1 {
		t.Errorf("incidents_firing{critical} = %v while the cooldown alert is out", v)
	}
	if v, n := before.Find("openclaw_bot_cooldown_remaining_seconds", "target=sandbox", "profile=anthropic:default"); n != 1 || v <= 0 || v > 7200 {
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

	var s servetest.Series
	waitFor(t, "the action's metrics", 20*time.Second, func() bool {
		s = scrape(t, base+"/metrics")
		_, n := s.Find("openclaw_bot_actions_total", `action=cooldown reset`)
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
		v, n := s.Find(c.name, c.labels...)
		if n == 0 && c.name != "openclaw_bot_config_reloads_total" {
			t.Errorf("%s%v: no series", c.name, c.labels)
			continue
		}
		if !c.ok(v) {
			t.Errorf("%s%v = %v: not sane", c.name, c.labels, v)
		}
	}
	if _, n := s.Find("openclaw_bot_cooldown_remaining_seconds", "target=sandbox"); n != 0 {
		t.Error("cooldown_remaining_seconds still present after the reset")
	}
	// The confirmed reset cleared the cooldown: the re-evaluation after the
	// action updated the gauges.
	if _, n := s.Find("openclaw_bot_profile_health", "health=cooldown"); n != 0 {
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
		v, n := scrape(t, "http://"+addr+"/metrics").Find("openclaw_bot_cooldown_remaining_seconds", "target=local", "profile=anthropic:default")
		first = v
		return n == 1
	})
	if first <= 0 || first > 7200 {
		t.Fatalf("cooldown_remaining_seconds = %v, want (0, 7200]", first)
	}
	time.Sleep(1100 * time.Millisecond)
	second, _ := scrape(t, "http://"+addr+"/metrics").Find("openclaw_bot_cooldown_remaining_seconds", "target=local", "profile=anthropic:default")
	if !(second < first) {
		t.Errorf("the gauge did not count down: %v then %v", first, second)
	}
	if v, _ := scrape(t, "http://"+addr+"/metrics").Find("openclaw_bot_profile_health", "profile=anthropic:default", "health=cooldown"); v != 1 {
		t.Errorf("profile_health{health=cooldown} = %v", v)
	}
	// http.listen is off: only /metrics is served on metrics.listen.
	if c, _ := get(t, "http://"+addr+"/readyz"); c != http.StatusNotFound {
		t.Errorf("/readyz on metrics.listen: %d, want 404", c)
	}
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
		got, err := ProbeURL(tc.listen, tc.ready)
		if err != nil || got != tc.want {
			t.Errorf("ProbeURL(%q, %v) = %q, %v; want %q", tc.listen, tc.ready, got, err, tc.want)
		}
	}
}

// serve with a target whose database is a FIFO beside a healthy one: the
// FIFO target gets its state.unreadable alert and snapshot_ok 0, the
// healthy one is read (snapshot_ok 1), a console `status` answers for
// both at once, and serve stops promptly and cleanly.
func TestServeFIFOTarget(t *testing.T) {
	healthy := install(t, "", "", "")
	broken := install(t, "", "", "")
	db := fifoDB(t, broken)
	dir := t.TempDir()
	addr := freeAddr(t)
	cfgPath := filepath.Join(dir, "bot.yaml")
	must(t, os.WriteFile(cfgPath, []byte(fmt.Sprintf(`store:
  path: %s
http:
  listen: %s
anthropic:
  key_check_every: 0
targets:
  - name: nfs
    state_dir: %s
  - name: local
    state_dir: %s
scheduler:
  openclaw_log_dir: ""
`, filepath.Join(dir, "bot.db"), addr, broken, healthy)), 0o600))
	cfg, err := loadConfig(cfgPath)
	must(t, err)
	out, logs := &syncBuffer{}, &syncBuffer{}
	stdin, feed, err := os.Pipe()
	must(t, err)
	defer stdin.Close()
	defer feed.Close()
	stop := startServe(t, cfg, zerolog.New(logs), serveOptions{Stdin: stdin, Stdout: out})
	defer stop()

	base := "http://" + addr
	waitFor(t, "the state.unreadable alert", 10*time.Second, func() bool {
		return strings.Contains(out.String(), db+" is not a regular file (a FIFO)")
	})
	waitFor(t, "snapshot_ok of both targets", 10*time.Second, func() bool {
		s := scrape(t, base+"/metrics")
		_, n1 := s.Find("openclaw_bot_snapshot_ok", "target=nfs")
		_, n2 := s.Find("openclaw_bot_snapshot_ok", "target=local")
		return n1 == 1 && n2 == 1
	})
	s := scrape(t, base+"/metrics")
	if v, _ := s.Find("openclaw_bot_snapshot_ok", "target=nfs"); v != 0 {
		t.Errorf("snapshot_ok{nfs} = %v, want 0", v)
	}
	if v, _ := s.Find("openclaw_bot_snapshot_ok", "target=local"); v != 1 {
		t.Errorf("snapshot_ok{local} = %v, want 1", v)
	}
	if v, _ := s.Find("openclaw_bot_target_verdict", "target=nfs", "verdict=down"); v != 1 {
		t.Errorf("target_verdict{nfs,down} = %v, want 1", v)
	}

	before := len(out.String())
	start := time.Now()
	_, err = feed.Write([]byte("status\n"))
	must(t, err)
	waitFor(t, "the console status", 5*time.Second, func() bool {
		text := out.String()[before:]
		return strings.Contains(text, "anthropic:default") && strings.Contains(text, "could not be read")
	})
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("console status took %s", took)
	}

	start = time.Now()
	stop()
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("serve took %s to stop", took)
	}
	if strings.Contains(logs.String(), "did not stop in time") {
		t.Errorf("unclean stop:\n%s", logs.String())
	}
}
