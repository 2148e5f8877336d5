package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	goslack "github.com/slack-go/slack"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/internal/fakeslack"
	"github.com/openclaw-bot/openclaw-bot/internal/redact"
)

// testToken does not look like a Slack token, so only the exact-value
// scrubber (not the credential patterns) can keep it out of output.
const testToken = "tok-SUPERSECRET-7f3a9c21e5"

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type harness struct {
	fake *fakeslack.Server
	n    *Notifier
	logs *syncBuffer
	errs []error
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	h := &harness{fake: fakeslack.New(), logs: &syncBuffer{}}
	t.Cleanup(h.fake.Close)
	h.fake.RequireToken(testToken)
	if opts.Logger == nil {
		l := zerolog.New(h.logs).Level(zerolog.DebugLevel)
		opts.Logger = &l
	}
	if opts.Scrubber == nil {
		opts.Scrubber = redact.NewScrubber(testToken)
	}
	if opts.MinInterval == 0 {
		opts.MinInterval = -1 // tests that check pacing set it
	}
	h.n = NewNotifier(NewClient(redact.Secret(testToken), h.fake.URL(), nil), opts)
	return h
}

func (h *harness) send(t *testing.T, dest string, msg bot.Message, prev *bot.Sent) (bot.Sent, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := h.n.Send(ctx, dest, msg, prev)
	if err != nil {
		h.errs = append(h.errs, err)
	}
	return s, err
}

// AssertNoSecretLeak fails if secret appears in any of things, formatted
// every way a logger might (errors are followed down their Unwrap chain).
func AssertNoSecretLeak(t *testing.T, secret string, things ...any) {
	t.Helper()
	var check func(where string, v any)
	check = func(where string, v any) {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			if s := fmt.Sprintf(verb, v); strings.Contains(s, secret) {
				t.Errorf("secret leaked in %s (%s): %s", where, verb, s)
				return
			}
		}
		if b, err := json.Marshal(v); err == nil && strings.Contains(string(b), secret) {
			t.Errorf("secret leaked in %s (JSON): %s", where, b)
		}
		if err, ok := v.(error); ok {
			if u := errors.Unwrap(err); u != nil {
				check(where+" (unwrapped)", u)
			}
		}
	}
	for i, v := range things {
		check(fmt.Sprintf("item %d (%T)", i, v), v)
	}
}

func TestNotifierPost(t *testing.T) {
	h := newHarness(t, Options{Now: func() time.Time { return fixedNow }})
	if h.n.Name() != "slack" {
		t.Fatal(h.n.Name())
	}
	msg := cooldownAlert()
	sent, err := h.send(t, "C1", msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sent.Channel != "C1" || sent.ID != "1700000000.000100" {
		t.Fatalf("sent = %+v", sent)
	}
	msgs := h.fake.Messages("C1")
	if len(msgs) != 1 || msgs[0].TS != sent.ID {
		t.Fatalf("stored %+v", msgs)
	}
	wantText, wantBlocks := RenderAt(msg, fixedNow)
	if msgs[0].Text != wantText {
		t.Errorf("text = %q, want %q", msgs[0].Text, wantText)
	}
	wantJSON, _ := json.Marshal(wantBlocks)
	if msgs[0].Blocks != string(wantJSON) {
		t.Errorf("blocks differ:\n%s\n%s", msgs[0].Blocks, wantJSON)
	}
	md := msgs[0].Metadata
	if md == nil || md.EventType != MetadataEventType || md.EventPayload["ref"] != "alert:local:g1" || len(md.EventPayload) != 1 {
		t.Errorf("metadata = %+v", md)
	}
	calls := h.fake.Calls("chat.postMessage")
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	c := calls[0]
	if !c.Auth || c.Params.Has("token") {
		t.Errorf("auth=%v params=%v", c.Auth, c.Params)
	}
	if got := c.Param("metadata"); got != `{"event_type":"openclaw_bot_message","event_payload":{"ref":"alert:local:g1"}}` {
		t.Errorf("metadata param = %s", got)
	}
	var blocks goslack.Blocks
	if err := json.Unmarshal([]byte(c.Param("blocks")), &blocks); err != nil {
		t.Fatal(err)
	}
	ab := blocks.BlockSet[len(blocks.BlockSet)-1].(*goslack.ActionBlock)
	if b := ab.Elements.ElementSet[0].(*goslack.ButtonBlockElement); b.ActionID != "a1b2c3" || b.Text.Text != "Reset cooldown" {
		t.Errorf("button = %+v", b)
	}

	// A second post gets a later ts.
	sent2, err := h.send(t, "C1", reminder(), nil)
	if err != nil || sent2.ID != "1700000000.000200" {
		t.Fatalf("sent2 = %+v, %v", sent2, err)
	}
	// No ref: no metadata.
	r := replyWithCode()
	if _, err := h.send(t, "C1", r, nil); err != nil {
		t.Fatal(err)
	}
	if m := h.fake.Messages("C1")[2]; m.Metadata != nil {
		t.Errorf("reply without ref has metadata %+v", m.Metadata)
	}
	AssertNoSecretLeak(t, testToken, h.fake.Calls(""), h.logs.String())
}

func TestNotifierUpdate(t *testing.T) {
	h := newHarness(t, Options{})
	sent, err := h.send(t, "C1", cooldownAlert(), nil)
	if err != nil {
		t.Fatal(err)
	}
	edited, err := h.send(t, "C-ignored", resolvedEdit(), &sent)
	if err != nil {
		t.Fatal(err)
	}
	if edited != sent {
		t.Errorf("edited = %+v, want %+v", edited, sent)
	}
	calls := h.fake.Calls("chat.update")
	if len(calls) != 1 || calls[0].Param("channel") != "C1" || calls[0].Param("ts") != sent.ID {
		t.Fatalf("update calls = %+v", calls)
	}
	msgs := h.fake.Messages("C1")
	if len(msgs) != 1 || msgs[0].Edits != 1 || !strings.HasPrefix(msgs[0].Text, "✅ Anthropic is back") {
		t.Fatalf("messages = %+v", msgs)
	}
	if msgs[0].Metadata == nil || msgs[0].Metadata.EventPayload["ref"] != "alert:local:g1" {
		t.Errorf("metadata lost on edit: %+v", msgs[0].Metadata)
	}
	if len(h.fake.Messages("C-ignored")) != 0 {
		t.Error("posted to dest instead of prev.Channel")
	}
}

func TestNotifierUpdateOfDeletedMessagePostsNew(t *testing.T) {
	h := newHarness(t, Options{})
	prev := &bot.Sent{Channel: "C1", ID: "1600000000.000001"} // never existed
	sent, err := h.send(t, "C1", resolvedEdit(), prev)
	if err != nil {
		t.Fatal(err)
	}
	if sent.Channel != "C1" || sent.ID == prev.ID || len(h.fake.Messages("C1")) != 1 {
		t.Errorf("sent = %+v, messages = %+v", sent, h.fake.Messages("C1"))
	}
	if !strings.Contains(h.logs.String(), "message_not_found") {
		t.Errorf("fallback not logged: %s", h.logs.String())
	}
}

func TestNotifierFind(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := context.Background()
	a := cooldownAlert()
	a.Ref = "alert:local:g1"
	s1, err := h.send(t, "C1", a, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := cooldownAlert()
	b.Ref = "alert:local:g2"
	if _, err := h.send(t, "C1", b, nil); err != nil {
		t.Fatal(err)
	}
	// A message by someone else with the same text but no metadata.
	h.fake.AddMessage(fakeslack.Message{Channel: "C1", Text: "alert:local:g1"})

	since := time.Unix(1700000000, 0)
	got, err := h.n.Find(ctx, "C1", "alert:local:g1", since)
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || *got != (bot.Sent{Channel: "C1", ID: s1.ID}) {
		t.Fatalf("Find = %+v, want %+v", got, s1)
	}
	c := h.fake.Calls("conversations.history")[0]
	if c.Param("include_all_metadata") != "1" || c.Param("oldest") != "1700000000.000000" || c.Param("channel") != "C1" {
		t.Errorf("history params = %v", c.Params)
	}

	if got, err := h.n.Find(ctx, "C1", "alert:local:nope", since); err != nil || got != nil {
		t.Errorf("Find(unknown) = %+v, %v", got, err)
	}
	if got, err := h.n.Find(ctx, "C1", "alert:local:g1", time.Unix(1700000001, 0)); err != nil || got != nil {
		t.Errorf("Find(after since) = %+v, %v", got, err)
	}
	if got, err := h.n.Find(ctx, "C2", "alert:local:g1", time.Time{}); err != nil || got != nil {
		t.Errorf("Find(other channel) = %+v, %v", got, err)
	}

	// Paging: the match is on the second page.
	for i := range 250 {
		h.fake.AddMessage(fakeslack.Message{Channel: "C1", Text: fmt.Sprint("noise ", i)})
	}
	got, err = h.n.Find(ctx, "C1", "alert:local:g1", time.Time{})
	if err != nil || got == nil || got.ID != s1.ID {
		t.Fatalf("Find across pages = %+v, %v", got, err)
	}
	h.fake.FailWith("conversations.history", "missing_scope")
	_, err = h.n.Find(ctx, "C1", "alert:local:g1", time.Time{})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "missing_scope" || !strings.Contains(err.Error(), "channels:history") || isRetry(err) {
		t.Errorf("Find with missing scope: %v", err)
	}
	AssertNoSecretLeak(t, testToken, err, h.fake.Calls(""), h.logs.String())
}

func isRetry(err error) bool {
	var re *bot.RetryError
	return errors.As(err, &re)
}

func TestNotifier429(t *testing.T) {
	clk := &fakeClock{t: fixedNow}
	h := newHarness(t, Options{Now: clk.Now, MinInterval: time.Millisecond})
	h.fake.FailNext("chat.postMessage", 1, 429, "7")
	_, err := h.send(t, "C1", cooldownAlert(), nil)
	var re *bot.RetryError
	if !errors.As(err, &re) || re.After != 7*time.Second {
		t.Fatalf("err = %#v, want RetryError after 7s", err)
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "ratelimited" {
		t.Errorf("APIError = %+v", ae)
	}
	// During Retry-After the channel fails fast without calling Slack.
	clk.Advance(2 * time.Second)
	_, err = h.send(t, "C1", cooldownAlert(), nil)
	if !errors.As(err, &re) || re.After != 5*time.Second {
		t.Fatalf("err = %v, want RetryError after 5s", err)
	}
	if n := len(h.fake.Calls("chat.postMessage")); n != 1 {
		t.Errorf("%d calls during Retry-After", n)
	}
	// Other channels are not blocked.
	if _, err := h.send(t, "C2", cooldownAlert(), nil); err != nil {
		t.Errorf("C2: %v", err)
	}
	clk.Advance(6 * time.Second)
	if _, err := h.send(t, "C1", cooldownAlert(), nil); err != nil {
		t.Errorf("after Retry-After: %v", err)
	}

	// 429 without Retry-After: retry with the caller's backoff.
	h.fake.FailNext("chat.postMessage", 1, 429, "")
	_, err = h.send(t, "C3", cooldownAlert(), nil)
	if !errors.As(err, &re) || re.After != 0 {
		t.Errorf("429 without Retry-After: %#v", err)
	}
	AssertNoSecretLeak(t, testToken, h.errs, h.fake.Calls(""), h.logs.String())
}

func TestNotifierServerErrors(t *testing.T) {
	h := newHarness(t, Options{})
	for _, status := range []int{500, 502, 503} {
		h.fake.FailNext("chat.postMessage", 1, status, "")
		_, err := h.send(t, "C1", cooldownAlert(), nil)
		var re *bot.RetryError
		var ae *APIError
		if !errors.As(err, &re) || re.After != 0 || !errors.As(err, &ae) || ae.Code != fmt.Sprint("http_", status) {
			t.Errorf("%d: err = %v", status, err)
		}
	}
	h.fake.FailNext("chat.update", 1, 500, "")
	_, err := h.send(t, "C1", resolvedEdit(), &bot.Sent{Channel: "C1", ID: "1.2"})
	if !isRetry(err) {
		t.Errorf("update 500: %v", err)
	}
	// ok:false errors Slack marks as temporary are retried too.
	h.fake.FailWith("chat.postMessage", "internal_error")
	if _, err := h.send(t, "C1", cooldownAlert(), nil); !isRetry(err) {
		t.Errorf("internal_error: %v", err)
	}
	AssertNoSecretLeak(t, testToken, h.errs, h.fake.Calls(""), h.logs.String())
}

func TestNotifierPermanentErrors(t *testing.T) {
	for _, tc := range []struct {
		code string
		want string
	}{
		{"channel_not_found", "invite the bot"},
		{"not_in_channel", "/invite @"},
		{"is_archived", "archived"},
		{"missing_scope", "chat:write"},
		{"invalid_blocks", "bug in openclaw-bot"},
		{"something_new", "Slack refused"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			h := newHarness(t, Options{})
			h.fake.FailWith("chat.postMessage", tc.code)
			_, err := h.send(t, "C1", cooldownAlert(), nil)
			var ae *APIError
			if err == nil || isRetry(err) || !errors.As(err, &ae) || ae.Code != tc.code {
				t.Fatalf("err = %#v", err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "chat.postMessage in C1: "+tc.code) {
				t.Errorf("message %q lacks %q", err, tc.want)
			}
			if !strings.Contains(h.logs.String(), tc.code) {
				t.Errorf("failure not logged: %s", h.logs.String())
			}
			AssertNoSecretLeak(t, testToken, err, h.fake.Calls(""), h.logs.String())
		})
	}
}

func TestNotifierBadToken(t *testing.T) {
	h := newHarness(t, Options{})
	h.fake.RequireToken("tok-the-right-one-123456")
	_, err := h.send(t, "C1", cooldownAlert(), nil)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "invalid_auth" || isRetry(err) || !strings.Contains(err.Error(), "slack.bot_token") {
		t.Fatalf("err = %v", err)
	}
	AssertNoSecretLeak(t, testToken, err, h.fake.Calls(""), h.logs.String())
}

func TestNotifierNetworkAndContext(t *testing.T) {
	h := newHarness(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := h.n.Send(ctx, "C1", cooldownAlert(), nil)
	if !isRetry(err) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %#v", err)
	}

	h.fake.Close()
	_, err = h.send(t, "C1", cooldownAlert(), nil)
	var ae *APIError
	if !isRetry(err) || !errors.As(err, &ae) || ae.Code != "network" {
		t.Errorf("server down: %v", err)
	}
	if _, err := h.n.Find(context.Background(), "C1", "r", time.Time{}); !isRetry(err) {
		t.Errorf("Find with server down: %v", err)
	}
	if _, err := h.send(t, "", cooldownAlert(), nil); err == nil || isRetry(err) {
		t.Errorf("empty channel: %v", err)
	}
	AssertNoSecretLeak(t, testToken, h.errs, h.logs.String())
}

func TestPacing(t *testing.T) {
	const iv = 50 * time.Millisecond
	h := newHarness(t, Options{MinInterval: iv})
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.n.Send(context.Background(), "C1", cooldownAlert(), nil)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	calls := h.fake.Calls("chat.postMessage")
	if len(calls) != 3 {
		t.Fatalf("%d calls", len(calls))
	}
	for i := 1; i < len(calls); i++ {
		if gap := calls[i].At.Sub(calls[i-1].At); gap < iv {
			t.Errorf("calls %d and %d only %v apart, want ≥ %v", i-1, i, gap, iv)
		}
	}
}

func TestPacingHonoursContext(t *testing.T) {
	h := newHarness(t, Options{MinInterval: time.Hour})
	if _, err := h.send(t, "C1", cooldownAlert(), nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := h.n.Send(ctx, "C1", cooldownAlert(), nil)
	if !isRetry(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %#v", err)
	}
	if n := len(h.fake.Calls("chat.postMessage")); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}

func TestClassifyScrubsTransportErrors(t *testing.T) {
	n := NewNotifier(goslack.New("x"), Options{Scrubber: redact.NewScrubber(testToken)})
	for _, in := range []error{
		&url.Error{Op: "Post", URL: "https://slack.example/api/chat.postMessage?token=" + testToken, Err: errors.New("connection reset")},
		fmt.Errorf("weird failure with %s and xoxb-1234567890-abcdefghij", testToken),
		goslack.SlackErrorResponse{Err: "bad " + testToken},
	} {
		err := n.classify("chat.postMessage", "C1", in)
		if err == nil {
			t.Fatal("nil")
		}
		AssertNoSecretLeak(t, testToken, err)
		AssertNoSecretLeak(t, "xoxb-1234567890-abcdefghij", err)
		if !strings.Contains(err.Error(), redact.Placeholder) {
			t.Errorf("no placeholder in %q", err)
		}
	}
}
