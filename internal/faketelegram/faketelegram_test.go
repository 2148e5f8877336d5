package faketelegram

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

const token = "123456789:AAH-fakeTOKENfakeTOKENfakeTOKEN_abcdef"

func newBot(t *testing.T) (*Server, *tgbotapi.BotAPI) {
	t.Helper()
	s := New(token)
	t.Cleanup(s.Close)
	b, err := tgbotapi.NewBotAPIWithAPIEndpoint(token, s.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	return s, b
}

func post(t *testing.T, u string, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func TestWrongToken(t *testing.T) {
	s := New(token)
	defer s.Close()
	_, err := tgbotapi.NewBotAPIWithAPIEndpoint("987:wrong", s.Endpoint())
	var te *tgbotapi.Error
	if !errorsAs(err, &te) || te.Code != 401 || te.Message != "Unauthorized" {
		t.Fatalf("got %#v", err)
	}
	code, body := post(t, s.URL()+"/bot987:wrong/sendMessage", url.Values{"chat_id": {"1"}, "text": {"x"}})
	if code != 401 || body != `{"description":"Unauthorized","error_code":401,"ok":false}` {
		t.Errorf("%d %s", code, body)
	}
	for _, c := range s.Calls() {
		if strings.Contains(fmt.Sprintf("%+v", c), "wrong") {
			t.Errorf("token recorded: %+v", c)
		}
	}
}

func errorsAs(err error, target **tgbotapi.Error) bool {
	e, ok := err.(*tgbotapi.Error)
	if ok {
		*target = e
	}
	return ok
}

func TestSendEditCallback(t *testing.T) {
	s, b := newBot(t)
	if b.Self.UserName != Bot.UserName {
		t.Fatal(b.Self)
	}
	msg := tgbotapi.NewMessage(-1001, "<b>hi</b> &amp; bye")
	msg.ParseMode = tgbotapi.ModeHTML
	msg.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("Confirm", "c:1")))
	m, err := b.Send(msg)
	if err != nil || m.MessageID != 1 || m.Chat.ID != -1001 || m.Text != "hi & bye" || m.Chat.Type != "group" {
		t.Fatalf("%+v %v", m, err)
	}
	if m, _ := b.Send(tgbotapi.NewMessage(-1001, "two")); m.MessageID != 2 {
		t.Errorf("ids per chat: %d", m.MessageID)
	}
	if m, _ := b.Send(tgbotapi.NewMessage(7, "other chat")); m.MessageID != 1 || m.Chat.Type != "private" {
		t.Errorf("other chat: %+v", m)
	}
	edit := tgbotapi.NewEditMessageText(-1001, 1, "<i>edited</i>")
	edit.ParseMode = tgbotapi.ModeHTML
	if _, err := b.Send(edit); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Message(-1001, 1)
	if got.Plain != "edited" || got.Edits != 1 || got.ReplyMarkup != "" {
		t.Errorf("%+v", got)
	}
	_, err = b.Send(edit)
	if err == nil || !strings.Contains(err.Error(), "message is not modified") {
		t.Errorf("not modified: %v", err)
	}
	if _, err := b.Send(tgbotapi.NewEditMessageText(-1001, 99, "x")); err == nil || err.Error() != "Bad Request: message to edit not found" {
		t.Errorf("missing: %v", err)
	}
	// Callback queries: answerable only when issued.
	_, cb := s.QueueCallback(-1001, 999, 1, "c:1")
	if _, err := b.Request(tgbotapi.NewCallback(cb, "ok")); err != nil {
		t.Error(err)
	}
	if _, err := b.Request(tgbotapi.NewCallback("nope", "ok")); err == nil {
		t.Error("unknown callback id accepted")
	}
	if len(s.CallsFor("answercallbackquery")) != 2 {
		t.Error("calls not recorded")
	}
	if _, err := b.Request(tgbotapi.NewDeleteMessage(7, 1)); err != nil {
		t.Error(err)
	}
}

func TestValidation(t *testing.T) {
	_, b := newBot(t)
	for _, tc := range []struct {
		text, mode, data, want string
	}{
		{"<b>x", "HTML", "", "can't find end tag"},
		{"<b>x</i>", "HTML", "", "unmatched end tag"},
		{"a & b", "HTML", "", "unescaped '&'"},
		{"<a href=x>", "HTML", "", "can't find end tag"},
		{"<script>x</script>", "HTML", "", "unsupported start tag"},
		{"<code><b>x</b></code>", "HTML", "", "can't be nested"},
		{strings.Repeat("😀", 2049), "", "", "message is too long"},
		{"   ", "", "", "message text is empty"},
		{"ok", "", strings.Repeat("d", 65), "BUTTON_DATA_INVALID"},
	} {
		msg := tgbotapi.NewMessage(1, tc.text)
		msg.ParseMode = tc.mode
		if tc.data != "" {
			msg.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("b", tc.data)))
		}
		_, err := b.Send(msg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.text, err, tc.want)
		}
	}
	// Exactly 4096 UTF-16 units after parsing is fine, markup not counted.
	msg := tgbotapi.NewMessage(1, "<b>"+strings.Repeat("😀", 2048)+"</b>")
	msg.ParseMode = "HTML"
	if _, err := b.Send(msg); err != nil {
		t.Error(err)
	}
}

func TestFailNext(t *testing.T) {
	s, b := newBot(t)
	s.FailNext("sendMessage", 2, 429, 5)
	code, body := post(t, s.URL()+"/bot"+token+"/sendMessage", url.Values{"chat_id": {"1"}, "text": {"x"}})
	var got, want map[string]any
	json.Unmarshal([]byte(body), &got)
	json.Unmarshal([]byte(`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}`), &want)
	if code != 429 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%d %s", code, body)
	}
	_, err := b.Send(tgbotapi.NewMessage(1, "x"))
	te, ok := err.(*tgbotapi.Error)
	if !ok || te.Code != 429 || te.RetryAfter != 5 {
		t.Fatalf("%#v", err)
	}
	if _, err := b.Send(tgbotapi.NewMessage(1, "x")); err != nil {
		t.Errorf("failures must be used up: %v", err)
	}
	s.FailNext("*", 1, 500, 0)
	if _, err := b.Send(tgbotapi.NewMessage(1, "x")); err == nil || err.(*tgbotapi.Error).Code != 500 {
		t.Errorf("wildcard: %v", err)
	}
	s.SetChatError(1, 403, "Forbidden: bot was blocked by the user")
	if _, err := b.Send(tgbotapi.NewMessage(1, "x")); err == nil || err.Error() != "Forbidden: bot was blocked by the user" {
		t.Errorf("chat error: %v", err)
	}
	s.SetChatError(1, 0, "")
	if _, err := b.Send(tgbotapi.NewMessage(1, "x")); err != nil {
		t.Error(err)
	}
}

func TestGetUpdates(t *testing.T) {
	s, b := newBot(t)
	s.SetPollCap(300 * time.Millisecond)
	id := s.QueueMessage(555, 999, "/status@openclaw_bot all")
	cfg := tgbotapi.NewUpdate(0)
	cfg.Timeout = 30 // capped to 300ms
	ups, err := b.GetUpdates(cfg)
	if err != nil || len(ups) != 1 || ups[0].UpdateID != id {
		t.Fatalf("%+v %v", ups, err)
	}
	m := ups[0].Message
	if !m.IsCommand() || m.Command() != "status" || m.CommandArguments() != "all" || m.From.ID != 999 || m.Chat.ID != 555 {
		t.Errorf("command parse: %+v", m)
	}
	// Not confirmed yet: served again; confirmed by offset: gone.
	if ups, _ := b.GetUpdates(cfg); len(ups) != 1 {
		t.Error("unconfirmed update not redelivered")
	}
	cfg.Offset = id + 1
	start := time.Now()
	ups, err = b.GetUpdates(cfg)
	if err != nil || len(ups) != 0 || s.Pending() != 0 {
		t.Fatalf("%+v %v pending=%d", ups, err, s.Pending())
	}
	if el := time.Since(start); el < 250*time.Millisecond {
		t.Errorf("long poll returned after %v", el)
	}
	// A long poll wakes up as soon as an update is queued.
	s.SetPollCap(10 * time.Second)
	go func() {
		time.Sleep(50 * time.Millisecond)
		s.QueueUpdate(`{"callback_query":{"id":"cbqX","data":"ack:1","from":{"id":999,"first_name":"A"},"message":{"message_id":7,"date":0,"chat":{"id":555,"type":"private"}}}}`)
	}()
	start = time.Now()
	ups, err = b.GetUpdates(cfg)
	if err != nil || len(ups) != 1 || ups[0].CallbackQuery == nil || ups[0].CallbackQuery.Data != "ack:1" {
		t.Fatalf("%+v %v", ups, err)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("not woken")
	}
	if _, err := b.Request(tgbotapi.NewCallback("cbqX", "")); err != nil {
		t.Errorf("callback id from a raw update: %v", err)
	}
	// timeout=0 answers at once.
	cfg.Offset = ups[0].UpdateID + 1
	cfg.Timeout = 0
	start = time.Now()
	if _, err := b.GetUpdates(cfg); err != nil || time.Since(start) > 2*time.Second {
		t.Error("timeout 0 must not wait")
	}
}

func TestConcurrentPollConflict(t *testing.T) {
	s, b := newBot(t)
	s.SetPollCap(5 * time.Second)
	cfg := tgbotapi.NewUpdate(0)
	cfg.Timeout = 5
	var firstErr error
	var wg sync.WaitGroup
	wg.Go(func() { _, firstErr = b.GetUpdates(cfg) })
	for { // wait until the first poll is parked
		s.mu.Lock()
		g := s.pollGen
		s.mu.Unlock()
		if g == 1 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cfg.Timeout = 0
	if _, err := b.GetUpdates(cfg); err != nil {
		t.Error(err)
	}
	wg.Wait()
	if firstErr == nil || !strings.Contains(firstErr.Error(), "terminated by other getUpdates") {
		t.Errorf("first poll: %v", firstErr)
	}
}

func TestWebhookAndCommands(t *testing.T) {
	s, b := newBot(t)
	if _, err := b.MakeRequest("setWebhook", tgbotapi.Params{"url": "https://bot.example/telegram/webhook", "secret_token": "s3cr3t_-"}); err != nil {
		t.Fatal(err)
	}
	if w := s.Webhook(); w.URL != "https://bot.example/telegram/webhook" || w.SecretToken != "s3cr3t_-" {
		t.Errorf("%+v", w)
	}
	if _, err := b.MakeRequest("setWebhook", tgbotapi.Params{"url": "https://x", "secret_token": "bad token!"}); err == nil {
		t.Error("bad secret accepted")
	}
	if _, err := b.GetUpdates(tgbotapi.NewUpdate(0)); err == nil || !strings.Contains(err.Error(), "webhook is active") {
		t.Errorf("getUpdates with webhook: %v", err)
	}
	if _, err := b.Request(tgbotapi.DeleteWebhookConfig{}); err != nil {
		t.Fatal(err)
	}
	if s.Webhook().URL != "" {
		t.Error("webhook not deleted")
	}
	cmds := tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "status", Description: "Show status"}, tgbotapi.BotCommand{Command: "cooldown_reset", Description: "Reset"})
	if _, err := b.Request(cmds); err != nil {
		t.Fatal(err)
	}
	if got := s.Commands(); len(got) != 2 || got[1].Command != "cooldown_reset" {
		t.Errorf("%+v", got)
	}
	if _, err := b.Request(tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "Bad-Cmd", Description: "x"})); err == nil {
		t.Error("invalid command accepted")
	}
	// JSON bodies work too.
	req, _ := http.NewRequestWithContext(context.Background(), "POST", s.URL()+"/bot"+token+"/sendMessage", strings.NewReader(`{"chat_id":5,"text":"json"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	resp.Body.Close()
	if m, ok := s.Message(5, 1); !ok || m.Text != "json" {
		t.Errorf("%+v", m)
	}
}

func TestCloseEndsLongPoll(t *testing.T) {
	s := New(token)
	s.SetPollCap(time.Minute)
	b, err := tgbotapi.NewBotAPIWithAPIEndpoint(token, s.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		cfg := tgbotapi.NewUpdate(0)
		cfg.Timeout = 60
		b.GetUpdates(cfg)
		close(done)
	}()
	time.Sleep(50 * time.Millisecond)
	s.Close()
	s.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("long poll survived Close")
	}
}

func TestParseHTML(t *testing.T) {
	for in, want := range map[string]string{
		"a &lt;b&gt; &amp; &quot;c&quot; &#65;&#x42;":    `a <b> & "c" AB`,
		"<b>x<i>y</i></b><s>z</s>":                       "xyz",
		`<pre><code class="language-sh">ls</code></pre>`: "ls",
		`<a href="https://x?a=1&amp;b=2">l</a>`:          "l",
		`<span class="tg-spoiler">s</span>`:              "s",
	} {
		got, err := ParseHTML(in)
		if err != nil || got != want {
			t.Errorf("ParseHTML(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if n := UTF16Len("a😀é"); n != 4 {
		t.Errorf("UTF16Len = %d", n)
	}
}
