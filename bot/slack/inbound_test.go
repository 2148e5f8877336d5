package slack

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/bot"
	"github.com/openclaw-bot/openclaw-bot/internal/fakeslack"
)

// Secrets used by the inbound tests. None looks like a Slack credential
// except the tokens, and the leak test checks all of them verbatim.
const (
	inSecret   = "sig-SUPERSECRET-4b1d9e77c2a0f00d"
	inBotToken = "xoxb-111-222-SUPERSECRETBOT"
	inAppToken = "xapp-1-A0FAKE-333-SUPERSECRETAPP"
)

// recHandler is a bot.Handler that records what it was asked.
type recHandler struct {
	mu      sync.Mutex
	reqs    []bot.Request
	presses []bot.Press
	errs    []error // ctx.Err() seen at the end of each call

	delay   time.Duration
	gate    chan struct{} // when set, calls wait for it to close (or ctx)
	started chan struct{} // when set, gets one value per call
	reply   *bot.Reply    // nil: echoReply
	panics  atomic.Bool
	// handle and press, when set, answer instead of reply/echoReply.
	handle func(bot.Request) bot.Reply
	press  func(bot.Press) bot.Reply
}

func echoReply(text string) bot.Reply {
	return bot.Reply{Ephemeral: true, Message: bot.Message{Kind: bot.KindReply, Severity: bot.SevInfo,
		Title: "openclaw status", Text: []bot.Span{bot.T("you said "), bot.C(text)}}}
}

func (h *recHandler) wait(ctx context.Context) error {
	if h.started != nil {
		h.started <- struct{}{}
	}
	if h.delay > 0 {
		t := time.NewTimer(h.delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
	if h.gate != nil {
		select {
		case <-h.gate:
		case <-ctx.Done():
		}
	}
	if h.panics.Load() {
		panic("boom " + inSecret)
	}
	return ctx.Err()
}

func (h *recHandler) Handle(ctx context.Context, req bot.Request) bot.Reply {
	h.mu.Lock()
	h.reqs = append(h.reqs, req)
	h.mu.Unlock()
	err := h.wait(ctx)
	h.mu.Lock()
	h.errs = append(h.errs, err)
	h.mu.Unlock()
	if h.handle != nil {
		return h.handle(req)
	}
	if h.reply != nil {
		return *h.reply
	}
	return echoReply(req.Text)
}

func (h *recHandler) Press(ctx context.Context, p bot.Press) bot.Reply {
	h.mu.Lock()
	h.presses = append(h.presses, p)
	h.mu.Unlock()
	err := h.wait(ctx)
	h.mu.Lock()
	h.errs = append(h.errs, err)
	h.mu.Unlock()
	if h.press != nil {
		return h.press(p)
	}
	if h.reply != nil {
		return *h.reply
	}
	return echoReply("pressed " + p.Action)
}

func (h *recHandler) counts() (reqs, presses int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.reqs), len(h.presses)
}

func (h *recHandler) requests() []bot.Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]bot.Request(nil), h.reqs...)
}

func (h *recHandler) pressList() []bot.Press {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]bot.Press(nil), h.presses...)
}

// slackSign computes Slack's v0 signature.
func slackSign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%s:", ts)
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

type httpEnv struct {
	fake   *fakeslack.Server
	h      *recHandler
	hh     *HTTPHandler
	srv    *httptest.Server
	logs   *syncBuffer
	bodies []string // every response body the handler sent
	mu     sync.Mutex
}

func newHTTPEnv(t *testing.T, h *recHandler, opts HTTPOptions) *httpEnv {
	t.Helper()
	e := &httpEnv{fake: fakeslack.NewSocketMode(), h: h, logs: &syncBuffer{}}
	t.Cleanup(e.fake.Close)
	if opts.SigningSecret == "" {
		opts.SigningSecret = inSecret
	}
	if opts.APIURL == "" {
		opts.APIURL = e.fake.URL() // its response_urls are on the same host:port
	}
	if opts.Logger == nil {
		l := zerolog.New(e.logs).Level(zerolog.TraceLevel)
		opts.Logger = &l
	}
	e.hh = NewHTTPHandler(h, opts)
	e.srv = httptest.NewServer(e.hh)
	t.Cleanup(func() {
		e.srv.Close()
		_ = e.hh.Close()
	})
	return e
}

// post sends a request signed with secret at ts (headers omitted when
// secret is "") and returns status, body and how long the answer took.
func (e *httpEnv) post(t *testing.T, path, body string, ts time.Time, secret string) (int, string, time.Duration) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		tss := strconv.FormatInt(ts.Unix(), 10)
		req.Header.Set("X-Slack-Request-Timestamp", tss)
		req.Header.Set("X-Slack-Signature", slackSign(secret, tss, []byte(body)))
	}
	return e.do(t, req)
}

func (e *httpEnv) do(t *testing.T, req *http.Request) (int, string, time.Duration) {
	t.Helper()
	start := time.Now()
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	took := time.Since(start)
	e.mu.Lock()
	e.bodies = append(e.bodies, string(b))
	e.mu.Unlock()
	return resp.StatusCode, string(b), took
}

func commandBody(e *httpEnv, c fakeslack.SlashCommand) string {
	if c.ResponseURL == "" && !c.NoResponseURL {
		c.ResponseURL = e.fake.ResponseURL()
	}
	return c.Form().Encode()
}

func pressBody(e *httpEnv, a fakeslack.BlockAction) string {
	if a.ResponseURL == "" && !a.NoResponseURL {
		a.ResponseURL = e.fake.ResponseURL()
	}
	p, _ := json.Marshal(a.Payload())
	return url.Values{"payload": {string(p)}}.Encode()
}

// renderedJSON is what a reply must look like at a response_url.
func renderedJSON(t *testing.T, msg bot.Message) (string, string) {
	t.Helper()
	text, blocks := Render(msg)
	b, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	return text, string(b)
}

func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatalf("bad JSON %q: %v", a, err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatalf("bad JSON %q: %v", b, err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

func TestHTTPSlashCommandAccepted(t *testing.T) {
	h := &recHandler{gate: make(chan struct{})}
	e := newHTTPEnv(t, h, HTTPOptions{})
	body := commandBody(e, fakeslack.SlashCommand{Text: "  status <!channel>  ", UserID: "U1", UserName: "alice", ChannelID: "C1"})

	code, resp, took := e.post(t, CommandsPath, body, time.Now(), inSecret)
	// The ack came back while the handler is still blocked.
	if code != 200 || resp != "" {
		t.Fatalf("ack = %d %q", code, resp)
	}
	if took > time.Second {
		t.Errorf("ack took %v", took)
	}
	if n := len(e.fake.Responses()); n != 0 {
		t.Fatalf("reply before the handler finished: %d", n)
	}
	close(h.gate)
	rs := e.fake.WaitResponses(1, 5*time.Second)
	if len(rs) != 1 {
		t.Fatalf("responses = %+v", rs)
	}
	e.hh.Wait()

	want := bot.Request{Surface: "slack", UserID: "U1", UserName: "alice", Where: "C1", Text: "status <!channel>"}
	if got := h.requests(); len(got) != 1 || got[0] != want {
		t.Fatalf("requests = %+v", got)
	}
	wantText, wantBlocks := renderedJSON(t, echoReply("status <!channel>").Message)
	r := rs[0]
	if r.ResponseType != "ephemeral" || r.Text != wantText || !sameJSON(t, r.Blocks, wantBlocks) || r.ReplaceOriginal != nil {
		t.Errorf("response = %+v\nwant text %q blocks %s", r, wantText, wantBlocks)
	}
	if strings.Contains(r.Body, "<!channel>") {
		t.Errorf("user text not escaped: %s", r.Body)
	}
	if n := len(e.fake.Calls("")); n != 1 {
		t.Errorf("outgoing calls = %d, want 1", n)
	}
}

func TestHTTPSlashReplyKinds(t *testing.T) {
	inChannel := bot.Reply{Message: bot.Message{Kind: bot.KindReply, Title: "for everyone"}}
	toast := bot.Reply{Toast: "done <here>"} // shown ephemerally although Ephemeral is false
	for name, tc := range map[string]struct {
		reply    bot.Reply
		channel  string
		wantType string
		wantText string
		private  bool
		none     bool
	}{
		"in_channel": {reply: inChannel, channel: "C1", wantType: "in_channel", wantText: "for everyone"},
		"toast":      {reply: toast, channel: "C1", wantType: "ephemeral", wantText: "done &lt;here&gt;"},
		"dm":         {reply: echoReply("x"), channel: "D9", wantType: "ephemeral", private: true},
		"empty":      {reply: bot.Reply{}, channel: "C1", none: true},
	} {
		t.Run(name, func(t *testing.T) {
			r := tc.reply
			h := &recHandler{reply: &r}
			e := newHTTPEnv(t, h, HTTPOptions{})
			code, _, _ := e.post(t, CommandsPath, commandBody(e, fakeslack.SlashCommand{Text: "x", ChannelID: tc.channel}), time.Now(), inSecret)
			if code != 200 {
				t.Fatalf("code %d", code)
			}
			e.hh.Wait()
			rs := e.fake.Responses()
			if got := h.requests(); len(got) != 1 || got[0].Private != tc.private || got[0].Where != tc.channel {
				t.Fatalf("requests = %+v", got)
			}
			if tc.none {
				if len(rs) != 0 {
					t.Fatalf("empty reply was sent: %+v", rs)
				}
				return
			}
			if len(rs) != 1 || rs[0].ResponseType != tc.wantType || (tc.wantText != "" && !strings.Contains(rs[0].Text, tc.wantText)) {
				t.Fatalf("responses = %+v", rs)
			}
		})
	}
}

func TestHTTPAckText(t *testing.T) {
	e := newHTTPEnv(t, &recHandler{}, HTTPOptions{AckText: "⏳ working…"})
	code, body, _ := e.post(t, CommandsPath, commandBody(e, fakeslack.SlashCommand{Text: "diagnose"}), time.Now(), inSecret)
	var m map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &m) != nil || m["response_type"] != "ephemeral" || m["text"] != "⏳ working…" {
		t.Fatalf("ack = %d %s", code, body)
	}
}

func TestHTTPRefusals(t *testing.T) {
	big := fakeslack.SlashCommand{Text: strings.Repeat("a", DefaultMaxBody)}
	for _, tc := range []struct {
		name string
		want int
		send func(t *testing.T, e *httpEnv) (int, string)
	}{
		{"forged signature", 401, func(t *testing.T, e *httpEnv) (int, string) {
			c, b, _ := e.post(t, CommandsPath, commandBody(e, fakeslack.SlashCommand{Text: "status"}), time.Now(), "not-the-secret")
			return c, b
		}},
		{"tampered body", 401, func(t *testing.T, e *httpEnv) (int, string) {
			body := commandBody(e, fakeslack.SlashCommand{Text: "status"})
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+CommandsPath, strings.NewReader(strings.Replace(body, "status", "cooldown+reset+all", 1)))
			req.Header.Set("X-Slack-Request-Timestamp", ts)
			req.Header.Set("X-Slack-Signature", slackSign(inSecret, ts, []byte(body)))
			c, b, _ := e.do(t, req)
			return c, b
		}},
		{"stale timestamp (6 min)", 401, func(t *testing.T, e *httpEnv) (int, string) {
			c, b, _ := e.post(t, CommandsPath, commandBody(e, fakeslack.SlashCommand{Text: "status"}), time.Now().Add(-6*time.Minute), inSecret)
			return c, b
		}},
		{"future timestamp (6 min)", 401, func(t *testing.T, e *httpEnv) (int, string) {
			c, b, _ := e.post(t, CommandsPath, commandBody(e, fakeslack.SlashCommand{Text: "status"}), time.Now().Add(6*time.Minute), inSecret)
			return c, b
		}},
		{"missing headers", 401, func(t *testing.T, e *httpEnv) (int, string) {
			c, b, _ := e.post(t, CommandsPath, commandBody(e, fakeslack.SlashCommand{Text: "status"}), time.Now(), "")
			return c, b
		}},
		{"missing signature", 401, func(t *testing.T, e *httpEnv) (int, string) {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+CommandsPath, strings.NewReader(commandBody(e, fakeslack.SlashCommand{})))
			req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(time.Now().Unix(), 10))
			c, b, _ := e.do(t, req)
			return c, b
		}},
		{"malformed signature", 401, func(t *testing.T, e *httpEnv) (int, string) {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+CommandsPath, strings.NewReader(commandBody(e, fakeslack.SlashCommand{})))
			req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(time.Now().Unix(), 10))
			req.Header.Set("X-Slack-Signature", "v0=not-hex")
			c, b, _ := e.do(t, req)
			return c, b
		}},
		{"other signature version", 401, func(t *testing.T, e *httpEnv) (int, string) {
			body := commandBody(e, fakeslack.SlashCommand{})
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+CommandsPath, strings.NewReader(body))
			req.Header.Set("X-Slack-Request-Timestamp", ts)
			req.Header.Set("X-Slack-Signature", "v1="+strings.TrimPrefix(slackSign(inSecret, ts, []byte(body)), "v0="))
			c, b, _ := e.do(t, req)
			return c, b
		}},
		{"non-numeric timestamp", 401, func(t *testing.T, e *httpEnv) (int, string) {
			body := commandBody(e, fakeslack.SlashCommand{})
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+CommandsPath, strings.NewReader(body))
			req.Header.Set("X-Slack-Request-Timestamp", "yesterday")
			req.Header.Set("X-Slack-Signature", slackSign(inSecret, "yesterday", []byte(body)))
			c, b, _ := e.do(t, req)
			return c, b
		}},
		{"oversized body", 413, func(t *testing.T, e *httpEnv) (int, string) {
			c, b, _ := e.post(t, CommandsPath, commandBody(e, big), time.Now(), inSecret)
			return c, b
		}},
		{"oversized chunked body", 413, func(t *testing.T, e *httpEnv) (int, string) {
			body := commandBody(e, big)
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			// No Content-Length: the limit must hold while reading.
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+CommandsPath, io.MultiReader(strings.NewReader(body)))
			req.Header.Set("X-Slack-Request-Timestamp", ts)
			req.Header.Set("X-Slack-Signature", slackSign(inSecret, ts, []byte(body)))
			c, b, _ := e.do(t, req)
			return c, b
		}},
		{"oversized interaction", 413, func(t *testing.T, e *httpEnv) (int, string) {
			body := pressBody(e, fakeslack.BlockAction{Value: strings.Repeat("v", DefaultMaxBody)})
			c, b, _ := e.post(t, InteractionsPath, body, time.Now(), inSecret)
			return c, b
		}},
		{"forged interaction", 401, func(t *testing.T, e *httpEnv) (int, string) {
			c, b, _ := e.post(t, InteractionsPath, pressBody(e, fakeslack.BlockAction{Value: "pa_1"}), time.Now(), "nope")
			return c, b
		}},
		{"empty signing secret configured", 401, func(t *testing.T, e *httpEnv) (int, string) {
			l := zerolog.New(e.logs)
			e.hh = NewHTTPHandler(e.h, HTTPOptions{SigningSecret: "", Logger: &l})
			rec := httptest.NewRecorder()
			body := commandBody(e, fakeslack.SlashCommand{})
			req := httptest.NewRequest(http.MethodPost, CommandsPath, strings.NewReader(body))
			req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(time.Now().Unix(), 10))
			req.Header.Set("X-Slack-Signature", slackSign("", req.Header.Get("X-Slack-Request-Timestamp"), []byte(body)))
			e.hh.ServeHTTP(rec, req)
			return rec.Code, rec.Body.String()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &recHandler{}
			e := newHTTPEnv(t, h, HTTPOptions{})
			code, body := tc.send(t, e)
			if code != tc.want {
				t.Fatalf("status = %d (%q), want %d", code, body, tc.want)
			}
			e.hh.Wait()
			if r, p := h.counts(); r+p != 0 {
				t.Errorf("handler called %d+%d times", r, p)
			}
			if calls := e.fake.Calls(""); len(calls) != 0 {
				t.Errorf("outgoing calls: %+v", calls)
			}
			if strings.Contains(body, inSecret) || strings.Contains(e.logs.String(), inSecret) {
				t.Error("signing secret leaked")
			}
			if !strings.Contains(e.logs.String(), "request refused") {
				t.Errorf("refusal not logged: %s", e.logs.String())
			}
		})
	}
}

func TestHTTPReplay(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	h := &recHandler{}
	e := newHTTPEnv(t, h, HTTPOptions{Now: clock.Now})
	body := commandBody(e, fakeslack.SlashCommand{Text: "status"})
	ts := clock.Now()
	if code, _, _ := e.post(t, CommandsPath, body, ts, inSecret); code != 200 {
		t.Fatalf("first = %d", code)
	}
	e.hh.Wait()
	before := len(e.fake.Calls(""))
	if code, _, _ := e.post(t, CommandsPath, body, ts, inSecret); code != 401 {
		t.Fatalf("replay = %d", code)
	}
	// Just inside the window: still a replay, not accepted.
	clock.Advance(MaxClockSkew - time.Second)
	if code, _, _ := e.post(t, CommandsPath, body, ts, inSecret); code != 401 {
		t.Fatalf("late replay = %d", code)
	}
	// Past the window: stale (the cache entry may go).
	clock.Advance(2 * time.Second)
	if code, _, _ := e.post(t, CommandsPath, body, ts, inSecret); code != 401 {
		t.Fatalf("stale replay = %d", code)
	}
	e.hh.Wait()
	if r, _ := h.counts(); r != 1 {
		t.Errorf("handler calls = %d, want 1", r)
	}
	if after := len(e.fake.Calls("")); after != before {
		t.Errorf("replays caused %d outgoing calls", after-before)
	}
	if !strings.Contains(e.logs.String(), "replayed") {
		t.Errorf("replay not logged: %s", e.logs.String())
	}
	// A fresh request (new timestamp, same body) is fine.
	if code, _, _ := e.post(t, CommandsPath, body, clock.Now(), inSecret); code != 200 {
		t.Fatalf("fresh = %d", code)
	}
}

func TestReplayCacheExpires(t *testing.T) {
	c := newReplayCache()
	t0 := time.Unix(1_800_000_000, 0)
	for i := range 100 {
		if !c.add(strconv.Itoa(i), t0, t0.Add(MaxClockSkew)) {
			t.Fatal("fresh key refused")
		}
	}
	if c.add("5", t0.Add(time.Minute), t0.Add(MaxClockSkew)) {
		t.Fatal("replay accepted")
	}
	if !c.add("new", t0.Add(MaxClockSkew+time.Minute), t0.Add(2*MaxClockSkew)) {
		t.Fatal("new key refused")
	}
	if n := c.len(); n != 1 {
		t.Errorf("after sweep %d entries, want 1", n)
	}
}

func TestHTTPUnknownCommandAndRoutes(t *testing.T) {
	h := &recHandler{}
	e := newHTTPEnv(t, h, HTTPOptions{})
	code, body, _ := e.post(t, CommandsPath, commandBody(e, fakeslack.SlashCommand{Command: "/other", Text: "status"}), time.Now(), inSecret)
	if code != 200 || !strings.Contains(body, "/openclaw") {
		t.Errorf("unknown command = %d %s", code, body)
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+CommandsPath, nil)
	if code, _, _ := e.do(t, req); code != 405 {
		t.Errorf("GET = %d", code)
	}
	if code, _, _ := e.post(t, "/slack/other", "x=1", time.Now(), inSecret); code != 404 {
		t.Errorf("other path = %d", code)
	}
	// Signed but not a form / not JSON.
	if code, _, _ := e.post(t, InteractionsPath, "payload=%7Bnot-json", time.Now(), inSecret); code != 400 {
		t.Errorf("bad payload = %d", code)
	}
	if code, _, _ := e.post(t, CommandsPath, "a=%zz", time.Now(), inSecret); code != 400 {
		t.Errorf("bad form = %d", code)
	}
	e.hh.Wait()
	if r, p := h.counts(); r+p != 0 {
		t.Errorf("handler called %d+%d", r, p)
	}
	if calls := e.fake.Calls(""); len(calls) != 0 {
		t.Errorf("outgoing calls: %+v", calls)
	}
}

// slackBlockActions is a block_actions payload as Slack documents it.
const slackBlockActions = `{
  "type": "block_actions",
  "user": {"id": "U0CA5", "username": "amy.mcgee", "name": "amy.mcgee", "team_id": "T3MDE"},
  "api_app_id": "A0BCD",
  "token": "Shh_its_a_seekrit",
  "container": {"type": "message", "message_ts": "1548261231.000200", "channel_id": "CBR2V3XEX", "is_ephemeral": false},
  "trigger_id": "12466734323.1395872398",
  "team": {"id": "T0CAG", "domain": "acme-creamery"},
  "channel": {"id": "CBR2V3XEX", "name": "review-updates"},
  "message": {"type": "message", "ts": "1548261231.000200", "text": "alert"},
  "response_url": "https://hooks.slack.com/actions/AABA1ABCD/1232321423432/D09sSasdasdAS9091209",
  "state": {"values": {}},
  "actions": [{"action_id": "pa_7f3a", "block_id": "openclaw_actions",
    "text": {"type": "plain_text", "text": "Confirm", "emoji": true},
    "value": "pa_7f3a", "type": "button", "action_ts": "1548426417.840180"}]
}`

func TestPressFromInteraction(t *testing.T) {
	ic, err := ParseInteraction(slackBlockActions)
	if err != nil {
		t.Fatal(err)
	}
	p, u, ok := PressFromInteraction(ic)
	want := bot.Press{Surface: "slack", UserID: "U0CA5", UserName: "amy.mcgee", Where: "CBR2V3XEX", Action: "pa_7f3a"}
	if !ok || p != want || u != "https://hooks.slack.com/actions/AABA1ABCD/1232321423432/D09sSasdasdAS9091209" {
		t.Fatalf("press = %+v %q %v", p, u, ok)
	}

	mod := func(f func(m map[string]any)) goslackPayload {
		var m map[string]any
		_ = json.Unmarshal([]byte(slackBlockActions), &m)
		f(m)
		b, _ := json.Marshal(m)
		return goslackPayload(b)
	}
	act := func(m map[string]any) map[string]any { return m["actions"].([]any)[0].(map[string]any) }
	for name, tc := range map[string]struct {
		payload goslackPayload
		ok      bool
		check   func(bot.Press) bool
	}{
		"dm": {mod(func(m map[string]any) {
			delete(m, "channel")
			m["container"].(map[string]any)["channel_id"] = "D024BE91L"
		}), true, func(p bot.Press) bool { return p.Private && p.Where == "D024BE91L" }},
		"value falls back to action_id": {mod(func(m map[string]any) { act(m)["value"] = "" }), true,
			func(p bot.Press) bool { return p.Action == "pa_7f3a" }},
		"foreign block":    {mod(func(m map[string]any) { act(m)["block_id"] = "someone_else" }), false, nil},
		"no actions":       {mod(func(m map[string]any) { m["actions"] = []any{} }), false, nil},
		"no user":          {mod(func(m map[string]any) { delete(m, "user") }), false, nil},
		"view submission":  {mod(func(m map[string]any) { m["type"] = "view_submission" }), false, nil},
		"empty action ids": {mod(func(m map[string]any) { act(m)["value"] = ""; act(m)["action_id"] = "" }), false, nil},
	} {
		t.Run(name, func(t *testing.T) {
			ic, err := ParseInteraction(string(tc.payload))
			if err != nil {
				t.Fatal(err)
			}
			p, _, ok := PressFromInteraction(ic)
			if ok != tc.ok || (ok && !tc.check(p)) {
				t.Errorf("press = %+v ok=%v", p, ok)
			}
		})
	}
	if _, err := ParseInteraction(""); err == nil {
		t.Error("empty payload accepted")
	}
	if _, err := ParseInteraction("{"); err == nil {
		t.Error("broken payload accepted")
	}
}

type goslackPayload string

func TestHTTPInteraction(t *testing.T) {
	h := &recHandler{}
	e := newHTTPEnv(t, h, HTTPOptions{})
	body := pressBody(e, fakeslack.BlockAction{UserID: "U7", UserName: "bob", ChannelID: "C1", ActionID: "pa_1", Value: "pa_1", Text: "Confirm"})
	code, resp, _ := e.post(t, InteractionsPath, body, time.Now(), inSecret)
	if code != 200 || resp != "" {
		t.Fatalf("ack = %d %q", code, resp)
	}
	rs := e.fake.WaitResponses(1, 5*time.Second)
	e.hh.Wait()
	want := bot.Press{Surface: "slack", UserID: "U7", UserName: "bob", Where: "C1", Action: "pa_1"}
	if got := h.pressList(); len(got) != 1 || got[0] != want {
		t.Fatalf("presses = %+v", got)
	}
	if len(rs) != 1 || rs[0].ReplaceOriginal == nil || *rs[0].ReplaceOriginal || rs[0].ResponseType != "ephemeral" ||
		!strings.Contains(rs[0].Text, "openclaw status") {
		t.Fatalf("responses = %+v", rs)
	}

	// Other interaction types are acked and ignored.
	p, _ := json.Marshal(map[string]any{"type": "shortcut", "user": map[string]any{"id": "U7"}})
	code, _, _ = e.post(t, InteractionsPath, url.Values{"payload": {string(p)}}.Encode(), time.Now(), inSecret)
	e.hh.Wait()
	if _, n := h.counts(); code != 200 || n != 1 {
		t.Errorf("shortcut: code %d presses %d", code, n)
	}
}

func TestHTTPBusySlowDown(t *testing.T) {
	h := &recHandler{gate: make(chan struct{}), started: make(chan struct{}, 4)}
	e := newHTTPEnv(t, h, HTTPOptions{MaxConcurrent: 1, MaxPending: 1})
	if code, _, _ := e.post(t, CommandsPath, commandBody(e, fakeslack.SlashCommand{Text: "diagnose"}), time.Now(), inSecret); code != 200 {
		t.Fatal(code)
	}
	<-h.started
	code, body, _ := e.post(t, CommandsPath, commandBody(e, fakeslack.SlashCommand{Text: "status"}), time.Now(), inSecret)
	if code != 200 || !strings.Contains(body, "Slow down") || !strings.Contains(body, `"ephemeral"`) {
		t.Fatalf("busy ack = %d %s", code, body)
	}
	// A press while busy: acked, and told to slow down via its response_url.
	code, _, _ = e.post(t, InteractionsPath, pressBody(e, fakeslack.BlockAction{Value: "pa_1"}), time.Now(), inSecret)
	if code != 200 {
		t.Fatal(code)
	}
	rs := e.fake.WaitResponses(1, 5*time.Second)
	if len(rs) != 1 || !strings.Contains(rs[0].Text, "Slow down") || rs[0].ReplaceOriginal == nil {
		t.Fatalf("press slow down = %+v", rs)
	}
	close(h.gate)
	e.hh.Wait()
	if r, p := h.counts(); r != 1 || p != 0 {
		t.Errorf("handler calls %d/%d, want 1/0", r, p)
	}
}

func TestHTTPShutdownDrains(t *testing.T) {
	h := &recHandler{delay: 200 * time.Millisecond}
	e := newHTTPEnv(t, h, HTTPOptions{})
	if code, _, _ := e.post(t, CommandsPath, commandBody(e, fakeslack.SlashCommand{Text: "status"}), time.Now(), inSecret); code != 200 {
		t.Fatal(code)
	}
	if err := e.hh.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if n := len(e.fake.Responses()); n != 1 {
		t.Fatalf("Close returned before the reply was delivered (%d)", n)
	}
	code, body, _ := e.post(t, CommandsPath, commandBody(e, fakeslack.SlashCommand{Text: "status"}), time.Now(), inSecret)
	if code != 200 || !strings.Contains(body, "restarting") {
		t.Errorf("after Close = %d %s", code, body)
	}
	if r, _ := h.counts(); r != 1 {
		t.Errorf("handler calls = %d", r)
	}
}

func TestHTTPShutdownCancelsAfterDeadline(t *testing.T) {
	h := &recHandler{gate: make(chan struct{}), started: make(chan struct{}, 1)} // never opened
	e := newHTTPEnv(t, h, HTTPOptions{})
	if code, _, _ := e.post(t, CommandsPath, commandBody(e, fakeslack.SlashCommand{Text: "status"}), time.Now(), inSecret); code != 200 {
		t.Fatal(code)
	}
	<-h.started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := e.hh.Shutdown(ctx); err == nil {
		t.Fatal("Shutdown = nil, want a deadline error")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Shutdown took %v", d)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.errs) != 1 || !errors.Is(h.errs[0], context.Canceled) {
		t.Errorf("handler ctx errors = %v", h.errs)
	}
}

func TestHTTPHandlerPanic(t *testing.T) {
	h := &recHandler{}
	h.panics.Store(true)
	e := newHTTPEnv(t, h, HTTPOptions{})
	if code, _, _ := e.post(t, CommandsPath, commandBody(e, fakeslack.SlashCommand{Text: "status"}), time.Now(), inSecret); code != 200 {
		t.Fatal(code)
	}
	rs := e.fake.WaitResponses(1, 5*time.Second)
	e.hh.Wait()
	if len(rs) != 1 || !strings.Contains(rs[0].Text, "internal error") {
		t.Fatalf("responses = %+v", rs)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "handler panicked") || strings.Contains(logs, inSecret) {
		t.Errorf("logs = %s", logs)
	}
}

func TestHTTPResponseURLRules(t *testing.T) {
	t.Run("non-loopback http refused, no fallback", func(t *testing.T) {
		e := newHTTPEnv(t, &recHandler{}, HTTPOptions{})
		e.post(t, CommandsPath, commandBody(e, fakeslack.SlashCommand{Text: "status", ResponseURL: "http://example.com/hook"}), time.Now(), inSecret)
		e.hh.Wait()
		if n := len(e.fake.Calls("")); n != 0 {
			t.Errorf("calls = %d", n)
		}
		if !strings.Contains(e.logs.String(), "refusing the request's response_url") || strings.Contains(e.logs.String(), "/hook") {
			t.Errorf("logs = %s", e.logs.String())
		}
	})
	t.Run("fallback to the Web API", func(t *testing.T) {
		fake := fakeslack.New()
		defer fake.Close()
		fake.RequireToken(inBotToken)
		api := NewClient(inBotToken, fake.URL(), nil)
		e := newHTTPEnv(t, &recHandler{}, HTTPOptions{API: api})
		e.post(t, CommandsPath, commandBody(e, fakeslack.SlashCommand{Text: "status", UserID: "U1", ChannelID: "C1", NoResponseURL: true}), time.Now(), inSecret)
		e.hh.Wait()
		if eph := fake.Ephemerals("C1"); len(eph) != 1 || eph[0].User != "U1" || !strings.Contains(eph[0].Text, "openclaw status") {
			t.Errorf("ephemerals = %+v", eph)
		}
	})
	t.Run("retry after 500", func(t *testing.T) {
		e := newHTTPEnv(t, &recHandler{}, HTTPOptions{})
		e.fake.FailNext(fakeslack.ResponseURLMethod, 1, 500, "")
		e.post(t, CommandsPath, commandBody(e, fakeslack.SlashCommand{Text: "status"}), time.Now(), inSecret)
		e.hh.Wait()
		if rs, calls := e.fake.Responses(), e.fake.Calls(fakeslack.ResponseURLMethod); len(rs) != 1 || len(calls) != 2 {
			t.Errorf("responses %d calls %d", len(rs), len(calls))
		}
	})
	t.Run("no retry after 404", func(t *testing.T) {
		e := newHTTPEnv(t, &recHandler{}, HTTPOptions{})
		u := e.fake.ResponseURL() + "-unknown"
		e.post(t, CommandsPath, commandBody(e, fakeslack.SlashCommand{Text: "status", ResponseURL: u}), time.Now(), inSecret)
		e.hh.Wait()
		if calls := e.fake.Calls(fakeslack.ResponseURLMethod); len(calls) != 1 || calls[0].Status != 404 {
			t.Errorf("calls = %+v", calls)
		}
		if !strings.Contains(e.logs.String(), "HTTP 404: expired_url") || strings.Contains(e.logs.String(), "-unknown") {
			t.Errorf("logs = %s", e.logs.String())
		}
	})
	loopAPI, _ := url.Parse("http://127.0.0.1:9/api/")
	proxyAPI, _ := url.Parse("https://slack-proxy.internal/api/")
	for _, tc := range []struct {
		u   string
		api *url.URL
		ok  bool
	}{
		{"https://hooks.slack.com/commands/T1/2/x", nil, true},
		{"https://HOOKS.slack.com:443/actions/T1/2/x", nil, true},
		{"https://hooks.slack-gov.com/commands/T1/2/x", nil, true},
		{"https://hooks.slack.com/commands/T1/2/x", loopAPI, true},
		{"http://127.0.0.1:9/x", loopAPI, true},
		{"https://slack-proxy.internal/response/x", proxyAPI, true},
		{"https://slack-proxy.internal:443/response/x", proxyAPI, true},
		// Not Slack's, not slack.api_url's.
		{"https://example.com/hook", nil, false},
		{"https://example.com/hook", loopAPI, false},
		{"https://hooks.slack.com.example.com/x", nil, false},
		{"https://evilhooks.slack.com/x", nil, false},
		{"https://slack.com/x", nil, false},
		{"https://hooks.slack.com:8443/x", nil, false},
		{"https://user:pw@hooks.slack.com/x", nil, false},
		{"http://127.0.0.1:9/x", nil, false},
		{"http://127.0.0.1:10/x", loopAPI, false},
		{"http://localhost:9/x", loopAPI, false},
		{"https://127.0.0.1:9/x", loopAPI, false},
		{"http://slack-proxy.internal/x", proxyAPI, false},
		{"http://[::1]:9/x", nil, false},
		{"http://10.0.0.1/x", nil, false},
		{"http://hooks.slack.com/x", nil, false},
		{"file:///etc/passwd", nil, false},
		{"/relative", nil, false},
		{"gopher://x", nil, false},
	} {
		if _, err := checkResponseURL(tc.u, tc.api); (err == nil) != tc.ok {
			t.Errorf("checkResponseURL(%q, %v) = %v", tc.u, tc.api, err)
		}
	}
}

// foreignSink is a server that is not Slack; it counts what reaches it.
type foreignSink struct {
	srv  *httptest.Server
	hits atomic.Int32
}

func newForeignSink(t *testing.T, tls bool) *foreignSink {
	f := &foreignSink{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	})
	if tls {
		f.srv = httptest.NewTLSServer(h)
	} else {
		f.srv = httptest.NewServer(h)
	}
	t.Cleanup(f.srv.Close)
	return f
}

// A response_url is used only on Slack's hosts or slack.api_url's exact
// host:port: a foreign https server and another loopback port get nothing,
// the reply goes through the Web API instead, and the warning names the
// host only (the rest of a response_url is a capability).
func TestResponseURLPinnedToSlack(t *testing.T) {
	for _, tc := range []struct {
		name string
		tls  bool
	}{{"foreign https host", true}, {"foreign loopback port", false}} {
		t.Run(tc.name, func(t *testing.T) {
			foreign := newForeignSink(t, tc.tls)
			// The reply client trusts the foreign TLS server: only the pin
			// stands between the reply and it.
			client := foreign.srv.Client()
			client.Timeout = 5 * time.Second
			t.Cleanup(client.CloseIdleConnections)
			apiFake := fakeslack.New()
			t.Cleanup(apiFake.Close)
			e := newHTTPEnv(t, &recHandler{}, HTTPOptions{Client: client, API: NewClient(inBotToken, apiFake.URL(), nil)})
			secretPath := "/commands/T0FAKE/1/CAPABILITY-abc123"
			e.post(t, CommandsPath, commandBody(e, fakeslack.SlashCommand{Text: "diagnose", UserID: "U1", ChannelID: "C1",
				ResponseURL: foreign.srv.URL + secretPath}), time.Now(), inSecret)
			e.hh.Wait()
			if n := foreign.hits.Load(); n != 0 {
				t.Fatalf("the foreign server got %d posts", n)
			}
			if eph := apiFake.Ephemerals("C1"); len(eph) != 1 || eph[0].User != "U1" || !strings.Contains(eph[0].Text, "openclaw status") {
				t.Errorf("Web API fallback: ephemerals = %+v", eph)
			}
			logs := e.logs.String()
			host := strings.TrimPrefix(strings.TrimPrefix(foreign.srv.URL, "https://"), "http://")
			if !strings.Contains(logs, "refusing the request's response_url") || !strings.Contains(logs, `"host":"`+host+`"`) ||
				strings.Contains(logs, "CAPABILITY") || !strings.Contains(logs, `"level":"warn"`) {
				t.Errorf("logs = %s", logs)
			}
		})
	}
	t.Run("slack.api_url host accepted", func(t *testing.T) {
		other := fakeslack.New()
		t.Cleanup(other.Close)
		// slack.api_url is another fake on another port: the response_url
		// of e.fake is foreign now.
		e := newHTTPEnv(t, &recHandler{}, HTTPOptions{APIURL: other.URL()})
		e.post(t, CommandsPath, commandBody(e, fakeslack.SlashCommand{Text: "status"}), time.Now(), inSecret)
		e.hh.Wait()
		if n := len(e.fake.Responses()); n != 0 {
			t.Fatalf("a response_url outside slack.api_url's host:port was used (%d)", n)
		}
		e2 := newHTTPEnv(t, &recHandler{}, HTTPOptions{APIURL: ""}) // the helper's default: the fake's api_url
		e2.post(t, CommandsPath, commandBody(e2, fakeslack.SlashCommand{Text: "status"}), time.Now(), inSecret)
		e2.hh.Wait()
		if n := len(e2.fake.Responses()); n != 1 {
			t.Fatalf("the response_url on slack.api_url's host was not used (%d responses); logs %s", n, e2.logs.String())
		}
	})
	t.Run("socket mode", func(t *testing.T) {
		foreign := newForeignSink(t, false)
		e := startSocket(t, &recHandler{}, SocketOptions{})
		id := e.fake.PushSlashCommand(fakeslack.SlashCommand{Text: "diagnose", UserID: "U1", ChannelID: "C1",
			ResponseURL: foreign.srv.URL + "/commands/T0FAKE/1/CAPABILITY"})
		e.fake.WaitAck(id, 3*time.Second)
		deadline := time.Now().Add(5 * time.Second)
		for len(e.fake.Ephemerals("C1")) == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := foreign.hits.Load(); n != 0 {
			t.Fatalf("the foreign server got %d posts", n)
		}
		if eph := e.fake.Ephemerals("C1"); len(eph) != 1 {
			t.Errorf("Web API fallback: ephemerals = %+v", eph)
		}
		if logs := e.logs.String(); !strings.Contains(logs, "refusing the request's response_url") || strings.Contains(logs, "CAPABILITY") {
			t.Errorf("logs = %s", logs)
		}
	})
}

// --- Socket Mode ---

type socketEnv struct {
	fake *fakeslack.Server
	h    *recHandler
	logs *syncBuffer
	tr   *http.Transport
	stop context.CancelFunc
	done chan error
}

func startSocket(t *testing.T, h *recHandler, opts SocketOptions) *socketEnv {
	t.Helper()
	e := &socketEnv{fake: fakeslack.NewSocketMode(), h: h, logs: &syncBuffer{}, tr: &http.Transport{}, done: make(chan error, 1)}
	e.fake.RequireAppToken(inAppToken)
	e.fake.RequireToken(inBotToken)
	if opts.Logger == nil {
		l := zerolog.New(e.logs).Level(zerolog.TraceLevel)
		opts.Logger = &l
	}
	hc := &http.Client{Transport: e.tr, Timeout: 5 * time.Second}
	if opts.Client == nil {
		opts.Client = hc
	}
	if opts.APIURL == "" {
		opts.APIURL = e.fake.URL()
	}
	api := NewClient(inBotToken, e.fake.URL(), hc)
	ctx, cancel := context.WithCancel(context.Background())
	e.stop = cancel
	go func() { e.done <- RunSocket(ctx, api, inAppToken, h, opts) }()
	t.Cleanup(func() {
		e.stop()
		select {
		case <-e.done:
		case <-time.After(15 * time.Second):
			t.Error("RunSocket did not return")
		}
		e.tr.CloseIdleConnections()
		e.fake.Close()
	})
	if !e.fake.WaitConnections(1, 5*time.Second) {
		t.Fatalf("no Socket Mode connection; logs: %s", e.logs.String())
	}
	return e
}

func TestSocketSlashEndToEnd(t *testing.T) {
	h := &recHandler{gate: make(chan struct{})}
	e := startSocket(t, h, SocketOptions{})
	pushed := time.Now()
	id := e.fake.PushSlashCommand(fakeslack.SlashCommand{Text: "status", UserID: "U1", UserName: "alice", ChannelID: "C1"})
	ack, ok := e.fake.WaitAck(id, 3*time.Second)
	if !ok {
		t.Fatalf("no ack; logs: %s", e.logs.String())
	}
	if d := ack.At.Sub(pushed); d > time.Second {
		t.Errorf("ack after %v", d)
	}
	if ack.Payload != nil {
		t.Errorf("ack payload = %s", ack.Payload)
	}
	// Acked while the handler is still working.
	if n := len(e.fake.Responses()); n != 0 {
		t.Fatal("reply before the handler finished")
	}
	close(h.gate)
	rs := e.fake.WaitResponses(1, 5*time.Second)
	want := bot.Request{Surface: "slack", UserID: "U1", UserName: "alice", Where: "C1", Text: "status"}
	if got := h.requests(); len(got) != 1 || got[0] != want {
		t.Fatalf("requests = %+v", got)
	}
	wantText, wantBlocks := renderedJSON(t, echoReply("status").Message)
	if len(rs) != 1 || rs[0].ResponseType != "ephemeral" || rs[0].Text != wantText || !sameJSON(t, rs[0].Blocks, wantBlocks) {
		t.Fatalf("responses = %+v", rs)
	}
}

func TestSocketBlockAction(t *testing.T) {
	h := &recHandler{}
	e := startSocket(t, h, SocketOptions{})
	id := e.fake.PushBlockAction(fakeslack.BlockAction{UserID: "U2", UserName: "bob", ChannelID: "D5", ActionID: "pa_9", Value: "pa_9"})
	if _, ok := e.fake.WaitAck(id, 3*time.Second); !ok {
		t.Fatal("no ack")
	}
	rs := e.fake.WaitResponses(1, 5*time.Second)
	want := bot.Press{Surface: "slack", UserID: "U2", UserName: "bob", Where: "D5", Private: true, Action: "pa_9"}
	if got := h.pressList(); len(got) != 1 || got[0] != want {
		t.Fatalf("presses = %+v", got)
	}
	if len(rs) != 1 || rs[0].ReplaceOriginal == nil || *rs[0].ReplaceOriginal || !strings.Contains(rs[0].Text, "openclaw status") {
		t.Fatalf("responses = %+v", rs)
	}
	// A foreign interaction is acked and ignored.
	id = e.fake.Push(fakeslack.Envelope{Type: "interactive", Payload: map[string]any{"type": "shortcut", "user": map[string]any{"id": "U2"}}})
	if _, ok := e.fake.WaitAck(id, 3*time.Second); !ok {
		t.Fatal("shortcut not acked")
	}
	id = e.fake.Push(fakeslack.Envelope{Type: "events_api", Payload: map[string]any{"type": "event_callback",
		"event": map[string]any{"type": "app_mention", "text": "hi"}}})
	if _, ok := e.fake.WaitAck(id, 3*time.Second); !ok {
		t.Fatal("events_api not acked")
	}
	if _, n := h.counts(); n != 1 {
		t.Errorf("presses = %d", n)
	}
}

func TestSocketAckPayloads(t *testing.T) {
	h := &recHandler{gate: make(chan struct{}), started: make(chan struct{}, 4)}
	e := startSocket(t, h, SocketOptions{AckText: "⏳ working…", MaxConcurrent: 1, MaxPending: 1})
	id := e.fake.PushSlashCommand(fakeslack.SlashCommand{Command: "/other", Text: "x"})
	if a, ok := e.fake.WaitAck(id, 3*time.Second); !ok || !strings.Contains(string(a.Payload), "only answers /openclaw") {
		t.Fatalf("unknown command ack = %s %v", a.Payload, ok)
	}
	id = e.fake.PushSlashCommand(fakeslack.SlashCommand{Text: "diagnose"})
	if a, ok := e.fake.WaitAck(id, 3*time.Second); !ok || !strings.Contains(string(a.Payload), "working") {
		t.Fatalf("ack = %s %v", a.Payload, ok)
	}
	<-h.started
	id = e.fake.PushSlashCommand(fakeslack.SlashCommand{Text: "status"})
	if a, ok := e.fake.WaitAck(id, 3*time.Second); !ok || !strings.Contains(string(a.Payload), "Slow down") ||
		!strings.Contains(string(a.Payload), "ephemeral") {
		t.Fatalf("busy ack = %s %v", a.Payload, ok)
	}
	close(h.gate)
	e.fake.WaitResponses(1, 5*time.Second)
	if r, _ := h.counts(); r != 1 {
		t.Errorf("handler calls = %d", r)
	}
}

func TestSocketDuplicateEnvelope(t *testing.T) {
	h := &recHandler{}
	e := startSocket(t, h, SocketOptions{})
	id := e.fake.PushSlashCommand(fakeslack.SlashCommand{Text: "status", EnvelopeID: "env-dup"})
	e.fake.PushSlashCommand(fakeslack.SlashCommand{Text: "status", EnvelopeID: "env-dup", RetryAttempt: 1})
	deadline := time.Now().Add(3 * time.Second)
	for len(e.fake.Acks()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if acks := e.fake.Acks(); len(acks) != 2 || acks[0] != id || acks[1] != id {
		t.Fatalf("acks = %v", acks)
	}
	e.fake.WaitResponses(1, 5*time.Second)
	time.Sleep(50 * time.Millisecond)
	if r, _ := h.counts(); r != 1 {
		t.Errorf("handler calls = %d, want 1", r)
	}
}

func TestSocketFallbackToWebAPI(t *testing.T) {
	inCh := bot.Reply{Message: bot.Message{Kind: bot.KindReply, Title: "for everyone"}}
	h := &recHandler{reply: &inCh}
	e := startSocket(t, h, SocketOptions{})
	id := e.fake.PushSlashCommand(fakeslack.SlashCommand{Text: "status", ChannelID: "C1", NoResponseURL: true})
	e.fake.WaitAck(id, 3*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for len(e.fake.Messages("C1")) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if msgs := e.fake.Messages("C1"); len(msgs) != 1 || !strings.Contains(msgs[0].Text, "for everyone") {
		t.Fatalf("messages = %+v", msgs)
	}
	if calls := e.fake.Calls("chat.postMessage"); len(calls) != 1 || !calls[0].Auth {
		t.Errorf("calls = %+v", calls)
	}
}

func TestSocketReconnect(t *testing.T) {
	h := &recHandler{}
	e := startSocket(t, h, SocketOptions{})
	e.fake.DropConnections()
	if !e.fake.WaitConnections(2, 10*time.Second) {
		t.Fatalf("no reconnect; logs: %s", e.logs.String())
	}
	id := e.fake.PushSlashCommand(fakeslack.SlashCommand{Text: "status"})
	if _, ok := e.fake.WaitAck(id, 3*time.Second); !ok {
		t.Fatal("no ack after reconnect")
	}
	if rs := e.fake.WaitResponses(1, 5*time.Second); len(rs) != 1 {
		t.Fatal("no reply after reconnect")
	}
}

func TestSocketBadTokens(t *testing.T) {
	fake := fakeslack.NewSocketMode()
	defer fake.Close()
	fake.RequireAppToken("xapp-some-other-token")
	api := NewClient(inBotToken, fake.URL(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := RunSocket(ctx, api, inAppToken, &recHandler{}, SocketOptions{})
	if err == nil || !strings.Contains(err.Error(), "invalid_auth") || !strings.Contains(err.Error(), "slack.app_token") {
		t.Fatalf("err = %v", err)
	}
	AssertNoSecretLeak(t, inAppToken, err)
	AssertNoSecretLeak(t, inBotToken, err)
	if err := RunSocket(ctx, api, "", &recHandler{}, SocketOptions{}); err == nil || !strings.Contains(err.Error(), "app_token is empty") {
		t.Errorf("empty token: %v", err)
	}
}

func TestSocketDrainOnCancel(t *testing.T) {
	h := &recHandler{delay: 300 * time.Millisecond, started: make(chan struct{}, 1)}
	e := startSocket(t, h, SocketOptions{})
	e.fake.PushSlashCommand(fakeslack.SlashCommand{Text: "status"})
	<-h.started
	e.stop()
	select {
	case err := <-e.done:
		if err != nil {
			t.Fatalf("RunSocket = %v", err)
		}
		e.done <- nil // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("RunSocket did not return")
	}
	if rs := e.fake.Responses(); len(rs) != 1 {
		t.Fatalf("in-flight reply not delivered before return: %d", len(rs))
	}
}

func TestSocketCleanShutdown(t *testing.T) {
	fake := fakeslack.NewSocketMode()
	defer fake.Close()
	fake.RequireAppToken(inAppToken)
	fake.RequireToken(inBotToken)
	tr := &http.Transport{}
	hc := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	api := NewClient(inBotToken, fake.URL(), hc)
	h := &recHandler{}

	base := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- RunSocket(ctx, api, inAppToken, h, SocketOptions{Client: hc, APIURL: fake.URL()}) }()
	if !fake.WaitConnections(1, 5*time.Second) {
		t.Fatal("no connection")
	}
	id := fake.PushSlashCommand(fakeslack.SlashCommand{Text: "status"})
	fake.WaitAck(id, 3*time.Second)
	fake.WaitResponses(1, 5*time.Second)
	id = fake.PushBlockAction(fakeslack.BlockAction{Value: "pa_1"})
	fake.WaitAck(id, 3*time.Second)
	fake.WaitResponses(2, 5*time.Second)

	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("RunSocket = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("RunSocket did not return after cancel")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("stop took %v", d)
	}
	tr.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("goroutines: %d before, %d after stop\n%s", base, n, buf)
	}
	if n := fake.OpenConnections(); n != 0 {
		t.Errorf("%d WebSocket connections still open", n)
	}
}

// TestInboundNoSecretLeak drives both modes through accepted, refused,
// busy, panicking and failing paths and checks that the signing secret and
// both tokens appear in no response body, log line or recorded call.
func TestInboundNoSecretLeak(t *testing.T) {
	secrets := []string{inSecret, inBotToken, inAppToken}
	var things []any

	// HTTP mode, with the Web API fallback wired to a token-checking fake.
	api := fakeslack.New()
	defer api.Close()
	api.RequireToken(inBotToken)
	h := &recHandler{}
	e := newHTTPEnv(t, h, HTTPOptions{API: NewClient(inBotToken, api.URL(), nil), MaxConcurrent: 1, MaxPending: 1})
	body := commandBody(e, fakeslack.SlashCommand{Text: "status"})
	now := time.Now()
	e.post(t, CommandsPath, body, now, inSecret)
	e.post(t, CommandsPath, body, now, inSecret) // replay
	e.post(t, CommandsPath, body, now, "wrong")
	e.post(t, CommandsPath, body, now.Add(-time.Hour), inSecret)
	e.post(t, CommandsPath, commandBody(e, fakeslack.SlashCommand{Text: strings.Repeat("x", 70000)}), now, inSecret)
	e.post(t, CommandsPath, commandBody(e, fakeslack.SlashCommand{Text: "x", NoResponseURL: true}), now, inSecret)
	e.post(t, InteractionsPath, pressBody(e, fakeslack.BlockAction{Value: "pa_1"}), now, inSecret)
	e.hh.Wait()
	h.panics.Store(true)
	e.post(t, CommandsPath, commandBody(e, fakeslack.SlashCommand{Text: "boom"}), now, inSecret)
	e.hh.Wait()
	h.panics.Store(false)
	e.fake.FailNext(fakeslack.ResponseURLMethod, 3, 500, "")
	e.post(t, CommandsPath, commandBody(e, fakeslack.SlashCommand{Text: "fail"}), now, inSecret)
	e.hh.Wait()
	things = append(things, e.bodies, e.logs.String(), e.fake.Calls(""), e.fake.Responses(), api.Calls(""),
		api.Ephemerals("C0CHAN"), api.Messages("C0CHAN"))

	// Socket Mode.
	sh := &recHandler{}
	s := startSocket(t, sh, SocketOptions{})
	s.fake.PushSlashCommand(fakeslack.SlashCommand{Text: "status"})
	s.fake.PushSlashCommand(fakeslack.SlashCommand{Command: "/nope"})
	s.fake.PushBlockAction(fakeslack.BlockAction{Value: "pa_2"})
	s.fake.PushSlashCommand(fakeslack.SlashCommand{Text: "status", NoResponseURL: true})
	s.fake.WaitResponses(2, 5*time.Second)
	s.fake.DropConnections()
	s.fake.WaitConnections(2, 10*time.Second)
	deadline := time.Now().Add(3 * time.Second)
	for len(s.fake.Acks()) < 4 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	things = append(things, s.logs.String(), s.fake.Calls(""), s.fake.Responses(), s.fake.AckRecords(),
		s.fake.Ephemerals("C0CHAN"))

	for _, secret := range secrets {
		AssertNoSecretLeak(t, secret, things...)
	}
	// Sanity: the runs did produce output to check.
	if len(e.fake.Responses()) < 2 || len(s.fake.Responses()) < 2 || !strings.Contains(e.logs.String(), "request refused") {
		t.Errorf("leak test exercised too little: %d/%d responses", len(e.fake.Responses()), len(s.fake.Responses()))
	}
}
