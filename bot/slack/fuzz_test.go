package slack

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/openclaw-bot/openclaw-bot/bot"
)

// The fuzz targets' fixed clock: the committed seeds carry signatures made
// for timestamps around it (testdata/fuzz/FuzzVerifySignature).
var fuzzNow = time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)

// fuzzMaxBody is the body limit of the fuzzed handler, small enough for
// the fuzzer to reach the 413 path.
const fuzzMaxBody = 4096

// fuzzReply and fuzzPressReply are the fuzzed handler's answers: echoes,
// ephemeral for odd lengths.
func fuzzReply(r bot.Request) bot.Reply {
	return bot.Reply{Ephemeral: len(r.Text)%2 == 1, Message: bot.Message{Kind: bot.KindReply, Severity: bot.SevInfo,
		Title: "you said", Text: []bot.Span{bot.C(r.Text)}}}
}

func fuzzPressReply(p bot.Press) bot.Reply { return bot.Reply{Toast: "pressed " + p.Action} }

// fuzzTransport answers every response_url post with 200 at once and
// records it: the fuzzed handler never touches the network.
type fuzzTransport struct {
	mu    sync.Mutex
	posts []fuzzPost
}

type fuzzPost struct {
	url  *url.URL
	body string
}

func (ft *fuzzTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var b []byte
	if r.Body != nil {
		b, _ = io.ReadAll(r.Body)
		_ = r.Body.Close()
	}
	ft.mu.Lock()
	ft.posts = append(ft.posts, fuzzPost{url: r.URL, body: string(b)})
	ft.mu.Unlock()
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("ok")),
		Request: r}, nil
}

func (ft *fuzzTransport) list() []fuzzPost {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return append([]fuzzPost(nil), ft.posts...)
}

// fuzzSlack is one HTTP mode handler with its recorders.
type fuzzSlack struct {
	h    *recHandler
	rt   *fuzzTransport
	logs *syncBuffer
	hh   *HTTPHandler
}

func newFuzzSlack() *fuzzSlack {
	s := &fuzzSlack{h: &recHandler{handle: fuzzReply, press: fuzzPressReply}, rt: &fuzzTransport{}, logs: &syncBuffer{}}
	l := zerolog.New(s.logs).Level(zerolog.DebugLevel)
	s.hh = NewHTTPHandler(s.h, HTTPOptions{
		SigningSecret: inSecret,
		Now:           func() time.Time { return fuzzNow },
		Client:        &http.Client{Transport: s.rt},
		MaxBody:       fuzzMaxBody,
		Logger:        &l,
	})
	return s
}

// serve runs one request through the handler and waits until the work it
// started (handler call, reply delivery) is done.
func (s *fuzzSlack) serve(path string, body []byte, ts, sig, contentType string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if ts != "" {
		r.Header.Set("X-Slack-Request-Timestamp", ts)
	}
	if sig != "" {
		r.Header.Set("X-Slack-Signature", sig)
	}
	w := httptest.NewRecorder()
	s.hh.ServeHTTP(w, r)
	s.hh.Wait()
	return w
}

// slackOutcome is what the handler must do with one request.
type slackOutcome struct {
	code     int
	verified bool // the signature checked out (the pair is now in the replay cache)
	req      *bot.Request
	press    *bot.Press
	unknown  bool // answered with UnknownCommandText
}

// fuzzSignature is the hex HMAC-SHA256 of "v0:<ts>:<body>" with the
// signing secret, computed here independently of the handler.
func fuzzSignature(ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(inSecret))
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// fuzzSignatureOK: "v0=" then the 64 hex digits of the HMAC, in either case.
func fuzzSignatureOK(sig, ts string, body []byte) bool {
	hexSig, ok := strings.CutPrefix(sig, "v0=")
	want := fuzzSignature(ts, body)
	if !ok || len(hexSig) != len(want) {
		return false
	}
	for i := 0; i < len(hexSig); i++ {
		c := hexSig[i]
		if 'A' <= c && c <= 'F' {
			c += 'a' - 'A'
		}
		if c != want[i] {
			return false
		}
	}
	return true
}

// fuzzFresh: a positive decimal Unix time within MaxClockSkew of the clock.
func fuzzFresh(ts string) bool {
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || n <= 0 {
		return false
	}
	d := fuzzNow.Unix() - n // no overflow: n > 0
	limit := int64(MaxClockSkew / time.Second)
	return -limit <= d && d <= limit
}

// expectSlack is the specification of HTTPHandler for one POST. replayed:
// the same (timestamp, signature) was verified before.
func expectSlack(interaction bool, body []byte, ts, sig string, replayed bool) slackOutcome {
	switch {
	case ts == "" || sig == "":
		return slackOutcome{code: http.StatusUnauthorized}
	case len(body) > fuzzMaxBody:
		return slackOutcome{code: http.StatusRequestEntityTooLarge}
	case !fuzzFresh(ts) || !fuzzSignatureOK(sig, ts, body) || replayed:
		return slackOutcome{code: http.StatusUnauthorized}
	}
	o := slackOutcome{verified: true}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		o.code = http.StatusBadRequest
		return o
	}
	if !interaction {
		o.code = http.StatusOK
		switch {
		case form.Get("command") != Command:
			o.unknown = true
		case form.Get("user_id") == "":
		default:
			ch := form.Get("channel_id")
			o.req = &bot.Request{Surface: bot.SurfaceSlack, UserID: form.Get("user_id"), UserName: form.Get("user_name"),
				Where: ch, Private: strings.HasPrefix(ch, "D"), Text: strings.TrimSpace(form.Get("text"))}
		}
		return o
	}
	ic, err := ParseInteraction(form.Get("payload"))
	if err != nil {
		o.code = http.StatusBadRequest
		return o
	}
	o.code = http.StatusOK
	if p, _, ok := PressFromInteraction(ic); ok {
		o.press = &p
	}
	return o
}

// check compares what s did for one request with want. before are the
// handler calls made before the request.
func (s *fuzzSlack) check(t *testing.T, what string, w *httptest.ResponseRecorder, want slackOutcome, beforeReqs, beforePresses int, inputHasSecret bool) {
	t.Helper()
	reqs, presses := s.h.requests(), s.h.pressList()
	newReqs, newPresses := reqs[beforeReqs:], presses[beforePresses:]
	accepted := w.Code/100 == 2 || len(newReqs)+len(newPresses) > 0
	if accepted && !want.verified {
		t.Fatalf("%s: accepted (HTTP %d, %d calls) without a valid, fresh, unreplayed signature", what, w.Code,
			len(newReqs)+len(newPresses))
	}
	if w.Code != want.code {
		t.Fatalf("%s: HTTP %d, want %d (body %q)", what, w.Code, want.code, w.Body.String())
	}
	switch {
	case want.req != nil:
		if len(newReqs) != 1 || len(newPresses) != 0 || newReqs[0] != *want.req {
			t.Fatalf("%s: handler got %+v / %+v, want the request %+v", what, newReqs, newPresses, *want.req)
		}
	case want.press != nil:
		if len(newPresses) != 1 || len(newReqs) != 0 || newPresses[0] != *want.press {
			t.Fatalf("%s: handler got %+v / %+v, want the press %+v", what, newReqs, newPresses, *want.press)
		}
	default:
		if len(newReqs)+len(newPresses) != 0 {
			t.Fatalf("%s: handler called with %+v / %+v", what, newReqs, newPresses)
		}
	}
	if want.code == http.StatusOK && !want.unknown && want.req != nil && w.Body.Len() != 0 {
		t.Fatalf("%s: ack body %q, want empty", what, w.Body.String())
	}
	if want.unknown {
		var p responsePayload
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.ResponseType != "ephemeral" || p.Text != Escape(UnknownCommandText) {
			t.Fatalf("%s: unknown command answered %q (%v)", what, w.Body.String(), err)
		}
	}
	if strings.Contains(w.Body.String(), inSecret) {
		t.Fatalf("%s: the response shows the signing secret: %q", what, w.Body.String())
	}
	if !inputHasSecret && strings.Contains(s.logs.String(), inSecret) {
		t.Fatalf("%s: the log shows the signing secret", what)
	}
	for _, p := range s.rt.list() {
		if !inputHasSecret && strings.Contains(p.body, inSecret) {
			t.Fatalf("%s: a reply shows the signing secret", what)
		}
		// No slack.api_url is configured here: Slack's own hosts only.
		if host := strings.ToLower(p.url.Host); p.url.Scheme != "https" || p.url.User != nil ||
			(host != "hooks.slack.com" && host != "hooks.slack-gov.com" && host != "hooks.slack.com:443" && host != "hooks.slack-gov.com:443") {
			t.Fatalf("%s: reply posted to %s", what, p.url.Redacted())
		}
	}
}

// FuzzVerifySignature drives HTTPHandler (the real ServeHTTP, no network:
// replies go to a recording transport) with a fuzzed body, timestamp,
// signature and content type on either path, and checks it against
// expectSlack:
//
//   - it never panics;
//   - a request is answered 2xx, or reaches the bot.Handler, only when its
//     signature is "v0=" + the HMAC-SHA256 of "v0:<ts>:<body>" with the
//     signing secret (hex, either case), its timestamp is a positive
//     decimal within MaxClockSkew of the clock, the pair was not seen
//     before, and the body is within MaxBody (413 above it);
//   - the same body signed correctly with a timestamp skew seconds off is
//     accepted when |skew| <= 300 s: a slash command reaches Handle exactly
//     when command is /openclaw and user_id is set (another command gets
//     UnknownCommandText, 200), a block_actions press reaches Press when
//     PressFromInteraction accepts it, an undecodable form or payload is
//     400; sending it again is refused as a replay (401) and reaches
//     nothing;
//   - the Content-Type header does not matter (Slack always sends a form;
//     the signature covers the body, which is always parsed as one);
//   - no response body, log line or reply contains the signing secret, and
//     replies go only to https response_urls on Slack's hosts.
func FuzzVerifySignature(f *testing.F) {
	ts := strconv.FormatInt(fuzzNow.Unix(), 10)
	body := []byte("command=%2Fopenclaw&text=status&user_id=U1&user_name=alice&channel_id=C1" +
		"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1%2F1%2Fx")
	f.Add(body, ts, "v0="+fuzzSignature(ts, body), "application/x-www-form-urlencoded", int16(0), false)
	f.Add(body, ts, "v0=00", "", int16(301), false)

	f.Fuzz(func(t *testing.T, body []byte, ts, sig, contentType string, skew int16, interaction bool) {
		path := CommandsPath
		if interaction {
			path = InteractionsPath
		}
		hasSecret := func(ss ...string) bool {
			for _, s := range ss {
				if strings.Contains(s, inSecret) {
					return true
				}
			}
			return false
		}
		inputHasSecret := hasSecret(string(body), ts, sig, contentType)

		// The fuzzed request as it is.
		a := newFuzzSlack()
		defer a.hh.Close()
		w := a.serve(path, body, ts, sig, contentType)
		a.check(t, "fuzzed request", w, expectSlack(interaction, body, ts, sig, false), 0, 0, inputHasSecret)

		// The same body, correctly signed, skew seconds from the clock; then
		// its replay.
		b := newFuzzSlack()
		defer b.hh.Close()
		bts := strconv.FormatInt(fuzzNow.Unix()+int64(skew), 10)
		bsig := "v0=" + fuzzSignature(bts, body)
		want := expectSlack(interaction, body, bts, bsig, false)
		if abs := max(int(skew), -int(skew)); abs <= int(MaxClockSkew/time.Second) && len(body) <= fuzzMaxBody && !want.verified {
			t.Fatalf("a correctly signed request %ds off was refused by the specification", skew)
		}
		w = b.serve(path, body, bts, bsig, contentType)
		b.check(t, "signed request", w, want, 0, 0, inputHasSecret)
		reqs, presses := b.h.requests(), b.h.pressList()
		w = b.serve(path, body, bts, bsig, contentType)
		b.check(t, "replayed request", w, expectSlack(interaction, body, bts, bsig, want.verified), len(reqs), len(presses), inputHasSecret)
	})
}

// FuzzInteraction feeds arbitrary "payload" form values to
// ParseInteraction and PressFromInteraction: neither panics, an empty
// payload is an error, and an accepted press is a block_actions press on
// one of our blocks (or a block without id) with a non-empty user and
// action taken from that block's value or action_id.
func FuzzInteraction(f *testing.F) {
	f.Add(`{"type":"block_actions","user":{"id":"U1","username":"alice"},"channel":{"id":"C1"},` +
		`"response_url":"https://hooks.slack.com/actions/T1/1/x","actions":[{"block_id":"openclaw_actions","action_id":"a:1","value":"a:1"}]}`)
	f.Fuzz(func(t *testing.T, payload string) {
		ic, err := ParseInteraction(payload)
		if err != nil {
			return
		}
		if strings.TrimSpace(payload) == "" {
			t.Fatal("empty payload accepted")
		}
		p, responseURL, ok := PressFromInteraction(ic)
		if !ok {
			if p != (bot.Press{}) || responseURL != "" {
				t.Fatalf("not ok but %+v %q", p, responseURL)
			}
			return
		}
		if ic.Type != "block_actions" || p.Surface != bot.SurfaceSlack || p.UserID == "" || p.UserID != ic.User.ID ||
			p.Action == "" || responseURL != ic.ResponseURL || p.Private != strings.HasPrefix(p.Where, "D") {
			t.Fatalf("bad press %+v (url %q) from %+v", p, responseURL, ic)
		}
		if p.Where != ic.Channel.ID && (ic.Channel.ID != "" || p.Where != ic.Container.ChannelID) {
			t.Fatalf("press in %q, channel %q container %q", p.Where, ic.Channel.ID, ic.Container.ChannelID)
		}
		found := false
		for _, a := range ic.ActionCallback.BlockActions {
			if a != nil && (a.BlockID == ActionsBlockID || a.BlockID == "") && (a.Value == p.Action || a.Value == "" && a.ActionID == p.Action) {
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("action %q is not from one of our blocks: %+v", p.Action, ic.ActionCallback.BlockActions)
		}
	})
}
