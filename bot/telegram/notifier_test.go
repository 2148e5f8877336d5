package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/internal/faketelegram"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
	"github.com/rs/zerolog"
)

const testToken = "123456789:AAH-fakeTOKENfakeTOKENfakeTOKEN_abcdef"

const (
	group   = "-1001234567890"
	groupID = int64(-1001234567890)
	private = "555"
)

func setup(t *testing.T, token string, opts Options) (*faketelegram.Server, *Notifier, *bytes.Buffer) {
	t.Helper()
	srv := faketelegram.New(token)
	t.Cleanup(srv.Close)
	api, err := NewAPI(redact.Secret(token), srv.URL(), &http.Client{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if api.Self.UserName != "openclaw_bot" {
		t.Fatalf("getMe: %+v", api.Self)
	}
	logs := &bytes.Buffer{}
	log := zerolog.New(&syncWriter{w: logs}).Level(zerolog.DebugLevel)
	if opts.PrivateInterval == 0 {
		opts.PrivateInterval = time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return srv, NewNotifier(api, log, opts), logs
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestSendAndEdit(t *testing.T) {
	srv, n, logs := setup(t, testToken, Options{Location: berlin(t), Now: func() time.Time { return fixedNow }})
	ctx := context.Background()
	if n.Name() != "telegram" {
		t.Fatal(n.Name())
	}
	sent, err := n.Send(ctx, group, cooldownAlert(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sent.Channel != group || sent.ID != "1" {
		t.Fatalf("sent = %+v", sent)
	}
	calls := srv.CallsFor("sendMessage")
	if len(calls) != 1 {
		t.Fatalf("calls: %+v", calls)
	}
	p := calls[0].Params
	if p.Get("parse_mode") != "HTML" || p.Get("disable_web_page_preview") != "true" || p.Get("chat_id") != group {
		t.Errorf("params: %v", p)
	}
	var kb tgbotapi.InlineKeyboardMarkup
	if err := json.Unmarshal([]byte(p.Get("reply_markup")), &kb); err != nil || len(kb.InlineKeyboard[0]) != 3 {
		t.Errorf("reply_markup %q: %v", p.Get("reply_markup"), err)
	}
	m, _ := srv.Message(groupID, 1)
	if !strings.Contains(m.Plain, "🔴 local: Anthropic profile") || !strings.Contains(m.Plain, "CET (in 4m)") {
		t.Errorf("plain text: %s", m.Plain)
	}

	// Resolved edit of the same message: text changes, keyboard goes.
	prev := sent
	sent2, err := n.Send(ctx, group, resolvedEdit(), &prev)
	if err != nil || sent2 != prev {
		t.Fatalf("edit: %+v %v", sent2, err)
	}
	m, _ = srv.Message(groupID, 1)
	if m.Edits != 1 || !strings.Contains(m.Text, "<s>") || m.ReplyMarkup != "" {
		t.Errorf("edited message: %+v", m)
	}
	e := srv.CallsFor("editMessageText")
	if len(e) != 1 || e[0].Params.Get("message_id") != "1" || e[0].Params.Get("parse_mode") != "HTML" {
		t.Errorf("edit calls: %+v", e)
	}

	// The same edit again: "message is not modified" counts as success.
	if s, err := n.Send(ctx, group, resolvedEdit(), &prev); err != nil || s != prev {
		t.Fatalf("not modified: %+v %v", s, err)
	}
	if e := srv.CallsFor("editMessageText"); len(e) != 2 || !strings.Contains(e[1].Error, "not modified") {
		t.Errorf("expected a not-modified answer: %+v", e)
	}

	// Editing a message that is gone sends a new one.
	gone := bot.Sent{Channel: group, ID: "99"}
	s, err := n.Send(ctx, group, resolvedEdit(), &gone)
	if err != nil || s.ID != "2" {
		t.Fatalf("edit of a gone message: %+v %v", s, err)
	}
	if len(srv.Messages(groupID)) != 2 {
		t.Errorf("messages: %+v", srv.Messages(groupID))
	}
	// …and says so in the log serve gives it (it used to take a logger serve never passed).
	if !strings.Contains(logs.String(), "the message to edit is gone") || !strings.Contains(logs.String(), `"level":"warn"`) {
		t.Errorf("no warning logged for the gone message: %s", logs)
	}

	// Bad destinations are permanent errors.
	if _, err := n.Send(ctx, "alerts", cooldownAlert(), nil); err == nil || isRetry(err) {
		t.Errorf("bad chat id: %v", err)
	}
}

func TestInvalidButtonsLeftOut(t *testing.T) {
	srv, n, logs := setup(t, testToken, Options{})
	msg := replyWithCode()
	msg.Buttons = append(msg.Buttons, bot.Button{Text: "Huge", Action: strings.Repeat("z", 65)})
	if _, err := n.Send(context.Background(), private, msg, nil); err != nil {
		t.Fatal(err) // the fake rejects callback_data > 64 bytes with BUTTON_DATA_INVALID
	}
	rm := srv.CallsFor("sendMessage")[0].Params.Get("reply_markup")
	if strings.Contains(rm, "Huge") || !strings.Contains(rm, "Confirm") || !strings.Contains(rm, "Cancel") {
		t.Errorf("reply_markup: %s", rm)
	}
	if !strings.Contains(logs.String(), "buttons left out") {
		t.Errorf("no warning logged: %s", logs)
	}
}

func isRetry(err error) bool {
	var re *bot.RetryError
	return errors.As(err, &re)
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("429", func(t *testing.T) {
		srv, n, _ := setup(t, testToken, Options{})
		srv.FailNext("sendMessage", 1, 429, 5)
		_, err := n.Send(ctx, private, cooldownAlert(), nil)
		var re *bot.RetryError
		if !errors.As(err, &re) || re.After != 5*time.Second {
			t.Fatalf("want RetryError{After: 5s}, got %#v", err)
		}
		var ae *APIError
		if !errors.As(err, &ae) || ae.Code != 429 || !strings.Contains(err.Error(), "retry after 5") {
			t.Errorf("err: %v", err)
		}
		// While Telegram's flood wait lasts, the chat is not called again.
		_, err = n.Send(ctx, private, cooldownAlert(), nil)
		if !errors.As(err, &re) || re.After <= 0 || re.After > 5*time.Second {
			t.Fatalf("second send: %v", err)
		}
		if got := len(srv.CallsFor("sendMessage")); got != 1 {
			t.Errorf("API called %d times during flood wait", got)
		}
		// Another chat is unaffected.
		if _, err := n.Send(ctx, "556", cooldownAlert(), nil); err != nil {
			t.Error(err)
		}
	})
	t.Run("500", func(t *testing.T) {
		srv, n, _ := setup(t, testToken, Options{})
		srv.FailNext("sendMessage", 1, 500, 0)
		_, err := n.Send(ctx, private, cooldownAlert(), nil)
		var re *bot.RetryError
		if !errors.As(err, &re) || re.After != 0 {
			t.Fatalf("want RetryError, got %#v", err)
		}
		if _, err := n.Send(ctx, private, cooldownAlert(), nil); err != nil {
			t.Fatalf("after the 500: %v", err)
		}
	})
	t.Run("502 html", func(t *testing.T) {
		// A proxy answering with an HTML error page.
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/getMe") {
				fmt.Fprint(w, `{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"x"}}`)
				return
			}
			w.WriteHeader(502)
			fmt.Fprint(w, "<html>Bad Gateway</html>")
		})}
		go hs.Serve(ln)
		defer hs.Close()
		api, err := NewAPI(redact.Secret(testToken), "http://"+ln.Addr().String(), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = NewNotifier(api, zerolog.Nop(), Options{}).Send(ctx, private, cooldownAlert(), nil)
		if !isRetry(err) || !strings.Contains(err.Error(), "not Bot API JSON") {
			t.Fatalf("got %v", err)
		}
	})
	for _, tc := range []struct {
		status int
		desc   string
		hint   string
	}{
		{403, "Forbidden: bot was blocked by the user", "unblock"},
		{403, "Forbidden: bot was kicked from the supergroup chat", "add the bot back"},
		{400, "Bad Request: chat not found", "telegram.alert_chat"},
		{400, "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 3", "bug"},
	} {
		t.Run(fmt.Sprint(tc.status, " ", tc.desc), func(t *testing.T) {
			srv, n, _ := setup(t, testToken, Options{})
			srv.SetChatError(555, tc.status, tc.desc)
			_, err := n.Send(ctx, private, cooldownAlert(), nil)
			if err == nil || isRetry(err) {
				t.Fatalf("want a permanent error, got %v", err)
			}
			var ae *APIError
			if !errors.As(err, &ae) || ae.Code != tc.status || !strings.Contains(err.Error(), tc.hint) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestPacingPrivateLowerBound(t *testing.T) {
	srv, n, _ := setup(t, testToken, Options{PrivateInterval: 80 * time.Millisecond})
	ctx := context.Background()
	start := time.Now()
	for range 3 {
		if _, err := n.Send(ctx, private, replyWithCode(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 160*time.Millisecond {
		t.Errorf("3 messages to one chat took %v, want ≥ 160ms", el)
	}
	// A lower bound only (robust on a loaded machine): send i is reserved
	// i intervals after the first, so it cannot reach the server earlier.
	calls := srv.CallsFor("sendMessage")
	for i := 1; i < len(calls); i++ {
		if at := calls[i].Time.Sub(start); at < time.Duration(i)*80*time.Millisecond {
			t.Errorf("send %d reached Telegram %v after the start, want ≥ %v", i, at, time.Duration(i)*80*time.Millisecond)
		}
	}
}

// fakeClock is advanced by the notifier's sleeps.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}

func TestPacingGroupWindow(t *testing.T) {
	clk := &fakeClock{now: fixedNow}
	srv, n, _ := setup(t, testToken, Options{Now: clk.Now, PrivateInterval: time.Second, GroupPerMinute: 3})
	n.opts.sleep = clk.Sleep
	ctx := context.Background()
	var times []time.Duration
	for range 7 {
		if _, err := n.Send(ctx, group, replyWithCode(), nil); err != nil {
			t.Fatal(err)
		}
		times = append(times, clk.Now().Sub(fixedNow))
	}
	want := []time.Duration{0, 1 * time.Second, 2 * time.Second, 60 * time.Second, 61 * time.Second, 62 * time.Second, 120 * time.Second}
	if fmt.Sprint(times) != fmt.Sprint(want) {
		t.Errorf("send times %v, want %v", times, want)
	}
	// A private chat is only held to the 1s interval.
	clk2 := &fakeClock{now: fixedNow}
	_, n2, _ := setup(t, testToken, Options{Now: clk2.Now, PrivateInterval: time.Second, GroupPerMinute: 3})
	n2.opts.sleep = clk2.Sleep
	for range 5 {
		if _, err := n2.Send(ctx, private, replyWithCode(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := clk2.Now().Sub(fixedNow); got != 4*time.Second {
		t.Errorf("private: 5 messages took %v, want 4s", got)
	}
	_ = srv
}

func TestPacingHonoursContext(t *testing.T) {
	_, n, _ := setup(t, testToken, Options{PrivateInterval: time.Hour})
	if _, err := n.Send(context.Background(), private, replyWithCode(), nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := n.Send(ctx, private, replyWithCode(), nil)
	if !isRetry(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want a RetryError wrapping DeadlineExceeded, got %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Error("did not honour ctx")
	}
}

func TestRequestHonoursContext(t *testing.T) {
	srv, n, _ := setup(t, testToken, Options{})
	srv.SetDelay(5 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := n.Send(ctx, private, replyWithCode(), nil)
	if !isRetry(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), "AAH-fake") {
		t.Fatalf("token leaked: %v", err)
	}
}

func TestNewAPI(t *testing.T) {
	srv := faketelegram.New(testToken)
	defer srv.Close()
	if _, err := NewAPI(redact.Secret("987654321:AAwrongwrongwrongwrongwrongwrong12"), srv.URL(), nil); err == nil ||
		isRetry(err) || !strings.Contains(err.Error(), "rejected the token") || strings.Contains(err.Error(), "AAwrong") {
		t.Errorf("wrong token: %v", err)
	}
	if _, err := NewAPI(redact.Secret(testToken), srv.URL()+"/bot"+testToken, nil); err == nil || strings.Contains(err.Error(), "AAH-fake") {
		t.Errorf("URL with token: %v", err)
	}
	if _, err := NewAPI(redact.Secret(testToken), srv.URL()+"/sub", nil); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("wrong path: %v", err)
	}
	for _, bad := range []string{"ftp://x", "not a url", "http://"} {
		if _, err := NewAPI(redact.Secret(testToken), bad, nil); err == nil {
			t.Errorf("api_url %q accepted", bad)
		}
	}
	if _, err := NewAPI("", srv.URL(), nil); err == nil {
		t.Error("empty token accepted")
	}
	if _, err := NewAPI("not-a-token", srv.URL(), nil); err == nil || strings.Contains(err.Error(), "not-a-token") {
		t.Errorf("malformed token: %v", err)
	}
	if api, err := NewAPI(redact.Secret(testToken), srv.URL()+"/", nil); err != nil || api.Self.ID != faketelegram.Bot.ID {
		t.Errorf("trailing slash: %v", err)
	}
	if ep, _, _ := Endpoint("https://proxy.example/tg%20api"); ep != "https://proxy.example/tg%%20api/bot%s/%s" {
		t.Errorf("endpoint %q", ep)
	}
	if ep, _, _ := Endpoint(""); ep != tgbotapi.APIEndpoint {
		t.Errorf("default endpoint %q", ep)
	}
}

func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// The token must never show in an error, a log line or a recorded call,
// whatever goes wrong.
func TestTokenNeverLeaks(t *testing.T) {
	for _, token := range []string{testToken, "42:short_tok"} {
		t.Run(token[:2], func(t *testing.T) {
			secretPart := token[strings.Index(token, ":")+1:]
			var texts []string
			check := func(what, s string) {
				t.Helper()
				texts = append(texts, s)
				if strings.Contains(s, token) || strings.Contains(s, secretPart) {
					t.Errorf("%s leaks the token: %s", what, s)
				}
			}
			ctx := context.Background()

			// NewAPI against a closed port: url.Error carries the full URL.
			dead := closedPort(t)
			_, err := NewAPI(redact.Secret(token), dead, &http.Client{Timeout: 2 * time.Second})
			if !isRetry(err) {
				t.Errorf("unreachable server: want RetryError, got %v", err)
			}
			check("NewAPI closed-port error", err.Error())
			check("NewAPI closed-port error %#v", fmt.Sprintf("%+v %#v", err, err))

			srv, n, logs := setup(t, token, Options{})
			// Send to a closed port (transport error inside url.Error).
			n.api.SetAPIEndpoint(dead + "/bot%s/%s")
			_, err = n.Send(ctx, private, cooldownAlert(), nil)
			if !isRetry(err) || !strings.Contains(err.Error(), "cannot reach") {
				t.Errorf("closed port: %v", err)
			}
			check("Send closed-port error", err.Error())
			var re *bot.RetryError
			errors.As(err, &re)
			for u := errors.Unwrap(re); u != nil; u = errors.Unwrap(u) {
				check("unwrapped error", u.Error())
			}
			n.api.SetAPIEndpoint(srv.Endpoint())

			// API errors whose description echoes the token (paranoia).
			srv.FailNextError("sendMessage", 1, 400, "Bad Request: weird "+token)
			_, err = n.Send(ctx, private, cooldownAlert(), nil)
			check("API error", err.Error())
			srv.FailNext("sendMessage", 1, 500, 0)
			_, err = n.Send(ctx, private, cooldownAlert(), nil)
			check("500 error", err.Error())
			srv.FailNext("editMessageText", 1, 429, 1)
			_, err = n.Send(ctx, "777", cooldownAlert(), &bot.Sent{Channel: "777", ID: "1"})
			check("429 error", err.Error())

			// A message that quotes the token is scrubbed before it is sent.
			leaky := replyWithCode()
			leaky.Text = append(leaky.Text, bot.C("curl https://api.telegram.org/bot"+token+"/getMe"), bot.T(" "+token))
			if _, err := n.Send(ctx, "556", leaky, nil); err != nil {
				t.Fatal(err)
			}

			// The library's own logger.
			var lib bytes.Buffer
			LibraryLogger(zerolog.New(&lib), token, nil).Printf("Post %q: dial tcp: refused", dead+"/bot"+token+"/getUpdates")
			LibraryLogger(zerolog.New(&lib), token, nil).Println("token", token)
			check("library log", lib.String())

			check("notifier log", logs.String())
			for _, c := range srv.Calls() {
				check("recorded call "+c.Method, fmt.Sprintf("%+v", c))
			}
			if len(srv.Calls()) == 0 || logs.Len() == 0 {
				t.Error("nothing recorded or logged: the leak test checks nothing")
			}
		})
	}
}

func TestConcurrentSends(t *testing.T) {
	srv, n, _ := setup(t, testToken, Options{})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			dest := fmt.Sprint(1000 + i%4)
			if _, err := n.Send(context.Background(), dest, replyWithCode(), nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := len(srv.CallsFor("sendMessage")); got != 20 {
		t.Errorf("%d sends", got)
	}
}

// The bot-wide cap: alerts to many chats at once go out at most 30 a
// second (any two sends ≥ 1/30 s apart); one chat is not held up by a slot
// that is free.
func TestPacingGlobalCap(t *testing.T) {
	clk := &fakeClock{now: fixedNow}
	srv, n, _ := setup(t, testToken, Options{Now: clk.Now})
	n.opts.sleep = clk.Sleep
	ctx := context.Background()
	var times []time.Time
	for i := range 61 {
		if _, err := n.Send(ctx, strconv.Itoa(1000+i), replyWithCode(), nil); err != nil {
			t.Fatal(err)
		}
		times = append(times, clk.Now())
	}
	if len(srv.CallsFor("sendMessage")) != 61 {
		t.Fatalf("sent %d", len(srv.CallsFor("sendMessage")))
	}
	for i := range times {
		j := i
		for j < len(times) && times[j].Sub(times[i]) < time.Second {
			j++
		}
		if j-i > DefaultGlobalPerSecond {
			t.Fatalf("%d sends within one second from #%d", j-i, i)
		}
	}
	if span := times[60].Sub(times[0]); span < 1990*time.Millisecond || span > 2100*time.Millisecond {
		t.Errorf("61 sends to 61 chats took %v, want about 2 s", span)
	}

	// A free slot is used: a reservation far in the future does not delay
	// a send now.
	n2 := NewNotifier(n.api, zerolog.Nop(), Options{Now: clk.Now})
	n2.mu.Lock()
	far := n2.reserveGlobalLocked(clk.Now(), clk.Now().Add(500*time.Millisecond))
	near := n2.reserveGlobalLocked(clk.Now(), clk.Now())
	between := n2.reserveGlobalLocked(clk.Now(), clk.Now().Add(480*time.Millisecond))
	n2.mu.Unlock()
	if !near.Equal(clk.Now()) || far.Sub(clk.Now()) != 500*time.Millisecond {
		t.Errorf("near %v far %v", near.Sub(clk.Now()), far.Sub(clk.Now()))
	}
	if d := between.Sub(clk.Now()); d != 500*time.Millisecond+(time.Second+DefaultGlobalPerSecond-1)/DefaultGlobalPerSecond {
		t.Errorf("a send 20 ms before a reserved one is placed at %v, want just after it", d)
	}
}
