package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/openclaw-bot/openclaw-bot/internal/fakeslack"
	"github.com/openclaw-bot/openclaw-bot/internal/faketelegram"
	"github.com/openclaw-bot/openclaw-bot/internal/pgtest"
	"github.com/openclaw-bot/openclaw-bot/internal/sandbox"
	"github.com/openclaw-bot/openclaw-bot/store"
)

// fleetEnv is three serve processes ("hosts" a, b, c) on one real
// PostgreSQL database, each watching perHost targets of its own, with one
// Slack app (Socket Mode) and one Telegram bot (long polling) shared.
type fleetEnv struct {
	t     *testing.T
	bin   string
	dsn   string
	st    *store.Store
	fs    *fakeslack.Server
	ft    *faketelegram.Server
	dirs  map[string]*sandbox.Dir // target → its OpenClaw state dir
	cfgs  map[string]string       // instance → config file
	procs map[string]*exec.Cmd
	logs  map[string]*syncBuffer
	keys  []string
}

const (
	perHost    = 6
	fleetUser  = 42 // a responder, in a private chat with the bot
	fleetBeat  = time.Second
	fleetHosts = "abc"
)

func newFleetEnv(t *testing.T) *fleetEnv {
	t.Helper()
	return newFleetEnvOn(t, pgtest.NewDatabase(t), fleetHosts)
}

// newFleetEnvOn is newFleetEnv on the database dsn, with the instances
// named by hosts' letters.
func newFleetEnvOn(t *testing.T, dsn, hosts string) *fleetEnv {
	t.Helper()
	e := &fleetEnv{t: t, bin: buildBot(t), dsn: dsn, dirs: map[string]*sandbox.Dir{},
		cfgs: map[string]string{}, procs: map[string]*exec.Cmd{}, logs: map[string]*syncBuffer{}}
	var err error
	e.st, err = store.OpenConfig(t.Context(), store.Config{Driver: store.DriverPostgres, DSN: e.dsn})
	must(t, err)
	t.Cleanup(func() { e.st.Close() })
	e.fs = fakeslack.NewSocketMode()
	e.fs.UseClock(time.Now) // message ts on the real clock: the look-before-resend searches by time
	t.Cleanup(e.fs.Close)
	e.ft = faketelegram.New(testTGToken)
	t.Cleanup(e.ft.Close)
	root := t.TempDir()
	for _, h := range hosts {
		name := string(h)
		var targets strings.Builder
		for i := range perHost {
			target := fmt.Sprintf("%s-%d", name, i)
			d, err := sandbox.New(filepath.Join(root, target))
			must(t, err)
			must(t, d.Config("2026.9.6", nil, "anthropic:default"))
			key := sandbox.APIKey("fleet-" + target)
			e.keys = append(e.keys, key)
			must(t, d.SharedStore(map[string]any{"version": 1, "profiles": map[string]any{"anthropic:default": map[string]any{
				"type": "api_key", "provider": "anthropic", "key": key}}}, map[string]any{"version": 1, "usageStats": map[string]any{}}))
			e.dirs[target] = d
			fmt.Fprintf(&targets, "  - name: %s\n    state_dir: %s\n", target, d.Path)
		}
		dir := filepath.Join(root, "bot-"+name)
		must(t, os.MkdirAll(dir, 0o700))
		cfg := fmt.Sprintf(`store:
  driver: postgres
  dsn: ${FLEET_DSN}
  path: %s
http:
  listen: ""
anthropic:
  base_url: http://127.0.0.1:9
  key_check_every: 0
instance:
  name: %s
fleet:
  heartbeat_every: %s
targets:
%sslack:
  mode: socket
  bot_token: %s
  app_token: %s
  api_url: %s
  alert_channel: %s
telegram:
  token: %s
  api_url: %s
  alert_chat: "%s"
access:
  responders: ["%d"]
scheduler:
  snapshot_every: 5s
  openclaw_log_dir: %s
`, filepath.Join(dir, "bot.db"), name, fleetBeat, targets.String(), testSlackToken, testAppToken, e.fs.URL(), testChannel,
			testTGToken, e.ft.URL(), testChat, fleetUser, filepath.Join(dir, "logs"))
		e.cfgs[name] = filepath.Join(dir, "bot.yaml")
		must(t, os.WriteFile(e.cfgs[name], []byte(cfg), 0o600))
	}
	t.Cleanup(func() {
		for _, p := range e.procs {
			_ = p.Process.Kill()
			_ = p.Wait()
		}
		if t.Failed() || os.Getenv("FLEET_LOGS") != "" { // FLEET_LOGS=1: show them anyway
			for name, l := range e.logs {
				t.Logf("instance %s output:\n%s", name, l.String())
			}
		}
	})
	return e
}

func (e *fleetEnv) start(name string) {
	e.t.Helper()
	cmd := exec.Command(e.bin, "serve", "--config", e.cfgs[name])
	cmd.Env = []string{"HOME=" + e.t.TempDir(), "PATH=" + os.Getenv("PATH"), "FLEET_DSN=" + e.dsn}
	if e.logs[name] == nil {
		e.logs[name] = &syncBuffer{}
	}
	cmd.Stdout, cmd.Stderr = e.logs[name], e.logs[name]
	must(e.t, cmd.Start())
	e.procs[name] = cmd
}

func (e *fleetEnv) kill(name string) {
	e.t.Helper()
	p := e.procs[name]
	must(e.t, p.Process.Signal(syscall.SIGKILL))
	_ = p.Wait()
	delete(e.procs, name)
}

// stop ends an instance with SIGTERM and expects a clean exit.
func (e *fleetEnv) stop(name string) {
	e.t.Helper()
	p := e.procs[name]
	must(e.t, p.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- p.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			e.t.Errorf("instance %s did not exit cleanly on SIGTERM: %v", name, err)
		}
	case <-time.After(20 * time.Second):
		_ = p.Process.Kill()
		e.t.Errorf("instance %s did not stop within 20s of SIGTERM", name)
	}
	delete(e.procs, name)
}

// poller is the instance that long-polls Telegram now ("" = none).
func (e *fleetEnv) poller() string {
	for name, p := range e.procs {
		_ = p
		log := e.logs[name].String()
		i := strings.LastIndex(log, `"role":"telegram_polling"`)
		if i < 0 {
			continue
		}
		line := log[i:]
		if j := strings.IndexByte(line, '\n'); j >= 0 {
			line = line[:j]
		}
		if strings.Contains(line, "has the role now") {
			return name
		}
	}
	return ""
}

// breakTarget puts target's profile in an hour-long auth cooldown.
func (e *fleetEnv) breakTarget(target string) {
	e.t.Helper()
	must(e.t, e.dirs[target].SetRow("authProfiles.state", map[string]any{"version": 1, "usageStats": map[string]any{"anthropic:default": map[string]any{
		"cooldownUntil": time.Now().Add(time.Hour).UnixMilli(), "cooldownReason": "auth", "errorCount": 1}}}))
}

// cooling reports whether target's state still holds a cooldown (true
// while the file is busy: the bot may be writing it).
func (e *fleetEnv) cooling(target string) bool {
	e.t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(e.dirs[target].Path, "state", "openclaw.sqlite")+"?mode=ro&_pragma=busy_timeout(5000)")
	must(e.t, err)
	defer db.Close()
	var v string
	if err := db.QueryRow(`SELECT value_json FROM config_machine_state WHERE state_key = 'authProfiles.state'`).Scan(&v); err != nil {
		e.t.Logf("reading %s's state: %v", target, err)
		return true
	}
	return strings.Contains(v, "cooldownUntil")
}

// say sends a Telegram command from the responder's private chat and
// waits for the bot's reply containing want.
func (e *fleetEnv) say(text, want string, within time.Duration) faketelegram.Message {
	e.t.Helper()
	before := len(e.ft.Messages(fleetUser))
	start := time.Now()
	defer func() { e.t.Logf("%q answered in %s", text, time.Since(start).Round(time.Millisecond)) }()
	e.ft.QueueMessage(fleetUser, fleetUser, text)
	var got faketelegram.Message
	waitFor(e.t, fmt.Sprintf("a Telegram reply to %q containing %q", text, want), within, func() bool {
		for _, m := range e.ft.Messages(fleetUser)[before:] {
			if strings.Contains(m.Plain, want) {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

// alerts counts, per target, the alert messages about it in Slack (by
// their metadata ref, "alert:<target>:…") and in Telegram's alert chat (by
// the target its first line names).
func (e *fleetEnv) alerts() (slack, tg map[string]int) {
	slack, tg = map[string]int{}, map[string]int{}
	ref := regexp.MustCompile(`^alert:([a-c]-\d+):`)
	for _, m := range e.fs.Messages(testChannel) {
		if m.Metadata == nil {
			continue
		}
		r, _ := m.Metadata.EventPayload["ref"].(string)
		if g := ref.FindStringSubmatch(r); g != nil {
			slack[g[1]]++
		}
	}
	first := regexp.MustCompile(`\b([a-c]-\d+)\b`)
	for _, m := range e.ft.Messages(chatID()) {
		line, _, _ := strings.Cut(m.Plain, "\n")
		if strings.Contains(line, "instance ") {
			continue // instance.silent names its targets
		}
		if g := first.FindStringSubmatch(line); g != nil {
			tg[g[1]]++
		}
	}
	return slack, tg
}

func chatID() int64 {
	var id int64
	fmt.Sscan(testChat, &id)
	return id
}

// The fleet end to end on a real PostgreSQL: three instances, one Slack
// app, one Telegram bot (README "Fleet").
//
//  1. A status of b's target typed to the instance that polls Telegram (a)
//     answers with b's published report.
//  2. A cooldown reset of b's target confirmed through a is previewed and
//     done on b: b's state is cleared, b wrote the audit row.
//  3. kill -9 of the Telegram poller during an alert burst (every target
//     breaks at once): every alert reaches Slack exactly once and Telegram
//     at least once (a Telegram send cut by the kill after Telegram took it
//     may go out twice: Telegram has no history to look in; Slack's is
//     looked up), and another instance polls within 10 s.
//  4. instance.silent fires once for the killed instance, its targets
//     answer from its last report with "silent since", and it resolves
//     when the instance comes back.
func TestFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs three instances on PostgreSQL")
	}
	e := newFleetEnv(t)
	for _, h := range fleetHosts {
		e.start(string(h))
	}
	ctx := t.Context()
	waitFor(t, "three instances registered with their targets and a Telegram poller", 30*time.Second, func() bool {
		list, err := e.st.Instances(ctx)
		if err != nil || len(list) != 3 {
			return false
		}
		for _, in := range list {
			if len(in.Targets) != perHost {
				return false
			}
		}
		return e.poller() != ""
	})
	a := e.poller()
	b := map[string]string{"a": "b", "b": "c", "c": "a"}[a]
	bt := b + "-0"

	// 1. Status of b's target through a.
	waitFor(t, "b published its reports", 20*time.Second, func() bool {
		_, err := e.st.LatestReport(ctx, bt)
		return err == nil
	})
	rep := e.say("/status "+bt, "report of instance "+b, 15*time.Second)
	if !strings.Contains(rep.Plain, "anthropic:default") {
		t.Errorf("status %s through %s: %q, want b's profile", bt, a, rep.Plain)
	}
	// Slack Socket Mode: every instance is connected; whichever gets the
	// event answers for any target of the fleet.
	for _, target := range []string{"a-1", "b-1", "c-1"} {
		n := len(e.fs.Responses())
		e.fs.PushSlashCommand(fakeslack.SlashCommand{Text: "status " + target, UserID: "U0VIEW", ChannelID: testChannel})
		resps := e.fs.WaitResponses(n+1, 15*time.Second)
		if len(resps) <= n || !strings.Contains(resps[n].Text+resps[n].Blocks, target) || !strings.Contains(resps[n].Text+resps[n].Blocks, "anthropic:default") {
			t.Errorf("Slack status %s: %+v", target, resps[n:])
		}
	}

	// 2. Reset of b's target confirmed through a.
	e.breakTarget(bt)
	waitFor(t, "b's report shows the cooldown", 20*time.Second, func() bool {
		r, err := e.st.LatestReport(ctx, bt)
		return err == nil && strings.Contains(string(r.Body), "cooldown.active")
	})
	preview := e.say("/cooldown_reset anthropic:default "+bt, "Confirm", 15*time.Second)
	data := confirmData(t, preview.ReplyMarkup)
	e.ft.QueueCallback(fleetUser, fleetUser, preview.MessageID, data)
	waitFor(t, "the reset cleared b's state", 30*time.Second, func() bool { return !e.cooling(bt) })
	waitFor(t, "the confirmed reset's audit row", 10*time.Second, func() bool {
		entries, err := e.st.Audit(ctx, 50)
		must(t, err)
		for _, en := range entries {
			if en.Command == "cooldown reset" && en.Outcome == "ok" && slices.Contains(en.Args, bt) {
				return true
			}
		}
		return false
	})

	// 3. The burst and the kill.
	db := rawDB(t, e.dsn)
	waitFor(t, "step 2's notices delivered", 15*time.Second, func() bool {
		var n int
		_ = db.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`).Scan(&n)
		return n == 0
	})
	slackBefore, tgBefore := e.alerts()
	e.ft.SetDelay(40 * time.Millisecond) // Telegram sends take a while: the burst lasts
	for target := range e.dirs {
		e.breakTarget(target)
	}
	waitFor(t, "the poller queued its own targets' alerts", 20*time.Second, func() bool {
		var n int
		_ = db.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE ref LIKE $1`, "alert:"+a+"-%").Scan(&n)
		return n >= 2*perHost-1 // bt's alert may be the one from step 2 (a-side targets only here)
	})
	var unsent int
	_ = db.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`).Scan(&unsent)
	killed := time.Now()
	e.kill(a)
	t.Logf("killed %s (the Telegram poller) with %d notices unsent", a, unsent)
	e.ft.SetDelay(0)
	resumed := e.say("/status "+bt, bt, 10*time.Second)
	took := time.Since(killed)
	t.Logf("Telegram answered again %s after the kill (by another instance); reply %d chars", took.Round(time.Millisecond), len(resumed.Plain))
	if took > 10*time.Second {
		t.Errorf("polling resumed %s after the kill, want ≤ 10s", took)
	}

	// Every target's alert, exactly once on Slack.
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		rows, err := db.QueryContext(context.Background(), `SELECT id, channel, ref, attempts, claimed_by, sent_at IS NOT NULL, dead, last_error FROM outbox ORDER BY id`)
		if err != nil {
			t.Log(err)
			return
		}
		defer rows.Close()
		for rows.Next() {
			var id, attempts int64
			var ch, ref, by, lastErr string
			var sent bool
			var dead int
			_ = rows.Scan(&id, &ch, &ref, &attempts, &by, &sent, &dead, &lastErr)
			t.Logf("outbox %d %s %s attempts=%d by=%q sent=%v dead=%d err=%q", id, ch, ref, attempts, by, sent, dead, lastErr)
		}
		s, g := e.alerts()
		t.Logf("slack %v\ntelegram %v", s, g)
		for _, m := range e.fs.Messages(testChannel) {
			if m.Metadata != nil {
				t.Logf("slack message ts=%s ref=%v edits=%d", m.TS, m.Metadata.EventPayload["ref"], m.Edits)
			}
		}
		for _, c := range e.fs.Calls("conversations.history") {
			t.Logf("history call at %s: %v", c.At.Format("15:04:05.000"), c.Params)
		}
	})
	waitFor(t, "every alert delivered", 30*time.Second, func() bool {
		s, g := e.alerts()
		for target := range e.dirs {
			if s[target]-slackBefore[target] < 1 || g[target]-tgBefore[target] < 1 {
				return false
			}
		}
		return true
	})
	time.Sleep(6 * fleetBeat) // anything sent twice would be by now
	s, g := e.alerts()
	var tgDup int
	for target := range e.dirs {
		if n := s[target] - slackBefore[target]; n != 1 {
			t.Errorf("%s: %d Slack alerts in the burst, want exactly 1", target, n)
		}
		tgDup += g[target] - tgBefore[target] - 1
	}
	var retaken int
	_ = db.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE attempts > 1`).Scan(&retaken)
	t.Logf("after the kill: %d notices taken over from the killed instance's claims, %d Slack history lookups, %d Telegram duplicates",
		retaken, len(e.fs.Calls("conversations.history")), tgDup)
	if tgDup > 1 {
		t.Errorf("%d Telegram alerts sent twice, want at most the one a kill can cut after Telegram took it", tgDup)
	}

	// 4. instance.silent, once.
	silentTitle := "instance " + a + " is silent"
	countSilent := func() (int, int) {
		var sn, gn int
		for _, m := range e.fs.Messages(testChannel) {
			if strings.Contains(m.Text, silentTitle) {
				sn++
			}
		}
		for _, m := range e.ft.Messages(chatID()) {
			if strings.Contains(m.Plain, silentTitle) {
				gn++
			}
		}
		return sn, gn
	}
	waitFor(t, "instance.silent on Slack and Telegram", 15*time.Second, func() bool {
		sn, gn := countSilent()
		return sn >= 1 && gn >= 1
	})
	time.Sleep(6 * fleetBeat)
	if sn, gn := countSilent(); sn != 1 || gn != 1 {
		t.Errorf("instance.silent sent %d times to Slack and %d to Telegram, want once each", sn, gn)
	}
	st := e.say("/status "+a+"-1", "silent since", 10*time.Second)
	if !strings.Contains(st.Plain, "instance.silent") && !strings.Contains(st.Plain, "is silent") {
		t.Errorf("status of the silent instance's target: %q", st.Plain)
	}
	refusal := e.say("/cooldown_reset anthropic:default "+a+"-1", "Not done", 10*time.Second)
	if !strings.Contains(refusal.Plain, "silent") {
		t.Errorf("reset of a silent instance's target: %q, want a refusal naming the silence", refusal.Plain)
	}

	// a comes back: the alert is edited to resolved.
	e.start(a)
	waitFor(t, "instance.silent resolved in Slack", 30*time.Second, func() bool {
		for _, m := range e.fs.Messages(testChannel) {
			if strings.Contains(m.Text, "instance "+a+" is beating again") && m.Edits > 0 {
				return true
			}
		}
		return false
	})

	var all strings.Builder
	for _, m := range e.fs.Messages(testChannel) {
		all.WriteString(m.Text + m.Blocks)
	}
	for _, m := range e.ft.Messages(fleetUser) {
		all.WriteString(m.Text)
	}
	for name := range e.logs {
		all.WriteString(e.logs[name].String())
	}
	assertNoSecretLeak(t, all.String(), append(e.keys, testTGToken, testSlackToken, testAppToken))
	for _, h := range fleetHosts {
		e.stop(string(h))
	}
}

// confirmData is the callback data of a preview's Confirm button.
func confirmData(t *testing.T, markup string) string {
	t.Helper()
	var m struct {
		InlineKeyboard [][]struct {
			Text         string `json:"text"`
			CallbackData string `json:"callback_data"`
		} `json:"inline_keyboard"`
	}
	must(t, json.Unmarshal([]byte(markup), &m))
	for _, row := range m.InlineKeyboard {
		for _, b := range row {
			if b.Text == "Confirm" {
				return b.CallbackData
			}
		}
	}
	t.Fatalf("no Confirm button in %s", markup)
	return ""
}

func rawDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	must(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// fleet status and fleet forget on the shared store; SQLite has no fleet.
func TestFleetCommand(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := t.Context()
	st, err := store.OpenConfig(ctx, store.Config{Driver: store.DriverPostgres, DSN: dsn})
	must(t, err)
	defer st.Close()
	now, err := st.Now(ctx)
	must(t, err)
	must(t, st.RegisterInstance(ctx, store.Instance{Name: "gone", Host: "h1", PID: 1}, now.Add(-time.Hour), time.Minute))
	must(t, st.ClaimTargets(ctx, "gone", []string{"web-1"}, now))
	must(t, st.RegisterInstance(ctx, store.Instance{Name: "live", Host: "h2", PID: 2}, now, time.Minute))
	cfg := filepath.Join(t.TempDir(), "bot.yaml")
	must(t, os.WriteFile(cfg, []byte("store:\n  driver: postgres\n  dsn: ${FLEET_DSN}\n"), 0o600))
	t.Setenv("FLEET_DSN", dsn)

	out, errOut, code := runCmd(t, "", "fleet", "status", "--json", "--config", cfg)
	if code != 0 || !strings.Contains(out, `"name": "gone"`) || !strings.Contains(out, `"state": "late"`) || !strings.Contains(out, `"web-1"`) {
		t.Fatalf("fleet status: %d %q %q", code, out, errOut)
	}
	if _, errOut, code := runCmd(t, "", "fleet", "forget", "live", "--config", cfg); code == 0 || !strings.Contains(errOut, "is running") {
		t.Errorf("forget a running instance: %d %q", code, errOut)
	}
	if out, errOut, code := runCmd(t, "", "fleet", "forget", "gone", "--config", cfg); code != 0 || !strings.Contains(out, "forgot instance gone") {
		t.Errorf("forget gone: %d %q %q", code, out, errOut)
	}
	// web-1 is free for another instance.
	must(t, st.ClaimTargets(ctx, "live", []string{"web-1"}, now))
	sqlite := filepath.Join(t.TempDir(), "lite.yaml")
	must(t, os.WriteFile(sqlite, []byte("store:\n  path: "+filepath.Join(t.TempDir(), "b.db")+"\n"), 0o600))
	if _, errOut, code := runCmd(t, "", "fleet", "status", "--config", sqlite); code == 0 || !strings.Contains(errOut, "postgres") {
		t.Errorf("fleet status on SQLite: %d %q", code, errOut)
	}
	if _, _, code := runCmd(t, "", "fleet", "--help"); code != 0 {
		t.Errorf("fleet --help: exit %d", code)
	}
}

// An instance killed and started again at once on the same host is not
// refused as "running" (its earlier process is gone); a second live
// process under the same name is, and so is another instance claiming its
// targets (named with their holder).
func TestFleetRestartAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	e := newFleetEnv(t)
	e.start("a")
	ctx := t.Context()
	waitFor(t, "a registered", 30*time.Second, func() bool {
		list, err := e.st.Instances(ctx)
		return err == nil && len(list) == 1 && len(list[0].Targets) == perHost
	})
	// Another store.path: the lock file would refuse a second process on
	// this host's path before the fleet does.
	b, err := os.ReadFile(e.cfgs["a"])
	must(t, err)
	cfg2 := filepath.Join(t.TempDir(), "bot.yaml")
	must(t, os.WriteFile(cfg2, []byte(regexp.MustCompile(`(?m)^  path: .*$`).ReplaceAllString(string(b), "  path: "+filepath.Join(t.TempDir(), "bot.db"))), 0o600))
	second := exec.Command(e.bin, "serve", "--config", cfg2)
	second.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "FLEET_DSN=" + e.dsn}
	out, err := second.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "instance of that name is running") {
		t.Errorf("a second live a: %v\n%s", err, out)
	}
	// Another instance claiming a's target is refused, naming a.
	d := regexp.MustCompile(`(?m)^  name: a$`).ReplaceAllString(string(b), "  name: d")
	d = regexp.MustCompile(`(?m)^  path: .*$`).ReplaceAllString(d, "  path: "+filepath.Join(t.TempDir(), "bot.db"))
	cfgD := filepath.Join(t.TempDir(), "d.yaml")
	must(t, os.WriteFile(cfgD, []byte(d), 0o600))
	third := exec.Command(e.bin, "serve", "--config", cfgD)
	third.Env = second.Env
	out, err = third.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "a-0 (instance a, last heartbeat") {
		t.Errorf("instance d claiming a's targets: %v\n%s", err, out)
	}
	// d did not start: it is recorded as stopped, and nobody reports it
	// silent.
	time.Sleep(5 * fleetBeat)
	list, err := e.st.Instances(ctx)
	must(t, err)
	for _, in := range list {
		if in.Name == "d" && (in.Stopped.IsZero() || !in.SilentSince.IsZero()) {
			t.Errorf("instance d after its refused start: stopped %v, silent since %v", in.Stopped, in.SilentSince)
		}
	}

	e.kill("a")
	e.start("a") // at once: well within 3 beats
	waitFor(t, "a serving again", 30*time.Second, func() bool {
		return strings.Count(e.logs["a"].String(), "joined the fleet") == 2
	})
}

// While PostgreSQL is down (README "Fleet"), every instance keeps running
// and watching; what breaks meanwhile is alerted once PostgreSQL returns,
// exactly once; Telegram is polled again; nobody is declared silent for
// the outage.
func TestFleetStoreOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs two instances on a PostgreSQL it stops")
	}
	srv := pgtest.Own(t)
	db, err := srv.CreateDatabase(t.Context(), "")
	must(t, err)
	e := newFleetEnvOn(t, srv.DSN(db), "ab")
	e.start("a")
	e.start("b")
	ctx := t.Context()
	waitFor(t, "two instances and a poller", 30*time.Second, func() bool {
		list, err := e.st.Instances(ctx)
		return err == nil && len(list) == 2 && e.poller() != ""
	})
	e.say("/status b-1", "b-1", 10*time.Second)
	time.Sleep(4 * fleetBeat) // both have judged at least once

	must(t, srv.Pause(ctx))
	paused := time.Now()
	e.breakTarget("a-2")
	e.breakTarget("b-2")
	time.Sleep(8 * fleetBeat) // well past 3 beats
	for name, p := range e.procs {
		if err := p.Process.Signal(syscall.Signal(0)); err != nil {
			t.Fatalf("instance %s exited while PostgreSQL was down: %v", name, err)
		}
		waitFor(t, "instance "+name+" holding its evaluation", 10*time.Second, func() bool {
			return strings.Contains(e.logs[name].String(), "keeping evaluations in memory")
		})
	}
	if s, _ := e.alerts(); s["a-2"]+s["b-2"] != 0 {
		t.Fatalf("alerts delivered while the outbox was unreachable: %v", s)
	}
	must(t, srv.Resume(ctx))
	t.Logf("PostgreSQL was down %s", time.Since(paused).Round(time.Millisecond))

	waitFor(t, "the alerts raised during the outage", 30*time.Second, func() bool {
		s, g := e.alerts()
		return s["a-2"] >= 1 && s["b-2"] >= 1 && g["a-2"] >= 1 && g["b-2"] >= 1
	})
	e.say("/status a-1", "a-1", 15*time.Second) // Telegram polled again
	time.Sleep(8 * fleetBeat)
	s, g := e.alerts()
	if s["a-2"] != 1 || s["b-2"] != 1 || g["a-2"] != 1 || g["b-2"] != 1 {
		t.Errorf("alerts after the outage: Slack %v, Telegram %v; want each once", s, g)
	}
	for _, m := range e.fs.Messages(testChannel) {
		if strings.Contains(m.Text, " is silent") {
			t.Errorf("instance.silent after a PostgreSQL outage: %q", m.Text)
		}
	}
	e.stop("a")
	e.stop("b")
}
