package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/internal/faketelegram"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
)

const (
	hookSecret = "hook_SECRET-value-0123456789"
	alice      = int64(999)
	aliceChat  = int64(999) // alice's private chat with the bot
)

// recHandler records what it is given and answers with the configured
// functions (default: a short reply echoing the command).
type recHandler struct {
	mu      sync.Mutex
	reqs    []bot.Request
	presses []bot.Press
	handle  func(ctx context.Context, r bot.Request) bot.Reply
	press   func(ctx context.Context, p bot.Press) bot.Reply
}

func (h *recHandler) Handle(ctx context.Context, r bot.Request) bot.Reply {
	h.mu.Lock()
	h.reqs = append(h.reqs, r)
	f := h.handle
	h.mu.Unlock()
	if f != nil {
		return f(ctx, r)
	}
	return bot.Reply{Message: statusReply(r.Text)}
}

func (h *recHandler) Press(ctx context.Context, p bot.Press) bot.Reply {
	h.mu.Lock()
	h.presses = append(h.presses, p)
	f := h.press
	h.mu.Unlock()
	if f != nil {
		return f(ctx, p)
	}
	return bot.Reply{Toast: "ok"}
}

func (h *recHandler) Commands() []bot.CommandInfo { return testMenu }

func (h *recHandler) Requests() []bot.Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]bot.Request(nil), h.reqs...)
}

func (h *recHandler) Presses() []bot.Press {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]bot.Press(nil), h.presses...)
}

func statusReply(cmd string) bot.Message {
	return bot.Message{
		Kind: bot.KindReply, Severity: bot.SevInfo, Title: "local: ok <all good> & fine",
		Text:   bot.Line(bot.T("you asked for "), bot.C(cmd)),
		Footer: bot.Line(bot.T("checked "), bot.At(fixedNow.Add(-time.Minute))),
	}
}

func preview() bot.Message {
	m := replyWithCode()
	m.Buttons = []bot.Button{{Text: "Confirm", Action: "ok:9b1d", Style: "primary"}, {Text: "Cancel", Action: "no:9b1d"}}
	return m
}

func outcome() bot.Message {
	return bot.Message{Kind: bot.KindReply, Severity: bot.SevResolved, Title: "Cooldown of anthropic:default reset", Text: bot.Line(bot.T("by alice"))}
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type pollEnv struct {
	srv    *faketelegram.Server
	api    *tgbotapi.BotAPI
	client *http.Client
	h      *recHandler
	logs   *syncWriter
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

func inboundLogger(w *syncWriter) *zerolog.Logger {
	l := zerolog.New(w).Level(zerolog.DebugLevel)
	return &l
}

func newTestAPI(t *testing.T, token string) (*faketelegram.Server, *tgbotapi.BotAPI, *http.Client) {
	t.Helper()
	srv := faketelegram.New(token)
	client := &http.Client{Transport: &http.Transport{}}
	api, err := NewAPI(redact.Secret(token), srv.URL(), client)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	return srv, api, client
}

func fastOpts(opts InboundOptions, logs *syncWriter) InboundOptions {
	if opts.Logger == nil {
		opts.Logger = inboundLogger(logs)
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return fixedNow }
	}
	if opts.PollTimeout == 0 {
		opts.PollTimeout = 5 * time.Second
	}
	if opts.MinBackoff == 0 {
		opts.MinBackoff = 10 * time.Millisecond
		opts.MaxBackoff = 50 * time.Millisecond
	}
	if opts.ShutdownGrace == 0 {
		opts.ShutdownGrace = 200 * time.Millisecond
	}
	return opts
}

// startPolling runs RunPolling against a fresh fake; prepare runs before.
func startPolling(t *testing.T, h *recHandler, opts InboundOptions, prepare func(*faketelegram.Server)) *pollEnv {
	t.Helper()
	srv, api, client := newTestAPI(t, testToken)
	srv.SetPollCap(5 * time.Second)
	if prepare != nil {
		prepare(srv)
	}
	e := &pollEnv{srv: srv, api: api, client: client, h: h, logs: &syncWriter{w: &bytes.Buffer{}}, done: make(chan error, 1)}
	opts = fastOpts(opts, e.logs)
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	go func() { e.done <- RunPolling(ctx, api, h, opts) }()
	t.Cleanup(func() {
		e.stop(t)
		client.CloseIdleConnections()
		srv.Close()
	})
	return e
}

// stop cancels RunPolling and returns its result (once).
func (e *pollEnv) stop(t *testing.T) error {
	t.Helper()
	e.once.Do(func() {
		e.cancel()
		select {
		case e.err = <-e.done:
		case <-time.After(5 * time.Second):
			t.Fatal("RunPolling did not return after cancel")
		}
	})
	return e.err
}

func (e *pollEnv) sends() []faketelegram.Call { return e.srv.CallsFor("sendMessage") }

func TestPollingEndToEnd(t *testing.T) {
	h := &recHandler{}
	e := startPolling(t, h, InboundOptions{}, nil)

	// A /status in a private chat.
	e.srv.QueueUpdate(`{"message":{"message_id":77,"date":0,"chat":{"id":999,"type":"private"},
		"from":{"id":999,"is_bot":false,"first_name":"Alice","username":"alice"},"text":"/status",
		"entities":[{"type":"bot_command","offset":0,"length":7}]}}`)
	waitFor(t, 5*time.Second, "the reply", func() bool { return len(e.sends()) == 1 })
	reqs := h.Requests()
	want := bot.Request{Surface: "telegram", UserID: "999", UserName: "alice", Where: "999", Private: true, Text: "status"}
	if len(reqs) != 1 || reqs[0] != want {
		t.Fatalf("requests %+v, want %+v", reqs, want)
	}
	send := e.sends()[0].Params
	wantHTML, _ := Render(statusReply("status"), time.UTC, fixedNow)
	if send.Get("text") != wantHTML || send.Get("parse_mode") != "HTML" || send.Get("chat_id") != "999" ||
		send.Get("reply_to_message_id") != "77" || send.Get("allow_sending_without_reply") != "true" {
		t.Errorf("sendMessage %v\nwant text %q", send, wantHTML)
	}

	// The underscore form with @thisbot, in a group: first name when no username.
	e.srv.QueueMessage(groupID, alice, "/cooldown_reset@openclaw_bot anthropic:default")
	// Ignored: another bot's command, an unknown command in a group, plain text.
	e.srv.QueueMessage(groupID, alice, "/status@otherbot")
	e.srv.QueueMessage(groupID, alice, "/weather")
	e.srv.QueueMessage(groupID, alice, "just chatting about /status")
	// In a private chat an unknown command still reaches the handler.
	e.srv.QueueMessage(aliceChat, alice, "/foo bar")
	// /openclaw form.
	e.srv.QueueMessage(groupID, alice, "/openclaw@openclaw_bot doctor fix")
	waitFor(t, 5*time.Second, "3 more requests", func() bool { return len(h.Requests()) == 4 && len(e.sends()) == 4 })
	waitFor(t, 5*time.Second, "all updates consumed", func() bool { return e.srv.Pending() == 0 })
	time.Sleep(50 * time.Millisecond) // would an ignored update still reach the handler?
	got := map[string]bot.Request{}
	for _, r := range h.Requests() {
		got[r.Text] = r
	}
	cr := got["cooldown reset anthropic:default"]
	if cr.UserID != "999" || cr.UserName != "User999" || cr.Where != group || cr.Private {
		t.Errorf("cooldown reset request %+v", cr)
	}
	if _, ok := got["foo bar"]; !ok {
		t.Errorf("private unknown command not passed on: %+v", got)
	}
	if _, ok := got["doctor fix"]; !ok {
		t.Errorf("/openclaw form not passed on: %+v", got)
	}
	if len(h.Requests()) != 4 {
		t.Errorf("ignored updates reached the handler: %+v", h.Requests())
	}
	for _, m := range e.srv.Messages(groupID) {
		if m.Text != "" && strings.Contains(m.Plain, "weather") {
			t.Errorf("answered an ignored command: %+v", m)
		}
	}

	// Start-up: deleteWebhook, then setMyCommands with the menu, then polling.
	calls := e.srv.Calls()
	var order []string
	for _, c := range calls {
		if c.Method != "getMe" && len(order) < 3 {
			order = append(order, c.Method)
		}
	}
	if fmt.Sprint(order) != "[deleteWebhook setMyCommands getUpdates]" {
		t.Errorf("start-up calls %v", order)
	}
	cmds := e.srv.Commands()
	if len(cmds) != len(testMenu)+1 {
		t.Fatalf("commands %+v", cmds)
	}
	valid := regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
	names := map[string]bool{}
	for _, c := range cmds {
		names[c.Command] = true
		if !valid.MatchString(c.Command) || c.Description == "" {
			t.Errorf("command %+v", c)
		}
	}
	for _, n := range []string{"status", "cooldown_reset", "doctor_fix", "probe_spend", "undo", "openclaw"} {
		if !names[n] {
			t.Errorf("menu lacks %s", n)
		}
	}
	for _, c := range e.srv.CallsFor("getUpdates") {
		if c.Params.Get("allowed_updates") != `["message","callback_query"]` || c.Params.Get("timeout") == "" {
			t.Errorf("getUpdates params %v", c.Params)
			break
		}
	}
	if err := e.stop(t); err != nil {
		t.Errorf("RunPolling returned %v", err)
	}
}

func TestPollingCallbacks(t *testing.T) {
	h := &recHandler{}
	var mu sync.Mutex
	pressDone := map[string]time.Time{}
	h.press = func(ctx context.Context, p bot.Press) bot.Reply {
		defer func() { mu.Lock(); pressDone[p.Action] = time.Now(); mu.Unlock() }()
		switch p.Action {
		case "a:7f3c9e": // an alert's "Reset cooldown" button: opens the preview
			return bot.Reply{Message: preview(), Toast: "Preview below"}
		case "ok:9b1d": // the preview's Confirm
			return bot.Reply{Message: outcome(), Toast: "Done"}
		case "slow":
			time.Sleep(400 * time.Millisecond)
			return bot.Reply{Toast: "too late for this toast"}
		case "ack:1":
			return bot.Reply{Toast: "Acknowledged"}
		}
		return bot.Reply{}
	}
	e := startPolling(t, h, InboundOptions{AnswerWithin: 50 * time.Millisecond}, nil)

	// Press on an alert button: answered with the toast, Press delivered,
	// the preview sent as a new message replying to the alert.
	_, cb1 := e.srv.QueueCallback(groupID, alice, 5, "a:7f3c9e")
	waitFor(t, 5*time.Second, "the preview", func() bool { return len(e.sends()) == 1 })
	ans := e.srv.CallsFor("answerCallbackQuery")
	if len(ans) != 1 || ans[0].Params.Get("callback_query_id") != cb1 || ans[0].Params.Get("text") != "Preview below" || ans[0].Status != 200 {
		t.Fatalf("answerCallbackQuery %+v", ans)
	}
	p := h.Presses()
	wantP := bot.Press{Surface: "telegram", UserID: "999", UserName: "User999", Where: group, Action: "a:7f3c9e"}
	if len(p) != 1 || p[0] != wantP {
		t.Fatalf("presses %+v", p)
	}
	send := e.sends()[0].Params
	if send.Get("reply_to_message_id") != "5" || !strings.Contains(send.Get("reply_markup"), `"Confirm"`) {
		t.Errorf("preview send %v", send)
	}
	previewID := 0
	for _, m := range e.srv.Messages(groupID) {
		if strings.Contains(m.ReplyMarkup, "Confirm") {
			previewID = m.MessageID
		}
	}
	if previewID == 0 {
		t.Fatal("preview not stored")
	}

	// Confirm on the preview: the outcome edits the preview (buttons gone).
	_, cb2 := e.srv.QueueCallback(groupID, alice, previewID, "ok:9b1d")
	waitFor(t, 5*time.Second, "the edit", func() bool { return len(e.srv.CallsFor("editMessageText")) == 1 })
	m, _ := e.srv.Message(groupID, previewID)
	wantHTML, _ := Render(outcome(), time.UTC, fixedNow)
	if m.Text != wantHTML || m.ReplyMarkup != "" || m.Edits != 1 {
		t.Errorf("edited preview %+v", m)
	}
	if n := len(e.sends()); n != 1 {
		t.Errorf("outcome sent as a new message too (%d sends)", n)
	}
	ans = e.srv.CallsFor("answerCallbackQuery")
	if len(ans) != 2 || ans[1].Params.Get("callback_query_id") != cb2 || ans[1].Params.Get("text") != "Done" {
		t.Errorf("answers %+v", ans)
	}

	// A slow handler: the query is answered (without toast) before it returns.
	_, cb3 := e.srv.QueueCallback(aliceChat, alice, 9, "slow")
	waitFor(t, 5*time.Second, "slow press", func() bool { mu.Lock(); defer mu.Unlock(); return !pressDone["slow"].IsZero() })
	ans = e.srv.CallsFor("answerCallbackQuery")
	if len(ans) != 3 || ans[2].Params.Get("callback_query_id") != cb3 || ans[2].Params.Get("text") != "" {
		t.Fatalf("answers %+v", ans)
	}
	mu.Lock()
	if !ans[2].Time.Before(pressDone["slow"]) {
		t.Errorf("answered at %v, after the handler returned at %v", ans[2].Time, pressDone["slow"])
	}
	mu.Unlock()

	// Toast only: nothing is sent.
	_, cb4 := e.srv.QueueCallback(groupID, alice, 5, "ack:1")
	waitFor(t, 5*time.Second, "ack answer", func() bool { return len(e.srv.CallsFor("answerCallbackQuery")) == 4 })
	if a := e.srv.CallsFor("answerCallbackQuery")[3]; a.Params.Get("callback_query_id") != cb4 || a.Params.Get("text") != "Acknowledged" {
		t.Errorf("%+v", a)
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(e.sends()); n != 1 {
		t.Errorf("%d sends", n)
	}
}

// A preview pressed after a restart is recognised by its keyboard.
func TestPreviewEditAfterRestart(t *testing.T) {
	h := &recHandler{press: func(context.Context, bot.Press) bot.Reply { return bot.Reply{Message: outcome()} }}
	e := startPolling(t, h, InboundOptions{}, nil)
	// A preview some earlier process sent.
	text, kb := Render(preview(), time.UTC, fixedNow)
	msg := tgbotapi.NewMessage(groupID, text)
	msg.ParseMode = tgbotapi.ModeHTML
	msg.ReplyMarkup = *kb
	sent, err := e.api.Send(msg)
	if err != nil {
		t.Fatal(err)
	}
	kbJSON, _ := json.Marshal(kb)
	e.srv.QueueUpdate(fmt.Sprintf(`{"callback_query":{"id":"cbq-restart","from":{"id":999,"first_name":"A"},"data":"ok:9b1d",
		"message":{"message_id":%d,"date":0,"chat":{"id":%d,"type":"supergroup"},"text":"x","reply_markup":%s}}}`, sent.MessageID, groupID, kbJSON))
	waitFor(t, 5*time.Second, "the edit", func() bool { return len(e.srv.CallsFor("editMessageText")) == 1 })
	if m, _ := e.srv.Message(groupID, sent.MessageID); m.ReplyMarkup != "" || !strings.Contains(m.Plain, "reset") {
		t.Errorf("%+v", m)
	}
}

func TestEphemeralReplies(t *testing.T) {
	h := &recHandler{handle: func(_ context.Context, r bot.Request) bot.Reply {
		return bot.Reply{Message: statusReply(r.Text), Ephemeral: true}
	}}
	e := startPolling(t, h, InboundOptions{}, nil)
	// In a group: sent to the user's private chat, not the group.
	e.srv.QueueMessage(groupID, alice, "/whoami")
	waitFor(t, 5*time.Second, "DM", func() bool { return len(e.sends()) == 1 })
	if c := e.sends()[0].Params.Get("chat_id"); c != "999" {
		t.Errorf("ephemeral reply sent to %s", c)
	}
	// The user never started the bot: a notice in the group, without the content.
	e.srv.SetChatError(alice, 403, "Forbidden: bot can't initiate conversation with a user")
	e.srv.QueueMessage(groupID, alice, "/whoami")
	waitFor(t, 5*time.Second, "notice", func() bool { return len(e.srv.Messages(groupID)) >= 1 })
	var notice faketelegram.Message
	for _, m := range e.srv.Messages(groupID) {
		if m.Text != "" {
			notice = m
		}
	}
	if !strings.Contains(notice.Plain, "can't message you privately") || !strings.Contains(notice.Plain, "@openclaw_bot") || strings.Contains(notice.Plain, "whoami") {
		t.Errorf("notice %+v", notice)
	}
}

func TestLongReplySplit(t *testing.T) {
	h := &recHandler{handle: func(context.Context, bot.Request) bot.Reply {
		m := manyItems(60)
		m.Buttons = []bot.Button{{Text: "Re-check", Action: "a:1"}}
		return bot.Reply{Message: m}
	}}
	e := startPolling(t, h, InboundOptions{}, nil)
	e.srv.QueueMessage(aliceChat, alice, "/diagnose")
	waitFor(t, 5*time.Second, "parts", func() bool { return len(e.srv.Messages(aliceChat)) >= 3 })
	time.Sleep(100 * time.Millisecond)
	sends := e.sends()
	if len(sends) < 2 || len(sends) > maxReplyParts {
		t.Fatalf("%d parts", len(sends))
	}
	shown := 0
	for i, s := range sends {
		if s.Status != 200 {
			t.Errorf("part %d rejected: %s", i, s.Error)
		}
		if UTF16Len(s.Params.Get("text")) > MaxTextLen {
			t.Errorf("part %d too long", i)
		}
		shown += strings.Count(s.Params.Get("text"), "is in cooldown")
		if (i == 0) != (s.Params.Get("reply_to_message_id") != "") {
			t.Errorf("part %d reply_to %q", i, s.Params.Get("reply_to_message_id"))
		}
		if (i == len(sends)-1) != (s.Params.Get("reply_markup") != "") {
			t.Errorf("part %d keyboard %q", i, s.Params.Get("reply_markup"))
		}
	}
	if shown != 60 {
		t.Errorf("%d of 60 items shown", shown)
	}
}

func TestMaxConcurrent(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	cur, peak := 0, 0
	h := &recHandler{handle: func(ctx context.Context, r bot.Request) bot.Reply {
		mu.Lock()
		cur++
		peak = max(peak, cur)
		mu.Unlock()
		select {
		case <-release:
		case <-ctx.Done():
		}
		mu.Lock()
		cur--
		mu.Unlock()
		return bot.Reply{Message: statusReply(r.Text)}
	}}
	e := startPolling(t, h, InboundOptions{MaxConcurrent: 2}, nil)
	for range 5 {
		e.srv.QueueMessage(aliceChat, alice, "/status")
	}
	waitFor(t, 5*time.Second, "2 running", func() bool { return len(h.Requests()) == 2 })
	time.Sleep(100 * time.Millisecond)
	if n := len(h.Requests()); n != 2 {
		t.Errorf("%d handlers started with MaxConcurrent 2", n)
	}
	// A button press while all workers are busy is still answered at once.
	_, cb := e.srv.QueueCallback(aliceChat, alice, 1, "ack:1")
	waitFor(t, 5*time.Second, "prompt answer", func() bool { return len(e.srv.CallsFor("answerCallbackQuery")) == 1 })
	if a := e.srv.CallsFor("answerCallbackQuery")[0]; a.Params.Get("callback_query_id") != cb || a.Status != 200 {
		t.Errorf("%+v", a)
	}
	close(release)
	waitFor(t, 5*time.Second, "all handled", func() bool { return len(e.sends()) == 5 && len(h.Presses()) == 1 })
	if peak != 2 {
		t.Errorf("peak concurrency %d", peak)
	}
	if n := len(e.srv.CallsFor("answerCallbackQuery")); n != 1 {
		t.Errorf("answered %d times", n)
	}
}

func goroutineLeaks(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines, %d before:\n%s", n, before, stacks)
	}
	for _, f := range []string{"telegram.(*inbound)", "telegram.RunPolling", "telegram.(*WebhookHandler)"} {
		if strings.Contains(stacks, f) {
			t.Errorf("goroutine left in %s:\n%s", f, stacks)
		}
	}
}

// Cancel interrupts a pending long poll at once, cancels a stuck handler
// after ShutdownGrace, and leaves no goroutine behind.
func TestPollingCancelNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	srv, api, client := newTestAPI(t, testToken)
	srv.SetPollCap(time.Minute)
	logs := &syncWriter{w: &bytes.Buffer{}}
	started := make(chan struct{}, 1)
	h := &recHandler{handle: func(ctx context.Context, r bot.Request) bot.Reply {
		started <- struct{}{}
		<-ctx.Done() // stuck until cancelled
		return bot.Reply{}
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- RunPolling(ctx, api, h, fastOpts(InboundOptions{PollTimeout: 50 * time.Second, ShutdownGrace: 100 * time.Millisecond}, logs))
	}()
	srv.QueueMessage(aliceChat, alice, "/status")
	<-started
	time.Sleep(300 * time.Millisecond) // the next getUpdates is parked for up to 50 s
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("RunPolling: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("RunPolling did not return")
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("returned %v after cancel", el)
	}
	// The handled update was confirmed on the way out.
	if srv.Pending() != 0 {
		t.Errorf("%d updates not confirmed", srv.Pending())
	}
	client.CloseIdleConnections()
	srv.Close()
	goroutineLeaks(t, before)

	// A second run with nothing in flight returns promptly as well.
	before = runtime.NumGoroutine()
	srv, api, client = newTestAPI(t, testToken)
	srv.SetPollCap(time.Minute)
	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		done <- RunPolling(ctx, api, &recHandler{}, fastOpts(InboundOptions{PollTimeout: 50 * time.Second}, logs))
	}()
	waitFor(t, 5*time.Second, "setMyCommands", func() bool { return len(srv.CallsFor("setMyCommands")) == 1 })
	time.Sleep(200 * time.Millisecond)
	start = time.Now()
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
	if el := time.Since(start); el > 500*time.Millisecond {
		t.Errorf("returned %v after cancel", el)
	}
	client.CloseIdleConnections()
	srv.Close()
	goroutineLeaks(t, before)
}

func TestPolling429RetryAfter(t *testing.T) {
	h := &recHandler{}
	e := startPolling(t, h, InboundOptions{}, func(s *faketelegram.Server) {
		s.QueueMessage(aliceChat, alice, "/status")
		s.FailNext("getUpdates", 1, http.StatusTooManyRequests, 1)
	})
	waitFor(t, 5*time.Second, "reply", func() bool { return len(e.sends()) == 1 })
	ups := e.srv.CallsFor("getUpdates")
	if len(ups) < 2 || ups[0].Status != 429 || ups[1].Status != 200 {
		t.Fatalf("%+v", ups)
	}
	// MinBackoff is 10 ms: only retry_after explains the gap.
	if gap := ups[1].Time.Sub(ups[0].Time); gap < 950*time.Millisecond || gap > 3*time.Second {
		t.Errorf("retried after %v, want retry_after 1s", gap)
	}
	if !strings.Contains(logText(e.logs), "Too Many Requests") {
		t.Errorf("429 not logged: %s", logText(e.logs))
	}
}

func TestPollingBacksOffAndRecovers(t *testing.T) {
	h := &recHandler{}
	e := startPolling(t, h, InboundOptions{}, func(s *faketelegram.Server) {
		s.QueueMessage(aliceChat, alice, "/status")
		s.FailNext("deleteWebhook", 1, 502, 0)
		s.FailNext("getUpdates", 3, 502, 0)
		s.FailNext("getUpdates", 1, 409, 0) // another poller
	})
	waitFor(t, 5*time.Second, "reply", func() bool { return len(e.sends()) == 1 })
	if n := len(e.srv.CallsFor("deleteWebhook")); n != 2 {
		t.Errorf("deleteWebhook %d calls", n)
	}
	if !strings.Contains(logText(e.logs), "another program is polling") {
		t.Errorf("409 hint not logged")
	}
}

// A webhook left set (e.g. after switching telegram.mode) is removed.
func TestPollingRemovesWebhook(t *testing.T) {
	h := &recHandler{}
	e := startPolling(t, h, InboundOptions{}, func(s *faketelegram.Server) {
		s.QueueMessage(aliceChat, alice, "/status")
		api, _ := tgbotapi.NewBotAPIWithAPIEndpoint(testToken, s.Endpoint())
		if _, err := api.MakeRequest("setWebhook", tgbotapi.Params{"url": "https://x.example/telegram/webhook"}); err != nil {
			t.Fatal(err)
		}
	})
	waitFor(t, 5*time.Second, "reply", func() bool { return len(e.sends()) == 1 })
	if e.srv.Webhook().URL != "" {
		t.Error("webhook still set")
	}
}

func TestPollingPermanentError(t *testing.T) {
	srv, api, client := newTestAPI(t, testToken)
	defer srv.Close()
	defer client.CloseIdleConnections()
	revoked := *api
	revoked.Token = "123456789:AAH-revokedTOKENrevokedTOKEN_abcdef"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := RunPolling(ctx, &revoked, &recHandler{}, fastOpts(InboundOptions{}, &syncWriter{w: &bytes.Buffer{}}))
	var ae *APIError
	if err == nil || !asAPIError(err, &ae) || ae.Code != 401 || !strings.Contains(err.Error(), "token") {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(err.Error(), "revokedTOKEN") {
		t.Errorf("error leaks the token: %v", err)
	}
}

func asAPIError(err error, ae **APIError) bool {
	for err != nil {
		if a, ok := err.(*APIError); ok {
			*ae = a
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// ---------------------------------------------------------------------------
// Webhook

type hookEnv struct {
	srv  *faketelegram.Server
	api  *tgbotapi.BotAPI
	wh   *WebhookHandler
	h    *recHandler
	logs *syncWriter
}

func newHookEnv(t *testing.T, h *recHandler, opts InboundOptions) *hookEnv {
	t.Helper()
	srv, api, client := newTestAPI(t, testToken)
	e := &hookEnv{srv: srv, api: api, h: h, logs: &syncWriter{w: &bytes.Buffer{}}}
	if opts.WebhookSecret == "" {
		opts.WebhookSecret = hookSecret
	}
	e.wh = NewWebhookHandler(api, h, fastOpts(opts, e.logs))
	t.Cleanup(func() {
		if err := e.wh.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
		client.CloseIdleConnections()
		srv.Close()
	})
	return e
}

func (e *hookEnv) post(body, secret string, setSecret bool) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, WebhookPath, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if setSecret {
		r.Header.Set(SecretHeader, secret)
	}
	w := httptest.NewRecorder()
	e.wh.ServeHTTP(w, r)
	return w
}

func commandUpdate(id int, chat int64, text string) string {
	return fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":0,"chat":{"id":%d,"type":"private"},
		"from":{"id":999,"is_bot":false,"first_name":"Alice"},"text":%q}}`, id, id, chat, text)
}

func TestWebhook(t *testing.T) {
	slow := make(chan struct{})
	h := &recHandler{}
	h.handle = func(ctx context.Context, r bot.Request) bot.Reply {
		if r.Text == "diagnose" {
			<-slow
		}
		return bot.Reply{Message: statusReply(r.Text)}
	}
	e := newHookEnv(t, h, InboundOptions{})

	// Right secret: 200 at once, handled asynchronously.
	start := time.Now()
	w := e.post(commandUpdate(500, aliceChat, "/diagnose"), hookSecret, true)
	if w.Code != 200 || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("status %d after %v", w.Code, time.Since(start))
	}
	waitFor(t, 5*time.Second, "handler call", func() bool { return len(h.Requests()) == 1 })
	if r := h.Requests()[0]; r.Text != "diagnose" || r.UserID != "999" || !r.Private || r.Where != "999" {
		t.Errorf("%+v", r)
	}
	close(slow)
	waitFor(t, 5*time.Second, "reply", func() bool { return len(e.srv.CallsFor("sendMessage")) == 1 })
	if p := e.srv.CallsFor("sendMessage")[0].Params; p.Get("reply_to_message_id") != "500" || p.Get("parse_mode") != "HTML" {
		t.Errorf("%v", p)
	}

	// Redelivered update: handled once.
	if w := e.post(commandUpdate(500, aliceChat, "/diagnose"), hookSecret, true); w.Code != 200 {
		t.Errorf("duplicate: %d", w.Code)
	}

	// Wrong, missing, other-case or prefix secrets: 401, handler not called.
	for name, tc := range map[string]struct {
		secret string
		set    bool
	}{
		"wrong": {"nope", true}, "missing": {"", false}, "empty": {"", true},
		"prefix": {hookSecret[:10], true}, "case": {strings.ToUpper(hookSecret), true}, "longer": {hookSecret + "x", true},
	} {
		w := e.post(commandUpdate(600, aliceChat, "/status"), tc.secret, tc.set)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("%s secret: %d", name, w.Code)
		}
		if strings.Contains(w.Body.String(), hookSecret) {
			t.Errorf("%s: response shows the secret", name)
		}
	}
	// Other methods, bad bodies.
	r := httptest.NewRequest(http.MethodGet, WebhookPath, nil)
	r.Header.Set(SecretHeader, hookSecret)
	rw := httptest.NewRecorder()
	e.wh.ServeHTTP(rw, r)
	if rw.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", rw.Code)
	}
	if w := e.post("{not json", hookSecret, true); w.Code != http.StatusBadRequest {
		t.Errorf("bad JSON: %d", w.Code)
	}
	big := `{"update_id":700,"message":{"text":"` + strings.Repeat("x", DefaultMaxWebhookBody) + `"}}`
	if w := e.post(big, hookSecret, true); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("big body: %d", w.Code)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(h.Requests()); n != 1 {
		t.Errorf("handler called %d times", n)
	}
	if !strings.Contains(logText(e.logs), "secret token refused") {
		t.Error("refusals not logged")
	}

	// Button presses over the webhook are answered too.
	_, _ = e.srv.QueueCallback(aliceChat, alice, 3, "ack:1") // makes the id answerable
	upd := fmt.Sprintf(`{"update_id":800,"callback_query":{"id":"cbq1","from":{"id":999,"first_name":"A"},"data":"ack:1",
		"message":{"message_id":3,"date":0,"chat":{"id":%d,"type":"private"}}}}`, aliceChat)
	if w := e.post(upd, hookSecret, true); w.Code != 200 {
		t.Fatalf("%d", w.Code)
	}
	waitFor(t, 5*time.Second, "answer", func() bool { return len(e.srv.CallsFor("answerCallbackQuery")) == 1 })
	if a := e.srv.CallsFor("answerCallbackQuery")[0]; a.Params.Get("callback_query_id") != "cbq1" || a.Params.Get("text") != "ok" || a.Status != 200 {
		t.Errorf("%+v", a)
	}

	// After Shutdown: 503.
	if err := e.wh.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if w := e.post(commandUpdate(900, aliceChat, "/status"), hookSecret, true); w.Code != http.StatusServiceUnavailable {
		t.Errorf("after shutdown: %d", w.Code)
	}
}

func TestWebhookWithoutSecretRefusesAll(t *testing.T) {
	h := &recHandler{}
	srv, api, client := newTestAPI(t, testToken)
	defer srv.Close()
	defer client.CloseIdleConnections()
	logs := &syncWriter{w: &bytes.Buffer{}}
	wh := NewWebhookHandler(api, h, fastOpts(InboundOptions{}, logs))
	defer wh.Shutdown(context.Background())
	for _, s := range []string{"", "x"} {
		r := httptest.NewRequest(http.MethodPost, WebhookPath, strings.NewReader(commandUpdate(1, aliceChat, "/status")))
		r.Header.Set(SecretHeader, s)
		w := httptest.NewRecorder()
		wh.ServeHTTP(w, r)
		if w.Code != 401 {
			t.Errorf("%q: %d", s, w.Code)
		}
	}
	if !strings.Contains(logText(logs), "webhook_secret is empty") {
		t.Error("misconfiguration not logged")
	}
}

func TestWebhookShutdownNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	srv, api, client := newTestAPI(t, testToken)
	h := &recHandler{handle: func(ctx context.Context, r bot.Request) bot.Reply {
		<-ctx.Done()
		return bot.Reply{}
	}}
	wh := NewWebhookHandler(api, h, fastOpts(InboundOptions{WebhookSecret: hookSecret}, &syncWriter{w: &bytes.Buffer{}}))
	r := httptest.NewRequest(http.MethodPost, WebhookPath, strings.NewReader(commandUpdate(1, aliceChat, "/status")))
	r.Header.Set(SecretHeader, hookSecret)
	w := httptest.NewRecorder()
	wh.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Fatal(w.Code)
	}
	waitFor(t, 5*time.Second, "handler", func() bool { return len(h.Requests()) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := wh.Shutdown(ctx); err != context.DeadlineExceeded {
		t.Errorf("Shutdown: %v", err)
	}
	client.CloseIdleConnections()
	srv.Close()
	goroutineLeaks(t, before)
}

func TestSetWebhook(t *testing.T) {
	srv, api, client := newTestAPI(t, testToken)
	defer srv.Close()
	defer client.CloseIdleConnections()
	ctx := context.Background()
	for _, tc := range []struct{ url, secret, want string }{
		{"http://bot.example.com/telegram/webhook", hookSecret, "https"},
		{"bot.example.com/telegram/webhook", hookSecret, "https"},
		{"https://bot.example.com:9000/telegram/webhook", hookSecret, "port"},
		{"https://bot.example.com/telegram/webhook", "", "webhook_secret"},
		{"https://bot.example.com/telegram/webhook", "bad secret!", "webhook_secret"},
	} {
		err := SetWebhook(ctx, api, tc.url, redact.Secret(tc.secret), testMenu)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q %q: %v", tc.url, tc.secret, err)
		}
	}
	if n := len(srv.CallsFor("setWebhook")); n != 0 {
		t.Fatalf("invalid settings reached Telegram (%d calls)", n)
	}
	const u = "https://bot.example.com/telegram/webhook"
	if err := SetWebhook(ctx, api, u, hookSecret, testMenu); err != nil {
		t.Fatal(err)
	}
	if w := srv.Webhook(); w.URL != u || w.SecretToken != hookSecret {
		t.Errorf("%+v", w)
	}
	c := srv.CallsFor("setWebhook")[0]
	if c.Params.Get("allowed_updates") != `["message","callback_query"]` || c.Params.Get("secret_token") != hookSecret {
		t.Errorf("%v", c.Params)
	}
	if len(srv.Commands()) != len(testMenu)+1 {
		t.Errorf("commands not set: %+v", srv.Commands())
	}
	srv.FailNext("setWebhook", 1, 502, 0)
	if err := SetWebhook(ctx, api, u, hookSecret, testMenu); !isRetry(err) {
		t.Errorf("502 must be temporary: %v", err)
	}
}

// ---------------------------------------------------------------------------
// Leaks

// Neither the bot token nor the webhook secret ever shows in an error, a
// log line, a reply, a toast or a recorded call (other than setWebhook's
// own secret_token parameter).
func TestInboundSecretsNeverLeak(t *testing.T) {
	for _, token := range []string{testToken, "42:short_tok"} {
		t.Run(token[:2], func(t *testing.T) {
			secrets := []string{token, token[strings.Index(token, ":")+1:], hookSecret}
			check := func(what, s string) {
				t.Helper()
				for _, sec := range secrets {
					if strings.Contains(s, sec) {
						t.Errorf("%s leaks %q: %s", what, sec, s)
					}
				}
			}
			leaky := "key " + token + " and hook " + hookSecret + " url https://api.telegram.org/bot" + token + "/getMe"
			h := &recHandler{
				handle: func(_ context.Context, r bot.Request) bot.Reply {
					m := statusReply(r.Text)
					m.Title = leaky
					m.Text = append(m.Text, bot.C(leaky), bot.T(leaky))
					return bot.Reply{Message: m}
				},
				press: func(context.Context, bot.Press) bot.Reply {
					return bot.Reply{Toast: hookSecret + " " + token, Message: bot.Message{Title: leaky}}
				},
			}
			srv, api, client := newTestAPI(t, token)
			defer srv.Close()
			defer client.CloseIdleConnections()
			logs := &syncWriter{w: &bytes.Buffer{}}
			opts := fastOpts(InboundOptions{WebhookSecret: hookSecret}, logs)

			// Polling: a command and a press whose replies quote the secrets
			// (the command text too), a 500 whose description echoes them.
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			srv.FailNextError("getUpdates", 1, 500, "Internal: "+leaky)
			srv.QueueMessage(aliceChat, alice, "/status "+leaky)
			srv.QueueCallback(aliceChat, alice, 1, "a:1")
			go func() { done <- RunPolling(ctx, api, h, opts) }()
			waitFor(t, 5*time.Second, "replies", func() bool {
				return len(srv.CallsFor("sendMessage")) == 2 && len(srv.CallsFor("answerCallbackQuery")) == 1
			})
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}

			// Polling against a dead server: transport errors carry the URL.
			dead := *api
			dead.SetAPIEndpoint(closedPort(t) + "/bot%s/%s")
			ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
			err := RunPolling(ctx, &dead, h, opts)
			cancel()
			if err != nil {
				check("RunPolling (dead server)", err.Error())
			}

			// A revoked token: the permanent error.
			revoked := *api
			revoked.Token = token + "x"
			err = RunPolling(context.Background(), &revoked, h, opts)
			if err == nil {
				t.Fatal("revoked token accepted")
			}
			check("RunPolling (401)", fmt.Sprintf("%v %+v", err, err))

			// SetWebhook: an error echoing both, and a dead server.
			srv.FailNextError("setWebhook", 1, 400, "Bad Request: "+leaky)
			err = SetWebhook(context.Background(), api, "https://bot.example.com/telegram/webhook", hookSecret, testMenu)
			if err == nil {
				t.Fatal("no error")
			}
			check("SetWebhook error", err.Error())
			err = SetWebhook(context.Background(), &dead, "https://bot.example.com/telegram/webhook", hookSecret, testMenu)
			if err == nil {
				t.Fatal("no error")
			}
			check("SetWebhook dead", err.Error())
			if err := SetMyCommands(context.Background(), &dead, testMenu); err != nil {
				check("SetMyCommands dead", err.Error())
			}

			// Webhook: refusals and an accepted update.
			wh := NewWebhookHandler(api, h, opts)
			for _, s := range []string{"", "x", hookSecret[:5]} {
				r := httptest.NewRequest(http.MethodPost, WebhookPath, strings.NewReader(commandUpdate(900, aliceChat, "/status")))
				r.Header.Set(SecretHeader, s)
				w := httptest.NewRecorder()
				wh.ServeHTTP(w, r)
				check("webhook 401 body", w.Body.String())
			}
			r := httptest.NewRequest(http.MethodPost, WebhookPath, strings.NewReader("{"+leaky))
			r.Header.Set(SecretHeader, hookSecret)
			w := httptest.NewRecorder()
			wh.ServeHTTP(w, r)
			check("webhook 400 body", w.Body.String())
			if err := wh.Shutdown(context.Background()); err != nil {
				t.Error(err)
			}

			check("logs", logText(logs))
			for _, c := range srv.Calls() {
				p := c.Params
				if c.Method == "setWebhook" {
					p = cloneParams(p)
					if p.Get("secret_token") != hookSecret {
						t.Errorf("setWebhook secret_token %q", p.Get("secret_token"))
					}
					p.Del("secret_token")
				}
				check("recorded call "+c.Method, fmt.Sprint(p)) // c.Error holds the descriptions programmed above
			}
			if logText(logs) == "" || !strings.Contains(logText(logs), redact.Placeholder) {
				t.Error("nothing scrubbed was logged: the test checks nothing")
			}
			sends := srv.CallsFor("sendMessage")
			if len(sends) < 2 || !strings.Contains(sends[0].Params.Get("text"), redact.Placeholder) {
				t.Errorf("replies not scrubbed as expected: %+v", sends)
			}
		})
	}
}

func logText(s *syncWriter) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}

func cloneParams(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
